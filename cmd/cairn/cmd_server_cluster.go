package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"

	"github.com/cairn-storage/cairn/chunks"
	"github.com/cairn-storage/cairn/cluster"
	"github.com/cairn-storage/cairn/cluster/peers"
	"github.com/cairn-storage/cairn/cluster/pki"
	"github.com/cairn-storage/cairn/datadir"
	"github.com/cairn-storage/cairn/fs"
)

// clusterFlags are the `cairn server` flags of cluster mode, which is on
// when --tls-dir is set.
func clusterFlags() []cli.Flag {
	host, _ := os.Hostname()
	return []cli.Flag{
		&cli.StringFlag{Name: "tls-dir", Usage: "this node's bundle from 'cairn cluster init' (ca.crt, node.crt, node.key, gossip.key); turns cluster mode on", EnvVars: []string{"CAIRN_TLS_DIR"}},
		&cli.StringFlag{Name: "node-name", Usage: "node name: stable, unique, matching its certificate", Value: host, EnvVars: []string{"CAIRN_NODE_NAME"}},
		&cli.StringFlag{Name: "role", Usage: "storage (holds chunks) or gateway (reads and writes through the storage nodes)", Value: string(peers.RoleStorage), EnvVars: []string{"CAIRN_ROLE"}},
		&cli.StringSliceFlag{Name: "join", Usage: "gossip address of a member to join (repeatable); retried until one answers", EnvVars: []string{"CAIRN_JOIN"}},
		&cli.StringFlag{Name: "bind", Usage: "gossip address (UDP and TCP)", Value: fmt.Sprintf("0.0.0.0:%d", cluster.DefaultGossipPort), EnvVars: []string{"CAIRN_BIND"}},
		&cli.StringFlag{Name: "advertise", Usage: "gossip address the others use (default: --bind; needed when --bind is 0.0.0.0)", EnvVars: []string{"CAIRN_ADVERTISE"}},
		&cli.StringFlag{Name: "rpc-listen", Usage: "chunk RPC address (mutual TLS)", Value: fmt.Sprintf("0.0.0.0:%d", cluster.DefaultRPCPort), EnvVars: []string{"CAIRN_RPC_LISTEN"}},
		&cli.StringFlag{Name: "rpc-advertise", Usage: "chunk RPC address the others use (default: --rpc-listen's port on --advertise's host)", EnvVars: []string{"CAIRN_RPC_ADVERTISE"}},
		&cli.StringFlag{Name: "zone", Usage: "failure domain (rack, AZ): replicas go to distinct zones", EnvVars: []string{"CAIRN_ZONE"}},
		&cli.StringFlag{Name: "capacity", Usage: "placement weight, e.g. 4TiB (default: size of the --data file system)", EnvVars: []string{"CAIRN_CAPACITY"}},
		&cli.StringFlag{Name: "cluster-key", Usage: "gossip encryption key, base64 (default: gossip.key in --tls-dir)", EnvVars: []string{"CAIRN_CLUSTER_KEY"}},
		&cli.IntFlag{Name: "replicas", Usage: "copies of each chunk (R), capped by the storage nodes", Value: cluster.DefaultReplicas, EnvVars: []string{"CAIRN_REPLICAS"}},
		&cli.IntFlag{Name: "write-quorum", Usage: "copies a write needs to succeed when nodes are down (default: a majority of R)", EnvVars: []string{"CAIRN_WRITE_QUORUM"}},
		&cli.DurationFlag{Name: "grace", Usage: "how long a lost node keeps its chunks before they are re-replicated", Value: cluster.DefaultGrace, EnvVars: []string{"CAIRN_GRACE"}},
		&cli.DurationFlag{Name: "repair-interval", Usage: "pause between repair scans of the local chunks", Value: cluster.DefaultRepairInterval, EnvVars: []string{"CAIRN_REPAIR_INTERVAL"}},
		&cli.DurationFlag{Name: "settle", Usage: "how long membership must be stable before a node deletes copies it handed off", Value: cluster.DefaultSettle, EnvVars: []string{"CAIRN_SETTLE"}},
		&cli.StringFlag{Name: "repair-bandwidth", Usage: "cap on repair and rebalance traffic per second, e.g. 100MiB (0: none)", Value: "0", EnvVars: []string{"CAIRN_REPAIR_BANDWIDTH"}},
	}
}

// clusterMode reports whether the server's cluster flags ask for
// cluster mode.
func clusterMode(c *cli.Context) bool { return isServer(c) && c.String("tls-dir") != "" }

