package chunks

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

// counters are a store's Stats, updated as one so Stats is consistent.
type counters struct {
	mu sync.Mutex
	s  Stats
}

func (c *counters) add(chunks, plain, stored int64) {
	c.mu.Lock()
	c.s.Chunks += chunks
	c.s.PlainBytes += plain
	c.s.StoredBytes += stored
	c.mu.Unlock()
}

func (c *counters) get() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.s
}

// A shard is the chunks whose ID starts with one byte: the directory
// chunks/ab. The background scan counts one shard at a time while holding
// its lock; Sync and Delete change a shard's files under its read lock
// and adjust the counters depending on whether the scan has counted that
// shard yet. That way Stats is exact without stopping writes during the
// scan.
type shard struct {
	mu      sync.RWMutex
	scanned bool
}

// scan counts the chunks present at open, shard by shard.
func (l *Local) scan(ctx context.Context) {
	defer close(l.scanDone)
	for s := range l.shards {
		sh := &l.shards[s]
		var sum Stats
		sh.mu.Lock()
		err := l.walkShard(ctx, byte(s), func(info Info) error {
			sum.Chunks++
			sum.PlainBytes += info.Size
			sum.StoredBytes += info.Stored
			return nil
		})
		if err == nil {
			l.counts.add(sum.Chunks, sum.PlainBytes, sum.StoredBytes)
			sh.scanned = true
		}
		sh.mu.Unlock()
		if err != nil {
			if ctx.Err() == nil {
				l.log.Error("chunks: counting stored chunks", "dir", l.dir, "err", err)
			}
			l.scanErr = err
			return
		}
	}
}

// Stats returns the store's counters. Right after OpenLocal it waits for
// the background count of the chunks already stored.
func (l *Local) Stats(ctx context.Context) (Stats, error) {
	if err := l.check(ctx); err != nil {
		return Stats{}, fmt.Errorf("chunk store %s: stats: %w", l.dir, err)
	}
	select {
	case <-l.scanDone:
	case <-ctx.Done():
		return Stats{}, fmt.Errorf("chunk store %s: stats: %w", l.dir, ctx.Err())
	}
	if l.scanErr != nil {
		return Stats{}, fmt.Errorf("chunk store %s: stats: %w", l.dir, l.scanErr)
	}
	return l.counts.get(), nil
}

// Walk calls fn for every stored chunk; see Walker. Chunks put or deleted
// during the walk may or may not be reported. A chunk file with a corrupt
// header is reported with Size 0 (and logged), so that scrubbing and
// garbage collection still see it.
func (l *Local) Walk(ctx context.Context, fn func(Info) error) error {
	if err := l.check(ctx); err != nil {
		return fmt.Errorf("chunk store %s: walk: %w", l.dir, err)
	}
	l.mu.Lock()
	pending := make([]Info, 0, len(l.pending))
	for _, p := range l.pending {
		pending = append(pending, p.info)
	}
	l.mu.Unlock()
	seen := make(map[ID]bool, len(pending))
	for _, info := range pending {
		seen[info.ID] = true
		if err := fn(info); err != nil {
			return err
		}
	}
	for s := range l.shards {
		err := l.walkShard(ctx, byte(s), func(info Info) error {
			if seen[info.ID] { // renamed by Sync since the snapshot
				return nil
			}
			return fn(info)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// walkShard calls fn for each chunk file under chunks/<s>, skipping names
// that are not chunk IDs or not in their ID's directory. Errors from fn
// are returned as they are.
func (l *Local) walkShard(ctx context.Context, s byte, fn func(Info) error) error {
	prefix := fmt.Sprintf("%02x", s)
	top := filepath.Join(l.chunkDir, prefix)
	subs, err := os.ReadDir(top)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("chunk store %s: walk: %w", l.dir, err)
	}
	for _, sub := range subs {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("chunk store %s: walk: %w", l.dir, err)
		}
		if !sub.IsDir() {
			continue
		}
		dir := filepath.Join(top, sub.Name())
		files, err := os.ReadDir(dir)
		if err != nil {
			return fmt.Errorf("chunk store %s: walk: %w", l.dir, err)
		}
		for _, f := range files {
			// Only canonical names in the right directory are chunks;
			// anything else is not ours to report.
			name := f.Name()
			id, err := ParseID(name)
			if err != nil || name != id.String() || name[:2] != prefix || name[2:4] != sub.Name() || !f.Type().IsRegular() {
				continue
			}
			info, err := statFile(filepath.Join(dir, f.Name()), id)
			switch {
			case errors.Is(err, fs.ErrNotExist): // deleted meanwhile
				continue
			case errors.Is(err, ErrCorrupt):
				l.log.Warn("chunks: chunk file has a corrupt header", "id", id, "err", err)
			case err != nil:
				return fmt.Errorf("chunk %s: walk: %w", id, err)
			}
			if err := fn(info); err != nil {
				return err
			}
		}
	}
	return nil
}
