package csi

import (
	"context"
	"crypto/subtle"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"time"

	"github.com/container-storage-interface/spec/lib/go/csi"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// DriverName is the name the driver registers with the CO; the
// StorageClass's provisioner and the CSIDriver object use it.
const DriverName = "csi.cairn-storage.io"

// Options configure a Server. Services left nil are not served.
type Options struct {
	// Name is the driver name; DriverName if empty.
	Name    string
	Version string
	// Controller and Group serve the controller side; Node the node side.
	Controller csi.ControllerServer
	Group      csi.GroupControllerServer
	Node       csi.NodeServer
	// Probe reports whether the plugin is healthy; nil means always.
	Probe func(ctx context.Context) error
	// Topology advertises VOLUME_ACCESSIBILITY_CONSTRAINTS (NodeGetInfo
	// reports a zone).
	Topology bool
	// Token, if set, is required of every call as "authorization:
	// Bearer TOKEN" metadata (for endpoints on TCP).
	Token  string
	Logger *slog.Logger
}

// Server serves the CSI services on gRPC.
type Server struct {
	csi.UnimplementedIdentityServer
	opts Options
	log  *slog.Logger
	grpc *grpc.Server
}

// NewServer returns a server of the services in opts and Identity.
func NewServer(opts Options) *Server {
	if opts.Name == "" {
		opts.Name = DriverName
	}
	if opts.Version == "" {
		opts.Version = "dev"
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	s := &Server{opts: opts, log: opts.Logger}
	s.grpc = grpc.NewServer(grpc.ChainUnaryInterceptor(s.authorize, s.logCalls))
	csi.RegisterIdentityServer(s.grpc, s)
	if opts.Controller != nil {
		csi.RegisterControllerServer(s.grpc, opts.Controller)
	}
	if opts.Group != nil {
		csi.RegisterGroupControllerServer(s.grpc, opts.Group)
	}
	if opts.Node != nil {
		csi.RegisterNodeServer(s.grpc, opts.Node)
	}
	return s
}

// Serve serves on l until Stop.
func (s *Server) Serve(l net.Listener) error {
	s.log.Info("csi: serving", "addr", l.Addr().String(), "driver", s.opts.Name,
		"controller", s.opts.Controller != nil, "node", s.opts.Node != nil)
	return s.grpc.Serve(l)
}

// Stop stops serving, letting calls in progress finish for up to 10s.
func (s *Server) Stop() {
	done := make(chan struct{})
	go func() { s.grpc.GracefulStop(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		s.grpc.Stop()
	}
}

// Listen listens on a CSI endpoint: unix:///path (or a plain path) for
// a unix socket, replacing a stale one (but not one still served), or
// tcp://host:port.
func Listen(endpoint string) (net.Listener, error) {
	network, addr, err := ParseEndpoint(endpoint)
	if err != nil {
		return nil, err
	}
	if network == "unix" {
		if fi, err := os.Lstat(addr); err == nil && fi.Mode()&os.ModeSocket != 0 {
			if c, err := net.DialTimeout("unix", addr, time.Second); err == nil {
				c.Close()
				return nil, fmt.Errorf("listen on %s: another process serves it", endpoint)
			}
			if err := os.Remove(addr); err != nil {
				return nil, fmt.Errorf("remove stale socket: %w", err)
			}
		}
	}
	l, err := net.Listen(network, addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", endpoint, err)
	}
	if network == "unix" {
		if err := os.Chmod(addr, 0o600); err != nil {
			l.Close()
			return nil, err
		}
	}
	return l, nil
}

// ParseEndpoint splits unix:///path, /path or tcp://host:port into a
// network and an address.
func ParseEndpoint(endpoint string) (network, addr string, err error) {
	switch {
	case strings.HasPrefix(endpoint, "unix://"):
		network, addr = "unix", strings.TrimPrefix(endpoint, "unix://")
	case strings.HasPrefix(endpoint, "unix:"):
		network, addr = "unix", strings.TrimPrefix(endpoint, "unix:")
	case strings.HasPrefix(endpoint, "tcp://"):
		network, addr = "tcp", strings.TrimPrefix(endpoint, "tcp://")
	case strings.HasPrefix(endpoint, "/"):
		network, addr = "unix", endpoint
	}
	if addr == "" {
		return "", "", fmt.Errorf("endpoint %q: want unix:///PATH or tcp://HOST:PORT", endpoint)
	}
	return network, addr, nil
}

// authorize checks the bearer token of calls when one is configured.
func (s *Server) authorize(ctx context.Context, req any, info *grpc.UnaryServerInfo, next grpc.UnaryHandler) (any, error) {
	if s.opts.Token == "" {
		return next(ctx, req)
	}
	md, _ := metadata.FromIncomingContext(ctx)
	for _, v := range md.Get("authorization") {
		if subtle.ConstantTimeCompare([]byte(v), []byte("Bearer "+s.opts.Token)) == 1 {
			return next(ctx, req)
		}
	}
	return nil, errorf(codes.Unauthenticated, "a valid bearer token is required")
}

// logCalls logs every call: failures at info, the rest at debug.
func (s *Server) logCalls(ctx context.Context, req any, info *grpc.UnaryServerInfo, next grpc.UnaryHandler) (any, error) {
	start := time.Now()
	resp, err := next(ctx, req)
	level := slog.LevelDebug
	if err != nil {
		level = slog.LevelInfo
	}
	if s.log.Enabled(ctx, level) {
		code, _ := statusCode(err)
		s.log.Log(ctx, level, "csi call", "method", info.FullMethod, "code", code.String(),
			"duration", time.Since(start).Round(time.Microsecond), "err", err)
	}
	return resp, err
}

// GetPluginInfo names the driver.
func (s *Server) GetPluginInfo(context.Context, *csi.GetPluginInfoRequest) (*csi.GetPluginInfoResponse, error) {
	return &csi.GetPluginInfoResponse{Name: s.opts.Name, VendorVersion: s.opts.Version}, nil
}

// GetPluginCapabilities lists the services served.
func (s *Server) GetPluginCapabilities(context.Context, *csi.GetPluginCapabilitiesRequest) (*csi.GetPluginCapabilitiesResponse, error) {
	var caps []*csi.PluginCapability
	service := func(t csi.PluginCapability_Service_Type) {
		caps = append(caps, &csi.PluginCapability{Type: &csi.PluginCapability_Service_{
			Service: &csi.PluginCapability_Service{Type: t}}})
	}
	if s.opts.Controller != nil {
		service(csi.PluginCapability_Service_CONTROLLER_SERVICE)
		caps = append(caps, &csi.PluginCapability{Type: &csi.PluginCapability_VolumeExpansion_{
			VolumeExpansion: &csi.PluginCapability_VolumeExpansion{Type: csi.PluginCapability_VolumeExpansion_ONLINE}}})
	}
	if s.opts.Group != nil {
		service(csi.PluginCapability_Service_GROUP_CONTROLLER_SERVICE)
	}
	if s.opts.Topology {
		service(csi.PluginCapability_Service_VOLUME_ACCESSIBILITY_CONSTRAINTS)
	}
	return &csi.GetPluginCapabilitiesResponse{Capabilities: caps}, nil
}

// Probe reports the plugin healthy, or FailedPrecondition with the cause.
func (s *Server) Probe(ctx context.Context, _ *csi.ProbeRequest) (*csi.ProbeResponse, error) {
	if s.opts.Probe != nil {
		if err := s.opts.Probe(ctx); err != nil {
			return nil, errorf(codes.FailedPrecondition, "unhealthy: %v", err)
		}
	}
	return &csi.ProbeResponse{Ready: wrapperspb.Bool(true)}, nil
}
