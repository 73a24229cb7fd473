package nfsgw

import (
	"errors"
	"math/rand/v2"
	"net"
	"os"
	"syscall"
	"testing"
	"time"
)

// TestRootSquashDefault checks that root is squashed unless the export
// says NoRootSquash: a file root creates over NFS is then nobody's, and
// root may not create in a root-owned 0755 directory.
func TestRootSquashDefault(t *testing.T) {
	tests := []struct {
		name      string
		exp       Export
		rootWrite uint32 // CREATE in the volume's root (root's, 0755)
		owner     uint32 // of a file created in a 0777 directory
	}{
		{"default", Export{}, nfs3ErrAcces, nobody},
		{"no_root_squash", Export{NoRootSquash: true}, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tt.exp)
			if _, err := e.volume().Mkdir(t.Context(), nil, 1, "pub", 0o777); err != nil {
				t.Fatal(err)
			}
			c := dialRaw(t, e.addr, "")
			_, root := c.mount("/vol")
			if st, _ := c.nfs(8, createArgs(root, "x")); st != tt.rootWrite {
				t.Errorf("root creating in the volume's root: %d, want %d", st, tt.rootWrite)
			}
			_, pub := c.lookup(root, "pub")
			st, r := c.nfs(8, createArgs(pub, "f"))
			r.bool()
			r.opaque(maxFH)
			if a := readPostOp(r); st != 0 || a == nil || a.uid != tt.owner || a.gid != tt.owner {
				t.Errorf("file root created in a 0777 directory: %d %+v, want owner %d", st, a, tt.owner)
			}
		})
	}
}

// TestSecure checks the secure option: calls from ports of 1024 and above
// are refused (MNT with ACCES, others with PERM, as knfsd answers), calls
// from reserved ports go through; without the option any port will do.
func TestSecure(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("binding a source port below 1024 needs root")
	}
	tests := []struct {
		name         string
		secure       bool
		reserved     bool
		mnt, getattr uint32
	}{
		{"secure, reserved port", true, true, 0, 0},
		{"secure, other port", true, false, mnt3ErrAcces, nfs3ErrPerm},
		{"insecure, other port", false, false, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, Export{Secure: tt.secure})
			st, root := dialReserved(t, e.addr).mount("/vol")
			if st != 0 {
				t.Fatalf("MNT from a reserved port: %d", st)
			}
			c := dialRaw(t, e.addr, "")
			if tt.reserved {
				c = dialReserved(t, e.addr)
			}
			if st, _ := c.mount("/vol"); st != tt.mnt {
				t.Errorf("MNT: %d, want %d", st, tt.mnt)
			}
			if st, _, _ := c.getattr(root); st != tt.getattr {
				t.Errorf("GETATTR with the root's handle: %d, want %d", st, tt.getattr)
			}
		})
	}
}

// dialReserved connects to addr from 127.0.0.1 and a free port below
// 1024, as kernel NFS clients and libnfs running as root do.
func dialReserved(t *testing.T, addr string) *rawClient {
	t.Helper()
	var err error
	for range 200 {
		d := net.Dialer{Timeout: 5 * time.Second,
			LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 512 + rand.IntN(reservedPorts-512)}}
		var conn net.Conn
		if conn, err = d.Dial("tcp", addr); err == nil {
			return newRawClient(t, conn)
		}
		if !errors.Is(err, syscall.EADDRINUSE) && !errors.Is(err, syscall.EADDRNOTAVAIL) {
			break
		}
	}
	t.Fatalf("no reserved source port to dial %s from: %v", addr, err)
	return nil
}

// TestDefaultAddr checks where a gateway listens when given no address.
func TestDefaultAddr(t *testing.T) {
	tests := []struct {
		exports []Export
		want    string
	}{
		{nil, "127.0.0.1:2049"},
		{[]Export{{Volume: "*"}}, "127.0.0.1:2049"},
		{[]Export{{Volume: "*", AllowedNets: nets("10.0.0.0/8")}}, ":2049"},
		{[]Export{{Volume: "a", AllowedNets: nets("10.0.0.0/8")}, {Volume: "b"}}, "127.0.0.1:2049"},
		{[]Export{{Volume: "a", AllowedNets: nets("10.0.0.0/8")}, {Volume: "b", AllowedNets: nets("fd00::/8")}}, ":2049"},
	}
	for _, tt := range tests {
		if got := DefaultAddr(tt.exports); got != tt.want {
			t.Errorf("DefaultAddr(%v) = %q, want %q", tt.exports, got, tt.want)
		}
		cfg := Config{Exports: tt.exports}
		if err := cfg.validate(); err == nil && cfg.Addr != tt.want {
			t.Errorf("Config with exports %v listens on %q, want %q", tt.exports, cfg.Addr, tt.want)
		}
	}
}
