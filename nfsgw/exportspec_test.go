package nfsgw

import (
	"bytes"
	"log/slog"
	"net"
	"strings"
	"testing"
)

// TestParseExport checks the export syntax: what each spec means, as
// its canonical String, and which are refused.
func TestParseExport(t *testing.T) {
	tests := []struct {
		spec, want string // want "" means refused
	}{
		{"*", "*,rw,root_squash"},
		{"/web", "web,rw,root_squash"},
		{"web,ro", "web,ro,root_squash"},
		{"web,rw,root_squash,allow=10.0.0.0/8", "web,rw,root_squash,allow=10.0.0.0/8"},
		{"*:rw,allow=10.0.0.0/8", "*,rw,root_squash,allow=10.0.0.0/8"},
		{"*,no_root_squash,secure,allow=127.0.0.1/32", "*,rw,no_root_squash,secure,allow=127.0.0.1/32"},
		{"web,no_root_squash,root_squash", "web,rw,root_squash"},
		{"web,secure,insecure", "web,rw,root_squash"},
		{"web,all_squash,anonuid=1000,anongid=1001", "web,rw,all_squash,anonuid=1000,anongid=1001"},
		{"web,all_squash,no_all_squash", "web,rw,root_squash"},
		{"web,allow=10.1.2.3|fd00::/8|192.168.1.7/24", "web,rw,root_squash,allow=10.1.2.3/32|fd00::/8|192.168.1.0/24"},
		{"web,allow=10.0.0.0/8,allow=10.1.0.0/16", "web,rw,root_squash,allow=10.0.0.0/8|10.1.0.0/16"},
		{"", ""},
		{"//", ""},
		{"/", ""},
		{"we b", ""},
		{"**", ""},
		{",rw", ""},
		{"web,rw=1", ""},
		{"web,sync", ""},
		{"web,anonuid=-1", ""},
		{"web,anonuid=x", ""},
		{"web,allow=", ""},
		{"web,allow=10.0.0.0/33", ""},
		{"web,allow=example.com", ""},
		{"web,,ro", ""},
	}
	for _, tt := range tests {
		e, err := ParseExport(tt.spec)
		switch {
		case tt.want == "" && err == nil:
			t.Errorf("ParseExport(%q) = %v, want an error", tt.spec, e)
		case tt.want != "" && err != nil:
			t.Errorf("ParseExport(%q): %v", tt.spec, err)
		case tt.want != "" && e.String() != tt.want:
			t.Errorf("ParseExport(%q) = %q, want %q", tt.spec, e.String(), tt.want)
		}
	}
}

// FuzzParseExport checks that no spec makes ParseExport panic, and that
// what it accepts reads back the same from its String.
func FuzzParseExport(f *testing.F) {
	for _, s := range []string{"*", "web,ro,allow=10.0.0.0/8|::1", "*:no_root_squash,secure", "v,anonuid=7,all_squash"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		e, err := ParseExport(spec)
		if err != nil {
			return
		}
		again, err := ParseExport(e.String())
		if err != nil || again.String() != e.String() {
			t.Fatalf("%q reads as %q, which reads back as %q (%v)", spec, e.String(), again.String(), err)
		}
	})
}

// TestExportLog checks the line each export gets when a listener starts:
// who may use it, its access and squashing, and a warning for an export
// open to everyone on an address other hosts reach.
func TestExportLog(t *testing.T) {
	tests := []struct {
		name   string
		exp    Export
		addr   net.Addr
		want   []string
		warned bool
	}{
		{"open, on loopback", Export{Volume: "*"}, tcpAddr("127.0.0.1"),
			[]string{`volume=*`, `clients="this host's (the address is loopback)"`, "access=rw", "squash=root", "anon=65534:65534"}, false},
		{"open, on every interface", Export{Volume: "*", NoRootSquash: true}, tcpAddr("0.0.0.0"),
			[]string{"clients=any", "squash=none", "export=*,rw,no_root_squash"}, true},
		{"named networks", Export{Volume: "web", ReadOnly: true, AllSquash: true, AllowedNets: nets("10.0.0.0/8", "fd00::/8")}, tcpAddr("192.0.2.1"),
			[]string{`clients="10.0.0.0/8 fd00::/8"`, "access=ro", "squash=all"}, false},
		{"secure", Export{Volume: "*", Secure: true}, tcpAddr("127.0.0.1"), []string{"secure=true"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			cfg := Config{Exports: []Export{tt.exp}}
			if err := cfg.validate(); err != nil {
				t.Fatal(err)
			}
			s := &Server{cfg: cfg, log: slog.New(slog.NewTextHandler(&buf, nil))}
			s.logExports(tt.addr)
			line := buf.String()
			for _, w := range tt.want {
				if !strings.Contains(line, w) {
					t.Errorf("log line lacks %s:\n%s", w, line)
				}
			}
			if warned := strings.Contains(line, "level=WARN"); warned != tt.warned {
				t.Errorf("warned %v, want %v:\n%s", warned, tt.warned, line)
			}
		})
	}
}

func tcpAddr(ip string) net.Addr { return &net.TCPAddr{IP: net.ParseIP(ip), Port: DefaultPort} }
