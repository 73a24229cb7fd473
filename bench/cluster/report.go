package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/dustin/go-humanize"

	"github.com/cairn-storage/cairn/bench/runenv"
)

// report is everything a run found; -json writes it.
type report struct {
	Start      time.Time     `json:"start"`
	Seconds    float64       `json:"seconds"`
	Host       runenv.Host   `json:"host"`
	Config     *config       `json:"config"`
	Throughput []*throughput `json:"throughput"`
	Repair     *repairResult `json:"repair,omitempty"`
}

// newReport starts the report of a run.
func newReport(cfg *config) *report {
	return &report{Start: time.Now(), Config: cfg, Host: runenv.Start()}
}

// num prints a figure with a sensible number of digits.
func num(v float64) string {
	switch {
	case v == 0:
		return "—"
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

// ratio prints a ratio, or — if it is missing.
func ratio(x float64) string {
	if x == 0 {
		return "—"
	}
	return fmt.Sprintf("%.2f", x)
}

// secs prints a duration in seconds.
func secs(s float64) string {
	if s == 0 {
		return "—"
	}
	return fmt.Sprintf("%.1f s", s)
}

// printLine prints one scenario's figures as it finishes.
func (t *throughput) printLine(w io.Writer) {
	if t.Err != "" {
		fmt.Fprintf(w, "  %-9s %s: error: %s\n", t.Name, t.Title, t.Err)
		return
	}
	fmt.Fprintf(w, "  %-9s %-34s write %s MiB/s (%.1f s, %s CPU-s/GiB)  read %s MiB/s (%.1f s, %s CPU-s/GiB)\n",
		t.Name, t.Title, num(t.Write.MiBps()), t.Write.Seconds, num(t.Write.CPUPerGiB()),
		num(t.Read.MiBps()), t.Read.Seconds, num(t.Read.CPUPerGiB()))
}

// printLine prints the repair result as it finishes.
func (r *repairResult) printLine(w io.Writer) {
	if r.Err != "" {
		fmt.Fprintf(w, "  repair: error: %s\n", r.Err)
		return
	}
	fmt.Fprintf(w, "  repair: %s re-replicated (lost node held %s) in %s after the %s grace: %s GiB/min"+
		" (copy phase %s: %s GiB/min); loss to repaired %s, to a clean scan %s\n",
		humanize.IBytes(uint64(r.CopiedBytes)), humanize.IBytes(uint64(r.LostBytes)), secs(r.AfterGrace),
		secs(r.Grace), num(r.GiBPerMin), secs(r.CopyPhase), num(r.CopyGiBPerMin), secs(r.Total), secs(r.Confirmed))
	if r.FillFallbacks > 0 || r.Fill.RPC["put"].Errors > 0 {
		fmt.Fprintf(w, "  repair: the fill had %d failed put RPCs and %d fallback copies\n",
			r.Fill.RPC["put"].Errors, r.FillFallbacks)
	}
	if r.Note != "" {
		fmt.Fprintf(w, "  repair: note: %s\n", r.Note)
	}
}

// writeTables prints the Markdown tables of the run.
func (rep *report) writeTables(w io.Writer) {
	c := rep.Config
	if len(rep.Throughput) > 0 {
		fmt.Fprintf(w, "\nSequential throughput: %s per scenario, %s chunks, %d chunk ops in flight per writer;\n"+
			"write = hash + Put + Sync, read = Get through another node (page cache warm).\n"+
			"fs rows: one file in 1 MiB writes + fsync through fs.FS (badger metadata), read back\n"+
			"after reopening with an empty cache over another node.\n"+
			"×local: over the plain chunks.Local (fs over it for fs rows) with as many writers.\n"+
			"copies MiB/s = write × R. remote gets: reads served over the RPC, not by the reader's own store.\n\n",
			humanize.IBytes(uint64(c.Size)), c.Chunking, c.Depth)
		fmt.Fprintln(w, "| scenario | write MiB/s | ×local | copies MiB/s | CPU s/GiB | read MiB/s | ×local | CPU s/GiB | remote gets |")
		fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|")
		for _, t := range rep.Throughput {
			if t.Err != "" {
				fmt.Fprintf(w, "| %s | error | | | | | | | |\n", t.Title)
				continue
			}
			copies, remote := "—", "—"
			if t.Nodes > 0 && !t.FS {
				remote = fmt.Sprintf("%.0f%%", 100*t.RemoteGets)
			}
			if t.Nodes > 0 {
				copies = num(t.Write.MiBps() * float64(min(t.Replicas, t.Nodes)))
			}
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", t.Title,
				num(t.Write.MiBps()), ratio(t.WriteRatio), copies, num(t.Write.CPUPerGiB()),
				num(t.Read.MiBps()), ratio(t.ReadRatio), num(t.Read.CPUPerGiB()), remote)
		}
		rep.writeRPCTable(w)
	}
	if r := rep.Repair; r != nil {
		fmt.Fprintf(w, "\nRepair: %d nodes R=%d filled with %s (one writer per node), node %s lost (Close, no drain),\n"+
			"grace %s, repair scans every %s.\n\n", r.Nodes, r.Replicas, humanize.IBytes(uint64(r.Fill.Bytes)),
			r.Lost, secs(r.Grace), c.RepairInterval)
		if r.Err != "" {
			fmt.Fprintf(w, "error: %s\n", r.Err)
			return
		}
		fmt.Fprintln(w, "| fill MiB/s | lost node held | re-replicated | loss → repaired | minus grace | GiB/min | copy phase | GiB/min (copy phase) | loss → clean scan | CPU s/GiB |")
		fmt.Fprintln(w, "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
			num(r.Fill.MiBps()), humanize.IBytes(uint64(r.LostBytes)), humanize.IBytes(uint64(r.CopiedBytes)),
			secs(r.Total), secs(r.AfterGrace), num(r.GiBPerMin), secs(r.CopyPhase), num(r.CopyGiBPerMin),
			secs(r.Confirmed), num(r.Repair.CPUPerGiB()))
	}
}

// writeRPCTable prints the chunk RPCs of the cluster scenarios.
func (rep *report) writeRPCTable(w io.Writer) {
	some := false
	for _, t := range rep.Throughput {
		some = some || (t.Nodes > 1 && t.Err == "")
	}
	if !some {
		return
	}
	fmt.Fprintln(w, "\nChunk RPCs (all nodes; the local copy is not an RPC):")
	fmt.Fprintln(w, "")
	fmt.Fprintln(w, "| scenario | puts | failed | fallbacks | mean put ms | syncs | mean sync ms | gets | mean get ms |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, t := range rep.Throughput {
		if t.Nodes < 2 || t.Err != "" {
			continue
		}
		p, s, g := t.Write.RPC["put"], t.Write.RPC["sync"], t.Read.RPC["get"]
		fmt.Fprintf(w, "| %s | %d | %d | %d | %s | %d | %s | %d | %s |\n", t.Title,
			p.Count, p.Errors, t.Fallbacks, num(p.MeanMs()), s.Count, num(s.MeanMs()), g.Count, num(g.MeanMs()))
	}
}

// writeJSON writes the report to path.
func (rep *report) writeJSON(path string) error {
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return fmt.Errorf("json report: %w", err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("json report: %w", err)
	}
	return nil
}
