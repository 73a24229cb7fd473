package nfsgw

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cairn-storage/cairn/fs"
)

// Export makes one volume mountable at /VOLUME (and its subdirectories).
type Export struct {
	// Volume names the exported volume; "*" exports every volume that
	// has no export of its own, with these options.
	Volume string
	// ReadOnly refuses every change with NFS3ERR_ROFS.
	ReadOnly bool
	// AllowedNets lists the client networks that may mount the export and
	// use its handles; empty allows every client that reaches the
	// listener (see DefaultAddr).
	AllowedNets []netip.Prefix
	// NoRootSquash lets uid 0 and gid 0 act as root. By default they are
	// mapped to the anonymous ids (root squash), as exportfs and
	// nfs-ganesha do: AUTH_SYS credentials are whatever the client
	// claims, so root on any client would otherwise be root here.
	NoRootSquash bool
	// AllSquash maps every user to the anonymous ids.
	AllSquash bool
	// Secure refuses calls from source ports of 1024 and above, which
	// only root may bind (exportfs's "secure"): on a host shared with
	// other users it keeps them from posing as root, or as anyone, with
	// forged AUTH_SYS credentials. Kernel clients and libnfs running as
	// root use such ports; off by default, as in nfs-ganesha.
	Secure bool
	// AnonUID and AnonGID are the anonymous ids, also used for AUTH_NULL
	// calls; 0 means 65534 (nobody), since squashing to root is no squash.
	AnonUID, AnonGID uint32
}

// Config configures a Server.
type Config struct {
	// Exports lists what clients may mount.
	Exports []Export
	// Secret is the per-cluster key that authenticates file handles: at
	// least 16 bytes, the same on every gateway and across restarts, or
	// clients' handles go stale. If empty, the filesystem's secret named
	// SecretName is used, which every gateway of a cluster shares.
	Secret []byte
	// Logger receives the gateway's logs; slog.Default() if nil.
	Logger *slog.Logger
	// Registerer receives the gateway's metrics; none are exported if nil.
	Registerer prometheus.Registerer
	// Addr is where ListenAndServe serves NFS and MOUNT;
	// DefaultAddr(Exports) if empty.
	Addr string
	// PortmapperAddr, if set, is where ListenAndServe also runs a
	// portmapper (rpcbind v2), usually ":111", so that clients find the
	// NFS and MOUNT port without options.
	PortmapperAddr string
	// IdleClose is how long an open file stays cached after its last
	// READ or WRITE; 5 s if zero.
	IdleClose time.Duration
	// MaxIOSize is the largest READ and WRITE offered to clients; 1 MiB
	// if zero.
	MaxIOSize uint32
	// Snapshots, if set, makes a read-only .snapshots directory in the
	// root of every export (not listed by READDIR), with a subdirectory
	// browsing each snapshot of the volume.
	Snapshots Snapshots
}

// SecretName names the filesystem secret (fs.FS.Secret) that
// authenticates file handles when Config.Secret is empty.
const SecretName = "nfs-file-handles"

// minSecret is the shortest accepted handle secret.
const minSecret = 16

// nobody is the default anonymous id.
const nobody = 65534

func (c *Config) validate() error {
	if len(c.Secret) > 0 && len(c.Secret) < minSecret {
		return fmt.Errorf("nfsgw: the handle secret must have at least %d bytes", minSecret)
	}
	if len(c.Exports) == 0 {
		return errors.New("nfsgw: no exports")
	}
	c.Exports = append([]Export(nil), c.Exports...) // defaults go into a copy
	seen := map[string]bool{}
	for i := range c.Exports {
		e := &c.Exports[i]
		if e.Volume != "*" {
			if err := fs.CheckVolumeName(e.Volume); err != nil {
				return fmt.Errorf("nfsgw: export %d: %w", i, err)
			}
		}
		if seen[e.Volume] {
			return fmt.Errorf("nfsgw: volume %q exported twice", e.Volume)
		}
		seen[e.Volume] = true
		if e.AnonUID == 0 {
			e.AnonUID = nobody
		}
		if e.AnonGID == 0 {
			e.AnonGID = nobody
		}
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Addr == "" {
		c.Addr = DefaultAddr(c.Exports)
	}
	if c.IdleClose <= 0 {
		c.IdleClose = 5 * time.Second
	}
	if c.MaxIOSize == 0 {
		c.MaxIOSize = 1 << 20
	}
	c.MaxIOSize = min(c.MaxIOSize, maxIOSize)
	return nil
}

// maxIOSize bounds MaxIOSize so one request fits a record.
const maxIOSize = 1 << 20

// admits checks that a client calling from addr may use the export: it
// must be in the export's networks (else EACCES) and, on a secure
// export, call from a reserved port (else EPERM, as knfsd answers).
func (e *Export) admits(addr netip.AddrPort) error {
	if !e.inNets(addr.Addr()) {
		return fmt.Errorf("client %s is not in the networks of export %q: %w", addr.Addr(), e.Volume, syscall.EACCES)
	}
	if e.Secure && addr.Port() >= reservedPorts {
		return fmt.Errorf("client %s calls from port %d, not below %d, and export %q is secure: %w",
			addr.Addr(), addr.Port(), reservedPorts, e.Volume, syscall.EPERM)
	}
	return nil
}

// reservedPorts bounds the source ports only root may bind
// (IPPORT_RESERVED).
const reservedPorts = 1024

// inNets reports whether addr is in the export's networks.
func (e *Export) inNets(addr netip.Addr) bool {
	if len(e.AllowedNets) == 0 {
		return true
	}
	addr = addr.Unmap()
	for _, p := range e.AllowedNets {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// caller maps a call's credentials to the identity the filesystem checks,
// applying the export's squashing. AUTH_NULL calls are anonymous.
func (e *Export) caller(cred *authSys) *fs.Caller {
	anon := &fs.Caller{Uid: e.AnonUID, Gid: e.AnonGID}
	if cred == nil || e.AllSquash {
		return anon
	}
	c := &fs.Caller{Uid: cred.UID, Gid: cred.GID, Groups: cred.GIDs}
	if !e.NoRootSquash {
		if c.Uid == 0 {
			c.Uid = anon.Uid
		}
		if c.Gid == 0 {
			c.Gid = anon.Gid
		}
		groups := make([]uint32, 0, len(c.Groups))
		for _, g := range c.Groups {
			if g == 0 {
				g = anon.Gid
			}
			groups = append(groups, g)
		}
		c.Groups = groups
	}
	return c
}
