package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/urfave/cli/v2"

	"github.com/cairn-storage/cairn/chunks"
	"github.com/cairn-storage/cairn/cluster"
	"github.com/cairn-storage/cairn/cluster/peers"
	"github.com/cairn-storage/cairn/cluster/pki"
	"github.com/cairn-storage/cairn/datadir"
	"github.com/cairn-storage/cairn/fs"
	"github.com/cairn-storage/cairn/fs/meta"
	"github.com/cairn-storage/cairn/fs/meta/etcdkv"
)

// A command run with --cluster is a client of a running cluster instead
// of the owner of a data directory: it joins the gossip as a gateway (it
// holds no chunks), reads and writes chunks through the storage nodes,
// and finds the namespace (etcd) from the endpoints the nodes advertise.
// It takes part in snapshots' freezes like any member.

// clusterJoinTimeout bounds how long a client waits to reach a node.
const clusterJoinTimeout = 30 * time.Second

// clientFlags are the global flags that make a command a cluster client.
func clientFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{
			Name:    "cluster",
			Usage:   "work on a running cluster instead of --data: gossip address of any node, HOST:PORT[,HOST:PORT] (needs --tls-dir)",
			EnvVars: []string{"CAIRN_CLUSTER"},
		},
		&cli.StringFlag{
			Name:    "tls-dir",
			Usage:   "with --cluster: a bundle with gossip.key, from 'cairn cluster cert --node NAME'",
			EnvVars: []string{"CAIRN_TLS_DIR"},
		},
	}
}

// clientMode reports whether the command runs as a cluster client: with
// --cluster, a command (or a `cairn server`: a node daemon that is a
// gateway of the cluster, as the CSI driver runs on every node) works on
// the cluster instead of a data directory of its own.
func clientMode(c *cli.Context) bool { return c.String("cluster") != "" }

// clientBundle is the bundle of a cluster client: the global --tls-dir
// (`cairn server` has a --tls-dir of its own, a storage node's bundle,
// which would hide it).
func clientBundle(c *cli.Context) string {
	for _, ctx := range c.Lineage() {
		if ctx.IsSet("tls-dir") {
			return ctx.String("tls-dir")
		}
	}
	return ""
}

func isServer(c *cli.Context) bool { return c.Command != nil && c.Command.Name == "server" }

// clientOptions are the data options of a cluster client. The node
// starts when the metadata store is opened (the first thing Open does)
// and stops with the data, once.
func clientOptions(c *cli.Context, opts datadir.Options) (datadir.Options, error) {
	seeds := splitList(c.String("cluster"))
	bundle := clientBundle(c)
	if bundle == "" {
		return opts, errors.New("--cluster needs --tls-dir: cluster traffic is authenticated (make a bundle with 'cairn cluster cert --node NAME')")
	}
	b, err := pki.LoadBundle(bundle)
	if err != nil {
		return opts, err
	}
	if b.GossipKey == nil {
		return opts, fmt.Errorf("--tls-dir %s has no gossip.key: a --cluster client joins the gossip; issue a node bundle with 'cairn cluster cert --node NAME'", bundle)
	}
	var (
		node     *cluster.Node
		stopOnce sync.Once
		stopErr  error
	)
	stop := func() error {
		stopOnce.Do(func() {
			if node != nil {
				stopErr = node.Close()
			}
		})
		return stopErr
	}
	opts.NoLocal = true
	opts.OpenKV = func() (meta.KV, func() error, error) {
		if node, err = startClient(c, b, seeds); err != nil {
			return nil, nil, err
		}
		setClusterNode(c, node)
		kv, closeKV, err := openClusterKV(c, node, b)
		if err != nil {
			return nil, nil, errors.Join(err, stop())
		}
		return kv, func() error { return errors.Join(closeKV(), stop()) }, nil
	}
	opts.OpenChunks = func(*chunks.Local) (datadir.Backend, error) {
		return datadir.Backend{
			Store:        node.Store(),
			Stop:         stop,
			Freeze:       node.FreezeVolumes,
			AnswerFreeze: func(f fs.Freezer) { node.SetFreezer(cluster.Freezer(f)) },
			Space:        node,
		}, nil
	}
	return opts, nil
}

// startClient joins the cluster as a gateway and waits for a storage
// node.
func startClient(c *cli.Context, b *pki.Bundle, seeds []string) (*cluster.Node, error) {
	bind, err := bindToward(seeds[0])
	if err != nil {
		return nil, fmt.Errorf("--cluster %s: %w", seeds[0], err)
	}
	name, err := clientName(b)
	if err != nil {
		return nil, err
	}
	node, err := cluster.Start(cluster.Config{
		Name:           name,
		Role:           peers.RoleGateway,
		BindAddr:       bind,
		Join:           seeds,
		TLS:            b,
		FollowReplicas: true,
		Logger:         slog.Default(),
		Registerer:     prometheus.DefaultRegisterer,
	}, nil)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(c.Context, clusterJoinTimeout)
	defer cancel()
	if err := node.WaitStorage(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("--cluster %s: %w", c.String("cluster"), err), node.Close())
	}
	slog.Debug("joined the cluster as a client", "name", name, "via", seeds)
	return node, nil
}

// openClusterKV opens the cluster's metadata: --meta if given, else the
// etcd endpoints the storage nodes advertise.
func openClusterKV(c *cli.Context, node *cluster.Node, b *pki.Bundle) (meta.KV, func() error, error) {
	if c.IsSet("meta") {
		open, err := metaOpener(c)
		if err != nil || open == nil {
			return nil, nil, errors.Join(err, errors.New("--meta with --cluster must name the cluster's etcd (etcd://HOST:PORT,...)"))
		}
		return open()
	}
	eps := node.MetaEndpoints()
	if len(eps) == 0 {
		return nil, nil, errors.New("the cluster's nodes advertise no metadata store (they need --meta etcd-embedded or etcd://...); pass --meta etcd://HOST:PORT")
	}
	cfg := etcdkv.Config{Endpoints: eps, Logger: slog.Default()}
	if strings.HasPrefix(eps[0], "https://") {
		cfg.TLS = b.ClientTLS()
	}
	kv, err := etcdkv.Open(cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("the cluster's metadata at %v: %w", eps, err)
	}
	return kv, kv.Close, nil
}

// bindToward returns a gossip bind address (any port) on the local
// address that routes to seed, so that the members can answer.
func bindToward(seed string) (string, error) {
	conn, err := net.Dial("udp", seed) // sends nothing: picks the route
	if err != nil {
		return "", err
	}
	defer conn.Close()
	host, _, err := net.SplitHostPort(conn.LocalAddr().String())
	if err != nil {
		return "", err
	}
	return net.JoinHostPort(host, "0"), nil
}

// clientName is a member name unique to this process: the certificate's
// name and a random suffix.
func clientName(b *pki.Bundle) (string, error) {
	base := "client"
	if leaf := b.Cert.Leaf; leaf != nil && leaf.Subject.CommonName != "" {
		base = leaf.Subject.CommonName
	}
	suffix := make([]byte, 4)
	rand.Read(suffix)
	name := fmt.Sprintf("%.50s-%s", base, hex.EncodeToString(suffix))
	if err := pki.ValidName(name); err != nil {
		return "", fmt.Errorf("client name from the certificate: %w", err)
	}
	return name, nil
}

func splitList(s string) []string {
	var out []string
	for p := range strings.SplitSeq(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
