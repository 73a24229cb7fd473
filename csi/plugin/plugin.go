// Package plugin runs the CSI plugin the CO talks to (`cairn csi`): the
// controller over the node daemon's control API, and the node service
// publishing FUSE mounts the daemon serves (or NFS mounts it makes
// itself). The daemon owns the data; the plugin holds only its
// publication records, so it can restart at any time.
package plugin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/cairn-storage/cairn/csi"
	"github.com/cairn-storage/cairn/csi/apibackend"
)

// Config configures a plugin.
type Config struct {
	// Endpoint is where the plugin serves CSI (unix:///csi/csi.sock).
	Endpoint string
	// Name is the driver name; csi.DriverName if empty.
	Name    string
	Version string
	NodeID  string
	Zone    string
	// Controller and Node select the services served.
	Controller, Node bool
	// StateDir keeps the node's publication records.
	StateDir string
	// Daemon reaches the node daemon; an empty Endpoint means none (a
	// node then publishes over NFS only).
	Daemon apibackend.Config
	// RepairInterval is how often publications are re-attached; 30s if 0.
	RepairInterval time.Duration
	Logger         *slog.Logger
}

// Plugin is a running CSI plugin.
type Plugin struct {
	srv    *csi.Server
	node   *csi.Node
	daemon *apibackend.Daemon
	cancel context.CancelFunc
	wg     sync.WaitGroup
	err    error // from Serve
}

// Start starts serving CSI at cfg.Endpoint. A node first re-attaches what
// it had published (a restart keeps live mounts and remounts dead ones),
// then keeps doing so every RepairInterval.
func Start(ctx context.Context, cfg Config) (*Plugin, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if !cfg.Controller && !cfg.Node {
		return nil, errors.New("plugin: serve the controller, the node or both")
	}
	p := &Plugin{}
	opts, err := p.services(ctx, cfg)
	if err != nil {
		p.close()
		return nil, err
	}
	l, err := csi.Listen(cfg.Endpoint)
	if err != nil {
		p.close()
		return nil, err
	}
	p.srv = csi.NewServer(opts)
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	p.cancel = cancel
	if p.node != nil {
		interval := cfg.RepairInterval
		if interval <= 0 {
			interval = 30 * time.Second
		}
		p.wg.Add(1)
		go func() { defer p.wg.Done(); p.node.RunRepair(rctx, interval) }()
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		if err := p.srv.Serve(l); err != nil {
			p.err = fmt.Errorf("csi plugin: %w", err)
			cancel()
		}
	}()
	return p, nil
}

// services connects to the daemon and makes the services cfg asks for.
func (p *Plugin) services(ctx context.Context, cfg Config) (csi.Options, error) {
	log := cfg.Logger
	opts := csi.Options{Name: cfg.Name, Version: cfg.Version, Topology: cfg.Zone != "", Logger: log}
	if cfg.Daemon.Endpoint != "" {
		cfg.Daemon.Logger = log
		d, err := apibackend.Dial(cfg.Daemon)
		if err != nil {
			return opts, err
		}
		p.daemon = d
		if cfg.Controller || cfg.Daemon.Spawn != nil {
			// A node that cannot start its daemon stays healthy without
			// one: restarting the plugin would not bring it back.
			opts.Probe = d.Check
		}
	}
	if cfg.Controller {
		if p.daemon == nil {
			return opts, errors.New("plugin: the controller needs a cairn daemon")
		}
		ctrl := csi.NewController(p.daemon.Backend(), log)
		opts.Controller, opts.Group = ctrl, ctrl
	}
	if cfg.Node {
		nopts := csi.NodeOptions{NodeID: cfg.NodeID, Zone: cfg.Zone, StateDir: cfg.StateDir, Logger: log}
		if p.daemon != nil {
			nopts.FUSE = p.daemon.Publisher()
		}
		node, err := csi.NewNode(nopts)
		if err != nil {
			return opts, err
		}
		p.node, opts.Node = node, node
		if err := node.Repair(ctx); err != nil {
			log.Error("csi: re-attaching publications at start", "err", err)
		}
	}
	return opts, nil
}

// Node returns the node service, nil if the plugin serves none.
func (p *Plugin) Node() *csi.Node { return p.node }

// Done is closed when the plugin stopped serving on its own (an error).
func (p *Plugin) Done() <-chan struct{} {
	done := make(chan struct{})
	go func() { p.wg.Wait(); close(done) }()
	return done
}

// Stop stops serving; the daemon and the mounts it serves keep running.
func (p *Plugin) Stop() error {
	p.srv.Stop()
	p.cancel()
	p.wg.Wait()
	p.close()
	return p.err
}

func (p *Plugin) close() {
	if p.daemon != nil {
		p.daemon.Close()
	}
}
