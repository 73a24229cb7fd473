package main

import (
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/urfave/cli/v2"
	nfsc "github.com/willscott/go-nfs-client/nfs"
	nfsrpc "github.com/willscott/go-nfs-client/nfs/rpc"
)

// TestListenersNFSMakeRun starts the daemon with the exports of `make
// run` (read from the Makefile, so what is checked is what runs): root on
// this host, calling from a reserved port as the kernel client and libnfs
// running as root do, is root in the volume, as on the FUSE mount; root
// calling from another port, and any other local user, are refused.
func TestListenersNFSMakeRun(t *testing.T) {
	needRoot(t)
	srv := startListenerServer(t, "--export", makefileVar(t, "EXPORTS"))
	tgt, err := nfsMount(srv.nfs, "default", true, 0)
	if err != nil {
		t.Fatalf("root from a reserved port: %v", err)
	}
	if _, err := tgt.Create("/over-nfs", 0o644); err != nil {
		t.Fatalf("root creating in the volume's root: %v", err)
	}
	if uid := fuseOwner(t, filepath.Join(srv.mnt, "over-nfs")); uid != 0 {
		t.Errorf("a file root created over NFS belongs to uid %d, want 0 (no_root_squash)", uid)
	}
	if _, err := nfsMount(srv.nfs, "default", false, 0); err == nil {
		t.Error("root calling from a port above 1023 mounted a secure export")
	}
	ls := readmeNFSLs(t, srv.nfs)
	if out, err := exec.Command("sh", "-c", ls).CombinedOutput(); err != nil || !strings.Contains(string(out), "over-nfs") {
		t.Errorf("the README's %s as root: %v\n%s", ls, err, out)
	}
	nobody := exec.Command("sh", "-c", ls)
	nobody.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	if out, err := nobody.CombinedOutput(); err == nil {
		t.Errorf("another local user listed the volume over NFS:\n%s", out)
	}
	srv.logHas(t, `msg="NFS export"`, "volume=*", "clients=127.0.0.1/32", "access=rw", "squash=none", "secure=true")
}

// TestListenersNFSDefaultExport starts the daemon with no --export: root
// over NFS is squashed to nobody, so it may not write in the volume's
// root-owned root, and what it creates in a world-writable directory is
// nobody's; the log says so.
func TestListenersNFSDefaultExport(t *testing.T) {
	needRoot(t)
	srv := startListenerServer(t)
	if err := os.Mkdir(filepath.Join(srv.mnt, "pub"), 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(srv.mnt, "pub"), 0o777); err != nil { // past the umask
		t.Fatal(err)
	}
	tgt, err := nfsMount(srv.nfs, "default", false, 0)
	if err != nil {
		t.Fatalf("mount as root: %v", err)
	}
	if _, err := tgt.Create("/denied", 0o644); err == nil {
		t.Error("squashed root created a file in the volume's root (root's, 0755)")
	}
	if _, err := tgt.Create("/pub/f", 0o644); err != nil {
		t.Fatalf("squashed root creating in a 0777 directory: %v", err)
	}
	if uid := fuseOwner(t, filepath.Join(srv.mnt, "pub", "f")); uid != 65534 {
		t.Errorf("a file root created over NFS belongs to uid %d, want 65534 (root squashed)", uid)
	}
	srv.logHas(t, `msg="NFS export"`, "volume=*", `clients="this host's (the address is loopback)"`, "squash=root")
}

// TestListenersNFSNamedNetworks starts the daemon exporting to 10.0.0.0/8
// only, as the README's example of opening the gateway up: a client on
// this host is not in those networks and may not mount.
func TestListenersNFSNamedNetworks(t *testing.T) {
	needRoot(t)
	srv := startListenerServer(t, "--export", "*:rw,allow=10.0.0.0/8")
	if _, err := nfsMount(srv.nfs, "default", true, 0); err == nil {
		t.Error("a client at 127.0.0.1 mounted an export for 10.0.0.0/8")
	}
	srv.logHas(t, `msg="NFS export"`, "clients=10.0.0.0/8", "squash=root")
}

// needRoot skips end-to-end tests that need a FUSE mount and reserved
// source ports.
func needRoot(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end: starts a server")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root: a FUSE mount, and source ports below 1024")
	}
}

// listenerServer is a running `cairn server` with a FUSE mount of
// volume default and NFS on a free loopback port.
type listenerServer struct {
	*tour
	log string // its log file
}

