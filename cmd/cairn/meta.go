package main

import (
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/cairn-storage/cairn/chunks"
	"github.com/cairn-storage/cairn/cluster/pki"
	"github.com/cairn-storage/cairn/datadir"
	"github.com/cairn-storage/cairn/fs/meta"
	"github.com/cairn-storage/cairn/fs/meta/etcdkv"
)

const metaUsage = "metadata store: badger (single node, in --data), etcd://HOST:PORT[,HOST:PORT...] (external etcd;\n" +
	"\tetcds://... for etcd over mutual TLS with the --tls-dir bundle), or etcd-embedded (run an etcd member in this process; see the --etcd-* flags of 'cairn server')"

// etcdFlags configure the embedded etcd member of `--meta etcd-embedded`.
func etcdFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "etcd-client-url", Usage: "embedded etcd: client URL", DefaultText: etcdDefaultText(etcdClientPort), EnvVars: []string{"CAIRN_ETCD_CLIENT_URL"}},
		&cli.StringFlag{Name: "etcd-peer-url", Usage: "embedded etcd: peer URL", DefaultText: etcdDefaultText(etcdPeerPort), EnvVars: []string{"CAIRN_ETCD_PEER_URL"}},
		&cli.StringFlag{Name: "etcd-advertise-client-url", Usage: "embedded etcd: client URL the others use (default: --etcd-client-url; needed when it listens on 0.0.0.0)", EnvVars: []string{"CAIRN_ETCD_ADVERTISE_CLIENT_URL"}},
		&cli.StringFlag{Name: "etcd-advertise-peer-url", Usage: "embedded etcd: peer URL the other members use, as in --etcd-initial-cluster (default: --etcd-peer-url)", EnvVars: []string{"CAIRN_ETCD_ADVERTISE_PEER_URL"}},
		&cli.StringFlag{Name: "etcd-initial-cluster", Usage: "embedded etcd: NAME=PEERURL,... of the founding members (default: this member alone)", EnvVars: []string{"CAIRN_ETCD_INITIAL_CLUSTER"}},
	}
}

// metaOpener returns how to open the metadata store --meta names, or nil
// for the default (badger in the data directory).
func metaOpener(c *cli.Context) (func() (meta.KV, func() error, error), error) {
	spec := c.String("meta")
	switch {
	case spec == "" || spec == "badger":
		return nil, nil
	case strings.HasPrefix(spec, "etcd://"), strings.HasPrefix(spec, "etcds://"):
		eps, tlsOn := metaEndpoints(spec)
		return func() (meta.KV, func() error, error) {
			cfg := etcdkv.Config{Endpoints: eps, Logger: slog.Default()}
			if tlsOn {
				b, err := etcdBundle(c)
				if err != nil {
					return nil, nil, fmt.Errorf("--meta %s: %w", spec, err)
				}
				cfg.TLS = b.ClientTLS()
			}
			kv, err := etcdkv.Open(cfg)
			if err != nil {
				return nil, nil, fmt.Errorf("--meta %s: %w", spec, err)
			}
			return kv, kv.Close, nil
		}, nil
	case spec == "etcd-embedded":
		return func() (meta.KV, func() error, error) { return openEmbedded(c) }, nil
	}
	return nil, fmt.Errorf("--meta %q: want %s", spec, metaUsage)
}

// metaEndpoints turns etcd://H:P,... (or etcds:// for TLS) into URLs.
func metaEndpoints(spec string) (urls []string, tlsOn bool) {
	scheme, list, _ := strings.Cut(spec, "://")
	tlsOn = scheme == "etcds"
	for _, e := range splitList(list) {
		if tlsOn {
			urls = append(urls, "https://"+e)
		} else {
			urls = append(urls, "http://"+e)
		}
	}
	return urls, tlsOn
}

// etcdBundle is the --tls-dir bundle that secures etcd traffic.
func etcdBundle(c *cli.Context) (*pki.Bundle, error) {
	dir := c.String("tls-dir")
	if dir == "" {
		return nil, errors.New("etcd over TLS needs --tls-dir (a bundle from 'cairn cluster init')")
	}
	return pki.LoadBundle(dir)
}