// openCluster starts this process's cluster node and returns the chunk
// store over the cluster, the function that stops the node, and the
// node's snapshot freeze. local is the node's own store (nil for --role
// gateway); without --tls-dir it is returned as is and Stop does nothing.
//
// Shut down in this order: close the file system and the returned store
// (which syncs), call Stop (leaves the cluster, stops serving chunks),
// then close local.
func openCluster(c *cli.Context, local *chunks.Local) (datadir.Backend, error) {
	if !clusterMode(c) {
		if local == nil {
			return datadir.Backend{}, errors.New("no chunk store: --role gateway needs --tls-dir")
		}
		return datadir.Backend{Store: local, Stop: func() error { return nil }}, nil
	}
	b, err := pki.LoadBundle(c.String("tls-dir"))
	if err != nil {
		return datadir.Backend{}, err
	}
	cfg := cluster.Config{
		Name:           c.String("node-name"),
		Role:           peers.Role(c.String("role")),
		Zone:           c.String("zone"),
		BindAddr:       c.String("bind"),
		AdvertiseAddr:  c.String("advertise"),
		RPCAddr:        c.String("rpc-listen"),
		RPCAdvertise:   c.String("rpc-advertise"),
		Join:           c.StringSlice("join"),
		TLS:            b,
		Replicas:       c.Int("replicas"),
		WriteQuorum:    c.Int("write-quorum"),
		Grace:          c.Duration("grace"),
		RepairInterval: c.Duration("repair-interval"),
		Settle:         c.Duration("settle"),
		Meta:           advertisedMeta(c),
		Logger:         slog.Default(),
		Registerer:     prometheus.DefaultRegisterer,
	}
	if k := c.String("cluster-key"); k != "" {
		if cfg.GossipKey, err = pki.ParseGossipKey(k); err != nil {
			return datadir.Backend{}, fmt.Errorf("--cluster-key: %w", err)
		}
	}
	if bw := c.String("repair-bandwidth"); bw != "" && bw != "0" {
		n, err := parseBytes(bw)
		if err != nil {
			return datadir.Backend{}, fmt.Errorf("--repair-bandwidth %q: %w", bw, err)
		}
		cfg.RepairBandwidth = int64(n)
	}
	var backend cluster.Backend
	if cfg.Role == peers.RoleStorage {
		if local == nil {
			return datadir.Backend{}, errors.New("--role storage needs the local chunk store")
		}
		backend = local
		if cfg.Capacity, err = nodeCapacity(c); err != nil {
			return datadir.Backend{}, err
		}
	}
	node, err := cluster.Start(cfg, backend)
	if err != nil {
		return datadir.Backend{}, err
	}
	setClusterNode(c, node)
	return datadir.Backend{
		Store:  node.Store(),
		Stop:   node.Close,
		Freeze: node.FreezeVolumes,
		AnswerFreeze: func(f fs.Freezer) {
			node.SetFreezer(cluster.Freezer(f))
		},
	}, nil
}

// clusterNodeKey is where openCluster leaves the node it started, in the
// app's metadata, for the daemon's Cluster service: the node is made deep
// inside datadir.Open, which knows nothing of clusters.
const clusterNodeKey = "cairn.cluster-node"

func setClusterNode(c *cli.Context, node *cluster.Node) { c.App.Metadata[clusterNodeKey] = node }

// clusterNode is the node openCluster started in this process, or nil.
func clusterNode(c *cli.Context) *cluster.Node {
	n, _ := c.App.Metadata[clusterNodeKey].(*cluster.Node)
	return n
}

// nodeCapacity is --capacity, or the size of the --data file system.
func nodeCapacity(c *cli.Context) (int64, error) {
	if s := c.String("capacity"); s != "" {
		n, err := parseBytes(s)
		if err != nil || n == 0 {
			return 0, fmt.Errorf("--capacity %q: want a size such as 4TiB", s)
		}
		return int64(n), nil
	}
	var st unix.Statfs_t
	if err := unix.Statfs(c.String("data"), &st); err != nil {
		return 0, fmt.Errorf("size of --data (set --capacity): %w", err)
	}
	return int64(st.Blocks) * int64(st.Bsize), nil // Bsize is uint32 on darwin
}

// advertisedMeta is the metadata endpoints this node tells clients
// about: its embedded etcd member's client URL, or the external etcd
// endpoints of --meta; "" for badger (a namespace of its own).
func advertisedMeta(c *cli.Context) string {
	spec := c.String("meta")
	switch {
	case spec == "etcd-embedded":
		u := etcdURL(c, "etcd-client-url")
		if c.IsSet("etcd-advertise-client-url") {
			return c.String("etcd-advertise-client-url")
		}
		scheme, hostport, ok := strings.Cut(u, "://")
		host, port, err := net.SplitHostPort(hostport)
		if !ok || err != nil {
			return u
		}
		if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
			// Listening everywhere: others reach it on the gossip host.
			adv := c.String("advertise")
			if adv == "" {
				adv = c.String("bind")
			}
			if h, _, err := net.SplitHostPort(adv); err == nil {
				host = h
			}
		}
		return scheme + "://" + net.JoinHostPort(host, port)
	case strings.HasPrefix(spec, "etcd://"), strings.HasPrefix(spec, "etcds://"):
		urls, _ := metaEndpoints(spec)
		return strings.Join(urls, ",")
	}
	return ""
}

// The ports of the embedded etcd member's default URLs.
const (
	etcdClientPort = 2379
	etcdPeerPort   = 2380
)

// etcdURL is the embedded etcd member's --etcd-client-url or
// --etcd-peer-url (flag): as given, or on 127.0.0.1, https (mutual TLS
// with the node's bundle) when --tls-dir is given, since in clear any
// local user could read and rewrite every file's metadata; http without
// a bundle, which has no certificates to serve.
func etcdURL(c *cli.Context, flag string) string {
	if u := c.String(flag); u != "" {
		return u
	}
	port := etcdClientPort
	if flag == "etcd-peer-url" {
		port = etcdPeerPort
	}
	scheme := "http"
	if c.String("tls-dir") != "" {
		scheme = "https"
	}
	return fmt.Sprintf("%s://127.0.0.1:%d", scheme, port)
}

// etcdDefaultText is the help's default of an etcd URL flag.
func etcdDefaultText(port int) string {
	return fmt.Sprintf("https://127.0.0.1:%d with --tls-dir, else http://127.0.0.1:%d", port, port)
}
