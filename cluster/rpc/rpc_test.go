package rpc

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cairn-storage/cairn/chunks"
	"github.com/cairn-storage/cairn/chunks/chunkstest"
	"github.com/cairn-storage/cairn/cluster/pki"
)

// lying is a backend whose Get flips a byte: the client must notice.
type lying struct{ *chunks.Local }

func (l lying) Get(ctx context.Context, id chunks.ID) ([]byte, error) {
	data, err := l.Local.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	data = bytes.Clone(data)
	data[0] ^= 1
	return data, nil
}

// serve starts a chunk RPC server over b with extra routes, and returns
// its address and a member client.
func serve(t *testing.T, b Backend, extra func(*http.ServeMux)) (string, *Client) {
	t.Helper()
	ca, err := pki.NewCA("t")
	if err != nil {
		t.Fatal(err)
	}
	bundle := func(name string) *pki.Bundle {
		dir := filepath.Join(t.TempDir(), name)
		if err := ca.WriteBundle(dir, name, pki.KindNode, nil, nil); err != nil {
			t.Fatal(err)
		}
		bd, err := pki.LoadBundle(dir)
		if err != nil {
			t.Fatal(err)
		}
		return bd
	}
	mux := http.NewServeMux()
	Register(mux, b)
	if extra != nil {
		extra(mux)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: mux, TLSConfig: bundle("srv").ServerTLS()}
	go srv.Serve(tls.NewListener(ln, srv.TLSConfig))
	t.Cleanup(func() { srv.Close() })
	c := NewClient(bundle("cli").ClientTLS(), nil)
	t.Cleanup(c.Close)
	return ln.Addr().String(), c
}

func newLocal(t *testing.T) *chunks.Local {
	l, err := chunks.OpenLocal(t.TempDir(), chunks.LocalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func TestRoundTripAndErrors(t *testing.T) {
	addr, c := serve(t, newLocal(t), nil)
	ctx := t.Context()
	data := chunkstest.Text(100 << 10)
	id := chunks.Sum(data)
	if _, err := c.Get(ctx, addr, id); !errors.Is(err, chunks.ErrNotFound) {
		t.Fatalf("Get of a missing chunk: %v", err)
	}
	if _, err := c.Stat(ctx, addr, id); !errors.Is(err, chunks.ErrNotFound) {
		t.Fatalf("Stat of a missing chunk: %v", err)
	}
	if err := c.Put(ctx, addr, chunks.Sum([]byte("x")), data, false); !errors.Is(err, chunks.ErrIDMismatch) {
		t.Fatalf("Put with a wrong ID: %v", err)
	}
	if err := c.Put(ctx, addr, id, data, true); err != nil {
		t.Fatal(err)
	}
	if err := c.Sync(ctx, addr); err != nil {
		t.Fatal(err)
	}
	got, err := c.Get(ctx, addr, id)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("Get = %v", err)
	}
	info, err := c.Stat(ctx, addr, id)
	if err != nil || info.Size != int64(len(data)) || info.Stored >= info.Size {
		t.Fatalf("Stat = %+v, %v; want a compressed chunk", info, err)
	}
	other := chunks.Sum([]byte("other"))
	has, err := c.Has(ctx, addr, []chunks.ID{other, id})
	if err != nil || has[0] || !has[1] {
		t.Fatalf("Has = %v, %v", has, err)
	}
	n := 0
	if err := c.Walk(ctx, addr, func(i chunks.Info) error { n++; return nil }); err != nil || n != 1 {
		t.Fatalf("Walk: %d chunks, %v", n, err)
	}
	if st, err := c.Stats(ctx, addr); err != nil || st.Chunks != 1 {
		t.Fatalf("Stats = %+v, %v", st, err)
	}
	if err := c.Delete(ctx, addr, id); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Get(ctx, addr, id); !errors.Is(err, chunks.ErrNotFound) {
		t.Fatalf("Get after Delete: %v", err)
	}
	if _, err := c.Get(ctx, "127.0.0.1:1", id); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Get from nowhere: %v", err)
	}
}

func TestClientVerifiesData(t *testing.T) {
	l := newLocal(t)
	addr, c := serve(t, lying{l}, nil)
	data := chunkstest.Random(4096, 1)
	id := chunks.Sum(data)
	if err := l.Put(t.Context(), id, data, chunks.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Get(t.Context(), addr, id); !errors.Is(err, chunks.ErrCorrupt) {
		t.Fatalf("Get of altered data: %v, want ErrCorrupt", err)
	}
}

func TestWalkStreamCut(t *testing.T) {
	addr, c := serve(t, newLocal(t), func(mux *http.ServeMux) {
		mux.HandleFunc("GET /cut/v1/walk", func(w http.ResponseWriter, r *http.Request) {
			w.Write(append([]byte{recChunk}, make([]byte, chunkRecLen)...)) // no end record
		})
	})
	err := c.Walk(t.Context(), addr+"/cut", func(chunks.Info) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "cut") {
		t.Fatalf("Walk of a cut stream: %v, want an error", err)
	}
	stop := errors.New("stop")
	l := newLocal(t)
	for i := range 3 {
		d := chunkstest.Random(100, uint64(i))
		l.Put(t.Context(), chunks.Sum(d), d, chunks.PutOptions{})
	}
	addr2, c2 := serve(t, l, nil)
	if err := c2.Walk(t.Context(), addr2, func(chunks.Info) error { return stop }); err != stop {
		t.Fatalf("Walk stopped by fn: %v, want fn's error as is", err)
	}
}
