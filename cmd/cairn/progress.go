package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// progress reports a long operation on stderr: a line rewritten in place
// on a terminal, a line every few seconds otherwise.
type progress struct {
	w     io.Writer
	what  string
	tty   bool
	mu    sync.Mutex
	last  time.Time
	start time.Time
}

func newProgress(what string) *progress {
	fi, err := os.Stderr.Stat()
	tty := err == nil && fi.Mode()&os.ModeCharDevice != 0
	return &progress{w: os.Stderr, what: what, tty: tty, start: time.Now()}
}

// update shows done out of total.
func (p *progress) update(done, total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	every := 5 * time.Second
	if p.tty {
		every = 100 * time.Millisecond
	}
	if done < total && time.Since(p.last) < every {
		return
	}
	p.last = time.Now()
	pct := 100.0
	if total > 0 {
		pct = 100 * float64(done) / float64(total)
	}
	line := fmt.Sprintf("%s: %d/%d (%.0f%%) %s", p.what, done, total, pct, time.Since(p.start).Round(time.Second))
	if p.tty {
		fmt.Fprintf(p.w, "\r\033[K%s", line)
		if done >= total {
			fmt.Fprintln(p.w)
		}
		return
	}
	fmt.Fprintln(p.w, line)
}
