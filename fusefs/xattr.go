package fusefs

import (
	"context"
	"syscall"

	"github.com/cairn-storage/cairn/fs"
)

// Getxattr copies the value of attribute name into dest. If dest is too
// small it returns the value's size and ERANGE (go-fuse turns that into
// the size answer when the caller asked with an empty buffer).
func (n *node) Getxattr(ctx context.Context, name string, dest []byte) (uint32, syscall.Errno) {
	r := newRequest(ctx)
	var val []byte
	errno := n.m.do(r, "getxattr", func(c *fs.Caller) (err error) {
		val, err = n.m.vol.GetXattr(r.ctx, c, n.ino(), name)
		return err
	})
	if errno != 0 {
		return 0, errno
	}
	if len(val) > len(dest) {
		return uint32(len(val)), syscall.ERANGE
	}
	return uint32(copy(dest, val)), 0
}

// Setxattr sets attribute name; flags may hold XATTR_CREATE or
// XATTR_REPLACE, which fs takes as they are.
func (n *node) Setxattr(ctx context.Context, name string, data []byte, flags uint32) syscall.Errno {
	r := newRequest(ctx)
	return n.m.do(r, "setxattr", func(c *fs.Caller) error {
		return n.m.vol.SetXattr(r.ctx, c, n.ino(), name, data, flags)
	})
}

// Listxattr writes the NUL-terminated names of n's attributes into dest,
// or returns their size and ERANGE if dest is too small.
func (n *node) Listxattr(ctx context.Context, dest []byte) (uint32, syscall.Errno) {
	r := newRequest(ctx)
	var names []string
	errno := n.m.do(r, "listxattr", func(c *fs.Caller) (err error) {
		names, err = n.m.vol.ListXattr(r.ctx, c, n.ino())
		return err
	})
	if errno != 0 {
		return 0, errno
	}
	size := 0
	for _, name := range names {
		size += len(name) + 1
	}
	if size > len(dest) {
		return uint32(size), syscall.ERANGE
	}
	p := dest[:0]
	for _, name := range names {
		p = append(append(p, name...), 0)
	}
	return uint32(len(p)), 0
}

// Removexattr deletes attribute name.
func (n *node) Removexattr(ctx context.Context, name string) syscall.Errno {
	r := newRequest(ctx)
	return n.m.do(r, "removexattr", func(c *fs.Caller) error {
		return n.m.vol.RemoveXattr(r.ctx, c, n.ino(), name)
	})
}
