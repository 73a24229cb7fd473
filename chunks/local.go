package chunks

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"
)

// LocalOptions configure a Local store.
type LocalOptions struct {
	// Compress zstd-compresses every chunk that shrinks, as if each Put
	// had asked for it with PutOptions.Compress.
	Compress bool
	// Logger receives corruption reports and background errors.
	// Nil means slog.Default().
	Logger *slog.Logger
}

// Local is a durable chunk store in a local directory:
//
//	DIR/LOCK             held (flock) while the store is open
//	DIR/chunks/ab/cd/ID  one framed file per chunk (ID = "abcd...")
//	DIR/tmp/             chunks not yet made durable; emptied at open
//
// Durability follows the Putter/Syncer contract without ever exposing a
// torn chunk: Put writes the chunk to tmp/ and returns (it is readable
// from there), and Sync fsyncs those files, renames them to their final
// names and fsyncs the directories. A chunk file under chunks/ therefore
// always had its data on disk before it got its name; a crash can only
// leave torn files in tmp/, which OpenLocal deletes.
//
// A Local is safe for concurrent use. Only one Local may have a directory
// open at a time (a second OpenLocal fails). Local is the whole store;
// caching and metrics belong in wrappers such as NewCache.
type Local struct {
	dir, chunkDir, tmpDir string
	compress              bool
	log                   *slog.Logger
	lock                  *os.File // holds the flock on DIR/LOCK
	closed                atomic.Bool

	// syncMu serializes Sync and Delete, so a chunk is never deleted
	// while Sync is renaming it.
	syncMu sync.Mutex

	mu        sync.Mutex
	pending   map[ID]pendingChunk // written to tmp/, not yet renamed
	dirtyDirs map[string]bool     // changed by Delete since the last Sync

	counts     counters
	shards     [256]shard // indexed by the ID's first byte; see scan
	scanDone   chan struct{}
	scanErr    error           // set before scanDone is closed
	scanCtx    context.Context // stops the background count at Close
	cancelScan context.CancelFunc
}

// pendingChunk is a chunk Put since the last Sync.
type pendingChunk struct {
	tmp  string // its file in tmp/
	info Info
}

// OpenLocal opens (creating it if needed) the store in dir. It deletes
// leftovers in dir/tmp and starts counting the stored chunks in the
// background for Stats.
func OpenLocal(dir string, opts LocalOptions) (*Local, error) {
	l := &Local{
		dir:       dir,
		chunkDir:  filepath.Join(dir, "chunks"),
		tmpDir:    filepath.Join(dir, "tmp"),
		compress:  opts.Compress,
		log:       opts.Logger,
		pending:   make(map[ID]pendingChunk),
		dirtyDirs: make(map[string]bool),
		scanDone:  make(chan struct{}),
	}
	if l.log == nil {
		l.log = slog.Default()
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("open chunk store: %w", err)
	}
	lock, err := lockDir(filepath.Join(dir, "LOCK"))
	if err != nil {
		return nil, fmt.Errorf("open chunk store: %w", err)
	}
	l.lock = lock
	leftovers, _ := os.ReadDir(l.tmpDir)
	if err := l.prepareDirs(); err != nil {
		lock.Close()
		return nil, fmt.Errorf("open chunk store %s: %w", dir, err)
	}
	l.scanCtx, l.cancelScan = context.WithCancel(context.Background())
	if err := l.startCounting(len(leftovers) > 0); err != nil {
		l.cancelScan()
		lock.Close()
		return nil, fmt.Errorf("open chunk store %s: %w", dir, err)
	}
	return l, nil
}

// prepareDirs creates chunks/ and an empty tmp/, and makes both entries
// durable.
func (l *Local) prepareDirs() error {
	switch err := os.Mkdir(l.chunkDir, 0o700); {
	case err == nil:
		setTopDir(l.chunkDir, l.log)
	case !errors.Is(err, fs.ErrExist):
		return err
	}
	// tmp/ holds chunks never synced: complete ones are kept, since the
	// metadata of a process that died may already refer to them.
	if err := l.recoverTmp(); err != nil {
		return err
	}
	if err := os.RemoveAll(l.tmpDir); err != nil {
		return err
	}
	if err := os.Mkdir(l.tmpDir, 0o700); err != nil {
		return err
	}
	return fsyncPath(l.dir)
}

