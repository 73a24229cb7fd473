package main

import (
	"reflect"
	"testing"
)

func TestInterspersed(t *testing.T) {
	app := newApp()
	for _, tt := range []struct{ in, want []string }{
		{[]string{"cairn", "mount", "v", "/m", "--read-only", "--metrics", ":1"},
			[]string{"cairn", "mount", "--read-only", "--metrics", ":1", "v", "/m"}},
		{[]string{"cairn", "--data", "/d", "volume", "create", "x", "--quota", "1G"},
			[]string{"cairn", "--data", "/d", "volume", "create", "--quota", "1G", "x"}},
		{[]string{"cairn", "volume", "list", "--json"}, []string{"cairn", "volume", "list", "--json"}},
		{[]string{"cairn", "mount", "v", "--", "--odd-dir"}, []string{"cairn", "mount", "v", "--", "--odd-dir"}},
		{[]string{"cairn", "nosuch", "a", "--x"}, []string{"cairn", "nosuch", "a", "--x"}},
	} {
		if got := interspersed(app, tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("interspersed(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
