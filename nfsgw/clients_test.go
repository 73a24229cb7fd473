package nfsgw

import (
	"context"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/cairn-storage/cairn/fs"
)

// TestClients follows one client address across two real NFS clients and
// two volumes: go-nfs-client mounts testVolume, libnfs lists another
// volume, then go-nfs-client reads again; each call moves the client's
// volume and last-seen time, and ten minutes of silence forget it.
func TestClients(t *testing.T) {
	e := newEnv(t, Export{NoRootSquash: true}, func(c *Config) { c.Exports = append(c.Exports, Export{Volume: "*"}) })
	if _, err := e.fsys.CreateVolume(context.Background(), "other", fs.VolumeConfig{}); err != nil {
		t.Fatal(err)
	}
	if got := e.srv.Clients(); len(got) != 0 {
		t.Fatalf("Clients before any call = %+v, want none", got)
	}
	start := time.Now()
	c := mountClient(t, e, 0, 0)
	c.writeFile("/f", []byte("hello"))
	first := wantClient(t, e.srv, testVolume, start)

	url := fmt.Sprintf("nfs://127.0.0.1/other/?nfsport=%d&mountport=%d&version=3", e.port, e.port)
	if out, err := runTool(t, "nfs-ls", url); err != nil {
		t.Fatalf("nfs-ls: %v\n%s", err, out)
	}
	second := wantClient(t, e.srv, "other", first.LastSeen)

	if got := string(c.readFile("/f")); got != "hello" {
		t.Fatalf("read back %q", got)
	}
	wantClient(t, e.srv, testVolume, second.LastSeen)

	if got := e.srv.clients.list(time.Now().Add(clientTTL + time.Minute)); len(got) != 0 {
		t.Fatalf("Clients after %s of silence = %+v, want none", clientTTL, got)
	}
	if got := e.srv.Clients(); len(got) != 0 {
		t.Fatalf("a forgotten client came back: %+v", got)
	}
}

// wantClient checks that the gateway lists exactly the loopback client,
// on volume, seen at or after since (and not in the future).
func wantClient(t *testing.T, s *Server, volume string, since time.Time) Client {
	t.Helper()
	got := s.Clients()
	if len(got) != 1 {
		t.Fatalf("Clients = %+v, want one client", got)
	}
	c := got[0]
	if c.Address != "127.0.0.1" || c.Volume != volume {
		t.Fatalf("Clients = %+v, want 127.0.0.1 on %s", got, volume)
	}
	if c.LastSeen.Before(since) || c.LastSeen.After(time.Now()) {
		t.Fatalf("LastSeen %s, want between %s and now", c.LastSeen, since)
	}
	return c
}

// TestClientsSnapshotView: a client browsing /VOLUME/.snapshots/SNAP is
// listed on VOLUME, the export it mounted.
func TestClientsSnapshotView(t *testing.T) {
	parent := &export{Export: Export{Volume: "vol"}}
	view := &export{Export: Export{Volume: fs.TreeVolumeName("vol", "s1")}, parent: parent}
	tab := newClientTable()
	tab.seen(netip.MustParseAddr("10.0.0.9"), view.mounted())
	tab.seen(netip.MustParseAddr("10.0.0.10"), parent.mounted())
	got := tab.list(time.Now())
	if len(got) != 2 || got[0].Address != "10.0.0.9" || got[1].Address != "10.0.0.10" {
		t.Fatalf("list = %+v, want 10.0.0.9 then 10.0.0.10", got)
	}
	for _, c := range got {
		if c.Volume != "vol" {
			t.Fatalf("list = %+v, want every client on vol", got)
		}
	}
}
