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
		// Global flags after the command move before it.
		{[]string{"cairn", "mount", "v", "/m", "--cluster", "n1:7946", "--tls-dir=/p", "--read-only"},
			[]string{"cairn", "--cluster", "n1:7946", "--tls-dir=/p", "mount", "--read-only", "v", "/m"}},
		{[]string{"cairn", "--data", "/d", "snapshot", "create", "v", "s", "--cluster", "a:1"},
			[]string{"cairn", "--cluster", "a:1", "--data", "/d", "snapshot", "create", "v", "s"}},
		// A command with subcommands that runs itself.
		{[]string{"cairn", "csi", "--endpoint", "unix:///s", "--cluster", "a:1"},
			[]string{"cairn", "--cluster", "a:1", "csi", "--endpoint", "unix:///s"}},
		{[]string{"cairn", "volume", "set", "v", "--quota", "1G", "--tls-dir", "/p"},
			[]string{"cairn", "--tls-dir", "/p", "volume", "set", "--quota", "1G", "v"}},
		// The server's own --tls-dir stays with it.
		{[]string{"cairn", "server", "--tls-dir", "/p", "--join", "a"},
			[]string{"cairn", "server", "--tls-dir", "/p", "--join", "a"}},
	} {
		if got := interspersed(app, tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("interspersed(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
