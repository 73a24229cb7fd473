package snapshots

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/zeebo/blake3"

	"github.com/cairn-storage/cairn/chunks"
)

// The send stream format, version 1. Integers are big-endian.
//
//	magic    "CAIRNSNP"
//	version  uint16 (1)
//	header   uint32 length, then that much JSON (streamHeader)
//	objects  each: kind byte ('T' tree node, 'D' data chunk), 32-byte ID,
//	         uvarint length (at most chunks.MaxSize), the bytes
//	trailer  'E', uint64 object count, uint64 object bytes, then the
//	         BLAKE3-256 of every byte of the stream before it
//
// Objects are in post-order (a node after what it references), each
// verified against its ID on receipt; the trailer's hash covers the
// framing too, so truncation and reordering are caught as well.
const (
	streamMagic   = "CAIRNSNP"
	streamVersion = 1
	maxHeaderLen  = 1 << 20

	kindTree    = 'T'
	kindData    = 'D'
	kindTrailer = 'E'
)

// ErrBadStream is returned (wrapped) for a stream that is malformed,
// truncated or corrupt.
var ErrBadStream = errors.New("bad snapshot stream")

// streamHeader describes the snapshot a stream carries.
type streamHeader struct {
	Snapshot Snapshot `json:"snapshot"`
	// Base, if set, names the snapshot the stream is incremental to: the
	// objects reachable from it are left out, so the receiver must have it.
	Base *baseRef `json:"base,omitempty"`
}

// baseRef identifies a base snapshot by name and tree.
type baseRef struct {
	Volume string `json:"volume"`
	Name   string `json:"name"`
	Root   string `json:"root"` // hex node ID
}

// StreamStats count what a stream carried.
type StreamStats struct {
	Objects     int64 `json:"objects"`
	TreeNodes   int64 `json:"tree_nodes"`
	DataChunks  int64 `json:"data_chunks"`
	ObjectBytes int64 `json:"object_bytes"`
	StreamBytes int64 `json:"stream_bytes"`
}

// streamWriter writes the stream format, hashing as it goes.
type streamWriter struct {
	w     *bufio.Writer
	h     *blake3.Hasher
	stats StreamStats
	err   error
}

func newStreamWriter(w io.Writer) *streamWriter {
	return &streamWriter{w: bufio.NewWriterSize(w, 256<<10), h: blake3.New()}
}

func (sw *streamWriter) write(p []byte) {
	if sw.err != nil {
		return
	}
	sw.h.Write(p)
	_, sw.err = sw.w.Write(p)
	sw.stats.StreamBytes += int64(len(p))
}

func (sw *streamWriter) header(h streamHeader) error {
	js, err := json.Marshal(h)
	if err != nil {
		return fmt.Errorf("encode stream header: %w", err)
	}
	if len(js) > maxHeaderLen {
		return fmt.Errorf("stream header of %d bytes: too large", len(js))
	}
	b := append([]byte(streamMagic), 0, streamVersion)
	b = binary.BigEndian.AppendUint32(b, uint32(len(js)))
	sw.write(append(b, js...))
	return sw.err
}

func (sw *streamWriter) object(kind byte, id chunks.ID, data []byte) error {
	b := make([]byte, 0, 1+chunks.IDSize+binary.MaxVarintLen64)
	b = append(append(b, kind), id[:]...)
	b = binary.AppendUvarint(b, uint64(len(data)))
	sw.write(b)
	sw.write(data)
	sw.stats.Objects++
	sw.stats.ObjectBytes += int64(len(data))
	if kind == kindTree {
		sw.stats.TreeNodes++
	} else {
		sw.stats.DataChunks++
	}
	return sw.err
}

func (sw *streamWriter) trailer() error {
	b := []byte{kindTrailer}
	b = binary.BigEndian.AppendUint64(b, uint64(sw.stats.Objects))
	b = binary.BigEndian.AppendUint64(b, uint64(sw.stats.ObjectBytes))
	sw.write(b)
	if sw.err == nil {
		sum := sw.h.Sum(nil)
		_, sw.err = sw.w.Write(sum)
		sw.stats.StreamBytes += int64(len(sum))
	}
	if sw.err == nil {
		sw.err = sw.w.Flush()
	}
	return sw.err
}

// streamReader decodes the stream format, hashing as it goes. It never
// allocates more than an object's declared length, which is bounded.
type streamReader struct {
	r     *bufio.Reader
	h     *blake3.Hasher
	stats StreamStats
}

func newStreamReader(r io.Reader) *streamReader {
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReaderSize(r, 64<<10)
	}
	return &streamReader{r: br, h: blake3.New()}
}

func bad(format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), ErrBadStream)
}

// full reads exactly len(p) bytes; a short stream is ErrBadStream.
func (sr *streamReader) full(p []byte, what string) error {
	if _, err := io.ReadFull(sr.r, p); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return bad("truncated in %s", what)
		}
		return fmt.Errorf("read %s: %w", what, err)
	}
	sr.h.Write(p)
	sr.stats.StreamBytes += int64(len(p))
	return nil
}

