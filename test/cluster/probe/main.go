// Command probe writes and verifies numbered, self-checking records over
// NFSv3, for the Docker cluster fault suite (test/cluster). It runs
// inside the gateway container and talks to the gateway on 127.0.0.1.
//
//	probe write -file NAME [-size 4096] [-k 16] [-duration 5m]
//	probe verify -file NAME -acked N
//	probe get URL
//	probe idle
//
// write appends records with UNSTABLE WRITEs and sends a COMMIT every k
// records. A record is acknowledged once a COMMIT covering it succeeded
// with the verifier of every WRITE since the previous one; after each
// successful COMMIT it prints
//
//	ack N sent=UNIXNANO done=UNIXNANO
//
// (N the highest acknowledged record, numbered from 0; sent and done when
// the COMMIT was sent and answered). A failed call prints
//
//	err KIND OP: MESSAGE at=UNIXNANO
//
// (KIND an NFS3ERR_* name; "verifier" for a COMMIT answered with a new
// write verifier, which means the gateway dropped unstable writes;
// "timeout" for a call unanswered within -timeout; "transport") and the
// writer goes back to the first record not acknowledged and rewrites
// from there, reconnecting if needed, until its time is up or its
// standard input is closed. It ends with a "done" line of totals.
//
// verify reads the file back and checks records 0..N. It exits 0 if all
// are intact, 1 if one is missing or wrong (lost data), 2 if it could
// not read (an I/O error: try again).
//
// get prints the body of an HTTP GET of URL (the node's own metrics, on
// 127.0.0.1: the image has no other HTTP client).
//
// idle sleeps until SIGTERM or SIGINT: a process for `docker exec` to
// run beside.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: probe write|verify|get|idle [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "write":
		err = writeMain(os.Args[2:])
	case "verify":
		err = verifyMain(os.Args[2:])
	case "get":
		err = getMain(os.Args[2:])
	case "idle":
		sigs := make(chan os.Signal, 1)
		signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
		<-sigs
		return
	default:
		err = fmt.Errorf("unknown mode %q: want write, verify, get or idle", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "probe:", err)
		var ex exitError
		if errors.As(err, &ex) {
			os.Exit(int(ex))
		}
		os.Exit(2)
	}
}

// getMain prints the body of GET args[0].
func getMain(args []string) error {
	if len(args) != 1 {
		return errors.New("get: want one URL")
	}
	cl := &http.Client{Timeout: 10 * time.Second}
	resp, err := cl.Get(args[0])
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", args[0], resp.Status)
	}
	_, err = io.Copy(os.Stdout, resp.Body)
	return err
}

// exitError carries an exit status.
type exitError int

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// common are the flags of both modes.
type common struct {
	addr, volume, file string
	size               int
	timeout            time.Duration
}

func (c *common) flags(fs *flag.FlagSet) {
	fs.StringVar(&c.addr, "addr", "127.0.0.1:2049", "NFS (and MOUNT) address of the gateway")
	fs.StringVar(&c.volume, "volume", "default", "volume to mount")
	fs.StringVar(&c.file, "file", "probe.dat", "file in the volume's root")
	fs.IntVar(&c.size, "size", 4096, "record size in bytes")
	fs.DurationVar(&c.timeout, "timeout", 60*time.Second, "deadline of each NFS call")
}

func (c *common) check() error {
	if c.size < minRecord || c.size%8 != 0 {
		return fmt.Errorf("-size %d: want a multiple of 8 of at least %d", c.size, minRecord)
	}
	if c.file == "" || strings.Contains(c.file, "/") {
		return fmt.Errorf("-file %q: want a file name", c.file)
	}
	return nil
}

// writer is the state of write mode.
type writer struct {
	common
	k        int
	pause    time.Duration
	tag      uint64
	acked    int64 // highest acknowledged record; -1: none
	commits  int
	errs     map[string]int
	written  int64 // records sent, rewrites included
	cl       *client
	fh       []byte
	deadline time.Time
	stop     <-chan struct{}
}

