package host

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/cairn-storage/cairn/csi"
)

// PluginConfig configures the CSI plugin the CO talks to.
type PluginConfig struct {
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
	// Host reaches the host; an empty Endpoint means none (a node then
	// publishes over NFS only).
	Host ClientConfig
	// RepairInterval is how often publications are re-attached; 30s if 0.
	RepairInterval time.Duration
	Logger         *slog.Logger
}

// Plugin is a running CSI plugin.
type Plugin struct {
	srv    *csi.Server
	node   *csi.Node
	client *Client
	cancel context.CancelFunc
	wg     sync.WaitGroup
	err    error // from Serve
}

// StartPlugin starts serving CSI at cfg.Endpoint. A node first re-attaches
// what it had published (a restart keeps live mounts and remounts dead
// ones), then keeps doing so every RepairInterval.
func StartPlugin(ctx context.Context, cfg PluginConfig) (*Plugin, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	if !cfg.Controller && !cfg.Node {
		return nil, errors.New("plugin: serve the controller, the node or both")
	}
	p := &Plugin{}
	opts := csi.Options{Name: cfg.Name, Version: cfg.Version, Topology: cfg.Zone != "", Logger: log}
	if cfg.Host.Endpoint != "" {
		cfg.Host.Logger = log
		c, err := Dial(cfg.Host)
		if err != nil {
			return nil, err
		}
		p.client = c
		if cfg.Controller || cfg.Host.Spawn != nil {
			// A node that cannot start its host stays healthy without
			// one: restarting it would not bring the host back.
			opts.Probe = c.Check
		}
	}
	if cfg.Controller {
		if p.client == nil {
			return nil, errors.New("plugin: the controller needs a host")
		}
		opts.Controller, opts.Group = p.client.Controller(), p.client.Group()
	}
	if cfg.Node {
		nopts := csi.NodeOptions{NodeID: cfg.NodeID, Zone: cfg.Zone, StateDir: cfg.StateDir, Logger: log}
		if p.client != nil {
			nopts.FUSE = p.client
		}
		node, err := csi.NewNode(nopts)
		if err != nil {
			p.close()
			return nil, err
		}
		p.node = node
		if err := node.Repair(ctx); err != nil {
			log.Error("csi: re-attaching publications at start", "err", err)
		}
	}
	l, err := csi.Listen(cfg.Endpoint)
	if err != nil {
		p.close()
		return nil, err
	}
	if p.node != nil {
		opts.Node = p.node
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

// Node returns the node service, nil if the plugin serves none.
func (p *Plugin) Node() *csi.Node { return p.node }

// Done is closed when the plugin stopped serving on its own (an error).
func (p *Plugin) Done() <-chan struct{} {
	done := make(chan struct{})
	go func() { p.wg.Wait(); close(done) }()
	return done
}

// Stop stops serving; the host and the mounts it serves keep running.
func (p *Plugin) Stop() error {
	p.srv.Stop()
	p.cancel()
	p.wg.Wait()
	p.close()
	return p.err
}

func (p *Plugin) close() {
	if p.client != nil {
		p.client.Close()
	}
}