func (sr *streamReader) header() (streamHeader, error) {
	var h streamHeader
	var fixed [len(streamMagic) + 2 + 4]byte
	if err := sr.full(fixed[:], "header"); err != nil {
		return h, err
	}
	if string(fixed[:len(streamMagic)]) != streamMagic {
		return h, bad("not a cairn snapshot stream")
	}
	if v := binary.BigEndian.Uint16(fixed[len(streamMagic):]); v != streamVersion {
		return h, bad("stream version %d (this cairn reads version %d)", v, streamVersion)
	}
	n := binary.BigEndian.Uint32(fixed[len(streamMagic)+2:])
	if n > maxHeaderLen {
		return h, bad("header of %d bytes", n)
	}
	js, err := sr.bytes(int(n), "header")
	if err != nil {
		return h, err
	}
	if err := json.Unmarshal(js, &h); err != nil {
		return h, bad("header: %v", err)
	}
	return h, checkHeader(h)
}

// checkHeader validates a decoded stream header.
func checkHeader(h streamHeader) error {
	if err := h.Snapshot.check(); err != nil {
		return bad("header: %v", err)
	}
	if b := h.Base; b != nil {
		if _, _, err := ParseRef(b.Volume + "@" + b.Name); err != nil {
			return bad("header: base: %v", err)
		}
		if _, err := chunks.ParseID(b.Root); err != nil {
			return bad("header: base: %v", err)
		}
	}
	return nil
}

// bytes reads n bytes, growing the buffer as data arrives so that a
// lying length costs nothing before the stream ends.
func (sr *streamReader) bytes(n int, what string) ([]byte, error) {
	var buf []byte
	if n <= 64<<10 {
		buf = make([]byte, n)
		return buf, sr.full(buf, what)
	}
	buf = make([]byte, 0, 64<<10)
	for len(buf) < n {
		step := min(n-len(buf), max(len(buf), 64<<10))
		buf = append(buf, make([]byte, step)...)
		if err := sr.full(buf[len(buf)-step:], what); err != nil {
			return nil, err
		}
	}
	return buf, nil
}

// object is one decoded object, its hash verified.
type object struct {
	kind byte
	id   chunks.ID
	data []byte
}

// next returns the next object, or ok=false after a verified trailer.
func (sr *streamReader) next() (obj object, ok bool, err error) {
	var kind [1]byte
	if err := sr.full(kind[:], "object"); err != nil {
		return obj, false, err
	}
	switch kind[0] {
	case kindTrailer:
		return obj, false, sr.trailer()
	case kindTree, kindData:
	default:
		return obj, false, bad("object kind %#x", kind[0])
	}
	obj.kind = kind[0]
	if err := sr.full(obj.id[:], "object id"); err != nil {
		return obj, false, err
	}
	n, err := sr.uvarint()
	if err != nil {
		return obj, false, err
	}
	if n > chunks.MaxSize {
		return obj, false, bad("object %s of %d bytes", obj.id, n)
	}
	if obj.data, err = sr.bytes(int(n), "object "+obj.id.String()); err != nil {
		return obj, false, err
	}
	if sum := chunks.Sum(obj.data); sum != obj.id {
		return obj, false, bad("object %s: data hashes to %s", obj.id, sum)
	}
	sr.stats.Objects++
	sr.stats.ObjectBytes += int64(n)
	if obj.kind == kindTree {
		sr.stats.TreeNodes++
	} else {
		sr.stats.DataChunks++
	}
	return obj, true, nil
}

func (sr *streamReader) uvarint() (uint64, error) {
	var b []byte
	for i := 0; i < binary.MaxVarintLen64; i++ {
		c, err := sr.r.ReadByte()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return 0, bad("truncated in object length")
			}
			return 0, fmt.Errorf("read object length: %w", err)
		}
		b = append(b, c)
		if c < 0x80 {
			sr.h.Write(b)
			sr.stats.StreamBytes += int64(len(b))
			v, n := binary.Uvarint(b)
			if n <= 0 {
				return 0, bad("object length")
			}
			return v, nil
		}
	}
	return 0, bad("object length")
}

func (sr *streamReader) trailer() error {
	var t [16]byte
	if err := sr.full(t[:], "trailer"); err != nil {
		return err
	}
	want := sr.h.Sum(nil)
	var got [32]byte
	if _, err := io.ReadFull(sr.r, got[:]); err != nil {
		return bad("truncated in trailer hash")
	}
	sr.stats.StreamBytes += int64(len(got))
	if string(got[:]) != string(want) {
		return bad("stream checksum mismatch")
	}
	if c, b := binary.BigEndian.Uint64(t[:]), binary.BigEndian.Uint64(t[8:]); c != uint64(sr.stats.Objects) || b != uint64(sr.stats.ObjectBytes) {
		return bad("trailer counts %d objects of %d bytes; the stream had %d of %d", c, b, sr.stats.Objects, sr.stats.ObjectBytes)
	}
	return nil
}

// end checks that nothing follows the trailer.
func (sr *streamReader) end() error {
	if _, err := sr.r.ReadByte(); err == nil {
		return bad("data after the trailer")
	} else if !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}
