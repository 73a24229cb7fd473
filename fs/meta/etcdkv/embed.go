package etcdkv

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/client/pkg/v3/transport"
	"go.etcd.io/etcd/server/v3/embed"
)

// Defaults for EmbedConfig.
const (
	DefaultMaxTxnOps           = 10000
	DefaultQuotaBackendBytes   = 8 << 30 // etcd's recommended maximum
	DefaultCompactionRetention = 10 * time.Minute
	DefaultHeartbeat           = 100 * time.Millisecond
	DefaultElectionTimeout     = time.Second
	DefaultStartTimeout        = time.Minute
)

// EmbedConfig describes one etcd member run inside this process.
type EmbedConfig struct {
	// Name identifies the member in the cluster; "" means "default".
	Name string
	// Dir holds the member's data (write-ahead log and database); created
	// if missing.
	Dir string
	// ClientURL and PeerURL are where the member listens for clients and
	// for the other members, e.g. "http://127.0.0.1:2379" and
	// "http://127.0.0.1:2380" ("https" with TLS).
	ClientURL, PeerURL string
	// AdvertiseClientURL and AdvertisePeerURL are the addresses others use
	// to reach it, when they differ from the listen URLs (say, listening on
	// 0.0.0.0). "" means the listen URL.
	AdvertiseClientURL, AdvertisePeerURL string
	// InitialCluster names every founding member's peer URL, as etcd's
	// --initial-cluster: "a=http://10.0.0.1:2380,b=http://10.0.0.2:2380".
	// "" means a cluster of this member alone. It is only read when the
	// member's data directory is new.
	InitialCluster string
	// ClusterToken keeps members of different clusters apart; "" means
	// "cairn".
	ClusterToken string
	// Join makes a new member join a running cluster (etcd's
	// --initial-cluster-state=existing; it must have been added with
	// "member add" first) instead of founding one.
	Join bool
	// ClientTLS and PeerTLS, if set, serve the client and peer URLs with
	// TLS.
	ClientTLS, PeerTLS *TLSFiles
	// MaxTxnOps bounds the compares, and the writes, of one transaction.
	// 0 means DefaultMaxTxnOps.
	MaxTxnOps uint
	// MaxRequestBytes bounds one request. 0 means DefaultMaxRequestBytes.
	MaxRequestBytes uint
	// QuotaBackendBytes bounds the database; past it etcd refuses writes
	// until compacted and defragmented. 0 means DefaultQuotaBackendBytes.
	QuotaBackendBytes int64
	// CompactionRetention is how much history etcd keeps, and so the
	// longest a View can run. 0 means DefaultCompactionRetention.
	CompactionRetention time.Duration
	// Heartbeat and ElectionTimeout are raft's timings. 0 means
	// DefaultHeartbeat and DefaultElectionTimeout.
	Heartbeat, ElectionTimeout time.Duration
	// StartTimeout bounds the wait for the member to join its cluster
	// (which needs a quorum of the members up). 0 means
	// DefaultStartTimeout.
	StartTimeout time.Duration
	// UnsafeNoFsync turns off fsync: for tests only, since a crash then
	// loses committed updates.
	UnsafeNoFsync bool
	// Logger receives etcd's warnings and errors. nil means slog.Default().
	Logger *slog.Logger
}

// TLSFiles names PEM files for a TLS listener. With CAFile set, peers and
// clients must present a certificate signed by it.
type TLSFiles struct {
	CertFile, KeyFile, CAFile string
}

func (f *TLSFiles) info() transport.TLSInfo {
	if f == nil {
		return transport.TLSInfo{}
	}
	return transport.TLSInfo{CertFile: f.CertFile, KeyFile: f.KeyFile, TrustedCAFile: f.CAFile, ClientCertAuth: f.CAFile != ""}
}

// Embedded is an etcd member running inside this process.
type Embedded struct {
	etcd      *embed.Etcd
	endpoints []string
	clientTLS *TLSFiles
	maxReq    int
	closing   *atomic.Bool // quiets the logs of the shutdown
	closeOnce sync.Once
}

// StartEmbedded starts a member and waits until it has joined its
// cluster: for a new cluster, until a quorum of the founding members has
// started.
func StartEmbedded(cfg EmbedConfig) (*Embedded, error) {
	closing := new(atomic.Bool)
	ecfg, err := embedConfig(cfg, closing)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("etcdkv: %w", err)
	}
	e, err := embed.StartEtcd(ecfg)
	if err != nil {
		return nil, fmt.Errorf("etcdkv: start member %s: %w", ecfg.Name, err)
	}
	wait := cfg.StartTimeout
	if wait <= 0 {
		wait = DefaultStartTimeout
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-e.Server.ReadyNotify():
	case err := <-e.Err():
		closing.Store(true)
		e.Close()
		return nil, fmt.Errorf("etcdkv: member %s: %w", ecfg.Name, err)
	case <-timer.C:
		closing.Store(true)
		e.Close()
		return nil, fmt.Errorf("etcdkv: member %s did not join its cluster within %v (is a quorum of %q up?)",
			ecfg.Name, wait, ecfg.InitialCluster)
	}
	m := &Embedded{etcd: e, clientTLS: cfg.ClientTLS, maxReq: int(ecfg.MaxRequestBytes), closing: closing}
	for _, u := range ecfg.AdvertiseClientUrls {
		m.endpoints = append(m.endpoints, u.String())
	}
	return m, nil
}