// openEmbedded starts this process's etcd member and connects to it.
func openEmbedded(c *cli.Context) (meta.KV, func() error, error) {
	name := c.String("node-name")
	if name == "" {
		name = "default"
	}
	clientTLS, peerTLS, err := embeddedTLS(c)
	if err != nil {
		return nil, nil, err
	}
	if clientTLS == nil {
		slog.Warn("the embedded etcd member serves clients without TLS: every local user may read and change all metadata; give --tls-dir (https:// URLs)",
			"client_url", etcdURL(c, "etcd-client-url"))
	}
	m, err := etcdkv.StartEmbedded(etcdkv.EmbedConfig{
		ClientTLS:          clientTLS,
		PeerTLS:            peerTLS,
		Name:               name,
		Dir:                filepath.Join(c.String("data"), "etcd"),
		ClientURL:          etcdURL(c, "etcd-client-url"),
		PeerURL:            etcdURL(c, "etcd-peer-url"),
		InitialCluster:     c.String("etcd-initial-cluster"),
		AdvertiseClientURL: c.String("etcd-advertise-client-url"),
		AdvertisePeerURL:   c.String("etcd-advertise-peer-url"),
		Logger:             slog.Default(),
	})
	if err != nil {
		return nil, nil, err
	}
	cfg, err := m.ClientConfig()
	if err != nil {
		return nil, nil, errors.Join(err, m.Close())
	}
	if clientTLS != nil {
		// The bundle's own check: by cluster CA, also for IP endpoints.
		b, err := etcdBundle(c)
		if err != nil {
			return nil, nil, errors.Join(err, m.Close())
		}
		cfg.TLS = b.ClientTLS()
	}
	kv, err := etcdkv.Open(cfg)
	if err != nil {
		return nil, nil, errors.Join(err, m.Close())
	}
	return kv, func() error { return errors.Join(kv.Close(), m.Close()) }, nil
}

// embeddedTLS returns the TLS files of the embedded member's https URLs:
// the node's bundle, clients and peers needing a certificate of the
// cluster CA.
func embeddedTLS(c *cli.Context) (client, peer *etcdkv.TLSFiles, err error) {
	https := func(u string) bool { return strings.HasPrefix(u, "https://") }
	if !https(etcdURL(c, "etcd-client-url")) && !https(etcdURL(c, "etcd-peer-url")) {
		return nil, nil, nil
	}
	dir := c.String("tls-dir")
	if dir == "" {
		return nil, nil, errors.New("https etcd URLs need --tls-dir (the node's bundle)")
	}
	files := &etcdkv.TLSFiles{CertFile: filepath.Join(dir, pki.NodeCert), KeyFile: filepath.Join(dir, pki.NodeKey),
		CAFile: filepath.Join(dir, pki.CACert)}
	if https(etcdURL(c, "etcd-client-url")) {
		client = files
	}
	if https(etcdURL(c, "etcd-peer-url")) {
		peer = files
	}
	return client, peer, nil
}

// lockWait is --lock-wait as datadir.Options.LockWait, where 0 would
// mean the default rather than no waiting.
func lockWait(c *cli.Context) time.Duration {
	if d := c.Duration("lock-wait"); d > 0 {
		return d
	}
	return -1
}

// dataOptions are the data directory options the flags ask for.
func dataOptions(c *cli.Context) (datadir.Options, error) {
	opts := datadir.Options{Logger: slog.Default(), LockWait: lockWait(c)}
	if clientMode(c) {
		return clientOptions(c, opts)
	}
	if c.String("tls-dir") != "" && !isServer(c) && !strings.HasPrefix(c.String("meta"), "etcds://") {
		return opts, errors.New("--tls-dir without --cluster: name a node of the cluster to work on")
	}
	var err error
	if opts.OpenKV, err = metaOpener(c); err != nil {
		return opts, err
	}
	if clusterMode(c) {
		opts.NoLocal = c.String("role") == "gateway"
		opts.OpenChunks = func(local *chunks.Local) (datadir.Backend, error) {
			return openCluster(c, local)
		}
	}
	return opts, nil
}
