package main

import (
	"os"
	"testing"
)

func TestBrowsable(t *testing.T) {
	host, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	for addr, want := range map[string]string{
		"127.0.0.1:9090": "127.0.0.1:9090",
		":9090":          host + ":9090",
		"0.0.0.0:9090":   host + ":9090",
		"[::]:9090":      host + ":9090",
		"[::1]:9090":     "[::1]:9090",
		"node1:9090":     "node1:9090",
	} {
		if got := browsable(addr); got != want {
			t.Errorf("browsable(%q) = %q, want %q", addr, got, want)
		}
	}
}
