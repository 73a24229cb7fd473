package chunks

import (
	"encoding/binary"
	"fmt"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// A stored chunk is one frame:
//
//	magic "CRN1" | codec (1 byte) | plaintext length (uvarint) | payload
//
// The magic identifies cairn chunk files and versions the format; the
// plaintext length lets Stat and Walk report sizes from a few header
// bytes and bounds what a decoder will allocate.
const (
	frameMagic = "CRN1"
	codecRaw   = 0 // payload is the plaintext
	codecZstd  = 1 // payload is one zstd frame of the plaintext

	// maxHeaderLen is the longest possible frame header.
	maxHeaderLen = len(frameMagic) + 1 + binary.MaxVarintLen64

	// maxZstdRatio bounds how much a zstd payload can expand: the densest
	// encoding, an RLE block, spends 4 bytes on at most 128 KiB. A header
	// that claims more is corrupt, so a tiny hostile payload can't make
	// the decoder allocate MaxSize bytes.
	maxZstdRatio = 128 << 10 / 4
)

// frameHeader is a decoded frame header.
type frameHeader struct {
	codec    byte
	plainLen int // plaintext length, <= MaxSize
	size     int // header length in bytes
}

// parseHeader decodes the header at the start of buf, which may hold more
// than the header. Errors wrap ErrCorrupt.
func parseHeader(buf []byte) (frameHeader, error) {
	var h frameHeader
	if len(buf) < len(frameMagic)+2 {
		return h, fmt.Errorf("%w: frame of %d bytes is too short", ErrCorrupt, len(buf))
	}
	if string(buf[:len(frameMagic)]) != frameMagic {
		return h, fmt.Errorf("%w: bad magic %q", ErrCorrupt, buf[:len(frameMagic)])
	}
	h.codec = buf[len(frameMagic)]
	if h.codec != codecRaw && h.codec != codecZstd {
		return h, fmt.Errorf("%w: unknown codec %d", ErrCorrupt, h.codec)
	}
	n, k := binary.Uvarint(buf[len(frameMagic)+1:])
	if k <= 0 {
		return h, fmt.Errorf("%w: bad plaintext length", ErrCorrupt)
	}
	if n > MaxSize {
		return h, fmt.Errorf("%w: plaintext length %d exceeds %d", ErrCorrupt, n, MaxSize)
	}
	h.plainLen, h.size = int(n), len(frameMagic)+1+k
	return h, nil
}

// appendHeader appends a frame header to dst.
func appendHeader(dst []byte, codec byte, plainLen int) []byte {
	dst = append(dst, frameMagic...)
	dst = append(dst, codec)
	return binary.AppendUvarint(dst, uint64(plainLen))
}

// encodeFrame returns the frame for data: zstd-compressed if compress is
// set and that is smaller, raw otherwise. A raw frame is returned as a
// header and data itself (not copied), to be written one after the other.
func encodeFrame(data []byte, compress bool) (header, payload []byte) {
	raw := appendHeader(make([]byte, 0, maxHeaderLen), codecRaw, len(data))
	if !compress || len(data) == 0 {
		return raw, data
	}
	z := appendHeader(make([]byte, 0, maxHeaderLen+len(data)), codecZstd, len(data))
	z = encoder().EncodeAll(data, z)
	if len(z) >= len(raw)+len(data) {
		return raw, data
	}
	return z, nil
}

// decodeFrame returns the plaintext held by frame. It never trusts the
// frame: every length is checked, and the output can't exceed the
// plaintext length the header declares. Errors wrap ErrCorrupt. The
// caller still has to verify the plaintext's hash.
func decodeFrame(frame []byte) ([]byte, error) {
	h, err := parseHeader(frame)
	if err != nil {
		return nil, err
	}
	payload := frame[h.size:]
	switch h.codec {
	case codecRaw:
		if len(payload) != h.plainLen {
			return nil, fmt.Errorf("%w: raw payload is %d bytes, header says %d", ErrCorrupt, len(payload), h.plainLen)
		}
		return payload, nil
	default: // codecZstd; parseHeader rejected the rest
		if int64(h.plainLen) > int64(len(payload))*maxZstdRatio {
			return nil, fmt.Errorf("%w: %d-byte zstd payload can't hold %d bytes", ErrCorrupt, len(payload), h.plainLen)
		}
		// Check the content size the zstd header records (the encoder
		// omits it only for tiny inputs) before allocating: a damaged
		// frame then fails cheaply instead of costing a plainLen buffer.
		var zh zstd.Header
		if err := zh.Decode(payload); err != nil {
			return nil, fmt.Errorf("%w: zstd header: %w", ErrCorrupt, err)
		}
		if zh.HasFCS && zh.FrameContentSize != uint64(h.plainLen) || zh.DictionaryID != 0 {
			return nil, fmt.Errorf("%w: zstd header does not declare %d bytes", ErrCorrupt, h.plainLen)
		}
		size := h.plainLen
		if !zh.HasFCS {
			size = min(size, 64<<10) // unconfirmed: let it grow if true
		}
		// The decoder never produces more than MaxSize bytes.
		out, err := decoder().DecodeAll(payload, make([]byte, 0, size))
		if err != nil {
			return nil, fmt.Errorf("%w: zstd: %w", ErrCorrupt, err)
		}
		if len(out) != h.plainLen {
			return nil, fmt.Errorf("%w: zstd payload decodes to %d bytes, header says %d", ErrCorrupt, len(out), h.plainLen)
		}
		return out, nil
	}
}

// The zstd encoder and decoder are shared by all stores: both are safe
// for concurrent EncodeAll/DecodeAll calls and keep per-goroutine state
// pools internally, so one of each per process is the cheapest setup.
var (
	encoder = sync.OnceValue(func() *zstd.Encoder {
		e, err := zstd.NewWriter(nil,
			zstd.WithEncoderLevel(zstd.SpeedFastest),
			// BLAKE3 already verifies every read; zstd's own checksum
			// would only cost time.
			zstd.WithEncoderCRC(false))
		if err != nil { // only possible with invalid options
			panic(fmt.Sprintf("chunks: zstd encoder: %v", err))
		}
		return e
	})
	decoder = sync.OnceValue(func() *zstd.Decoder {
		d, err := zstd.NewReader(nil, zstd.WithDecoderMaxMemory(MaxSize))
		if err != nil {
			panic(fmt.Sprintf("chunks: zstd decoder: %v", err))
		}
		return d
	})
)
