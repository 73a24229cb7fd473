package etcdkv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/cairn-storage/cairn/fs/meta"
)

// Scan page sizes, in keys: the first page is small because many scans
// stop after a key or two (is this directory empty?); later pages grow
// while their values stay under pageBytes.
const (
	firstPage = 64
	maxPage   = 1024
	minPage   = 4
	pageBytes = 4 << 20
)

// txn is a View's reader, safe for concurrent use, or an Update's
// transaction, which is not (but fn may call it from its Scan callbacks).
type txn struct {
	kv    *KV
	ctx   context.Context
	rev   atomic.Int64 // the revision every read is served at; 0 before the first
	revMu sync.Mutex   // held by the first read

	// For Updates only (reads is nil in a View):
	reads   map[string]read // what the transaction read, by key
	spans   []span          // the ranges its Scans visited
	writes  writeSet
	err     error // the first failed read: such a transaction never commits
	restart bool  // a read found its revision compacted: run fn again
}

// read is a key as read at the transaction's revision.
type read struct {
	modRev int64  // 0 if the key was missing
	value  []byte // if cached
	cached bool
}

// span is a range [start, end) of keys visited by a Scan; a nil end means
// no bound.
type span struct{ start, end []byte }

func newUpdate(ctx context.Context, kv *KV) *txn {
	return &txn{kv: kv, ctx: ctx, reads: make(map[string]read)}
}

// Get implements meta.Reader.
func (t *txn) Get(key []byte) ([]byte, error) {
	if w, ok := t.writes.get(key); ok {
		if w.deleted {
			return nil, meta.ErrNotFound
		}
		return w.value, nil
	}
	if r, ok := t.reads[string(key)]; ok && r.cached {
		if r.modRev == 0 {
			return nil, meta.ErrNotFound
		}
		return r.value, nil
	}
	resp, err := t.rangeAt(t.kv.prefix+string(key), "", 0)
	if err != nil {
		return nil, err
	}
	r := read{cached: true}
	if len(resp.Kvs) > 0 {
		r.modRev, r.value = resp.Kvs[0].ModRevision, resp.Kvs[0].Value
		if r.value == nil {
			r.value = []byte{}
		}
	}
	if t.reads != nil {
		t.reads[string(key)] = r
	}
	if r.modRev == 0 {
		return nil, meta.ErrNotFound
	}
	return r.value, nil
}

// Scan implements meta.Reader. It reads the range in pages at the
// transaction's revision and merges in the transaction's writes, as they
// were when Scan started.
func (t *txn) Scan(start, end []byte, fn func(key, value []byte) error) error {
	if end != nil && bytes.Compare(start, end) >= 0 {
		return nil
	}
	own := t.writes.inRange(start, end)
	from, until := t.kv.prefix+string(start), t.kv.endAll
	if end != nil {
		until = t.kv.prefix + string(end)
	}
	var last []byte // the last key passed to fn
	done := false   // whether fn saw the whole range
	defer func() { t.noteSpan(start, end, last, done) }()

	// emit passes one key to fn and reports whether to go on.
	emit := func(k, v []byte) (bool, error) {
		last = k
		switch err := fn(k, v); {
		case err == nil:
			return true, nil
		case errors.Is(err, meta.ErrStop):
			return false, nil
		default:
			return false, err
		}
	}
	// flushOwn emits the writes ordered before key (all if key is nil),
	// then reports whether own[0] is key itself.
	flushOwn := func(key []byte) (more, same bool, err error) {
		for len(own) > 0 && (key == nil || bytes.Compare(own[0].key, key) < 0) {
			w := own[0]
			own = own[1:]
			if w.deleted {
				continue
			}
			if more, err := emit(w.key, w.value); !more {
				return false, false, err
			}
		}
		return true, len(own) > 0 && key != nil && bytes.Equal(own[0].key, key), nil
	}

	limit := int64(firstPage)
	for {
		resp, err := t.rangeAt(from, until, limit)
		if err != nil {
			return err
		}
		size := 0
		for _, kv := range resp.Kvs {
			k := kv.Key[len(t.kv.prefix):]
			size += len(kv.Key) + len(kv.Value)
			more, same, err := flushOwn(k)
			if !more {
				return err
			}
			if same { // the transaction's own write replaces the stored key
				w := own[0]
				own = own[1:]
				if w.deleted {
					continue
				}
				if more, err := emit(w.key, w.value); !more {
					return err
				}
				continue
			}
			t.noteRead(k, kv.ModRevision)
			if more, err := emit(k, kv.Value); !more {
				return err
			}
		}
		if !resp.More || len(resp.Kvs) == 0 {
			break
		}
		from = string(resp.Kvs[len(resp.Kvs)-1].Key) + "\x00"
		limit = nextPage(limit, size)
	}
	if more, _, err := flushOwn(nil); !more {
		return err
	}
	done = true
	return nil
}

