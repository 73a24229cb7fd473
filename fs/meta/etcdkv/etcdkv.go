// Package etcdkv implements meta.KV on an etcd v3 cluster: the clustered
// metadata engine. The cluster is either external (any etcd ≥ 3.5 reached
// through its client endpoints) or made of members embedded in cairn
// servers (see StartEmbedded).
//
// Transactions are optimistic and serializable, phantoms included. Every
// read of one transaction is served at a single etcd revision, taken by its
// first read; writes are buffered in the client (and seen by the
// transaction's own Get and Scan). The commit is one etcd Txn that applies
// the writes only if nothing the transaction read has changed since that
// revision: each key read (Get, or visited by Scan) still has the
// modification revision it was read at (zero for a key read as missing),
// and no key in a scanned range was created or changed after the revision.
// A Scan that ends early (meta.ErrStop) guards only the part of the range it
// visited. When the compare fails, Update runs fn again on a fresh
// revision, with a randomized backoff, and gives up with meta.ErrConflict.
// A transaction that wrote nothing commits nothing and never conflicts.
// The Reader of a View is safe for concurrent use; the Txn of an Update is
// not.
//
// Durability: etcd acknowledges a commit once a quorum of members has
// written it to their fsync'd write-ahead logs, so a committed Update is
// already durable and Sync has nothing to do.
//
// Limits: one commit is one etcd request, bounded by the server's
// --max-txn-ops (for the compares and for the writes separately; etcd's
// default of 128 is too small for cairn, embedded members use 10000) and
// --max-request-bytes (default 1.5 MiB). An Update beyond them fails with
// meta.ErrTooBig. External clusters must run with --max-txn-ops=10000 and
// with auto-compaction (e.g. --auto-compaction-mode=periodic
// --auto-compaction-retention=10m), or history grows without bound.
//
// History: a View or Update reads an old revision for as long as it runs.
// If etcd compacts that revision meanwhile, an Update starts over and a
// View fails with an error wrapping rpctypes.ErrCompacted, so Views must
// finish within the cluster's compaction retention.
package etcdkv

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/cairn-storage/cairn/fs/meta"
)

// ErrClosed is returned by operations on a closed KV.
var ErrClosed = errors.New("etcdkv: store is closed")

// Defaults for Config.
const (
	DefaultPrefix          = "/cairn/"
	DefaultDialTimeout     = 5 * time.Second
	DefaultRequestTimeout  = 20 * time.Second
	DefaultMaxRequestBytes = 3 << 19 // etcd's default --max-request-bytes, 1.5 MiB

	// keepAliveTimeout is how long a keepalive ping may go unanswered
	// before the connection to that member is dropped.
	keepAliveTimeout = 3 * time.Second

	// grpcOverhead is the slack etcd adds to --max-request-bytes for its
	// gRPC message limit; the client allows the same.
	grpcOverhead = 512 << 10
)

// Config tells Open how to reach the cluster.
type Config struct {
	// Endpoints are the client URLs of some or all members, e.g.
	// "http://10.0.0.1:2379" or "https://..." with TLS.
	Endpoints []string
	// Prefix is prepended to every key, so that several stores (or other
	// applications) can share one cluster; no store's prefix may be a
	// prefix of another's (end them with "/"). "" means DefaultPrefix.
	Prefix string
	// TLS, if set, secures the connections (with a client certificate for
	// clusters that require one).
	TLS *tls.Config
	// Username and Password authenticate to a cluster with auth enabled.
	Username, Password string
	// DialTimeout bounds connecting and Open's first request. 0 means
	// DefaultDialTimeout.
	DialTimeout time.Duration
	// RequestTimeout bounds each request to etcd, on top of the caller's
	// context, so that a member that stopped answering fails the call
	// rather than hanging it. 0 means DefaultRequestTimeout.
	RequestTimeout time.Duration
	// MaxRequestBytes is the cluster's --max-request-bytes; the client
	// refuses to send bigger requests. 0 means DefaultMaxRequestBytes.
	MaxRequestBytes int
	// Logger receives the client's warnings and errors. nil means
	// slog.Default().
	Logger *slog.Logger
}

