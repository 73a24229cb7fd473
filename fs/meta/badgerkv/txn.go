package badgerkv

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"

	"github.com/cairn-storage/cairn/fs/meta"
)

// reader adapts a badger transaction to meta.Reader.
type reader struct{ btx *badger.Txn }

// txn adapts a read-write badger transaction to meta.Txn.
type txn struct {
	reader
	maxValue int // if > 0, values must be shorter
}

// Get implements meta.Reader. A missing key returns meta.ErrNotFound itself,
// unwrapped: negative lookups are frequent and should not allocate.
func (r reader) Get(key []byte) ([]byte, error) {
	item, err := r.btx.Get(key)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, meta.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("badgerkv: get: %w", err)
	}
	v, err := item.ValueCopy(nil)
	if err != nil {
		return nil, fmt.Errorf("badgerkv: get: %w", err)
	}
	return v, nil
}

// Scan implements meta.Reader. Values are read in place (no copy, no
// prefetch), which suits the short scans of directory entries and extents.
func (r reader) Scan(start, end []byte, fn func(key, value []byte) error) error {
	if end != nil && bytes.Compare(start, end) >= 0 {
		return nil
	}
	// Every key in [start, end) shares their common prefix; telling badger
	// lets it skip tables that cannot hold such keys.
	it := r.btx.NewIterator(badger.IteratorOptions{Prefix: commonPrefix(start, end)})
	defer it.Close()
	for it.Seek(start); it.Valid(); it.Next() {
		item := it.Item()
		key := item.Key()
		if end != nil && bytes.Compare(key, end) >= 0 {
			break
		}
		var fnErr error
		if err := item.Value(func(v []byte) error {
			fnErr = fn(key, v)
			return nil
		}); err != nil {
			return fmt.Errorf("badgerkv: scan: %w", err)
		}
		if errors.Is(fnErr, meta.ErrStop) {
			return nil
		}
		if fnErr != nil {
			return fnErr
		}
	}
	return nil
}

func commonPrefix(a, b []byte) []byte {
	if b == nil {
		return nil
	}
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return a[:n:n]
}

// Set implements meta.Txn. badger keeps the slices until commit, so Set
// copies them (in one allocation).
func (t txn) Set(key, value []byte) error {
	if t.maxValue > 0 && len(value) >= t.maxValue {
		// badger would accept it and then crash writing it (v4.9.6).
		return fmt.Errorf("badgerkv: set: %d-byte value; in-memory values must be under %d bytes", len(value), t.maxValue)
	}
	buf := make([]byte, len(key)+len(value))
	k, v := buf[:len(key):len(key)], buf[len(key):]
	copy(k, key)
	copy(v, value)
	return wrapWriteErr("set", t.btx.Set(k, v))
}

// Delete implements meta.Txn.
func (t txn) Delete(key []byte) error {
	return wrapWriteErr("delete", t.btx.Delete(bytes.Clone(key)))
}

func wrapWriteErr(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, badger.ErrTxnTooBig):
		return fmt.Errorf("badgerkv: %s: %w", op, meta.ErrTooBig)
	default:
		return fmt.Errorf("badgerkv: %s: %w", op, err)
	}
}
