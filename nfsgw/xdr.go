package nfsgw

import (
	"encoding/binary"
	"errors"
)

// errGarbage reports arguments that do not decode (RPC GARBAGE_ARGS).
var errGarbage = errors.New("arguments do not decode")

// xdrReader decodes XDR (RFC 4506) from a byte slice. Errors are sticky:
// after the first short read every getter returns zero values and err is
// set, so a decoder reads all its fields and checks err once. It never
// panics and never allocates more than the input holds, whatever the input.
type xdrReader struct {
	b   []byte
	err error
}

func (r *xdrReader) fail() { r.err, r.b = errGarbage, nil }

func (r *xdrReader) uint32() uint32 {
	if len(r.b) < 4 {
		r.fail()
		return 0
	}
	v := binary.BigEndian.Uint32(r.b)
	r.b = r.b[4:]
	return v
}

func (r *xdrReader) uint64() uint64 {
	if len(r.b) < 8 {
		r.fail()
		return 0
	}
	v := binary.BigEndian.Uint64(r.b)
	r.b = r.b[8:]
	return v
}

func (r *xdrReader) bool() bool {
	switch r.uint32() {
	case 0:
		return false
	case 1:
		return true
	}
	r.fail()
	return false
}

// fixed returns the next n bytes (plus padding) without copying.
func (r *xdrReader) fixed(n uint32) []byte {
	padded := (uint64(n) + 3) &^ 3
	if uint64(len(r.b)) < padded {
		r.fail()
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[padded:]
	return v
}

// opaque returns variable-length opaque data of at most max bytes,
// aliasing the input.
func (r *xdrReader) opaque(max uint32) []byte {
	n := r.uint32()
	if r.err != nil {
		return nil
	}
	if n > max {
		r.fail()
		return nil
	}
	return r.fixed(n)
}

// string reads a string of at most max bytes.
func (r *xdrReader) string(max uint32) string { return string(r.opaque(max)) }

// xdrWriter encodes XDR by appending to a byte slice.
type xdrWriter struct{ b []byte }

func (w *xdrWriter) uint32(v uint32) { w.b = binary.BigEndian.AppendUint32(w.b, v) }

func (w *xdrWriter) uint64(v uint64) { w.b = binary.BigEndian.AppendUint64(w.b, v) }

func (w *xdrWriter) bool(v bool) {
	if v {
		w.uint32(1)
	} else {
		w.uint32(0)
	}
}

// fixed appends p padded to a multiple of four bytes.
func (w *xdrWriter) fixed(p []byte) {
	w.b = append(w.b, p...)
	if pad := (4 - len(p)%4) % 4; pad > 0 {
		w.b = append(w.b, make([]byte, pad)...)
	}
}

func (w *xdrWriter) opaque(p []byte) {
	w.uint32(uint32(len(p)))
	w.fixed(p)
}

func (w *xdrWriter) string(s string) {
	w.uint32(uint32(len(s)))
	w.b = append(w.b, s...)
	if pad := (4 - len(s)%4) % 4; pad > 0 {
		w.b = append(w.b, make([]byte, pad)...)
	}
}

// xdrSize is the encoded size of opaque or string data of n bytes.
func xdrSize(n int) int { return 4 + (n+3)&^3 }