// KV is a meta.KV backed by etcd. It is safe for concurrent use; several
// KVs, in one process or many, may share a cluster and prefix.
type KV struct {
	client  *clientv3.Client
	prefix  string
	endAll  string // the etcd range end of the whole prefix
	timeout time.Duration
	log     *slog.Logger

	gate    meta.CallGate // calls in progress; Close waits for them
	closeMu sync.Mutex
	err     error // result of the first Close
}

var _ meta.KV = (*KV)(nil)

// Open connects to the cluster and checks, with one read, that it answers
// within the dial timeout.
func Open(cfg Config) (*KV, error) {
	if len(cfg.Endpoints) == 0 {
		return nil, errors.New("etcdkv: no endpoints given")
	}
	prefix := cfg.Prefix
	if prefix == "" {
		prefix = DefaultPrefix
	}
	dial := cfg.DialTimeout
	if dial <= 0 {
		dial = DefaultDialTimeout
	}
	timeout := cfg.RequestTimeout
	if timeout <= 0 {
		timeout = DefaultRequestTimeout
	}
	maxReq := cfg.MaxRequestBytes
	if maxReq <= 0 {
		maxReq = DefaultMaxRequestBytes
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.Default()
	}
	client, err := clientv3.New(clientv3.Config{
		Endpoints:   cfg.Endpoints,
		DialTimeout: dial,
		// A member cut off without a reset (a partition) keeps the
		// requests sent to it until keepalive gives up on it; gRPC pings
		// every 10 s at the most, so the timeout is what shortens that.
		DialKeepAliveTime:    10 * time.Second,
		DialKeepAliveTimeout: keepAliveTimeout,
		MaxCallSendMsgSize:   maxReq + grpcOverhead,
		TLS:                  cfg.TLS,
		Username:             cfg.Username,
		Password:             cfg.Password,
		Logger:               zapLogger(logger.With("component", "etcd-client"), nil),
	})
	if err != nil {
		return nil, fmt.Errorf("etcdkv: connect to %v: %w", cfg.Endpoints, err)
	}
	kv := &KV{client: client, prefix: prefix, endAll: rangeEnd(prefix), timeout: timeout, log: logger.With("component", "etcdkv")}
	ctx, cancel := context.WithTimeout(context.Background(), dial)
	defer cancel()
	if _, err := client.Get(ctx, prefix, clientv3.WithCountOnly()); err != nil {
		return nil, errors.Join(fmt.Errorf("etcdkv: reach %v: %w", cfg.Endpoints, err), client.Close())
	}
	return kv, nil
}

// rangeEnd is the etcd range end covering every key with the given prefix.
func rangeEnd(prefix string) string {
	if end := meta.PrefixEnd([]byte(prefix)); end != nil {
		return string(end)
	}
	return "\x00" // etcd: every key from the start key on
}

// enter registers a call in progress; the caller must call kv.gate.Leave.
func (kv *KV) enter() error {
	if !kv.gate.Enter() {
		return ErrClosed
	}
	return nil
}

// View implements meta.KV. fn reads the revision current at its first read.
func (kv *KV) View(ctx context.Context, fn func(meta.Reader) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := kv.enter(); err != nil {
		return err
	}
	defer kv.gate.Leave()
	return fn(&txn{kv: kv, ctx: ctx})
}

// Sync implements meta.KV. It only checks its arguments: an etcd commit is
// durable on a quorum of members when Update returns.
func (kv *KV) Sync(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := kv.enter(); err != nil {
		return err
	}
	kv.gate.Leave()
	return nil
}

// Close implements meta.KV. It waits for calls in progress, then closes the
// connections; calls that start afterwards fail with ErrClosed. Closing
// twice returns the first result.
func (kv *KV) Close() error {
	kv.closeMu.Lock()
	defer kv.closeMu.Unlock()
	if kv.gate.Shut() {
		return kv.err
	}
	kv.gate.Wait()
	if err := kv.client.Close(); err != nil && !errors.Is(err, context.Canceled) {
		kv.err = fmt.Errorf("etcdkv: close: %w", err)
	}
	return kv.err
}

// rpcContext applies the configured request timeout to ctx.
func (kv *KV) rpcContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, kv.timeout)
}
