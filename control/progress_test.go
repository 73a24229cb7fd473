package control

import (
	"errors"
	"slices"
	"testing"
	"time"

	cairnv1 "github.com/cairn-storage/cairn/api/cairn/v1"
)

// TestProgressStream: a flood of updates becomes a few messages a
// second, each phase's last state is always sent, and a failed send
// stops the stream.
func TestProgressStream(t *testing.T) {
	var sent []*cairnv1.Progress
	p := newProgressStream(func(m *cairnv1.Progress) error { sent = append(sent, m); return nil })
	start := time.Now()
	const n = 200000
	for _, phase := range []string{"mark", "scan"} {
		for i := range int64(n) {
			p.update(phase, i, n-1)
		}
	}
	if err := p.flush(); err != nil {
		t.Fatal(err)
	}
	if limit := 4 + int(time.Since(start)/progressEvery); len(sent) > limit {
		t.Fatalf("%d messages in %s, want at most %d", len(sent), time.Since(start), limit)
	}
	// Each phase, as the messages show it: from its first state to its last.
	type span struct {
		phase       string
		first, last int64
	}
	var got []span
	for _, m := range sent {
		if len(got) == 0 || got[len(got)-1].phase != m.GetPhase() {
			got = append(got, span{phase: m.GetPhase(), first: m.GetDone()})
		}
		got[len(got)-1].last = m.GetDone()
	}
	if want := []span{{"mark", 0, n - 1}, {"scan", 0, n - 1}}; !slices.Equal(got, want) {
		t.Fatalf("phases %v, want %v", got, want)
	}
}

func TestProgressStreamSendFails(t *testing.T) {
	calls := 0
	gone := errors.New("client gone")
	p := newProgressStream(func(*cairnv1.Progress) error { calls++; return gone })
	p.update("a", 0, 2)
	p.update("b", 1, 2)
	p.update("c", 2, 2)
	if err := p.flush(); !errors.Is(err, gone) || calls != 1 {
		t.Fatalf("flush = %v after %d sends; want the first send's error, and no send after it", err, calls)
	}
}
