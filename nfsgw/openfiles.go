package nfsgw

import (
	"context"
	"errors"
	"sync"
	"syscall"
	"time"

	"github.com/cairn-storage/cairn/fs"
)

// openFiles keeps an fs.Handle per file between READ and WRITE calls.
// NFS is stateless, but opening the file for every call would reload its
// extents and flush its write buffer each time; instead a handle stays
// open while calls come and is closed (writing back its buffer) once idle.
//
// Handles are opened as the filesystem itself (a nil Caller): each call
// checks its own caller's permissions before using one.
type openFiles struct {
	idle        time.Duration
	onLostWrite func(vol uint64, ino fs.Ino, err error)

	mu    sync.Mutex
	files map[openKey]*openFile
	stop  chan struct{}
	done  chan struct{}
}

type openKey struct {
	vol uint64
	ino fs.Ino
}

type openFile struct {
	h     *fs.Handle
	err   error
	ready chan struct{} // closed once h or err is set
	refs  int
	last  time.Time
}

func newOpenFiles(idle time.Duration, onLostWrite func(uint64, fs.Ino, error)) *openFiles {
	o := &openFiles{idle: idle, onLostWrite: onLostWrite, files: map[openKey]*openFile{},
		stop: make(chan struct{}), done: make(chan struct{})}
	go o.reap()
	return o
}

// get returns the open file ino of vol with one more reference; the
// caller must put it back.
func (o *openFiles) get(ctx context.Context, vol *fs.Volume, volID uint64, ino fs.Ino) (*openFile, error) {
	k := openKey{volID, ino}
	o.mu.Lock()
	f := o.files[k]
	if f != nil {
		f.refs++
		o.mu.Unlock()
		<-f.ready
		if f.err != nil {
			o.put(f)
			return nil, f.err
		}
		return f, nil
	}
	f = &openFile{ready: make(chan struct{}), refs: 1}
	o.files[k] = f
	o.mu.Unlock()
	f.h, f.err = vol.Open(ctx, nil, ino, syscall.O_RDWR)
	if errors.Is(f.err, syscall.EROFS) { // a snapshot view
		f.h, f.err = vol.Open(ctx, nil, ino, syscall.O_RDONLY)
	}
	if f.err != nil {
		o.mu.Lock()
		if o.files[k] == f {
			delete(o.files, k)
		}
		o.mu.Unlock()
	}
	close(f.ready)
	if f.err != nil {
		o.put(f)
		return nil, f.err
	}
	return f, nil
}

// put drops a reference taken by get.
func (o *openFiles) put(f *openFile) {
	o.mu.Lock()
	f.refs--
	f.last = time.Now()
	o.mu.Unlock()
}

// reap closes the files idle for longer than o.idle.
func (o *openFiles) reap() {
	defer close(o.done)
	tick := time.NewTicker(max(o.idle/4, 50*time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case <-o.stop:
			return
		case <-tick.C:
		}
		o.closeIdle(context.Background(), time.Now().Add(-o.idle))
	}
}

// closeIdle closes the unused files last used before cutoff.
func (o *openFiles) closeIdle(ctx context.Context, cutoff time.Time) error {
	o.mu.Lock()
	var idle []*openFile
	var keys []openKey
	for k, f := range o.files {
		if f.refs == 0 && f.h != nil && !f.last.After(cutoff) {
			idle = append(idle, f)
			keys = append(keys, k)
			delete(o.files, k)
		}
	}
	o.mu.Unlock()
	var errs []error
	for i, f := range idle {
		// Flush separately from Release: Release drops the buffer when
		// write-back fails, and the clients must hear of that.
		err := f.h.Flush(ctx)
		if err != nil && !errors.Is(err, syscall.ENOENT) {
			o.onLostWrite(keys[i].vol, keys[i].ino, err)
			errs = append(errs, err)
		}
		if err := f.h.Release(ctx); err != nil && !errors.Is(err, syscall.ENOENT) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// close stops the reaper and closes every file; no call may be running.
func (o *openFiles) close(ctx context.Context) error {
	close(o.stop)
	<-o.done
	return o.closeIdle(ctx, time.Now().Add(time.Hour))
}
