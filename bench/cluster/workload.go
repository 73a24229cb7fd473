package main

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/cairn-storage/cairn/chunks"
)

// store is what the workloads need of a chunk store: *chunks.Local and
// *cluster.Store both are one.
type store interface {
	chunks.Putter
	chunks.Syncer
	chunks.Getter
}

// stream is one writer's data, cut into chunks before any timing.
type stream struct {
	raw    []byte // the data before cutting
	chunks [][]byte
	bytes  int64
}

// randomBytes returns size bytes of incompressible random data (ChaCha8
// with a fixed seed: every run writes the same bytes).
func randomBytes(size int64) []byte {
	var seed [32]byte
	binary.LittleEndian.PutUint64(seed[:], 0xca1e2)
	buf := make([]byte, size)
	_, _ = rand.NewChaCha8(seed).Read(buf) // never fails
	return buf
}

// split divides buf into n streams of about len(buf)/n bytes, each cut
// into chunks: content-defined ("cdc": chunks.DefaultParams, FastCDC,
// ~1 MiB mean, 256 KiB..4 MiB) or "fixed" 1 MiB. The chunks share buf.
func split(buf []byte, n int, chunking string) ([]stream, error) {
	if len(buf) < n || n < 1 {
		return nil, fmt.Errorf("split %d bytes in %d streams", len(buf), n)
	}
	out := make([]stream, n)
	per := len(buf) / n
	for i := range out {
		part := buf[i*per:]
		if i < n-1 {
			part = part[:per]
		}
		out[i] = stream{raw: part, chunks: cut(part, chunking), bytes: int64(len(part))}
	}
	return out, nil
}

// cut splits data into chunks (sub-slices of data).
func cut(data []byte, chunking string) [][]byte {
	var out [][]byte
	for len(data) > 0 {
		n := min(len(data), 1<<20)
		if chunking == "cdc" {
			n, _ = chunks.DefaultParams.Next(data)
		}
		out = append(out, data[:n:n])
		data = data[n:]
	}
	return out
}

// phase is the measurement of one timed phase.
type phase struct {
	Bytes   int64   `json:"bytes"`
	Chunks  int     `json:"chunks"`
	Seconds float64 `json:"seconds"`
	// CPUSeconds is the user+system CPU time of the whole process (every
	// node and writer) during the phase.
	CPUSeconds float64 `json:"cpu_seconds"`
	// RPC counts the chunk RPCs of every node during the phase, by method.
	RPC map[string]rpcStat `json:"rpc,omitempty"`
}

// MiBps returns the throughput in MiB/s.
func (p phase) MiBps() float64 {
	if p.Seconds <= 0 {
		return 0
	}
	return float64(p.Bytes) / (1 << 20) / p.Seconds
}

// CPUPerGiB returns the CPU seconds spent per GiB moved.
func (p phase) CPUPerGiB() float64 {
	if p.Bytes <= 0 {
		return 0
	}
	return p.CPUSeconds / (float64(p.Bytes) / (1 << 30))
}

// cpuTime returns the process's user+system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// timed runs fn and measures its wall and CPU time, and the RPCs of the
// testbed (if any) during it.
func timed(tb *testbed, fn func() error) (phase, error) {
	var before map[string]rpcStat
	if tb != nil {
		before = tb.rpcStats()
	}
	cpu0, t0 := cpuTime(), time.Now()
	err := fn()
	p := phase{Seconds: time.Since(t0).Seconds(), CPUSeconds: (cpuTime() - cpu0).Seconds()}
	if tb != nil {
		p.RPC = diffRPC(tb.rpcStats(), before)
	}
	return p, err
}

// job is one writer's (or reader's) share of a phase.
type job struct {
	store store
	data  *stream
	ids   []chunks.ID // filled in by write, used by read
}

// writeAll writes every job's chunks to its store, the jobs in parallel,
// each with depth Puts in flight (in chunk order, as fs stores a file's
// chunks, 4 at a time): hash, Put (Trusted, uncompressed), then Sync.
// It returns when every job's Sync has returned.
func writeAll(ctx context.Context, jobs []*job, depth int) error {
	errs := make([]error, len(jobs))
	var wg sync.WaitGroup
	for j, jb := range jobs {
		jb.ids = make([]chunks.ID, len(jb.data.chunks))
		wg.Go(func() {
			err := each(ctx, len(jb.data.chunks), depth, func(i int) error {
				c := jb.data.chunks[i]
				id := chunks.Sum(c)
				jb.ids[i] = id
				if err := jb.store.Put(ctx, id, c, chunks.PutOptions{Trusted: true}); err != nil {
					return fmt.Errorf("put chunk %d: %w", i, err)
				}
				return nil
			})
			if err == nil {
				if err = jb.store.Sync(ctx); err != nil {
					err = fmt.Errorf("sync: %w", err)
				}
			}
			if err != nil {
				errs[j] = fmt.Errorf("writer %d: %w", j, err)
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// readAll reads back every job's chunks through readers[k], in parallel,
// depth Gets in flight each, checking sizes (the stores verify hashes).
func readAll(ctx context.Context, jobs []*job, readers []store, depth int) error {
	if len(readers) != len(jobs) {
		return fmt.Errorf("read: %d readers for %d jobs", len(readers), len(jobs))
	}
	errs := make([]error, len(jobs))
	var wg sync.WaitGroup
	for k, jb := range jobs {
		wg.Go(func() {
			err := each(ctx, len(jb.ids), depth, func(i int) error {
				data, err := readers[k].Get(ctx, jb.ids[i])
				if err != nil {
					return fmt.Errorf("get chunk %d: %w", i, err)
				}
				if len(data) != len(jb.data.chunks[i]) {
					return fmt.Errorf("get chunk %d: %d bytes, want %d", i, len(data), len(jb.data.chunks[i]))
				}
				return nil
			})
			if err != nil {
				errs[k] = fmt.Errorf("reader %d: %w", k, err)
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// each calls fn(0..n-1) from depth goroutines taking indexes in order;
// it stops at the first error and returns it.
func each(ctx context.Context, n, depth int, fn func(i int) error) error {
	var next atomic.Int64
	var once sync.Once
	var first error
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	for range max(depth, 1) {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := fn(i); err != nil {
					once.Do(func() { first = err; cancel() })
					return
				}
			}
		})
	}
	wg.Wait()
	if first == nil && ctx.Err() != nil {
		// Only the parent's cancellation is left: the run was interrupted.
		return context.Cause(ctx)
	}
	return first
}

// totals sums the bytes and chunks of jobs.
func totals(jobs []*job) (int64, int) {
	var b int64
	var n int
	for _, jb := range jobs {
		b += jb.data.bytes
		n += len(jb.data.chunks)
	}
	return b, n
}
