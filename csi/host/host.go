// Package host is the cairn CSI host: the one process that owns a data
// directory and serves, on a local socket (and optionally TCP), the CSI
// Controller and GroupController services over it and the FUSE mounts
// of the node. It also holds the client the node plugin uses to reach
// (and, if need be, start) its host. See package csi for why.
package host

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"

	"github.com/cairn-storage/cairn/csi"
	"github.com/cairn-storage/cairn/csi/fsbackend"
	"github.com/cairn-storage/cairn/datadir"
	"github.com/cairn-storage/cairn/fusefs"
	"github.com/cairn-storage/cairn/snapshots"
)

// Config configures a host.
type Config struct {
	// DataDir is the data directory the host owns; Data, how to open it
	// (the metadata and chunk stores of a cluster; the logger is set).
	DataDir string
	Data    datadir.Options
	// Socket is the unix socket the host serves on.
	Socket string
	// Listen, if set, is a tcp://HOST:PORT endpoint to serve on as well
	// (for a controller in another pod); Token is then required.
	Listen string
	Token  string
	// NodeID names the node the host mounts on.
	NodeID string
	// Mount tunes the FUSE mounts (read-only and sync are set per mount).
	Mount fusefs.Options
	// Version is reported by GetPluginInfo.
	Version string
	Logger  *slog.Logger
	// Extra, if set, starts more services on the open data directory
	// (the NFS gateway); the returned function stops them.
	Extra func(ctx context.Context, d *datadir.Data) (stop func() error, err error)
}

// Run opens the data directory and serves until ctx is done, then stops
// serving, unmounts every volume and closes the data directory.
func Run(ctx context.Context, cfg Config) (err error) {
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	if cfg.Socket == "" {
		return errors.New("host: a socket is required")
	}
	if cfg.Listen != "" && cfg.Token == "" {
		return errors.New("host: serving on TCP needs a token")
	}
	if err := os.MkdirAll(filepath.Dir(cfg.Socket), 0o700); err != nil {
		return fmt.Errorf("host: socket directory: %w", err)
	}
	dopts := cfg.Data
	if dopts.Logger == nil {
		dopts.Logger = log
	}
	d, err := datadir.Open(cfg.DataDir, dopts)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, d.Close()) }()
	snaps := snapshots.New(d.FS, d.Chunks, snapshots.Options{Logger: log, Freeze: d.Freeze})
	if err := snaps.Resume(ctx); err != nil {
		return err
	}
	var space fsbackend.Space
	if d.Space != nil {
		space = d.Space
	}
	backend := fsbackend.New(d.FS, snaps, d.Dir, space)
	ctrl := csi.NewController(backend, log)
	node := newFuseNode(d.FS, cfg.Mount, cfg.NodeID, log)
	defer func() {
		if uerr := node.unmountAll(); uerr != nil {
			err = errors.Join(err, uerr)
		}
	}()
	if cfg.Extra != nil {
		stop, err := cfg.Extra(ctx, d)
		if err != nil {
			return err
		}
		defer func() { err = errors.Join(err, stop()) }()
	}
	opts := csi.Options{Version: cfg.Version, Controller: ctrl, Group: ctrl, Node: node, Probe: backend.Check, Logger: log}
	var listeners []net.Listener
	servers := []*csi.Server{csi.NewServer(opts)}
	l, err := csi.Listen("unix://" + cfg.Socket)
	if err != nil {
		return err
	}
	listeners = append(listeners, l)
	if cfg.Listen != "" {
		tcpOpts := opts
		tcpOpts.Token = cfg.Token
		servers = append(servers, csi.NewServer(tcpOpts))
		tl, err := csi.Listen(cfg.Listen)
		if err != nil {
			l.Close()
			return err
		}
		listeners = append(listeners, tl)
	}
	log.Info("host: serving", "data", cfg.DataDir, "socket", cfg.Socket, "listen", cfg.Listen, "pid", os.Getpid())
	errc := make(chan error, len(servers))
	var wg sync.WaitGroup
	for i, s := range servers {
		wg.Add(1)
		go func() { defer wg.Done(); errc <- s.Serve(listeners[i]) }()
	}
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	for _, s := range servers {
		s.Stop()
	}
	wg.Wait()
	log.Info("host: stopped", "data", cfg.DataDir)
	return err
}