// Close makes pending chunks durable (as Sync does) and releases the
// store. The store must not be used during or after Close.
func (l *Local) Close() error {
	if !l.closed.CompareAndSwap(false, true) {
		return nil
	}
	err := l.sync()
	l.cancelScan()
	<-l.scanDone
	if err == nil && l.scanErr == nil { // the counters are exact
		err = l.saveCounts()
	}
	if cerr := l.lock.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("close chunk store %s: %w", l.dir, err)
	}
	return nil
}

// check reports why an operation can't start.
func (l *Local) check(ctx context.Context) error {
	if l.closed.Load() {
		return errClosed
	}
	return ctx.Err()
}

// path returns the final name of chunk id.
func (l *Local) path(id ID) string {
	h := id.String()
	return filepath.Join(l.chunkDir, h[:2], h[2:4], h)
}

// Put stores data under id; see Putter. The chunk is readable when Put
// returns and durable after the next Sync.
func (l *Local) Put(ctx context.Context, id ID, data []byte, opts PutOptions) error {
	if err := l.check(ctx); err != nil {
		return fmt.Errorf("chunk %s: put: %w", id, err)
	}
	if len(data) > MaxSize {
		return fmt.Errorf("chunk %s: put %d bytes: %w (max %d)", id, len(data), ErrTooLarge, MaxSize)
	}
	// Verified even when the chunk is present: a caller with a wrong ID
	// must hear about it, not be told its data is stored.
	if !opts.Trusted {
		if sum := Sum(data); sum != id {
			return fmt.Errorf("chunk %s: put: %w (data hashes to %s)", id, ErrIDMismatch, sum)
		}
	}
	if l.has(id) {
		return l.renew(id)
	}
	header, payload := encodeFrame(data, opts.Compress || l.compress)
	tmp, err := l.writeTmp(id, header, payload)
	if err != nil {
		return fmt.Errorf("chunk %s: put: %w", id, err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	// Re-check under mu: a concurrent Put of the same chunk may have won.
	// Sync removes a chunk from pending only after renaming it, so one of
	// the two checks sees it.
	if _, ok := l.pending[id]; ok || l.exists(id) {
		os.Remove(tmp)
		return nil
	}
	info := Info{ID: id, Size: int64(len(data)), Stored: int64(len(header) + len(payload)), ModTime: time.Now()}
	l.pending[id] = pendingChunk{tmp: tmp, info: info}
	l.counts.add(1, info.Size, info.Stored)
	return nil
}

// renew marks a stored chunk as just written, so that garbage collection
// running now cannot take a chunk a writer is about to refer to.
func (l *Local) renew(id ID) error {
	l.mu.Lock()
	p, pending := l.pending[id]
	if pending {
		p.info.ModTime = time.Now()
		l.pending[id] = p
	}
	l.mu.Unlock()
	if pending {
		return nil
	}
	now := time.Now()
	err := os.Chtimes(l.path(id), now, now)
	if errors.Is(err, fs.ErrNotExist) {
		return nil // renamed by a concurrent Sync: its mtime is fresh
	}
	if err != nil {
		return fmt.Errorf("chunk %s: renew: %w", id, err)
	}
	return nil
}

// has reports whether chunk id is stored (pending or final).
func (l *Local) has(id ID) bool {
	l.mu.Lock()
	_, ok := l.pending[id]
	l.mu.Unlock()
	return ok || l.exists(id)
}

// exists reports whether chunk id has its final file.
func (l *Local) exists(id ID) bool {
	_, err := os.Lstat(l.path(id))
	return err == nil
}

// writeTmp writes a frame to a new file in tmp/ and returns its name. On
// error (ENOSPC, EIO...) it removes the file: no partial chunk remains.
func (l *Local) writeTmp(id ID, header, payload []byte) (string, error) {
	f, err := os.CreateTemp(l.tmpDir, id.String()+".*")
	if err != nil {
		return "", err
	}
	_, err = f.Write(header)
	if err == nil && len(payload) > 0 {
		_, err = f.Write(payload)
	}
	// Some file systems (NFS, quotas) report a full disk only at close.
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}
