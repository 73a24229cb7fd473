package fs

import (
	"fmt"
	"strings"
	"syscall"

	"github.com/cespare/xxhash/v2"
)

// MaxNameLen is the longest file name, in bytes, that a directory accepts.
const MaxNameLen = 255

// Readdir positions below firstCookie are left to frontends for "." and "..".
const firstCookie = 3

// nameCookie is the stable readdir position of name in its directory: a
// 62-bit hash, so it fits the signed offsets of seekdir and leaves room
// below firstCookie. The hash is part of the on-disk format: never change it.
func nameCookie(name string) uint64 {
	return xxhash.Sum64String(name)>>2 + firstCookie
}

// checkName validates a single path component coming from a client.
func checkName(name string) error {
	switch {
	case name == "" || name == "." || name == "..":
		return fmt.Errorf("name %q: %w", name, syscall.EINVAL)
	case len(name) > MaxNameLen:
		return fmt.Errorf("name of %d bytes: %w", len(name), syscall.ENAMETOOLONG)
	case strings.ContainsAny(name, "/\x00"):
		return fmt.Errorf("name %q contains '/' or NUL: %w", name, syscall.EINVAL)
	}
	return nil
}
