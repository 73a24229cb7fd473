package nfsgw

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"

	"github.com/cairn-storage/cairn/fs"
)

// A file handle names one inode forever and is checked without any table:
//
//	version(1) kind(1) volume(8) ino(8) gen(8) tag(16)
//
// The tag is HMAC-SHA256 over the first 26 bytes with a key derived from
// the cluster secret, truncated to 128 bits. Since inode numbers are never
// reused, a handle stays valid across gateway restarts and on every
// gateway of the cluster, and a client can neither forge nor alter one.
// The kind byte tells inodes from the virtual /VOLUME/.snapshots directory;
// the inodes of a snapshot view are named like any other, by the view's
// own (hidden) volume ID.
const (
	handleVersion = 1
	handleTagSize = 16
	handleBody    = 2 + 8 + 8 + 8
	handleSize    = handleBody + handleTagSize

	kindVolume  = 0 // an inode of a live volume (or of a snapshot view)
	kindSnapDir = 1 // the .snapshots directory of a volume; ino and gen are 0
)

// errBadHandle reports a handle that is not one of ours (NFS3ERR_BADHANDLE).
var errBadHandle = errors.New("malformed or forged file handle")

// fileID is what a handle names.
type fileID struct {
	Kind byte
	Vol  uint64
	Ino  fs.Ino
	Gen  uint64
}

// handleCodec signs and checks handles.
type handleCodec struct{ key []byte }

// newHandleCodec derives the handle key from the cluster secret, so that
// the secret itself may serve other purposes without key reuse.
func newHandleCodec(secret []byte) *handleCodec {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("cairn nfs file handle v1"))
	return &handleCodec{key: m.Sum(nil)}
}

func (c *handleCodec) tag(body []byte) []byte {
	m := hmac.New(sha256.New, c.key)
	m.Write(body)
	return m.Sum(nil)[:handleTagSize]
}

// encode returns the signed handle of id.
func (c *handleCodec) encode(id fileID) []byte {
	b := make([]byte, handleBody, handleSize)
	b[0], b[1] = handleVersion, id.Kind
	binary.BigEndian.PutUint64(b[2:], id.Vol)
	binary.BigEndian.PutUint64(b[10:], uint64(id.Ino))
	binary.BigEndian.PutUint64(b[18:], id.Gen)
	return append(b, c.tag(b)...)
}

// decode checks and parses a handle; anything else is errBadHandle.
func (c *handleCodec) decode(h []byte) (fileID, error) {
	if len(h) != handleSize || h[0] != handleVersion || (h[1] != kindVolume && h[1] != kindSnapDir) {
		return fileID{}, errBadHandle
	}
	if !hmac.Equal(h[handleBody:], c.tag(h[:handleBody])) {
		return fileID{}, errBadHandle
	}
	return fileID{
		Kind: h[1],
		Vol:  binary.BigEndian.Uint64(h[2:]),
		Ino:  fs.Ino(binary.BigEndian.Uint64(h[10:])),
		Gen:  binary.BigEndian.Uint64(h[18:]),
	}, nil
}
