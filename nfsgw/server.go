package nfsgw

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"

	"github.com/cairn-storage/cairn/fs"
)

// Server is an NFSv3 gateway: it serves NFS, MOUNT and optionally the
// portmapper, over the volumes of one filesystem.
type Server struct {
	fsys    *fs.FS
	cfg     Config
	log     *slog.Logger
	handles *handleCodec
	exports *exportTable
	files   *openFiles
	mounts  *mountTable
	clients *clientTable
	metrics *metrics

	// verf is the write verifier: a boot nonce, so that clients resend
	// uncommitted writes after a restart, and changed whenever buffered
	// writes may have been lost.
	verf atomic.Uint64

	// nfsPort is the TCP port of the first NFS listener, for GETPORT.
	nfsPort atomic.Uint32
	pmPort  atomic.Uint32

	ctx    context.Context
	cancel context.CancelFunc

	mu        sync.Mutex
	closed    bool
	listeners map[net.Listener]struct{}
	conns     map[net.Conn]struct{}
	wg        sync.WaitGroup
}

// New returns a gateway over fsys. Volumes are opened when first used,
// so an export may name a volume created later.
func New(fsys *fs.FS, cfg Config) (*Server, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if len(cfg.Secret) == 0 {
		secret, err := fsys.Secret(context.Background(), SecretName)
		if err != nil {
			return nil, fmt.Errorf("nfsgw: file handle secret: %w", err)
		}
		cfg.Secret = secret
	}
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		fsys:      fsys,
		cfg:       cfg,
		log:       cfg.Logger.With("component", "nfsgw"),
		handles:   newHandleCodec(cfg.Secret),
		exports:   newExportTable(fsys, cfg.Exports, cfg.Snapshots),
		mounts:    &mountTable{},
		clients:   newClientTable(),
		metrics:   m,
		ctx:       ctx,
		cancel:    cancel,
		listeners: map[net.Listener]struct{}{},
		conns:     map[net.Conn]struct{}{},
	}
	s.newVerifier()
	s.files = newOpenFiles(cfg.IdleClose, s.lostWrites)
	return s, nil
}

// newVerifier picks a fresh write verifier.
func (s *Server) newVerifier() {
	var b [8]byte
	_, _ = rand.Read(b[:])
	s.verf.Store(binary.BigEndian.Uint64(b[:]))
}

// lostWrites is called when buffered writes could not be stored: a new
// verifier makes clients resend every write they have not committed.
func (s *Server) lostWrites(vol uint64, ino fs.Ino, err error) {
	s.log.Error("write-back of an idle file failed; clients will resend uncommitted writes",
		"volume_id", vol, "ino", ino, "err", err)
	s.newVerifier()
}

// ListenAndServe serves NFS and MOUNT on cfg.Addr and, if configured, the
// portmapper on cfg.PortmapperAddr, until Close.
func (s *Server) ListenAndServe() error {
	l, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("nfsgw: %w", err)
	}
	errc := make(chan error, 2)
	go func() { errc <- s.Serve(l) }()
	if s.cfg.PortmapperAddr != "" {
		pl, err := net.Listen("tcp", s.cfg.PortmapperAddr)
		if err != nil {
			return errors.Join(fmt.Errorf("nfsgw: portmapper: %w", err), s.Close())
		}
		go func() { errc <- s.ServePortmapper(pl) }()
	}
	return <-errc
}

// Serve accepts NFS and MOUNT connections on l until Close; it returns
// nil after Close. The first listener's port is what the portmapper
// reports.
func (s *Server) Serve(l net.Listener) error {
	if a, ok := l.Addr().(*net.TCPAddr); ok {
		s.nfsPort.CompareAndSwap(0, uint32(a.Port))
	}
	s.logExports(l.Addr())
	return s.serve(l)
}

// ServePortmapper accepts portmapper (rpcbind v2) connections on l.
func (s *Server) ServePortmapper(l net.Listener) error {
	if a, ok := l.Addr().(*net.TCPAddr); ok {
		s.pmPort.CompareAndSwap(0, uint32(a.Port))
	}
	return s.serve(l)
}

func (s *Server) serve(l net.Listener) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		l.Close()
		return nil
	}
	s.listeners[l] = struct{}{}
	s.mu.Unlock()
	s.log.Info("serving", "addr", l.Addr().String())
	for {
		nc, err := l.Accept()
		if err != nil {
			s.mu.Lock()
			closed := s.closed
			delete(s.listeners, l)
			s.mu.Unlock()
			if closed {
				return nil
			}
			return fmt.Errorf("nfsgw: accept: %w", err)
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			nc.Close()
			continue
		}
		s.conns[nc] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			s.serveConn(nc)
			s.mu.Lock()
			delete(s.conns, nc)
			s.mu.Unlock()
		}()
	}
}

// clientAddr is the IP address and port a connection comes from.
func clientAddr(nc net.Conn) netip.AddrPort {
	if a, ok := nc.RemoteAddr().(*net.TCPAddr); ok {
		ap := a.AddrPort()
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	}
	return netip.AddrPort{}
}

// Close stops serving, waits for calls in progress, writes back every
// buffered write and releases the volumes. Writes are flushed but the
// stores are not synced: their owner does that when closing them.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	var errs []error
	for l := range s.listeners {
		errs = append(errs, ignoreClosed(l.Close()))
	}
	for nc := range s.conns {
		nc.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	s.cancel()
	ctx := context.Background()
	errs = append(errs, s.files.close(ctx), s.exports.close(ctx))
	return errors.Join(errs...)
}

func ignoreClosed(err error) error {
	if errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}