func embedConfig(cfg EmbedConfig, closing *atomic.Bool) (*embed.Config, error) {
	if cfg.Dir == "" {
		return nil, errors.New("etcdkv: embedded member needs a data directory")
	}
	e := embed.NewConfig()
	e.Name = orString(cfg.Name, "default")
	e.Dir = cfg.Dir
	var err error
	parse := func(what, s, def string) []url.URL {
		u, perr := url.Parse(orString(s, def))
		if perr != nil || u.Host == "" {
			err = errors.Join(err, fmt.Errorf("etcdkv: %s %q is not a URL like http://127.0.0.1:2379", what, s))
			return nil
		}
		return []url.URL{*u}
	}
	e.ListenClientUrls = parse("client URL", cfg.ClientURL, "")
	e.ListenPeerUrls = parse("peer URL", cfg.PeerURL, "")
	e.AdvertiseClientUrls = parse("advertised client URL", cfg.AdvertiseClientURL, cfg.ClientURL)
	e.AdvertisePeerUrls = parse("advertised peer URL", cfg.AdvertisePeerURL, cfg.PeerURL)
	if err != nil {
		return nil, err
	}
	e.InitialCluster = cfg.InitialCluster
	if e.InitialCluster == "" {
		e.InitialCluster = e.Name + "=" + e.AdvertisePeerUrls[0].String()
	}
	e.InitialClusterToken = orString(cfg.ClusterToken, "cairn")
	if cfg.Join {
		e.ClusterState = embed.ClusterStateFlagExisting
	}
	e.ClientTLSInfo, e.PeerTLSInfo = cfg.ClientTLS.info(), cfg.PeerTLS.info()

	e.MaxTxnOps = orDefault(cfg.MaxTxnOps, DefaultMaxTxnOps)
	e.MaxRequestBytes = orDefault(cfg.MaxRequestBytes, DefaultMaxRequestBytes)
	e.QuotaBackendBytes = orDefault(cfg.QuotaBackendBytes, DefaultQuotaBackendBytes)
	e.AutoCompactionMode = embed.CompactorModePeriodic
	e.AutoCompactionRetention = orDefault(cfg.CompactionRetention, DefaultCompactionRetention).String()
	e.TickMs = uint(orDefault(cfg.Heartbeat, DefaultHeartbeat).Milliseconds())
	e.ElectionMs = uint(orDefault(cfg.ElectionTimeout, DefaultElectionTimeout).Milliseconds())
	e.UnsafeNoFsync = cfg.UnsafeNoFsync

	logger := cfg.Logger
	if logger == nil {
		logger = slog.Default()
	}
	e.Logger = "zap"
	e.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zapLogger(logger.With("component", "etcd", "member", e.Name), closing))
	return e, nil
}

func orString(s, def string) string {
	if s != "" {
		return s
	}
	return def
}

func orDefault[T int64 | uint | time.Duration](v, def T) T {
	if v > 0 {
		return v
	}
	return def
}

// Endpoints returns the member's client URLs.
func (m *Embedded) Endpoints() []string { return m.endpoints }

// ClientConfig returns a Config that reaches the cluster through this
// member, with its request limit (and its TLS files as the client's trust
// and certificate).
func (m *Embedded) ClientConfig() (Config, error) {
	cfg := Config{Endpoints: m.endpoints, MaxRequestBytes: m.maxReq}
	if m.clientTLS != nil {
		info := m.clientTLS.info()
		info.ClientCertAuth = false
		tc, err := info.ClientConfig()
		if err != nil {
			return cfg, fmt.Errorf("etcdkv: client TLS: %w", err)
		}
		cfg.TLS = tc
	}
	return cfg, nil
}

// Err reports a fatal error of the running member.
func (m *Embedded) Err() <-chan error { return m.etcd.Err() }

// Close stops the member gracefully (handing leadership over, if it leads)
// and waits for it. Closing twice does nothing.
func (m *Embedded) Close() error {
	m.closeOnce.Do(func() {
		m.closing.Store(true)
		m.etcd.Close()
	})
	return nil
}

// InitialCluster formats names and peer URLs as EmbedConfig.InitialCluster.
func InitialCluster(names, peerURLs []string) string {
	parts := make([]string, len(names))
	for i := range names {
		parts[i] = names[i] + "=" + peerURLs[i]
	}
	return strings.Join(parts, ",")
}