// startListenerServer starts `cairn server` as startTour does, with
// extra flags, and waits for the mount and the API.
func startListenerServer(t *testing.T, extra ...string) *listenerServer {
	t.Helper()
	base := t.TempDir()
	tr := &tour{t: t, data: filepath.Join(base, "data"), mnt: filepath.Join(base, "mnt"), nfs: freeAddr(t)}
	if err := os.MkdirAll(tr.mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	args := append([]string{"--data", tr.data, "server", "--volume", "default", "--mount", tr.mnt,
		"--nfs-listen", tr.nfs, "--no-snapshot-scheduler"}, extra...)
	cmd := startCairn(t, "server.log", args...)
	waitMounted(t, tr.mnt)
	waitAPI(t, tr)
	return &listenerServer{tour: tr, log: cmd.Stdout.(*os.File).Name()}
}

// logHas checks that one line of the server's log holds every part.
func (s *listenerServer) logHas(t *testing.T, parts ...string) {
	t.Helper()
	b, err := os.ReadFile(s.log)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if containsAll(line, parts) {
			return
		}
	}
	t.Errorf("no line of the server's log has all of %q:\n%s", parts, b)
}

func containsAll(s string, parts []string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

// nfsMount mounts /vol at addr through go-nfs-client as uid (gid the
// same), from a reserved source port if privileged.
func nfsMount(addr, vol string, privileged bool, uid uint32) (*nfsc.Target, error) {
	var rc *nfsrpc.Client
	var err error
	for range 20 { // the client picks its port at random: retry a taken one
		if rc, err = nfsrpc.DialTCP("tcp", addr, privileged); !errors.Is(err, syscall.EADDRINUSE) {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	tgt, err := (&nfsc.Mount{Client: rc}).Mount("/"+vol, nfsrpc.NewAuthUnix("listeners-test", uid, uid).Auth())
	if err != nil {
		rc.Close()
		return nil, err
	}
	return tgt, nil
}

// fuseOwner is the uid owning path, as the FUSE mount shows it.
func fuseOwner(t *testing.T, path string) uint32 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Sys().(*syscall.Stat_t).Uid
}

// makefileVar returns the default of a `NAME ?= value` line of the
// Makefile.
func makefileVar(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("../../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, "?="); ok && strings.TrimSpace(k) == name {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("the Makefile sets no %s ?=", name)
	return ""
}

// readmeNFSLs returns the README quick start's nfs-ls command, on the
// port of addr instead of 2049.
func readmeNFSLs(t *testing.T, addr string) string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(addr)
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "nfs-ls ") {
			cmd, _, _ := strings.Cut(line, "#")
			return strings.ReplaceAll(strings.TrimSpace(cmd), "2049", port)
		}
	}
	t.Fatal("the README has no nfs-ls line")
	return ""
}

// TestListenersExportFlag checks that each --export is one export, its
// commas included, and that a bad one stops the command before it
// serves anything.
func TestListenersExportFlag(t *testing.T) {
	tests := []struct {
		args []string
		want []string // the exports, as nfsgw.Export.String; nil: refused
	}{
		{nil, []string{"*,rw,root_squash"}},
		{[]string{"--export", "web,ro"}, []string{"web,ro,root_squash"}},
		{[]string{"--export", "web,rw,root_squash,allow=10.0.0.0/8", "--export", "*:ro,no_root_squash"},
			[]string{"web,rw,root_squash,allow=10.0.0.0/8", "*,ro,no_root_squash"}},
		{[]string{"--export", "web,allow=10.0.0.0/8|10.1.0.0/16"}, []string{"web,rw,root_squash,allow=10.0.0.0/8|10.1.0.0/16"}},
		{[]string{"--export", "web,rw=yes"}, nil},
		{[]string{"--export", "allow=10.0.0.0/8"}, nil},
	}
	for _, tt := range tests {
		var got []string
		app := &cli.App{Flags: nfsFlags(), Writer: io.Discard, ErrWriter: io.Discard,
			Action: func(c *cli.Context) error {
				for _, e := range exportsOf(c) {
					got = append(got, e.String())
				}
				return nil
			}}
		err := app.Run(append([]string{"cairn"}, tt.args...))
		switch {
		case tt.want == nil && err == nil:
			t.Errorf("%q: accepted as %q, want an error", tt.args, got)
		case tt.want != nil && (err != nil || !slices.Equal(got, tt.want)):
			t.Errorf("%q: %q (%v), want %q", tt.args, got, err, tt.want)
		}
	}
}
