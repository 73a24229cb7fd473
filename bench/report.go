package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"github.com/dustin/go-humanize"

	"github.com/cairn-storage/cairn/bench/runenv"
)

// targetNames are the targets in table order.
var targetNames = []string{"plain", "loopback", "cairn", "nfs", "nfs-cp"}

// isNFS reports whether target name is served by the NFS gateway.
func isNFS(name string) bool { return slices.Contains(nfsTargets, name) }

// row is one workload's results on every target.
type row struct {
	Workload          string                  `json:"workload"`
	Title             string                  `json:"title"`
	Unit              string                  `json:"unit"`
	LowerIsBetter     bool                    `json:"lower_is_better,omitempty"`
	Goal              goal                    `json:"goal"`
	Results           map[string]*measurement `json:"results"`
	CairnOverLoopback float64                 `json:"cairn_over_loopback,omitempty"`
	LoopbackOverPlain float64                 `json:"loopback_over_plain,omitempty"`
	Met               *bool                   `json:"met,omitempty"`
	// NFSOverCairn is the best NFS client's figure over cairn's FUSE one.
	NFSOverCairn float64 `json:"nfs_over_cairn,omitempty"`
	NFSMet       *bool   `json:"nfs_met,omitempty"`
}

// newRow returns the empty row of workload w.
func newRow(w *workload) *row {
	return &row{Workload: w.name, Title: w.title, Unit: w.unit, LowerIsBetter: w.lowerIsBetter,
		Goal: w.goal, Results: map[string]*measurement{}}
}

// value returns target's figure, if it has one.
func (r *row) value(target string) (float64, bool) {
	m := r.Results[target]
	if m == nil || m.Err != "" || m.Value <= 0 {
		return 0, false
	}
	return m.Value, true
}

// ratio returns a's figure over b's, or 0 if either is missing.
func (r *row) ratio(a, b string) float64 {
	va, oka := r.value(a)
	vb, okb := r.value(b)
	if !oka || !okb {
		return 0
	}
	return va / vb
}

// evaluate computes the ratios and whether cairn met its goal.
func (r *row) evaluate() {
	r.CairnOverLoopback = r.ratio("cairn", "loopback")
	r.LoopbackOverPlain = r.ratio("loopback", "plain")
	r.NFSOverCairn = max(r.ratio("nfs", "cairn"), r.ratio("nfs-cp", "cairn"))
	if r.Goal.NFS > 0 && r.NFSOverCairn > 0 {
		met := r.NFSOverCairn >= r.Goal.NFS
		r.NFSMet = &met
	}
	var met bool
	switch {
	case r.Goal.Max > 0:
		v, ok := r.value("cairn")
		if !ok {
			return
		}
		met = v <= r.Goal.Max
	case r.CairnOverLoopback == 0:
		return
	case r.LowerIsBetter:
		met = r.CairnOverLoopback <= r.Goal.Ratio
	default:
		met = r.CairnOverLoopback >= r.Goal.Ratio
	}
	r.Met = &met
}

// report is everything a run found; -json writes it.
type report struct {
	Start      time.Time       `json:"start"`
	Seconds    float64         `json:"seconds"`
	Host       runenv.Host     `json:"host"`
	Config     *config         `json:"config"`
	Rows       []*row          `json:"rows"`
	CairnStats json.RawMessage `json:"cairn_stats,omitempty"`
	Profiles   []string        `json:"cpu_profiles,omitempty"`
	Warnings   []string        `json:"warnings,omitempty"`
}

// warn prints a warning and keeps it for the report.
func (rep *report) warn(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	fmt.Fprintln(os.Stderr, "warning:", msg)
	rep.Warnings = append(rep.Warnings, msg)
}

// formatValue prints a figure with a sensible number of digits.
func formatValue(v float64, unit string) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f %s", v, unit)
	case v >= 10:
		return fmt.Sprintf("%.1f %s", v, unit)
	}
	return fmt.Sprintf("%.2f %s", v, unit)
}

// cell is target's figure for the table.
func (r *row) cell(target string) string {
	m := r.Results[target]
	switch {
	case m == nil:
		return "—"
	case m.Err != "":
		return "error"
	}
	return formatValue(m.Value, r.Unit)
}

// goalText is the target column.
func (r *row) goalText() string {
	switch {
	case r.Goal.Max > 0:
		return fmt.Sprintf("≤ %s %s", humanize.Ftoa(r.Goal.Max), r.Unit)
	case r.LowerIsBetter:
		return fmt.Sprintf("time ≤ %.1f× loopback", r.Goal.Ratio)
	}
	return fmt.Sprintf("≥ %.2f", r.Goal.Ratio)
}

// ratioText prints a ratio, or — if it is missing.
func ratioText(x float64) string {
	if x == 0 {
		return "—"
	}
	return fmt.Sprintf("%.2f", x)
}

// writeTable prints the final Markdown table.
func (rep *report) writeTable(w io.Writer) {
	fmt.Fprintln(w, "| workload | plain | loopback | cairn | cairn/loopback | target | result | loopback/plain |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---|---|---:|")
	for _, r := range rep.Rows {
		result := resultText(r.Met)
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s |\n", r.Title,
			r.cell("plain"), r.cell("loopback"), r.cell("cairn"),
			ratioText(r.CairnOverLoopback), r.goalText(), result, ratioText(r.LoopbackOverPlain))
	}
}

// hasNFS reports whether an NFS target ran the workload.
func (r *row) hasNFS() bool {
	return slices.ContainsFunc(nfsTargets, func(t string) bool { return r.Results[t] != nil })
}

// nfsGoalText is the target column of the NFS table.
func (r *row) nfsGoalText() string {
	if r.Goal.NFS == 0 {
		return "none"
	}
	return fmt.Sprintf("≥ %.2f", r.Goal.NFS)
}

// writeNFSTable prints the Markdown table of the workloads that ran
// through the NFS gateway, against cairn's FUSE figure.
func (rep *report) writeNFSTable(w io.Writer) {
	var rows []*row
	for _, r := range rep.Rows {
		if r.hasNFS() {
			rows = append(rows, r)
		}
	}
	if len(rows) == 0 {
		return
	}
	fmt.Fprintln(w, "\nNFS gateway: the same volume, served by the same cairn process as the FUSE mount.")
	fmt.Fprintln(w, "")
	fmt.Fprintln(w, "| workload | cairn FUSE | NFS go-nfs-client | NFS libnfs (nfs-cp/nfs-cat) | NFS (best)/FUSE | target | result |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---|---|")
	for _, r := range rows {
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s |\n", r.Title,
			r.cell("cairn"), r.cell("nfs"), r.cell("nfs-cp"),
			ratioText(r.NFSOverCairn), r.nfsGoalText(), resultText(r.NFSMet))
	}
}

// resultText is the result column.
func resultText(met *bool) string {
	switch {
	case met == nil:
		return "n/a"
	case *met:
		return "met"
	}
	return "**not met**"
}

// writeJSON writes the report to path.
func (rep *report) writeJSON(path string) error {
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}
