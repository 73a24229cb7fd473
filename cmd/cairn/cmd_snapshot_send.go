package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/urfave/cli/v2"

	"github.com/cairn-storage/cairn/datadir"
	"github.com/cairn-storage/cairn/snapshots"
)

func snapshotSendCommand() *cli.Command {
	return &cli.Command{
		Name:      "send",
		Usage:     "write a snapshot as a stream to stdout",
		ArgsUsage: "VOLUME@NAME > FILE",
		Description: "The stream is versioned and checksummed (BLAKE3) and carries the volume's\n" +
			"configuration. With --base, it holds only the objects not reachable from the\n" +
			"base snapshot, which the receiver must have. Progress goes to stderr.\n" +
			"Read it back with `cairn snapshot receive < FILE`.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "base", Usage: "send incrementally to this snapshot (VOLUME@NAME)"},
		},
		Action: func(c *cli.Context) error {
			if err := nArgs(c, 1, 1); err != nil {
				return err
			}
			if isTerminal(os.Stdout) {
				return errors.New("snapshot send: stdout is a terminal; redirect it to a file or pipe")
			}
			return withManager(c, func(_ *datadir.Data, m *snapshots.Manager) error {
				pw := newByteProgress("send", os.Stdout)
				st, err := m.Send(c.Context, c.Args().First(), c.String("base"), pw)
				pw.done()
				if err != nil {
					return err
				}
				fmt.Fprintf(os.Stderr, "sent %s: %d objects (%d tree nodes, %d data chunks), %s\n", c.Args().First(),
					st.Objects, st.TreeNodes, st.DataChunks, humanize.IBytes(uint64(st.StreamBytes)))
				return nil
			})
		},
	}
}

// isTerminal reports whether f is a character device (a terminal).
func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// byteProgress counts bytes through a reader or writer and reports them on
// stderr, like progress does for counts.
type byteProgress struct {
	what  string
	w     io.Writer
	r     io.Reader
	tty   bool
	start time.Time
	mu    sync.Mutex
	n     int64
	last  time.Time
}

func newByteProgress(what string, rw any) *byteProgress {
	p := &byteProgress{what: what, tty: isTerminal(os.Stderr), start: time.Now()}
	if w, ok := rw.(io.Writer); ok {
		p.w = w
	}
	if r, ok := rw.(io.Reader); ok {
		p.r = r
	}
	return p
}

func (p *byteProgress) Write(b []byte) (int, error) {
	n, err := p.w.Write(b)
	p.add(n)
	return n, err
}

func (p *byteProgress) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.add(n)
	return n, err
}

func (p *byteProgress) add(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n += int64(n)
	every := 5 * time.Second
	if p.tty {
		every = 200 * time.Millisecond
	}
	if time.Since(p.last) >= every {
		p.last = time.Now()
		p.print("")
	}
}

func (p *byteProgress) print(end string) {
	secs := max(time.Since(p.start).Seconds(), 1e-3)
	line := fmt.Sprintf("%s: %s (%s/s)", p.what, humanize.IBytes(uint64(p.n)), humanize.IBytes(uint64(float64(p.n)/secs)))
	if p.tty {
		fmt.Fprintf(os.Stderr, "\r\033[K%s%s", line, end)
	} else {
		fmt.Fprintln(os.Stderr, line)
	}
}

// done ends the progress line.
func (p *byteProgress) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty {
		p.print("\n")
	}
}