func writeMain(args []string) error {
	fs := flag.NewFlagSet("write", flag.ContinueOnError)
	w := &writer{acked: -1, errs: make(map[string]int)}
	w.flags(fs)
	fs.IntVar(&w.k, "k", 16, "records per COMMIT")
	fs.DurationVar(&w.pause, "pause", 0, "pause after each COMMIT")
	duration := fs.Duration("duration", 5*time.Minute, "stop after this long")
	stdin := fs.Bool("stdin", true, "also stop when standard input is closed")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := w.check(); err != nil {
		return err
	}
	if w.k < 1 {
		return fmt.Errorf("-k %d: want at least 1", w.k)
	}
	w.tag = fileTag(w.file)
	w.deadline = time.Now().Add(*duration)
	stop := make(chan struct{})
	if *stdin {
		go func() { io.Copy(io.Discard, os.Stdin); close(stop) }()
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	go func() { <-sigs; close(stop) }()
	w.stop = stop
	start := time.Now()
	w.run()
	if w.cl != nil {
		w.cl.close()
	}
	fmt.Printf("done acked=%d commits=%d written=%d errors=%d kinds=%s seconds=%.1f\n",
		w.acked, w.commits, w.written, w.errCount(), w.errKinds(), time.Since(start).Seconds())
	return nil
}

func (w *writer) stopped() bool {
	select {
	case <-w.stop:
		return true
	default:
		return time.Now().After(w.deadline)
	}
}

// run writes until stopped.
func (w *writer) run() {
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	for !w.stopped() {
		if w.cl == nil || w.cl.dead {
			if err := w.connect(); err != nil {
				w.fail(out, err)
				continue
			}
		}
		if err := w.round(out); err != nil {
			w.fail(out, err)
			continue
		}
		if w.pause > 0 {
			time.Sleep(w.pause)
		}
	}
}

func (w *writer) connect() error {
	if w.cl != nil {
		w.cl.close()
		w.cl = nil
	}
	cl, err := dial(w.addr, w.volume, w.timeout)
	if err != nil {
		return err
	}
	fh, err := cl.open(w.file, true)
	if err != nil {
		cl.close()
		return err
	}
	w.cl, w.fh = cl, fh
	return nil
}

// round writes the k records after the last acknowledged one and
// commits them.
func (w *writer) round(out *bufio.Writer) error {
	first := uint64(w.acked + 1)
	verfs := make(map[uint64]bool)
	for seq := first; seq < first+uint64(w.k); seq++ {
		v, err := w.cl.write(w.fh, seq*uint64(w.size), makeRecord(w.tag, seq, w.size))
		w.written++
		if err != nil {
			return fmt.Errorf("record %d: %w", seq, err)
		}
		verfs[v] = true
	}
	sent := time.Now()
	v, err := w.cl.commit(w.fh)
	if err != nil {
		return fmt.Errorf("records %d-%d: %w", first, first+uint64(w.k)-1, err)
	}
	if len(verfs) != 1 || !verfs[v] {
		// The server lost its unstable writes (it restarted): rewrite.
		return fmt.Errorf("records %d-%d: commit: verifier changed (%d writes' verifiers, commit %x)", first, first+uint64(w.k)-1, len(verfs), v)
	}
	w.commits++
	w.acked = int64(first) + int64(w.k) - 1
	fmt.Fprintf(out, "ack %d sent=%d done=%d\n", w.acked, sent.UnixNano(), time.Now().UnixNano())
	return out.Flush()
}

// fail reports err, counts it and pauses a little.
func (w *writer) fail(out *bufio.Writer, err error) {
	kind := errorKind(err)
	if strings.Contains(err.Error(), "verifier changed") {
		kind = "verifier"
	}
	w.errs[kind]++
	fmt.Fprintf(out, "err %s %v at=%d\n", kind, err, time.Now().UnixNano())
	out.Flush()
	if kind == "timeout" || kind == "transport" {
		if w.cl != nil {
			w.cl.close()
		}
	}
	select {
	case <-w.stop:
	case <-time.After(200 * time.Millisecond):
	}
}

func (w *writer) errCount() int {
	n := 0
	for _, c := range w.errs {
		n += c
	}
	return n
}

// errKinds is "KIND:N,..." sorted by kind, or "-".
func (w *writer) errKinds() string {
	var kinds []string
	for k, n := range w.errs {
		kinds = append(kinds, fmt.Sprintf("%s:%d", k, n))
	}
	if len(kinds) == 0 {
		return "-"
	}
	sort.Strings(kinds)
	return strings.Join(kinds, ",")
}
