package control_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/durationpb"

	cairnv1 "github.com/cairn-storage/cairn/api/cairn/v1"
	"github.com/cairn-storage/cairn/chunks/chunkstest"
)

// progressed is a message of a maintenance stream.
type progressed interface{ GetProgress() *cairnv1.Progress }

// readProgress reads a stream to its end and returns the progress messages
// and the last message, failing unless only the last one is not
// progress. A stream that fails returns its error.
func readProgress[M any, P interface {
	*M
	progressed
}](t *testing.T, s grpc.ServerStreamingClient[M], err error) ([]*cairnv1.Progress, P, error) {
	t.Helper()
	if err != nil {
		return nil, nil, err
	}
	var msgs []P
	for {
		m, err := s.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, err
		}
		msgs = append(msgs, m)
	}
	if len(msgs) == 0 {
		t.Fatal("the stream ended without a report")
	}
	var prog []*cairnv1.Progress
	for i, m := range msgs {
		p := m.GetProgress()
		if (p == nil) != (i == len(msgs)-1) {
			t.Fatalf("message %d of %d: %v; want progress, then the report last", i+1, len(msgs), m)
		}
		if p != nil {
			prog = append(prog, p)
		}
	}
	return prog, msgs[len(msgs)-1], nil
}

// phasesDone checks that progress covers each phase, in order, and
// reports each phase finished.
func phasesDone(t *testing.T, prog []*cairnv1.Progress, phases ...string) {
	t.Helper()
	var seen []string
	for i, p := range prog {
		if len(seen) == 0 || seen[len(seen)-1] != p.GetPhase() {
			seen = append(seen, p.GetPhase())
		}
		last := i == len(prog)-1 || prog[i+1].GetPhase() != p.GetPhase()
		if last && p.GetDone() != p.GetTotal() {
			t.Fatalf("phase %s ends at %d of %d: %v", p.GetPhase(), p.GetDone(), p.GetTotal(), prog)
		}
	}
	if strings.Join(seen, ",") != strings.Join(phases, ",") {
		t.Fatalf("progress phases %v, want %v", seen, phases)
	}
}

// chunkCount is the number of chunks on the daemon's disk.
func chunkCount(t *testing.T, d *daemon) int64 {
	t.Helper()
	st, err := d.d.Local.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return st.Chunks
}

// TestGC collects the chunks of a deleted file: a dry run counts them
// and keeps them, the real run deletes exactly those, the kept file
// still reads back, and bad grace periods are refused.
func TestGC(t *testing.T) {
	d := startDaemon(t)
	keep, drop := string(chunkstest.Random(300<<10, 1)), string(chunkstest.Random(300<<10, 2))
	snapVolume(t, d, "v", map[string]string{"keep": keep, "drop": drop})
	maintRemove(t, d, "v", "drop")
	before := chunkCount(t, d)
	var garbage int64
	gc := func(req *cairnv1.GCRequest) func(t *testing.T) ([]*cairnv1.Progress, *cairnv1.GCResponse, error) {
		return func(t *testing.T) ([]*cairnv1.Progress, *cairnv1.GCResponse, error) {
			s, err := d.api.Maintenance.GC(ctx(t), req)
			return readProgress(t, s, err)
		}
	}
	young := durationpb.New(time.Nanosecond) // every chunk is old enough
	cases := []struct {
		name  string
		call  func(t *testing.T) ([]*cairnv1.Progress, *cairnv1.GCResponse, error)
		code  codes.Code
		check func(t *testing.T, rep *cairnv1.GCReport)
	}{
		{name: "zero grace", call: gc(&cairnv1.GCRequest{Grace: durationpb.New(0)}), code: codes.InvalidArgument},
		{name: "negative grace", call: gc(&cairnv1.GCRequest{Grace: durationpb.New(-time.Hour)}), code: codes.InvalidArgument},
		{name: "default grace keeps young chunks", call: gc(&cairnv1.GCRequest{}), check: func(t *testing.T, rep *cairnv1.GCReport) {
			if rep.GetSwept() != 0 || rep.GetYoung() == 0 || chunkCount(t, d) != before {
				t.Fatalf("report %v: want nothing swept, the dropped file's chunks young", rep)
			}
		}},
		{name: "dry run", call: gc(&cairnv1.GCRequest{Grace: young, DryRun: true}), check: func(t *testing.T, rep *cairnv1.GCReport) {
			garbage = rep.GetSwept()
			if !rep.GetDryRun() || garbage == 0 || rep.GetSweptBytes() < int64(len(drop)) || rep.GetScanned() != before {
				t.Fatalf("report %v: want the dropped file's chunks counted among %d", rep, before)
			}
			if n := chunkCount(t, d); n != before {
				t.Fatalf("a dry run deleted chunks: %d, then %d", before, n)
			}
		}},
		{name: "real", call: gc(&cairnv1.GCRequest{Grace: young}), check: func(t *testing.T, rep *cairnv1.GCReport) {
			if rep.GetDryRun() || rep.GetSwept() != garbage || rep.GetDuration().AsDuration() <= 0 {
				t.Fatalf("report %v: want the %d chunks of the dry run swept", rep, garbage)
			}
			if n := chunkCount(t, d); n != before-garbage {
				t.Fatalf("%d chunks after sweeping %d of %d", n, garbage, before)
			}
			if got, _ := snapReadFile(t, d, "v", "keep"); got != keep {
				t.Fatal("the kept file changed")
			}
		}},
		{name: "again", call: gc(&cairnv1.GCRequest{Grace: young}), check: func(t *testing.T, rep *cairnv1.GCReport) {
			if rep.GetSwept() != 0 || rep.GetMarked() == 0 {
				t.Fatalf("report %v: want nothing left to sweep", rep)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			prog, last, err := tc.call(t)
			wantCode(t, err, tc.code)
			if err != nil {
				return
			}
			phasesDone(t, prog, "mark", "scan", "sweep")
			tc.check(t, last.GetReport())
		})
	}
}

// TestStats checks the figures against the volumes and the chunk store:
// two equal files dedup to one copy.
func TestStats(t *testing.T) {
	d := startDaemon(t)
	data := string(chunkstest.Random(400<<10, 4))
	snapVolume(t, d, "a", map[string]string{"x": data, "y": data})
	snapVolume(t, d, "b", nil)
	st, err := d.api.Maintenance.Stats(ctx(t), &cairnv1.StatsRequest{})
	wantCode(t, err, codes.OK)
	cs, err := d.d.Chunks.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := &cairnv1.StatsResponse{Volumes: 2, Inodes: 4, LogicalBytes: uint64(2 * len(data)),
		ChunkBytes: uint64(len(data)), PhysicalBytes: uint64(cs.StoredBytes), Chunks: cs.Chunks,
		DedupRatio: 2, CompressionRatio: float64(len(data)) / float64(cs.StoredBytes)}
	if st.String() != want.String() {
		t.Fatalf("stats\n%v\nwant\n%v", st, want)
	}
	if cs.PlainBytes != int64(len(data)) {
		t.Fatalf("the store holds %d plain bytes, want one copy (%d)", cs.PlainBytes, len(data))
	}
}
