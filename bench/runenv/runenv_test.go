package runenv

import (
	"slices"
	"testing"
)

func TestByteSize(t *testing.T) {
	for _, tt := range []struct {
		in, out string
		bad     bool
	}{
		{in: "1GiB", out: "1 GiB"}, {in: "4KiB", out: "4 KiB"}, {in: "1536MiB", out: "1536 MiB"}, {in: "1500KB", out: "1.4 MiB"},
		{in: "1048576", out: "1 MiB"}, {in: "x", bad: true}, {in: "2TiB", bad: true},
	} {
		var b ByteSize
		err := b.Set(tt.in)
		if (err != nil) != tt.bad {
			t.Errorf("Set(%q): %v", tt.in, err)
			continue
		}
		if !tt.bad && b.String() != tt.out {
			t.Errorf("Set(%q).String() = %q, want %q", tt.in, b.String(), tt.out)
		}
	}
}

func TestList(t *testing.T) {
	if got := List(" a, ,b,"); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("List = %q", got)
	}
}
