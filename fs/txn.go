package fs

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"syscall"
	"time"

	"github.com/cairn-storage/cairn/fs/meta"
)

// reader reads one volume's records from a consistent view.
type reader struct {
	r  meta.Reader
	ks keyspace
}

// get loads inode ino; a missing inode is ENOENT.
func (r reader) get(ino Ino) (*inode, error) {
	b, err := r.r.Get(r.ks.inode(ino))
	if errors.Is(err, meta.ErrNotFound) {
		return nil, syscall.ENOENT
	} else if err != nil {
		return nil, err
	}
	return decodeInode(b)
}

// dir loads ino and checks that it is a directory.
func (r reader) dir(ino Ino) (*inode, error) {
	n, err := r.get(ino)
	if err != nil {
		return nil, err
	}
	if !n.IsDir() {
		return nil, syscall.ENOTDIR
	}
	return n, nil
}

// lookup returns the inode number named name in dir, or ENOENT.
func (r reader) lookup(dir Ino, name string) (Ino, error) {
	b, err := r.r.Get(r.ks.dirent(dir, name))
	if errors.Is(err, meta.ErrNotFound) {
		return 0, syscall.ENOENT
	} else if err != nil {
		return 0, err
	}
	if len(b) < 8 {
		return 0, fmt.Errorf("directory entry %q of %d: %w", name, dir, syscall.EIO)
	}
	return Ino(binary.BigEndian.Uint64(b)), nil
}

// isEmpty reports whether directory dir has no entries.
func (r reader) isEmpty(dir Ino) (bool, error) {
	empty := true
	prefix := r.ks.direntPrefix(dir)
	err := r.r.Scan(prefix, scanEnd(prefix), func(_, _ []byte) error {
		empty = false
		return meta.ErrStop
	})
	return empty, err
}

// txn is a read-write transaction on one volume.
type txn struct {
	reader
	tx    meta.Txn
	v     *Volume
	ctx   context.Context
	now   time.Time
	epoch *uint64 // the volume's snapshot epoch, read on first change
	usage *Usage  // loaded on first change
	du    Usage   // signed changes carried as two's complement
}

func (v *Volume) view(ctx context.Context, fn func(r reader) error) error {
	return ioError(v.fs.kv.View(ctx, func(r meta.Reader) error { return fn(reader{r: r, ks: v.ks}) }))
}

// update runs fn in a transaction, retried on conflict.
func (v *Volume) update(ctx context.Context, fn func(t *txn) error) error {
	return ioError(v.fs.kv.Update(ctx, func(tx meta.Txn) error {
		t := &txn{reader: reader{r: tx, ks: v.ks}, tx: tx, v: v, ctx: ctx, now: v.fs.opts.Now()}
		if err := fn(t); err != nil {
			return err
		}
		return t.commitUsage()
	}))
}

// ioError marks a failure of the stores beneath (the metadata KV or the
// chunk store: a node or the network gone, a disk failing) as EIO, the
// errno both frontends give for it. An error that carries an errno keeps
// it, and a canceled call stays canceled.
func ioError(err error) error {
	var errno syscall.Errno
	if err == nil || errors.As(err, &errno) || errors.Is(err, context.Canceled) {
		return err
	}
	return fmt.Errorf("%w: %w", err, syscall.EIO)
}

// put stores a changed inode, voiding the cached trees it is part of.
func (t *txn) put(n *inode) error {
	if err := t.markDirty(n); err != nil {
		return err
	}
	return t.putRaw(n)
}

// putRaw stores n as it is: for changes that leave its content alone.
func (t *txn) putRaw(n *inode) error { return t.tx.Set(t.ks.inode(n.Ino), n.encode()) }

// addUsage records a change of allocated bytes and inodes, enforcing the
// volume's quota on growth.
func (t *txn) addUsage(bytes, inodes int64) error {
	t.du.Bytes += uint64(bytes)
	t.du.Inodes += uint64(inodes)
	if bytes <= 0 {
		return nil
	}
	quota := t.v.Info().Quota
	if quota == 0 {
		return nil
	}
	if t.usage == nil {
		u, err := getUsage(t.r, t.ks)
		if err != nil {
			return err
		}
		t.usage = &u
	}
	if t.usage.Bytes+t.du.Bytes > quota {
		return fmt.Errorf("volume %q quota of %d bytes: %w", t.v.Info().Name, quota, syscall.EDQUOT)
	}
	return nil
}

func (t *txn) commitUsage() error {
	if t.du == (Usage{}) {
		return nil
	}
	if t.usage == nil {
		u, err := getUsage(t.r, t.ks)
		if err != nil {
			return err
		}
		t.usage = &u
	}
	u := Usage{Bytes: t.usage.Bytes + t.du.Bytes, Inodes: t.usage.Inodes + t.du.Inodes}
	return putUsage(t.tx, t.ks, u)
}

// touch sets mtime and ctime of n to now.
func (t *txn) touch(n *inode) {
	n.Mtime, n.Ctime = t.now, t.now
}

func (t *txn) setDirent(dir Ino, name string, child *inode) error {
	v := be64(make([]byte, 0, 12), uint64(child.Ino))
	v = binary.BigEndian.AppendUint32(v, child.Mode&syscall.S_IFMT)
	return t.tx.Set(t.ks.dirent(dir, name), v)
}
