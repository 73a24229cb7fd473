package fs

import (
	"encoding/binary"
	"errors"
	"fmt"
	"syscall"

	"github.com/cairn-storage/cairn/chunks"
	"github.com/cairn-storage/cairn/fs/meta"
)

// The write gate makes a snapshot's cut one instant. Every operation that
// may change a volume (an entry point of this package: a write, a flush,
// a namespace change) holds the gate shared for its whole duration; a
// snapshot holds it exclusively while it flushes buffers, moves to the
// next epoch and opens its read view. Entry points never call each other
// while holding it, so the shared side is never taken twice by one
// goroutine (which would deadlock behind a waiting snapshot).

var zeroID chunks.ID

// hold takes the volume's write gate shared; call the result to release.
func (v *Volume) hold() func() {
	v.gate.RLock()
	return v.gate.RUnlock
}

// writable refuses changes to a read-only volume: a snapshot's view, or
// a volume configured read-only.
func (v *Volume) writable() error {
	info := v.Info()
	if info.Hidden {
		return fmt.Errorf("volume %q is a read-only snapshot view: %w", info.Name, syscall.EROFS)
	}
	if info.ReadOnly {
		return fmt.Errorf("volume %q is read-only: %w", info.Name, syscall.EROFS)
	}
	return nil
}

// loadEpoch reads the volume's snapshot epoch.
func loadEpoch(r meta.Reader, ks keyspace) (uint64, error) {
	b, err := r.Get(ks.epoch())
	if errors.Is(err, meta.ErrNotFound) {
		return 0, nil
	} else if err != nil {
		return 0, err
	}
	if len(b) != 8 {
		return 0, fmt.Errorf("epoch record of %d bytes: %w", len(b), syscall.EIO)
	}
	return binary.BigEndian.Uint64(b), nil
}

// curEpoch reads the volume's snapshot epoch inside the transaction, so
// that a cut made meanwhile, by this process or any other sharing the
// metadata store (it rewrites the epoch record), makes this transaction
// conflict and retry under the new epoch instead of marking inodes dirty
// in an epoch that is already cut.
func (t *txn) curEpoch() (uint64, error) {
	if t.epoch == nil {
		e, err := loadEpoch(t.tx, t.ks)
		if err != nil {
			return 0, fmt.Errorf("snapshot epoch: %w", err)
		}
		t.epoch = &e
	}
	return *t.epoch, nil
}

// markDirty records that n changes in the current epoch: its cached tree
// node is void, and so are those of its ancestors up to the first one
// already dirty in this epoch (whose ancestors then are too).
func (t *txn) markDirty(n *inode) error {
	epoch, err := t.curEpoch()
	if err != nil {
		return err
	}
	if n.DirtyEpoch == epoch && n.Cached.IsZero() {
		return nil
	}
	n.DirtyEpoch, n.Cached = epoch, zeroID
	if n.Ino == RootIno {
		return nil
	}
	for p := n.Parent; ; {
		pn, err := t.get(p)
		if err == syscall.ENOENT {
			return nil // parent removed in this transaction
		} else if err != nil {
			return err
		}
		if pn.DirtyEpoch == epoch && pn.Cached.IsZero() {
			return nil
		}
		pn.DirtyEpoch, pn.Cached = epoch, zeroID
		if err := t.putRaw(pn); err != nil {
			return err
		}
		if p == RootIno || pn.Parent == p {
			return nil
		}
		p = pn.Parent
	}
}

// markLinks sets LinksBelow on dir and its ancestors: dir holds a file
// with several names.
func (t *txn) markLinks(dir Ino) error {
	for p := dir; ; {
		pn, err := t.get(p)
		if err != nil {
			return err
		}
		if pn.LinksBelow {
			return nil
		}
		pn.LinksBelow = true
		if err := t.putRaw(pn); err != nil {
			return err
		}
		if p == RootIno || pn.Parent == p {
			return nil
		}
		p = pn.Parent
	}
}
