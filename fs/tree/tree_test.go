package tree

import (
	"bytes"
	"errors"
	"testing"

	"github.com/cairn-storage/cairn/chunks"
)

func sampleNodes() []*Node {
	id := chunks.Sum([]byte("x"))
	return []*Node{
		{Kind: KindFile},
		{Kind: KindFile, Xattrs: []Xattr{{"user.b", []byte("2")}, {"user.a", nil}},
			Extents: []Extent{{Off: 4096, Len: 10, Chunk: id, ChunkOff: 7}, {Off: 0, Len: 100, Chunk: id}}},
		{Kind: KindDir, Entries: []Entry{
			{Name: "z", Attr: Attr{Ino: 3, Mode: 0o100644, Nlink: 1, Size: 5, Mtime: Time{Sec: -5, Nsec: 999999999}}, Node: id},
			{Name: "link", Attr: Attr{Ino: 4, Mode: 0o120777, Nlink: 1, Size: 3}, Target: "abc"},
		}},
	}
}

func TestRoundTrip(t *testing.T) {
	for i, n := range sampleNodes() {
		b, err := Encode(n)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Decode(b)
		if err != nil {
			t.Fatalf("node %d: %v", i, err)
		}
		b2, err := Encode(got)
		if err != nil || !bytes.Equal(b, b2) {
			t.Fatalf("node %d: re-encoding differs (%v)", i, err)
		}
	}
}

func TestEncodeRejects(t *testing.T) {
	id := chunks.Sum(nil)
	for name, n := range map[string]*Node{
		"kind":        {Kind: 9},
		"dup entry":   {Kind: KindDir, Entries: []Entry{{Name: "a", Node: id}, {Name: "a"}}},
		"empty name":  {Kind: KindDir, Entries: []Entry{{Name: ""}}},
		"overlap":     {Kind: KindFile, Extents: []Extent{{Off: 0, Len: 10}, {Off: 5, Len: 10}}},
		"zero extent": {Kind: KindFile, Extents: []Extent{{Off: 0, Len: 0}}},
		"dup xattr":   {Kind: KindFile, Xattrs: []Xattr{{"user.a", nil}, {"user.a", nil}}},
	} {
		if _, err := Encode(n); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: got %v, want ErrMalformed", name, err)
		}
	}
}

func TestDecodeRejectsTruncated(t *testing.T) {
	b, err := Encode(sampleNodes()[2])
	if err != nil {
		t.Fatal(err)
	}
	for i := range len(b) {
		if _, err := Decode(b[:i]); !errors.Is(err, ErrMalformed) {
			t.Fatalf("prefix of %d bytes: got %v", i, err)
		}
	}
}

func FuzzDecode(f *testing.F) {
	for _, n := range sampleNodes() {
		b, err := Encode(n)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		n, err := Decode(b)
		if err != nil {
			return
		}
		again, err := Encode(n)
		if err != nil {
			t.Fatalf("decoded node does not encode: %v", err)
		}
		if !bytes.Equal(again, b) {
			t.Fatal("decode/encode is not the identity")
		}
	})
}
