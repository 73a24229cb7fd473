package chunks

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
)

// frame concatenates an encoded frame.
func frame(data []byte, compress bool) []byte {
	h, p := encodeFrame(data, compress)
	return append(bytes.Clone(h), p...)
}

func TestFrameRoundTrip(t *testing.T) {
	text := bytes.Repeat([]byte("cairn chunk "), 10000)
	tests := []struct {
		name      string
		data      []byte
		compress  bool
		wantCodec byte
	}{
		{"empty", nil, true, codecRaw},
		{"small raw", []byte("hello"), false, codecRaw},
		{"small, compression doesn't pay", []byte("hello"), true, codecRaw},
		{"random, compression doesn't pay", randomData(100<<10, 1), true, codecRaw},
		{"text raw", text, false, codecRaw},
		{"text zstd", text, true, codecZstd},
		{"zeros zstd", make([]byte, 4<<20), true, codecZstd},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := frame(tt.data, tt.compress)
			if f[len(frameMagic)] != tt.wantCodec {
				t.Errorf("codec = %d, want %d", f[len(frameMagic)], tt.wantCodec)
			}
			if tt.wantCodec == codecZstd && len(f) >= len(tt.data) {
				t.Errorf("compressed frame is %d bytes for %d of data", len(f), len(tt.data))
			}
			got, err := decodeFrame(f)
			if err != nil || !bytes.Equal(got, tt.data) {
				t.Errorf("decodeFrame = %d bytes, %v; want the %d input bytes", len(got), err, len(tt.data))
			}
		})
	}
}

func TestDecodeFrameCorrupt(t *testing.T) {
	text := bytes.Repeat([]byte("cairn chunk "), 1000)
	z := frame(text, true)
	zPayload := z[len(appendHeader(nil, codecZstd, len(text))):]
	tests := []struct {
		name  string
		frame []byte
	}{
		{"nil", nil},
		{"magic only", []byte("CRN1")},
		{"bad magic", []byte("CRN2\x00\x00")},
		{"unknown codec", []byte("CRN1\x02\x00")},
		{"truncated length", []byte("CRN1\x00\x80")},
		{"length overflows", append([]byte("CRN1\x00"), bytes.Repeat([]byte{0xff}, 11)...)},
		{"length over MaxSize", binary.AppendUvarint([]byte("CRN1\x00"), MaxSize+1)},
		{"raw too short", []byte("CRN1\x00\x05abcd")},
		{"raw too long", []byte("CRN1\x00\x03abcd")},
		{"zstd truncated", z[:len(z)-10]},
		{"zstd garbage", append(appendHeader(nil, codecZstd, 100), randomData(50, 2)...)},
		{"zstd shorter than header says", append(appendHeader(nil, codecZstd, len(text)+1), zPayload...)},
		{"zstd longer than header says", append(appendHeader(nil, codecZstd, len(text)-1), zPayload...)},
		{"zstd claims impossible ratio", append(appendHeader(nil, codecZstd, MaxSize), zPayload[:10]...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeFrame(tt.frame)
			if !errors.Is(err, ErrCorrupt) || got != nil {
				t.Errorf("decodeFrame = %d bytes, %v; want ErrCorrupt", len(got), err)
			}
		})
	}
}

// FuzzDecodeFrame feeds the decoder arbitrary bytes, as a damaged disk or
// a hostile peer would. It must never panic or over-allocate, must
// report failures as ErrCorrupt, and what it accepts must be what the
// header declares.
func FuzzDecodeFrame(f *testing.F) {
	text := bytes.Repeat([]byte("seed text "), 300)
	for _, seed := range [][]byte{
		frame(nil, false),
		frame([]byte("hello"), false),
		frame(text, false),
		frame(text, true),
		frame(make([]byte, 64<<10), true),
		[]byte("CRN1\x01\x00"),
		[]byte("CRN1\x00\x80"),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		out, err := decodeFrame(in)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v does not wrap ErrCorrupt", err)
			}
			return
		}
		h, err := parseHeader(in)
		if err != nil {
			t.Fatalf("decodeFrame accepted a frame parseHeader rejects: %v", err)
		}
		if len(out) != h.plainLen {
			t.Fatalf("decoded %d bytes, header says %d", len(out), h.plainLen)
		}
		if again, err := decodeFrame(frame(out, true)); err != nil || !bytes.Equal(again, out) {
			t.Fatalf("re-encoded frame does not round-trip: %v", err)
		}
	})
}
