package chunks

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"sync"
)

// NewCache returns a Store that keeps the plaintext of recently read and
// written chunks of s in memory, up to about maxBytes, evicting the least
// recently used. Cache hits never reach s. Concurrent misses of one chunk
// share a single read of s. Everything but Get, Put, Delete and Close
// passes straight through. maxBytes <= 0 returns s itself.
//
// Only verified plaintext is cached: what s.Get returned (s verifies the
// hash).
func NewCache(s Store, maxBytes int64) Store {
	if maxBytes <= 0 {
		return s
	}
	return &cache{
		Store:    s,
		max:      maxBytes,
		entries:  make(map[ID]*list.Element),
		inflight: make(map[ID]*fill),
	}
}

// cacheEntryOverhead approximates the memory an entry costs beyond its
// data (map slot, list element, struct), so many tiny chunks can't blow
// past the budget.
const cacheEntryOverhead = 128

type cache struct {
	Store // the cached store; its Sync, Stat, Walk and Stats are used as is

	max int64

	mu       sync.Mutex
	lru      list.List // of *cacheEntry, most recently used first
	entries  map[ID]*list.Element
	used     int64
	inflight map[ID]*fill // misses being read from Store
}

type cacheEntry struct {
	id   ID
	data []byte
}

// fill is one read of Store shared by concurrent misses of one chunk.
type fill struct {
	done  chan struct{} // closed when data and err are set
	data  []byte
	err   error
	stale bool // deleted while being read: don't cache (guarded by mu)
}

// Get returns chunk id from memory or, on a miss, from the cached store.
func (c *cache) Get(ctx context.Context, id ID) ([]byte, error) {
	for {
		c.mu.Lock()
		if e, ok := c.entries[id]; ok {
			c.lru.MoveToFront(e)
			data := e.Value.(*cacheEntry).data
			c.mu.Unlock()
			return data, nil
		}
		if f, ok := c.inflight[id]; ok {
			c.mu.Unlock()
			select {
			case <-f.done:
			case <-ctx.Done():
				return nil, fmt.Errorf("chunk %s: get: %w", id, ctx.Err())
			}
			// The reader's own context ended, not ours: read again.
			if isContextErr(f.err) && ctx.Err() == nil {
				continue
			}
			return f.data, f.err
		}
		f := &fill{done: make(chan struct{})}
		c.inflight[id] = f
		c.mu.Unlock()

		f.data, f.err = c.Store.Get(ctx, id)
		c.mu.Lock()
		delete(c.inflight, id)
		if f.err == nil && !f.stale {
			c.insert(id, f.data)
		}
		c.mu.Unlock()
		close(f.done)
		return f.data, f.err
	}
}

// Put stores the chunk in the cached store without caching it: a stream
// of writes would otherwise evict everything readers use, and copy every
// chunk on the way.
func (c *cache) Put(ctx context.Context, id ID, data []byte, opts PutOptions) error {
	return c.Store.Put(ctx, id, data, opts)
}

// Delete deletes the chunk from the cached store and from memory.
func (c *cache) Delete(ctx context.Context, id ID) error {
	err := c.Store.Delete(ctx, id)
	c.mu.Lock()
	if e, ok := c.entries[id]; ok {
		c.remove(e)
	}
	if f, ok := c.inflight[id]; ok {
		f.stale = true
	}
	c.mu.Unlock()
	return err
}

// Close drops the cached data and closes the cached store.
func (c *cache) Close() error {
	c.mu.Lock()
	c.lru.Init()
	clear(c.entries)
	c.used = 0
	c.mu.Unlock()
	return c.Store.Close()
}

// insert adds a chunk as most recently used and evicts down to budget.
// c.mu must be held.
func (c *cache) insert(id ID, data []byte) {
	size := int64(len(data)) + cacheEntryOverhead
	if size > c.max {
		return
	}
	if _, ok := c.entries[id]; ok {
		return
	}
	c.entries[id] = c.lru.PushFront(&cacheEntry{id: id, data: data})
	c.used += size
	for c.used > c.max {
		c.remove(c.lru.Back())
	}
}

// remove drops one entry. c.mu must be held.
func (c *cache) remove(e *list.Element) {
	ce := c.lru.Remove(e).(*cacheEntry)
	delete(c.entries, ce.id)
	c.used -= int64(len(ce.data)) + cacheEntryOverhead
}

func isContextErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
