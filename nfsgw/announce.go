package nfsgw

import (
	"fmt"
	"net"
	"strings"
)

// logExports says, as a listener starts, what it exports to whom: one
// line per export, and a warning for an export that every client
// reaching a non-loopback address may use.
func (s *Server) logExports(addr net.Addr) {
	local := false
	if a, ok := addr.(*net.TCPAddr); ok {
		local = a.IP.IsLoopback()
	}
	for _, e := range s.cfg.Exports {
		access := "rw"
		if e.ReadOnly {
			access = "ro"
		}
		args := []any{"addr", addr.String(), "volume", e.Volume, "clients", e.clients(local),
			"access", access, "squash", e.squash(), "anon", fmt.Sprintf("%d:%d", e.AnonUID, e.AnonGID),
			"secure", e.Secure, "export", e.String()}
		if len(e.AllowedNets) == 0 && !local {
			s.log.Warn("NFS export open to every client that reaches the address: name its networks with allow=CIDR", args...)
			continue
		}
		s.log.Info("NFS export", args...)
	}
}

// clients says who may use the export, behind a listener on loopback
// (local) or not.
func (e *Export) clients(local bool) string {
	switch {
	case len(e.AllowedNets) > 0:
		nets := make([]string, len(e.AllowedNets))
		for i, p := range e.AllowedNets {
			nets[i] = p.String()
		}
		return strings.Join(nets, " ")
	case local:
		return "this host's (the address is loopback)"
	}
	return "any"
}

// squash names whose ids the export maps to the anonymous ones.
func (e *Export) squash() string {
	switch {
	case e.AllSquash:
		return "all"
	case e.NoRootSquash:
		return "none"
	}
	return "root"
}
