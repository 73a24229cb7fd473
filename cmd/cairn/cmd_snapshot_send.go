package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/urfave/cli/v2"

	cairnv1 "github.com/cairn-storage/cairn/api/cairn/v1"
	"github.com/cairn-storage/cairn/control/client"
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
			&cli.StringFlag{Name: "out", Usage: "write the stream to this file instead of stdout (removed if the send fails)"},
		},
		Action: func(c *cli.Context) error {
			if err := nArgs(c, 1, 1); err != nil {
				return err
			}
			if c.String("out") == "" && isTerminal(os.Stdout) {
				return errors.New("snapshot send: stdout is a terminal; redirect it to a file or pipe, or give --out")
			}
			return withAPI(c, func(api *client.Client) error {
				req := &cairnv1.SendSnapshotRequest{Snapshot: c.Args().First(), Base: c.String("base")}
				st, err := sendTo(c, api, req)
				if err != nil {
					return err
				}
				fmt.Fprintf(os.Stderr, "sent %s: %d objects (%d tree nodes, %d data chunks), %s\n", req.GetSnapshot(),
					st.GetObjects(), st.GetTreeNodes(), st.GetDataChunks(), humanize.IBytes(uint64(st.GetStreamBytes())))
				return nil
			})
		},
	}
}

// sendTo writes the stream of req to --out, or stdout, and returns its
// stats. A failed send removes --out: a partial stream is of no use.
func sendTo(c *cli.Context, api *client.Client, req *cairnv1.SendSnapshotRequest) (*cairnv1.StreamStats, error) {
	out := os.Stdout
	if path := c.String("out"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			return nil, err
		}
		out = f
	}
	pw := newByteProgress("send", out)
	st, err := recvStream(c.Context, api, req, pw)
	pw.done()
	if out != os.Stdout {
		if cerr := out.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(out.Name())
		}
	}
	return st, err
}

// recvStream copies the data of a SendSnapshot stream to w and returns
// the stats of its last message.
func recvStream(ctx context.Context, api *client.Client, req *cairnv1.SendSnapshotRequest, w io.Writer) (*cairnv1.StreamStats, error) {
	st, err := api.Snapshots.SendSnapshot(ctx, req)
	if err != nil {
		return nil, err
	}
	var stats *cairnv1.StreamStats
	for {
		m, err := st.Recv()
		if errors.Is(err, io.EOF) {
			if stats == nil {
				return nil, fmt.Errorf("send %s: the stream ended without its stats", req.GetSnapshot())
			}
			return stats, nil
		} else if err != nil {
			return nil, err
		}
		if _, err := w.Write(m.GetData()); err != nil {
			return nil, fmt.Errorf("send %s: %w", req.GetSnapshot(), err)
		}
		if m.GetStats() != nil {
			stats = m.GetStats()
		}
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
