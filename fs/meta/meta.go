// Package meta defines the ordered, transactional key-value store that
// holds cairn's filesystem metadata, and its implementations (badger for a
// single node; etcd for clusters).
//
// The interface is deliberately narrow so that filesystem semantics are
// written once, above it, for every engine.
package meta

import (
	"context"
	"errors"
)

var (
	// ErrNotFound is returned (wrapped) by Get for a missing key.
	ErrNotFound = errors.New("key not found")
	// ErrConflict is returned when a transaction kept conflicting with
	// concurrent ones after all retries.
	ErrConflict = errors.New("transaction conflict")
	// ErrTooBig is returned when a transaction holds more changes than the
	// engine accepts in one commit; the caller should split the work.
	ErrTooBig = errors.New("transaction too big")
	// ErrStop may be returned by a Scan callback to end the scan early
	// without an error.
	ErrStop = errors.New("stop scan")
)

// Reader reads from one consistent point-in-time view of the store.
type Reader interface {
	// Get returns the value of key, or an error satisfying
	// errors.Is(err, ErrNotFound). The returned slice stays valid after the
	// transaction ends and must not be modified.
	Get(key []byte) ([]byte, error)
	// Scan calls fn for each key in [start, end) in ascending order (a nil
	// end means no upper bound). Keys and values passed to fn are valid only
	// during the call. If fn returns ErrStop the scan ends and Scan returns
	// nil; any other error ends the scan and is returned.
	Scan(start, end []byte, fn func(key, value []byte) error) error
}

// Txn is a read-write transaction. Reads see the transaction's own writes.
type Txn interface {
	Reader
	// Set stores value under key. Both slices may be reused by the caller
	// after Set returns.
	Set(key, value []byte) error
	// Delete removes key; deleting a missing key is not an error.
	Delete(key []byte) error
}

// KV is an ordered transactional key-value store.
type KV interface {
	// Update runs fn in a serializable read-write transaction and commits
	// it. When the commit conflicts with a concurrent transaction, fn is run
	// again on a fresh view (so fn must not have side effects outside the
	// transaction); after repeated conflicts Update returns ErrConflict.
	// If fn returns an error nothing is committed and Update returns it.
	// A committed update survives a crash of the process; it survives a
	// power loss once Sync has returned.
	Update(ctx context.Context, fn func(Txn) error) error
	// View runs fn on a consistent read-only view.
	View(ctx context.Context, fn func(Reader) error) error
	// Sync makes every committed update durable.
	Sync(ctx context.Context) error
	// Close releases the store.
	Close() error
}

// PrefixEnd returns the smallest key greater than every key with the given
// prefix, for use as the end of a Scan; nil if there is none.
func PrefixEnd(prefix []byte) []byte {
	end := append([]byte(nil), prefix...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}
