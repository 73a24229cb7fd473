package fs

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"syscall"

	"github.com/cairn-storage/cairn/fs/meta"
)

// Extended attribute limits, as Linux's VFS imposes.
const (
	MaxXattrName  = 255
	MaxXattrValue = 64 << 10
)

// Setxattr flags, as setxattr(2).
const (
	XattrCreate  = 1
	XattrReplace = 2
)

// checkXattr validates an attribute name and c's right to change it.
func checkXattr(c *Caller, a *Attr, name string, write bool) error {
	switch {
	case name == "":
		return fmt.Errorf("empty xattr name: %w", syscall.EINVAL)
	case len(name) > MaxXattrName:
		return fmt.Errorf("xattr name of %d bytes: %w", len(name), syscall.ERANGE)
	}
	ns, _, _ := strings.Cut(name, ".")
	switch ns {
	case "user":
		if !a.IsRegular() && !a.IsDir() {
			return syscall.EPERM
		}
		mask := uint32(MayRead)
		if write {
			mask = MayWrite
		}
		return c.may(a, mask)
	case "trusted":
		if !c.isRoot() {
			return syscall.EPERM
		}
	case "security":
		if write && !c.isRoot() {
			return syscall.EPERM
		}
	case "system":
		return fmt.Errorf("xattr %q: ACLs are not supported: %w", name, syscall.EOPNOTSUPP)
	default:
		return fmt.Errorf("xattr %q: unknown namespace: %w", name, syscall.EOPNOTSUPP)
	}
	return nil
}

// GetXattr returns the value of attribute name of ino, or ENODATA.
func (v *Volume) GetXattr(ctx context.Context, c *Caller, ino Ino, name string) ([]byte, error) {
	if err := v.materializeFor(ctx, ino); err != nil {
		return nil, err
	}
	var val []byte
	err := v.view(ctx, func(r reader) error {
		n, err := r.get(ino)
		if err != nil {
			return err
		}
		if err := checkXattr(c, &n.Attr, name, false); err != nil {
			return err
		}
		val, err = r.r.Get(r.ks.xattr(ino, name))
		if errors.Is(err, meta.ErrNotFound) {
			return syscall.ENODATA
		}
		return err
	})
	return val, err
}

// SetXattr sets attribute name of ino; flags may hold XattrCreate or XattrReplace.
func (v *Volume) SetXattr(ctx context.Context, c *Caller, ino Ino, name string, value []byte, flags uint32) error {
	if len(value) > MaxXattrValue {
		return fmt.Errorf("xattr value of %d bytes: %w", len(value), syscall.E2BIG)
	}
	if err := v.writable(); err != nil {
		return err
	}
	defer v.hold()()
	return v.update(ctx, func(t *txn) error {
		n, err := t.materialized(ino)
		if err != nil {
			return err
		}
		if err := checkXattr(c, &n.Attr, name, true); err != nil {
			return err
		}
		if !c.owns(&n.Attr) && n.IsDir() && n.Mode&syscall.S_ISVTX != 0 && strings.HasPrefix(name, "user.") {
			return syscall.EPERM
		}
		key := t.ks.xattr(ino, name)
		_, err = t.tx.Get(key)
		exists := err == nil
		if err != nil && !errors.Is(err, meta.ErrNotFound) {
			return err
		}
		switch {
		case flags&XattrCreate != 0 && exists:
			return syscall.EEXIST
		case flags&XattrReplace != 0 && !exists:
			return syscall.ENODATA
		}
		n.Ctime = t.now
		if err := t.put(n); err != nil {
			return err
		}
		return t.tx.Set(key, value)
	})
}

// ListXattr returns the names of ino's attributes that c may see.
func (v *Volume) ListXattr(ctx context.Context, c *Caller, ino Ino) ([]string, error) {
	if err := v.materializeFor(ctx, ino); err != nil {
		return nil, err
	}
	var names []string
	err := v.view(ctx, func(r reader) error {
		names = names[:0]
		if _, err := r.get(ino); err != nil {
			return err
		}
		prefix := r.ks.xattrPrefix(ino)
		return r.r.Scan(prefix, scanEnd(prefix), func(k, _ []byte) error {
			name := string(k[len(prefix):])
			if strings.HasPrefix(name, "trusted.") && !c.isRoot() {
				return nil
			}
			names = append(names, name)
			return nil
		})
	})
	return names, err
}

// RemoveXattr deletes attribute name of ino, or returns ENODATA.
func (v *Volume) RemoveXattr(ctx context.Context, c *Caller, ino Ino, name string) error {
	if err := v.writable(); err != nil {
		return err
	}
	defer v.hold()()
	return v.update(ctx, func(t *txn) error {
		n, err := t.materialized(ino)
		if err != nil {
			return err
		}
		if err := checkXattr(c, &n.Attr, name, true); err != nil {
			return err
		}
		key := t.ks.xattr(ino, name)
		if _, err := t.tx.Get(key); errors.Is(err, meta.ErrNotFound) {
			return syscall.ENODATA
		} else if err != nil {
			return err
		}
		n.Ctime = t.now
		if err := t.put(n); err != nil {
			return err
		}
		return t.tx.Delete(key)
	})
}
