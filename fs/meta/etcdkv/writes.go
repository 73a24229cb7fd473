package etcdkv

import (
	"bytes"
	"slices"
	"sort"
)

// write is a buffered change: a new value, or a deletion.
type write struct {
	key, value []byte
	deleted    bool
}

// writeSet buffers a transaction's writes until commit, with the last
// write of each key winning.
type writeSet struct {
	m      map[string]*write
	sorted []*write // m's entries in key order; rebuilt when dirty
	dirty  bool
}

func (ws *writeSet) len() int { return len(ws.m) }

// put records a write; key and value must not be modified afterwards.
func (ws *writeSet) put(key, value []byte, deleted bool) {
	if w, ok := ws.m[string(key)]; ok {
		// Replace the slice rather than overwrite it: Get's earlier result
		// and snapshots taken by a running Scan keep the old one.
		w.value, w.deleted = value, deleted
		return
	}
	if ws.m == nil {
		ws.m = make(map[string]*write)
	}
	ws.m[string(key)] = &write{key: key, value: value, deleted: deleted}
	ws.dirty = true
}

// get returns the buffered write of key, if any.
func (ws *writeSet) get(key []byte) (write, bool) {
	w, ok := ws.m[string(key)]
	if !ok {
		return write{}, false
	}
	return *w, true
}

// inRange returns a snapshot, in key order, of the writes in [start, end)
// (nil end: no bound). Later writes do not change it.
func (ws *writeSet) inRange(start, end []byte) []write {
	if len(ws.m) == 0 {
		return nil
	}
	if ws.dirty {
		ws.sorted = ws.sorted[:0]
		for _, w := range ws.m {
			ws.sorted = append(ws.sorted, w)
		}
		slices.SortFunc(ws.sorted, func(a, b *write) int { return bytes.Compare(a.key, b.key) })
		ws.dirty = false
	}
	i := sort.Search(len(ws.sorted), func(i int) bool { return bytes.Compare(ws.sorted[i].key, start) >= 0 })
	var out []write
	for ; i < len(ws.sorted); i++ {
		w := ws.sorted[i]
		if end != nil && bytes.Compare(w.key, end) >= 0 {
			break
		}
		out = append(out, *w)
	}
	return out
}

// all returns every write, in key order.
func (ws *writeSet) all() []write { return ws.inRange(nil, nil) }
