package fusefs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"syscall"
	"time"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/cairn-storage/cairn/fs"
)

// Options tune a mount. The zero value gives sane defaults.
type Options struct {
	// ReadOnly mounts the volume read-only.
	ReadOnly bool
	// AttrTimeout and EntryTimeout are how long the kernel caches
	// attributes and directory entries: 0 means the default of 1s, a
	// negative value disables caching.
	AttrTimeout  time.Duration
	EntryTimeout time.Duration
	// NegativeTimeout is how long the kernel caches failed lookups
	// (default 0: not at all).
	NegativeTimeout time.Duration
	// Writeback enables the kernel's writeback cache.
	Writeback bool
	// AllowOther lets users other than the mounting one use the mount
	// (mount option allow_other); nil means true when running as root.
	// Unprivileged mounts need user_allow_other in /etc/fuse.conf for it.
	AllowOther *bool
	// Debug logs every FUSE request.
	Debug bool
	// FsName is the source shown by mount(8) and df; "cairn:VOLUME" if empty.
	FsName string
	// Logger receives the adapter's logs; slog.Default() if nil.
	Logger *slog.Logger
	// Sync, if set, makes everything committed so far durable; fsyncdir
	// calls it (pass the FS's Sync). Without it fsyncdir does nothing
	// more than what every committed metadata change already has:
	// durability across a crash of the process.
	Sync func(context.Context) error
	// Snapshots, if set, makes a read-only .snapshots directory in the
	// volume's root, with a subdirectory browsing each snapshot.
	Snapshots Snapshots
	// ShowSnapshots lists .snapshots in the root; otherwise only a
	// lookup by name finds it.
	ShowSnapshots bool
}

func (o *Options) setDefaults(vol *fs.Volume) {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.FsName == "" {
		o.FsName = "cairn:" + vol.Info().Name
	}
	if o.AllowOther == nil {
		root := os.Geteuid() == 0
		o.AllowOther = &root
	}
}

// timeout turns an option into go-fuse's form: 0 gives def, a negative
// value 0.
func timeout(d, def time.Duration) *time.Duration {
	switch {
	case d == 0:
		d = def
	case d < 0:
		d = 0
	}
	return &d
}

// Server is a volume served over FUSE at a mount point.
type Server struct {
	server *fuse.Server
	m      *mount
	dir    string
}

// mount is the state every node of one volume shares: the mounted
// volume, or a snapshot view below .snapshots.
type mount struct {
	vol     *fs.Volume
	log     *slog.Logger
	opts    Options
	attrTTL time.Duration
	hi      uint64     // view number, in the high bits of inode numbers (see fuseIno)
	snaps   *snapState // the .snapshots directory, if the volume has one

	mu      sync.Mutex
	handles map[*fileHandle]struct{} // open files, released at unmount
}

// maxWrite is the largest READ and WRITE request (1 MiB).
const maxWrite = 1 << 20

// maxReadAhead is the kernel's readahead window; Linux caps it at 128 KiB.
const maxReadAhead = 128 << 10

// Mount serves vol at mountpoint and returns once the kernel has the
// mount. The caller keeps ownership of vol: close it after Unmount. The
// snapshot views opened through Options.Snapshots are closed at unmount.
func Mount(vol *fs.Volume, mountpoint string, opts Options) (*Server, error) {
	opts.setDefaults(vol)
	m := &mount{vol: vol, log: opts.Logger, opts: opts,
		attrTTL: *timeout(opts.AttrTimeout, time.Second), handles: map[*fileHandle]struct{}{}}
	if opts.Snapshots != nil {
		m.snaps = &snapState{root: m, src: opts.Snapshots}
	}
	root := &node{m: m}
	raw := gofs.NewNodeFS(root, m.nodeOptions())
	server, err := fuse.NewServer(raw, mountpoint, m.mountOptions())
	if err != nil {
		return nil, fmt.Errorf("mount %s at %s: %w", vol.Info().Name, mountpoint, err)
	}
	go server.Serve()
	if err := server.WaitMount(); err != nil {
		_ = server.Unmount()
		m.releaseAll()
		return nil, fmt.Errorf("mount %s at %s: %w", vol.Info().Name, mountpoint, err)
	}
	m.log.Info("volume mounted", "volume", vol.Info().Name, "mountpoint", mountpoint,
		"readonly", opts.ReadOnly, "writeback", opts.Writeback)
	return &Server{server: server, m: m, dir: mountpoint}, nil
}

