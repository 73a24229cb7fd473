package csi

import (
	"path"
	"strings"
)

// NFSMount is one NFS mount the node makes: the export, where, and the
// mount options (generic ones such as ro and nosuid among the NFS ones).
type NFSMount struct {
	Server  string // host name or address, IPv6 without brackets
	Path    string // the export's path on the server
	Target  string
	Options []string
}

// Source is the mount source, SERVER:PATH ([SERVER]:PATH for IPv6).
func (m NFSMount) Source() string {
	host := m.Server
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return host + ":" + m.Path
}

// Argv is the mount(8) command line of m.
func (m NFSMount) Argv() []string {
	return []string{"mount", "-t", "nfs", "-o", strings.Join(m.Options, ","), m.Source(), m.Target}
}

// newNFSMount describes the mount of volume from a cairn NFS gateway:
// NFSv3 unless the options say otherwise, and local locks (nolock) unless
// they ask for some: the gateway serves no NLM lock manager.
func newNFSMount(volume string, s nfsSpec, readOnly bool, flags []string, target string) NFSMount {
	var opts []string
	hasVers, hasLock := false, false
	for _, o := range append(append([]string(nil), s.Options...), flags...) {
		key, _, _ := strings.Cut(o, "=")
		hasVers = hasVers || key == "vers" || key == "nfsvers"
		hasLock = hasLock || key == "lock" || key == "nolock" || key == "local_lock"
		opts = append(opts, o)
	}
	if !hasVers {
		opts = append([]string{"vers=3"}, opts...)
	}
	if !hasLock {
		opts = append(opts, "nolock")
	}
	if readOnly {
		opts = append(opts, "ro")
	}
	return NFSMount{Server: s.Server, Path: path.Join(s.Share, volume, s.SubDir), Target: target, Options: opts}
}
