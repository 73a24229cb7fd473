package nfsgw

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cairn-storage/cairn/chunks"
	"github.com/cairn-storage/cairn/fs"
	"github.com/cairn-storage/cairn/fs/meta/badgerkv"
)

// testVolume is the volume every environment creates.
const testVolume = "vol"

// testSecret is the handle secret of test gateways.
var testSecret = []byte("0123456789abcdef-test-secret")

// env is a running gateway over a filesystem in a directory.
type env struct {
	t     *testing.T
	dir   string
	kv    *badgerkv.KV
	store *chunks.Local
	fsys  *fs.FS
	srv   *Server
	addr  string // host:port of NFS and MOUNT
	port  int
	cfg   Config
}

// quietLogger keeps test output readable; set NFSGW_TEST_LOG to see logs.
func quietLogger() *slog.Logger {
	if os.Getenv("NFSGW_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// newEnv starts a gateway exporting testVolume with the options of exp
// (its Volume is filled in) over a fresh data directory.
func newEnv(t *testing.T, exp Export, tweak ...func(*Config)) *env {
	t.Helper()
	e := &env{t: t, dir: t.TempDir()}
	exp.Volume = testVolume
	e.cfg = Config{Exports: []Export{exp}, Secret: testSecret, Logger: quietLogger(),
		Registerer: prometheus.NewRegistry()}
	for _, f := range tweak {
		f(&e.cfg)
	}
	e.start()
	if _, err := e.fsys.CreateVolume(context.Background(), testVolume, fs.VolumeConfig{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.stop)
	return e
}

// start opens the data directory and starts the gateway on a new port.
func (e *env) start() {
	t := e.t
	t.Helper()
	kv, err := badgerkv.Open(filepath.Join(e.dir, "meta"), badgerkv.Options{
		Logger: quietLogger(), MemTableSize: 4 << 20, BlockCacheSize: 4 << 20, IndexCacheSize: 4 << 20, GCInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	store, err := chunks.OpenLocal(e.dir, chunks.LocalOptions{Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	fsys, err := fs.New(kv, store, fs.Options{Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(fsys, e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	addr := e.addr // a restart keeps the port, so clients reconnect
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		if err := srv.Serve(l); err != nil {
			t.Errorf("Serve: %v", err)
		}
	}()
	e.kv, e.store, e.fsys, e.srv = kv, store, fsys, srv
	e.addr = l.Addr().String()
	e.port = l.Addr().(*net.TCPAddr).Port
}

// stop closes the gateway, the filesystem and its stores.
func (e *env) stop() {
	if e.srv == nil {
		return
	}
	err := errors.Join(e.srv.Close(), e.fsys.Close(context.Background()), e.store.Close(), e.kv.Close())
	e.srv = nil
	if err != nil {
		e.t.Errorf("stopping the gateway: %v", err)
	}
}

// restart stops and starts the gateway over the same data directory.
func (e *env) restart() {
	e.stop()
	e.start()
}

// volume opens testVolume directly, as the FUSE adapter would.
func (e *env) volume() *fs.Volume {
	v, err := e.fsys.OpenVolume(context.Background(), testVolume)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { v.Close(context.Background()) })
	return v
}

// nets parses CIDRs for AllowedNets.
func nets(cidrs ...string) []netip.Prefix {
	var out []netip.Prefix
	for _, c := range cidrs {
		out = append(out, netip.MustParsePrefix(c))
	}
	return out
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in time")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