func (m *mount) nodeOptions() *gofs.Options {
	o := &gofs.Options{
		AttrTimeout:     timeout(m.opts.AttrTimeout, time.Second),
		EntryTimeout:    timeout(m.opts.EntryTimeout, time.Second),
		NullPermissions: true,
		RootStableAttr:  &gofs.StableAttr{Ino: uint64(fs.RootIno), Gen: 1},
		Logger:          slog.NewLogLogger(m.log.Handler(), slog.LevelWarn),
	}
	if m.opts.NegativeTimeout > 0 {
		o.NegativeTimeout = &m.opts.NegativeTimeout
	}
	return o
}

func (m *mount) mountOptions() *fuse.MountOptions {
	root := os.Geteuid() == 0
	o := &fuse.MountOptions{
		AllowOther:    *m.opts.AllowOther,
		Options:       []string{"default_permissions"},
		MaxBackground: 64,
		MaxWrite:      maxWrite,
		MaxReadAhead:  maxReadAhead,
		FsName:        m.opts.FsName,
		Name:          "cairn",
		DirectMount:   root,
		Debug:         m.opts.Debug,
		Logger:        slog.NewLogLogger(m.log.Handler(), fuseLogLevel(m.opts.Debug)),
		// fs clears set-user-ID and set-group-ID itself where the
		// kernel lets it: see osCapabilities.
		ExtraCapabilities: osCapabilities,
	}
	if m.opts.ReadOnly {
		o.Options = append(o.Options, "ro")
	}
	if m.opts.Writeback {
		o.ExtraCapabilities |= fuse.CAP_WRITEBACK_CACHE
	}
	return o
}

// fuseLogLevel is the level of go-fuse's own messages: they are the
// point of Debug, and otherwise only report trouble.
func fuseLogLevel(debug bool) slog.Level {
	if debug {
		return slog.LevelInfo
	}
	return slog.LevelWarn
}

// FUSE returns the go-fuse server, for callers that need its details.
func (mt *Server) FUSE() *fuse.Server { return mt.server }

// Dir returns the mount point.
func (mt *Server) Dir() string { return mt.dir }

// Unmount detaches the mount, waits for the server to stop and releases
// the files the kernel left open.
func (mt *Server) Unmount() error {
	if err := mt.server.Unmount(); err != nil {
		return fmt.Errorf("unmount %s: %w", mt.dir, err)
	}
	mt.m.releaseAll()
	return nil
}

// Wait blocks until the mount is gone (unmounted by anyone), then
// releases the files the kernel left open.
func (mt *Server) Wait() {
	mt.server.Wait()
	mt.m.releaseAll()
}

// releaseAll releases the handles whose RELEASE the kernel never sent
// (it drops pending releases when the connection goes away), and closes
// the snapshot views.
func (m *mount) releaseAll() {
	m.releaseHandles()
	if m.snaps != nil {
		m.snaps.closeAll()
	}
}

// releaseHandles releases m's open files.
func (m *mount) releaseHandles() {
	m.mu.Lock()
	hs := m.handles
	m.handles = map[*fileHandle]struct{}{}
	m.mu.Unlock()
	for h := range hs {
		if err := h.h.Release(context.Background()); err != nil {
			m.log.Error("releasing a file left open at unmount", "ino", h.h.Ino(), "err", err)
		}
	}
	if len(hs) > 0 {
		m.log.Info("released files left open at unmount", "count", len(hs))
	}
}

// errno converts an error of package fs into the errno the kernel gets:
// the syscall.Errno it wraps, or EIO (logged) for anything else. It is
// the only place errors are mapped.
func (m *mount) errno(op string, err error) syscall.Errno {
	if err == nil {
		return 0
	}
	var e syscall.Errno
	if errors.As(err, &e) {
		return e
	}
	m.log.Error("fuse: unexpected error", "op", op, "volume", m.vol.Info().Name, "err", err)
	return syscall.EIO
}
