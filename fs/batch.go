package fs

import (
	"context"
	"errors"
	"sync"
)

// A batch is a part of a file's write buffer being stored in the
// background: hashing and writing chunks overlaps with the writer's next
// writes. Until it commits, reads still see its bytes; batches commit in
// the order they were cut, so newer data always wins.
type batch struct {
	spans  []span // the buffered bytes it stores
	pieces []piece
	bytes  int64 // buffered bytes it holds, for the dirty budget
	err    error // set when storing or committing failed
	done   chan struct{}
}

// maxBatches bounds the batches in flight per file.
const maxBatches = 2

var errEarlierBatch = errors.New("an earlier write-back of the file failed")

// cond returns the condition variable signalled when a batch finishes.
func (f *file) cond() *sync.Cond {
	if f.batchCond == nil {
		f.batchCond = sync.NewCond(&f.mu)
	}
	return f.batchCond
}

// startBatch hands pieces to the background and keeps keep buffered;
// f.mu is held.
func (f *file) startBatch(pieces []piece, keep []span) {
	b := &batch{spans: f.buf.spans, pieces: pieces, done: make(chan struct{})}
	kept := f.setBuffer(keep)
	b.bytes = f.buf.bytes - kept
	f.buf.bytes = kept
	var prev *batch
	if n := len(f.batches); n > 0 {
		prev = f.batches[n-1]
	}
	f.batches = append(f.batches, b)
	go f.runBatch(b, prev)
}

func (f *file) runBatch(b, prev *batch) {
	ctx := context.Background()
	err := f.v.storePieces(ctx, b.pieces)
	if prev != nil {
		<-prev.done
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if err == nil && prev != nil && prev.err != nil {
		err = errEarlierBatch // committing now would put newer data under older
	}
	if err == nil {
		err = f.commitPieces(ctx, b.pieces)
	}
	b.err = err
	if err == nil {
		f.batches = f.batches[1:] // b is the oldest: earlier ones are done
		f.v.fs.dirty.Add(-b.bytes)
	} else {
		f.v.fs.log.Warn("background write-back failed; retried at the next flush",
			"volume", f.v.Info().Name, "ino", f.ino, "err", err)
	}
	close(b.done)
	f.cond().Broadcast()
}

// commitPieces commits the extents of stored pieces.
func (f *file) commitPieces(ctx context.Context, pieces []piece) error {
	var edits []edit
	for _, pc := range pieces {
		for _, e := range pc.exts {
			edits = append(edits, edit{lo: e.Off, hi: e.end(), add: &e})
		}
	}
	sortEdits(edits)
	return f.commit(ctx, edits, 0, false)
}

// waitRoom waits until another batch may start; f.mu is held.
func (f *file) waitRoom(ctx context.Context) error {
	for len(f.batches) >= maxBatches {
		if b := f.batches[0]; b.err != nil {
			return f.drain(ctx)
		}
		f.cond().Wait()
	}
	return nil
}

// drain waits for every batch, retrying failed ones in order; f.mu is
// held. It returns the first error that a retry could not mend.
func (f *file) drain(ctx context.Context) error {
	for len(f.batches) > 0 {
		b := f.batches[0]
		select {
		case <-b.done:
		default:
			f.cond().Wait()
			continue
		}
		if err := f.v.storePieces(ctx, b.pieces); err != nil {
			return err
		}
		if err := f.commitPieces(ctx, b.pieces); err != nil {
			return err
		}
		f.batches = f.batches[1:]
		f.v.fs.dirty.Add(-b.bytes)
	}
	return nil
}

// dropBatches forgets failed batches after drain gave up on them; f.mu
// is held and every batch is done.
func (f *file) dropBatches() {
	for _, b := range f.batches {
		f.v.fs.dirty.Add(-b.bytes)
	}
	f.batches = nil
}

// overlayBatches copies the bytes of batches in flight into p.
func (f *file) overlayBatches(p []byte, off uint64) {
	for _, b := range f.batches {
		wb := writeBuffer{spans: b.spans}
		wb.overlay(p, off)
	}
}
