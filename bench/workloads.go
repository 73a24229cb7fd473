package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"
)

// measurement is one workload's figure on one target.
type measurement struct {
	Value   float64 `json:"value"`
	Ops     int64   `json:"ops,omitempty"`
	Bytes   int64   `json:"bytes,omitempty"`
	Seconds float64 `json:"seconds"`
	Note    string  `json:"note,omitempty"`
	Err     string  `json:"error,omitempty"`
}

// The files the data workloads use, in each target's directory.
const (
	seqFile  = "seq.dat"
	randFile = "rand.dat"
	memFile  = "mem.dat"
)

const mib = 1 << 20

// throughput is a measurement of bytes moved in d, in MiB/s.
func throughput(bytes int64, d time.Duration) *measurement {
	return &measurement{Value: float64(bytes) / mib / d.Seconds(), Bytes: bytes, Seconds: d.Seconds()}
}

// perSecond is a measurement of ops done in d, per second.
func perSecond(ops int64, d time.Duration) *measurement {
	return &measurement{Value: float64(ops) / d.Seconds(), Ops: ops, Seconds: d.Seconds()}
}

// seqWrite writes data to dir/seq.dat in blocks of block bytes, then
// fsyncs and closes it; the data is generated before the clock starts.
func seqWrite(ctx context.Context, dir string, data []byte, block int) (*measurement, error) {
	start := time.Now()
	f, err := os.OpenFile(filepath.Join(dir, seqFile), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, err
	}
	for off, i := 0, 0; off < len(data); off, i = off+block, i+1 {
		if i%64 == 0 && ctx.Err() != nil {
			f.Close()
			return nil, ctx.Err()
		}
		if _, err := f.Write(data[off:min(off+block, len(data))]); err != nil {
			f.Close()
			return nil, err
		}
	}
	if err := errors.Join(f.Sync(), f.Close()); err != nil {
		return nil, err
	}
	return throughput(int64(len(data)), time.Since(start)), nil
}

// seqRead reads dir/seq.dat to its end in blocks of block bytes and checks
// that it holds want bytes.
func seqRead(ctx context.Context, dir string, want int64, block int) (*measurement, error) {
	start := time.Now()
	f, err := os.Open(filepath.Join(dir, seqFile))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	buf := make([]byte, block)
	var got int64
	for i := 0; ; i++ {
		if i%64 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		n, err := f.Read(buf)
		got += int64(n)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	d := time.Since(start)
	if got != want {
		return nil, fmt.Errorf("read %d bytes of %s, want %d", got, seqFile, want)
	}
	return throughput(got, d), nil
}

// writeFile writes size bytes of the pattern to path in blocks, then
// fsyncs and closes the file.
func writeFile(ctx context.Context, path string, size int64, block int, p *pattern) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	buf := make([]byte, block)
	for off, n := int64(0), uint64(1<<32); off < size; off, n = off+int64(block), n+1 {
		if ctx.Err() != nil {
			f.Close()
			return ctx.Err()
		}
		b := buf[:min(int64(block), size-off)]
		p.fill(b, n)
		if _, err := f.Write(b); err != nil {
			f.Close()
			return err
		}
	}
	return errors.Join(f.Sync(), f.Close())
}

// randSpec describes the random 4 KiB workloads.
type randSpec struct {
	Size    int64         // file size
	Ops     int           // operations to do
	MaxTime time.Duration // stop early after this long
	Block   int           // I/O size and alignment (4 KiB)
	Warm    bool          // read the file once before random reads
}

// prepareFile writes size bytes of the pattern to path, outside the
// clock, unless the file already has that size.
func prepareFile(ctx context.Context, path string, size int64, p *pattern) error {
	if fi, err := os.Stat(path); err == nil && fi.Size() == size {
		return nil
	}
	return writeFile(ctx, path, size, mib, p)
}

// randIO does up to s.Ops preads or pwrites of s.Block bytes at random
// aligned offsets of f (the same offsets on every target), stopping early
// after s.MaxTime. It returns the number of operations done.
func randIO(ctx context.Context, f *os.File, s randSpec, write bool, p *pattern) (int64, error) {
	stream := uint64(1)
	if write {
		stream = 2
	}
	rng := rand.New(rand.NewPCG(uint64(s.Size), stream))
	slots := s.Size / int64(s.Block)
	buf := make([]byte, s.Block)
	deadline := time.Now().Add(s.MaxTime)
	var done int64
	for ; done < int64(s.Ops); done++ {
		if done%256 == 0 && (ctx.Err() != nil || time.Now().After(deadline)) {
			if ctx.Err() != nil {
				return done, ctx.Err()
			}
			break
		}
		off := rng.Int64N(slots) * int64(s.Block)
		var err error
		if write {
			p.fill(buf, uint64(1<<40)+uint64(done))
			_, err = f.WriteAt(buf, off)
		} else {
			_, err = f.ReadAt(buf, off)
		}
		if err != nil {
			return done, fmt.Errorf("at offset %d: %w", off, err)
		}
	}
	return done, nil
}

// randWrite overwrites random 4 KiB blocks of dir/rand.dat, then fsyncs;
// the fsync is inside the clock.
func randWrite(ctx context.Context, dir string, s randSpec, p *pattern) (*measurement, error) {
	f, err := os.OpenFile(filepath.Join(dir, randFile), os.O_WRONLY, 0)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	n, err := randIO(ctx, f, s, true, p)
	if err != nil {
		f.Close()
		return nil, err
	}
	if err := errors.Join(f.Sync(), f.Close()); err != nil {
		return nil, err
	}
	m := perSecond(n, time.Since(start))
	m.Note = fmt.Sprintf("%d writes + fsync", n)
	return m, nil
}

// randRead preads random 4 KiB blocks of dir/rand.dat, with readahead
// off (POSIX_FADV_RANDOM, as fio does). With s.Warm the file is first read
// whole through the same descriptor, outside the clock.
func randRead(ctx context.Context, dir string, s randSpec) (*measurement, error) {
	f, err := os.Open(filepath.Join(dir, randFile))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if s.Warm {
		if _, err := io.Copy(io.Discard, f); err != nil {
			return nil, err
		}
	}
	if err := adviseRandom(f); err != nil {
		return nil, fmt.Errorf("fadvise: %w", err)
	}
	start := time.Now()
	n, err := randIO(ctx, f, s, false, nil)
	if err != nil {
		return nil, err
	}
	m := perSecond(n, time.Since(start))
	m.Note = fmt.Sprintf("%d reads", n)
	return m, nil
}
