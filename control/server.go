package control

import (
	"context"
	"log/slog"
	"time"

	"google.golang.org/grpc"

	cairnv1 "github.com/cairn-storage/cairn/api/cairn/v1"
	"github.com/cairn-storage/cairn/chunks"
	"github.com/cairn-storage/cairn/fs"
	"github.com/cairn-storage/cairn/fusefs"
	"github.com/cairn-storage/cairn/snapshots"
)

// APIName is the versioned API package the server implements.
const APIName = "cairn.v1"

// Config is what a Server serves.
type Config struct {
	FS        *fs.FS
	Snapshots *snapshots.Manager
	// Chunks is the store the filesystem uses (stats); Verify, the one
	// fsck reads to verify data, bypassing caches (default Chunks).
	Chunks chunks.Store
	Verify chunks.Getter
	// Space, if set, is checked by Health (a cluster's storage).
	Space Space
	// Cluster, if set, answers the Cluster service.
	Cluster ClusterAdmin
	// NFS, if set, reports the NFS gateway's clients.
	NFS NFSClients
	// Mount tunes the daemon's FUSE mounts (per-mount fields are set by
	// each request).
	Mount fusefs.Options
	// Exclusive is set when the server is the only user of the data (the
	// CLI serving itself with no daemon): offline repairs are allowed.
	Exclusive bool
	// Events, if set, is the daemon's log history that the Events service
	// answers from; without it ListEvents fails with FailedPrecondition.
	Events *EventLog
	// Version, DataDir and Meta describe the daemon; Dashboard is the
	// dashboard's login URL, if it serves one.
	Dashboard string
	Version   string
	DataDir   string
	Meta      string
	Logger    *slog.Logger
}

// Space is a cluster's storage as the daemon sees it.
type Space interface {
	// Capacity returns the bytes of chunks the storage can still take,
	// and in all, after replication.
	Capacity(ctx context.Context) (free, total uint64, err error)
	// Check fails while no storage node can be reached.
	Check(ctx context.Context) error
	// Redundancy fails while new chunks get fewer replicas than asked.
	Redundancy(ctx context.Context) error
}

// NFSClients reports the clients of the NFS gateway.
type NFSClients interface {
	// Clients lists the clients seen recently, with the volume they used.
	Clients() []NFSClient
}

// NFSClient is one client of the NFS gateway.
type NFSClient struct {
	Address  string
	Volume   string
	LastSeen time.Time
}

// Server implements every cairn.v1 service.
type Server struct {
	cfg     Config
	log     *slog.Logger
	started time.Time
	mounts  *mountTable
	views   SnapshotViews
}

// New returns a server of cfg. Close unmounts what it mounted. A daemon's
// server (not Exclusive) also puts its volumes' I/O counters on the
// process's metrics, until Close.
func New(cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Verify == nil {
		cfg.Verify = cfg.Chunks
	}
	s := &Server{cfg: cfg, log: cfg.Logger.With("component", "control"), started: time.Now()}
	s.views = NewSnapshotViews(cfg.FS, cfg.Snapshots)
	s.mounts = newMountTable(s.log)
	if !cfg.Exclusive && cfg.FS != nil {
		volumeIOMetrics.fs.Store(cfg.FS)
	}
	return s
}

// Register adds every service to g.
func (s *Server) Register(g *grpc.Server) {
	cairnv1.RegisterVolumesServer(g, volumesService{s})
	cairnv1.RegisterSnapshotsServer(g, snapshotsService{s: s})
	cairnv1.RegisterMountsServer(g, mountsService{s})
	cairnv1.RegisterMaintenanceServer(g, maintenanceService{s: s})
	cairnv1.RegisterClusterServer(g, clusterService{s: s})
	cairnv1.RegisterHealthServer(g, healthService{s})
	cairnv1.RegisterEventsServer(g, eventsService{s})
}

// ServerOptions are the gRPC options every listener of the API uses:
// errors mapped to status codes in one place, then every call counted
// and logged with its code.
func ServerOptions() []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.ChainUnaryInterceptor(unaryObserve, unaryErrors),
		grpc.ChainStreamInterceptor(streamObserve, streamErrors),
	}
}

// Close unmounts every FUSE mount the server made, flushing their writes,
// and stops exporting its volumes' metrics.
func (s *Server) Close() error {
	volumeIOMetrics.fs.CompareAndSwap(s.cfg.FS, nil)
	return s.mounts.unmountAll()
}