// nextPage sizes the next page from the bytes the last one held.
func nextPage(limit int64, size int) int64 {
	switch {
	case size > pageBytes:
		return max(limit/2, minPage)
	case size < pageBytes/4:
		return min(limit*4, maxPage)
	default:
		return limit
	}
}

// noteRead records that the transaction saw key at revision modRev.
func (t *txn) noteRead(key []byte, modRev int64) {
	if t.reads == nil {
		return
	}
	if _, ok := t.reads[string(key)]; !ok {
		t.reads[string(key)] = read{modRev: modRev}
	}
}

// noteSpan records the part of [start, end) that a Scan visited: all of it
// if done, else up to and including last.
func (t *txn) noteSpan(start, end, last []byte, done bool) {
	switch {
	case t.reads == nil:
		return
	case done:
		t.spans = append(t.spans, span{bytes.Clone(start), bytes.Clone(end)})
	case last != nil:
		stop := append(bytes.Clone(last), 0)
		t.spans = append(t.spans, span{bytes.Clone(start), stop})
	}
}

// Set implements meta.Txn.
func (t *txn) Set(key, value []byte) error {
	if t.reads == nil {
		return errors.New("etcdkv: Set in a read-only transaction")
	}
	buf := make([]byte, len(key)+len(value))
	k, v := buf[:len(key):len(key)], buf[len(key):]
	copy(k, key)
	copy(v, value)
	t.writes.put(k, v, false)
	return nil
}

// Delete implements meta.Txn.
func (t *txn) Delete(key []byte) error {
	if t.reads == nil {
		return errors.New("etcdkv: Delete in a read-only transaction")
	}
	t.writes.put(bytes.Clone(key), nil, true)
	return nil
}

// rangeAt reads [key, end) (just key if end is "") at the transaction's
// revision, taking the current one on the first read. Reads at a known
// revision are served by any member that has applied it, without a round
// of consensus.
func (t *txn) rangeAt(key, end string, limit int64) (*clientv3.GetResponse, error) {
	rev := t.rev.Load()
	if rev == 0 { // the first read; concurrent ones (in a View) wait for it
		t.revMu.Lock()
		defer t.revMu.Unlock()
		rev = t.rev.Load()
	}
	opts := make([]clientv3.OpOption, 0, 4)
	if end != "" {
		opts = append(opts, clientv3.WithRange(end))
	}
	if limit > 0 {
		opts = append(opts, clientv3.WithLimit(limit))
	}
	if rev != 0 {
		opts = append(opts, clientv3.WithRev(rev), clientv3.WithSerializable())
	}
	ctx, cancel := t.kv.rpcContext(t.ctx)
	defer cancel()
	resp, err := t.kv.client.Get(ctx, key, opts...)
	if errors.Is(err, rpctypes.ErrFutureRev) { // that member lags: ask the leader
		resp, err = t.kv.client.Get(ctx, key, opts[:len(opts)-1]...)
	}
	if err != nil {
		err = fmt.Errorf("etcdkv: read at revision %d: %w", rev, err)
		if t.reads != nil {
			t.restart = t.restart || errors.Is(err, rpctypes.ErrCompacted)
			if t.err == nil {
				t.err = err
			}
		}
		return nil, err
	}
	if rev == 0 {
		t.rev.Store(resp.Header.Revision)
	}
	return resp, nil
}
