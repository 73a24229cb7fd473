// Package chunks defines cairn's content-addressed chunk store: chunk
// identity (BLAKE3-256 of the plaintext), the small capability interfaces
// that stores implement and consumers depend on, and the local on-disk
// implementation.
//
// Contracts shared by every implementation:
//   - A chunk's ID is the BLAKE3-256 hash of its plaintext. Stores verify
//     the hash on every read: corrupt data is reported, never returned.
//   - Chunks are immutable. Put of an existing ID is a cheap no-op.
//   - A missing chunk is reported with an error that satisfies
//     errors.Is(err, ErrNotFound); corrupt data with errors.Is(err, ErrCorrupt).
package chunks

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// IDSize is the length in bytes of a chunk ID.
const IDSize = 32

// ID names a chunk: the BLAKE3-256 hash of its plaintext.
type ID [IDSize]byte

// String returns the ID as lowercase hex.
func (id ID) String() string { return hex.EncodeToString(id[:]) }

// IsZero reports whether id is the zero ID, which names no chunk.
func (id ID) IsZero() bool { return id == ID{} }

// ParseID decodes a hex chunk ID.
func ParseID(s string) (ID, error) {
	var id ID
	if len(s) != 2*IDSize {
		return id, fmt.Errorf("chunk id %q: want %d hex digits", s, 2*IDSize)
	}
	if _, err := hex.Decode(id[:], []byte(s)); err != nil {
		return id, fmt.Errorf("chunk id %q: %w", s, err)
	}
	return id, nil
}

var (
	// ErrNotFound is returned (wrapped) when a chunk is not in the store.
	ErrNotFound = errors.New("chunk not found")
	// ErrCorrupt is returned (wrapped) when stored bytes do not hash to the
	// chunk's ID or cannot be decoded.
	ErrCorrupt = errors.New("chunk corrupt")
)

// PutOptions are hints for storing one chunk. They never change its ID.
type PutOptions struct {
	// Compress asks the store to keep the chunk compressed (zstd) when
	// that makes it smaller.
	Compress bool
	// Trusted says the caller computed id from data itself, so the store
	// may skip hashing it again. Data from outside is never Trusted.
	Trusted bool
}

// Info describes one stored chunk.
type Info struct {
	ID ID
	// Size is the plaintext length.
	Size int64
	// Stored is the number of bytes the chunk occupies in the store
	// (after compression, including framing).
	Stored int64
	// ModTime is when the chunk was last stored (a Put of a chunk already
	// there renews it): garbage collection spares chunks younger than its
	// grace period, which a writer about to refer to them may be.
	ModTime time.Time
}

// Getter reads chunks.
type Getter interface {
	// Get returns the plaintext of chunk id after verifying its hash.
	// The caller must not modify the returned slice.
	Get(ctx context.Context, id ID) ([]byte, error)
}

// Putter stores chunks.
type Putter interface {
	// Put stores data under id, which must be Sum(data). It is idempotent.
	// When Put returns the chunk is readable; it is durable across a power
	// loss only after a following Sync returns.
	Put(ctx context.Context, id ID, data []byte, opts PutOptions) error
}

// Syncer makes earlier writes durable.
type Syncer interface {
	// Sync returns once every chunk Put before the call is durable.
	Sync(ctx context.Context) error
}

// Statter reports whether and how a chunk is stored.
type Statter interface {
	// Stat returns the chunk's Info, or an ErrNotFound error.
	Stat(ctx context.Context, id ID) (Info, error)
}

// Walker enumerates stored chunks.
type Walker interface {
	// Walk calls fn for every stored chunk, in no particular order. If fn
	// returns an error the walk stops and Walk returns that error.
	Walk(ctx context.Context, fn func(Info) error) error
}

// Deleter removes chunks.
type Deleter interface {
	// Delete removes chunk id. Deleting a missing chunk is not an error.
	Delete(ctx context.Context, id ID) error
}

// Stats are a store's physical counters.
type Stats struct {
	Chunks      int64 // number of stored chunks
	PlainBytes  int64 // sum of plaintext sizes of stored chunks
	StoredBytes int64 // bytes occupied on disk (after compression)
}

// Store is the full capability set of a chunk store.
type Store interface {
	Getter
	Putter
	Syncer
	Statter
	Walker
	Deleter
	// Stats returns the store's physical counters.
	Stats(ctx context.Context) (Stats, error)
	// Close releases the store's resources.
	Close() error
}
