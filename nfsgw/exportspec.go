package nfsgw

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/cairn-storage/cairn/fs"
)

// ExportSyntax describes what ParseExport reads, for command-line help.
const ExportSyntax = "VOLUME[,OPTION...] (or VOLUME:OPTION,...); VOLUME may be * for every volume;\n" +
	"\toptions: ro, rw (the default), root_squash (the default), no_root_squash, all_squash,\n" +
	"\tanonuid=N, anongid=N, allow=CIDR[|CIDR...] (default: every client that reaches the listener),\n" +
	"\tsecure (calls from ports below 1024 only), insecure (the default)"

// DefaultPort is the port of NFS and MOUNT.
const DefaultPort = 2049

// DefaultAddr is where a gateway serving exports listens when it is given
// no address: on every interface (":2049") when every export names the
// networks it is for (allow=), otherwise on loopback only
// ("127.0.0.1:2049"), so that an export open to every client reaches
// only this host's clients until an address is chosen.
func DefaultAddr(exports []Export) string {
	open := len(exports) == 0
	for _, e := range exports {
		open = open || len(e.AllowedNets) == 0
	}
	if open {
		return fmt.Sprintf("127.0.0.1:%d", DefaultPort)
	}
	return fmt.Sprintf(":%d", DefaultPort)
}

// ParseExport reads an export in the syntax of ExportSyntax, the options
// named as in exports(5); a later option overrides an earlier one.
func ParseExport(spec string) (Export, error) {
	// The volume ends at the first "," or ":" (neither is in a volume name).
	vol, opts := spec, ""
	if i := strings.IndexAny(spec, ",:"); i >= 0 {
		vol, opts = spec[:i], spec[i+1:]
	}
	e := Export{Volume: strings.TrimPrefix(vol, "/")}
	if e.Volume != "*" {
		if err := fs.CheckVolumeName(e.Volume); err != nil {
			return e, fmt.Errorf("export %q: %w (%s)", spec, err, ExportSyntax)
		}
	}
	if opts == "" {
		return e, nil
	}
	for _, opt := range strings.Split(opts, ",") {
		if err := e.setOption(opt); err != nil {
			return e, fmt.Errorf("export %q: option %q: %w (%s)", spec, opt, err, ExportSyntax)
		}
	}
	return e, nil
}

// setOption applies one option of an export spec.
func (e *Export) setOption(opt string) error {
	key, val, hasVal := strings.Cut(opt, "=")
	flags := map[string]func(){
		"ro": func() { e.ReadOnly = true }, "rw": func() { e.ReadOnly = false },
		"root_squash": func() { e.NoRootSquash = false }, "no_root_squash": func() { e.NoRootSquash = true },
		"all_squash": func() { e.AllSquash = true }, "no_all_squash": func() { e.AllSquash = false },
		"secure": func() { e.Secure = true }, "insecure": func() { e.Secure = false },
	}
	if set, ok := flags[key]; ok {
		if hasVal {
			return errors.New("takes no value")
		}
		set()
		return nil
	}
	switch key {
	case "anonuid", "anongid":
		n, err := strconv.ParseUint(val, 10, 32)
		if err != nil {
			return fmt.Errorf("want a number: %w", err)
		}
		if key == "anonuid" {
			e.AnonUID = uint32(n)
		} else {
			e.AnonGID = uint32(n)
		}
		return nil
	case "allow":
		for _, s := range strings.Split(val, "|") {
			p, err := parseNet(s)
			if err != nil {
				return err
			}
			e.AllowedNets = append(e.AllowedNets, p)
		}
		return nil
	}
	return errors.New("unknown option")
}

// parseNet reads a CIDR, or one address as the network of that address
// alone.
func parseNet(s string) (netip.Prefix, error) {
	if a, err := netip.ParseAddr(s); err == nil {
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return p, fmt.Errorf("want a CIDR such as 10.0.0.0/8: %w", err)
	}
	return p.Masked(), nil
}

// String returns the export in the syntax ParseExport reads, every
// option spelled out, so that a log line says exactly what it exports.
func (e Export) String() string {
	opts := []string{e.Volume, "rw"}
	if e.ReadOnly {
		opts[1] = "ro"
	}
	switch {
	case e.AllSquash:
		opts = append(opts, "all_squash")
	case e.NoRootSquash:
		opts = append(opts, "no_root_squash")
	default:
		opts = append(opts, "root_squash")
	}
	if e.Secure {
		opts = append(opts, "secure")
	}
	if e.AnonUID != 0 && e.AnonUID != nobody {
		opts = append(opts, fmt.Sprintf("anonuid=%d", e.AnonUID))
	}
	if e.AnonGID != 0 && e.AnonGID != nobody {
		opts = append(opts, fmt.Sprintf("anongid=%d", e.AnonGID))
	}
	if len(e.AllowedNets) > 0 {
		nets := make([]string, len(e.AllowedNets))
		for i, p := range e.AllowedNets {
			nets[i] = p.String()
		}
		opts = append(opts, "allow="+strings.Join(nets, "|"))
	}
	return strings.Join(opts, ",")
}
