package main

import (
	"io"
	"testing"

	"github.com/urfave/cli/v2"
)

// TestListenersEtcdDefaults checks the embedded etcd member's default
// URLs: on loopback, over mutual TLS when the node has a bundle, since
// in clear any local user could rewrite every file's metadata; given
// URLs are kept as they are.
func TestListenersEtcdDefaults(t *testing.T) {
	tests := []struct {
		args         []string
		client, peer string
	}{
		{nil, "http://127.0.0.1:2379", "http://127.0.0.1:2380"},
		{[]string{"--tls-dir", "pki/n1"}, "https://127.0.0.1:2379", "https://127.0.0.1:2380"},
		{[]string{"--tls-dir", "pki/n1", "--etcd-client-url", "https://0.0.0.0:2379"}, "https://0.0.0.0:2379", "https://127.0.0.1:2380"},
		{[]string{"--etcd-peer-url", "http://10.0.0.1:2380"}, "http://127.0.0.1:2379", "http://10.0.0.1:2380"},
	}
	for _, tt := range tests {
		var client, peer string
		flags := append(etcdFlags(), &cli.StringFlag{Name: "tls-dir"})
		app := &cli.App{Flags: flags, Writer: io.Discard, ErrWriter: io.Discard, Action: func(c *cli.Context) error {
			client, peer = etcdURL(c, "etcd-client-url"), etcdURL(c, "etcd-peer-url")
			return nil
		}}
		if err := app.Run(append([]string{"cairn"}, tt.args...)); err != nil {
			t.Fatal(err)
		}
		if client != tt.client || peer != tt.peer {
			t.Errorf("%q: client %s, peer %s; want %s, %s", tt.args, client, peer, tt.client, tt.peer)
		}
	}
}
