package layering

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// pkg is what the rules need from `go list -json`.
type pkg struct {
	ImportPath string
	Imports    []string // direct, non-test
	Deps       []string // transitive, non-test
}

// rule forbids packages matching from to depend on packages matching to.
// Only the packages that exist are checked, so rules about packages not yet
// written hold trivially.
type rule struct {
	name       string
	from       func(rel string) bool // rel: path relative to the module, "" for the root
	to         func(dep string) bool // dep: full import path
	transitive bool                  // check Deps rather than Imports
}

// rules returns cairn's layering rules for module mod.
func rules(mod string) []rule {
	// in reports whether path is pkg or inside it.
	in := func(path string, pkgs ...string) bool {
		for _, p := range pkgs {
			if path == p || strings.HasPrefix(path, p+"/") {
				return true
			}
		}
		return false
	}
	local := func(rels ...string) func(string) bool {
		return func(dep string) bool {
			rel, ok := strings.CutPrefix(dep, mod+"/")
			return ok && in(rel, rels...)
		}
	}
	// Protocol libraries, engines and cluster machinery.
	external := func(dep string) bool {
		return in(dep, "github.com/dgraph-io/badger", "github.com/dgraph-io/badger/v4",
			"go.etcd.io/etcd", "github.com/hashicorp/serf", "github.com/hanwen/go-fuse",
			"github.com/hanwen/go-fuse/v2", "github.com/willscott/go-nfs",
			"github.com/willscott/go-nfs-client") ||
			strings.HasPrefix(dep, "go.etcd.io/etcd/")
	}
	frontends := func(dep string) bool {
		rel, ok := strings.CutPrefix(dep, mod+"/")
		if !ok {
			return in(dep, "github.com/hanwen/go-fuse/v2", "github.com/willscott/go-nfs")
		}
		if in(rel, "nfsgw", "csi", "cmd", "snapshots", "fuse") {
			return true
		}
		// fs itself, and any fs/ package other than the meta tree (the FUSE
		// adapter may live in fs/).
		return rel == "fs" || (in(rel, "fs") && !in(rel, "fs/meta"))
	}
	return []rule{
		{
			name:       "chunks must not depend on fs, nfsgw, snapshots, cluster, csi or cmd",
			from:       func(rel string) bool { return in(rel, "chunks") },
			to:         local("fs", "nfsgw", "snapshots", "cluster", "csi", "cmd"),
			transitive: true,
		},
		{
			name:       "fs/meta must not depend on fs or the frontends",
			from:       func(rel string) bool { return in(rel, "fs/meta") },
			to:         frontends,
			transitive: true,
		},
		{
			name: "fs must not depend on badger, etcd, serf, go-fuse, go-nfs or cluster",
			from: func(rel string) bool { return rel == "fs" },
			to: func(dep string) bool {
				return external(dep) || local("cluster")(dep)
			},
			transitive: true,
		},
		{
			// The control API's messages are a leaf: any client may use them.
			name:       "api must not depend on any cairn package",
			from:       func(rel string) bool { return in(rel, "api") },
			to:         local("chunks", "fs", "nfsgw", "snapshots", "cluster", "csi", "cmd", "control", "datadir", "fusefs"),
			transitive: true,
		},
		{
			// Clients of the daemon know its API, nothing of what serves it.
			name:       "control/client must depend only on the api",
			from:       func(rel string) bool { return in(rel, "control/client") },
			to:         local("chunks", "fs", "nfsgw", "snapshots", "cluster", "csi", "cmd", "datadir", "fusefs", "control/server"),
			transitive: true,
		},
		{
			// The dashboard is a client of the daemon like the CLI: it
			// reaches the data only through the control API.
			name: "dashboard must depend only on the api and control/client",
			from: func(rel string) bool { return in(rel, "dashboard") },
			to: func(dep string) bool {
				return local("chunks", "fs", "nfsgw", "snapshots", "cluster", "csi", "cmd", "datadir", "fusefs")(dep) ||
					dep == mod+"/control"
			},
			transitive: true,
		},
		{
			// The control server sits between the clients and the frontends:
			// it serves what it is given and opens no data directory.
			name: "control must not depend on datadir, cluster, csi, cmd or the engines",
			from: func(rel string) bool { return rel == "control" },
			to: func(dep string) bool {
				return local("datadir", "cluster", "csi", "cmd")(dep) ||
					in(dep, "github.com/dgraph-io/badger/v4", "github.com/hashicorp/serf") || strings.HasPrefix(dep, "go.etcd.io/etcd/")
			},
			transitive: true,
		},
		{
			// Programs (the CLI and the cluster benchmark) wire the cluster
			// in; libraries reach it only through the interfaces they own.
			name: "only programs (cmd, bench) import cluster",
			from: func(rel string) bool { return !in(rel, "cmd", "bench", "cluster") },
			to:   local("cluster"),
		},
	}
}

// violations returns one line per forbidden dependency.
func violations(mod string, pkgs []pkg) []string {
	var out []string
	for _, r := range rules(mod) {
		for _, p := range pkgs {
			rel, ok := strings.CutPrefix(p.ImportPath, mod)
			if !ok || (rel != "" && rel[0] != '/') {
				continue
			}
			if !r.from(strings.TrimPrefix(rel, "/")) {
				continue
			}
			deps := p.Imports
			if r.transitive {
				deps = p.Deps
			}
			for _, d := range deps {
				if r.to(d) {
					out = append(out, r.name+": "+p.ImportPath+" -> "+d)
				}
			}
		}
	}
	return out
}

func TestLayering(t *testing.T) {
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(gomod)))
	cmd := exec.Command("go", "list", "-e", "-json=ImportPath,Imports,Deps,Module", "./...")
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.Bytes())
	}
	var (
		mod  string
		pkgs []pkg
	)
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p struct {
			pkg
			Module *struct{ Path string }
		}
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("decoding go list output: %v", err)
		}
		if p.Module != nil && mod == "" {
			mod = p.Module.Path
		}
		pkgs = append(pkgs, p.pkg)
	}
	if mod == "" || len(pkgs) == 0 {
		t.Fatalf("go list found no packages of the module in %s", root)
	}
	t.Logf("checked %d packages of %s", len(pkgs), mod)
	for _, v := range violations(mod, pkgs) {
		t.Error(v)
	}
}

// The rules catch what they should and nothing else.
func TestRules(t *testing.T) {
	const mod = "example.com/cairn"
	tests := []struct {
		pkg  pkg
		want int // violations
	}{
		{pkg{ImportPath: mod + "/chunks", Deps: []string{"fmt", mod + "/chunks/internal/x"}}, 0},
		{pkg{ImportPath: mod + "/chunks", Deps: []string{mod + "/fs"}}, 1},
		{pkg{ImportPath: mod + "/chunks/local", Deps: []string{mod + "/fs/meta"}}, 1},
		{pkg{ImportPath: mod + "/chunks", Deps: []string{mod + "/cluster/rpc"}}, 1},
		{pkg{ImportPath: mod + "/chunks", Deps: []string{mod + "/cmd/cairn", mod + "/csi"}}, 2},
		{pkg{ImportPath: mod + "/chunksmith", Deps: []string{mod + "/fs"}}, 0},
		{pkg{ImportPath: mod + "/fs/meta/badgerkv", Deps: []string{"github.com/dgraph-io/badger/v4", mod + "/fs/meta"}}, 0},
		{pkg{ImportPath: mod + "/fs/meta/badgerkv", Deps: []string{mod + "/fs"}}, 1},
		{pkg{ImportPath: mod + "/fs/meta", Deps: []string{mod + "/fs/fuse"}}, 1},
		{pkg{ImportPath: mod + "/fs/meta/etcdkv", Deps: []string{mod + "/nfsgw"}}, 1},
		{pkg{ImportPath: mod + "/fs/meta", Deps: []string{"github.com/hanwen/go-fuse/v2/fs"}}, 1},
		{pkg{ImportPath: mod + "/fs", Deps: []string{mod + "/fs/meta", mod + "/chunks", "github.com/zeebo/blake3"}}, 0},
		{pkg{ImportPath: mod + "/fs", Deps: []string{"github.com/dgraph-io/badger/v4/y"}}, 1},
		{pkg{ImportPath: mod + "/fs", Deps: []string{"go.etcd.io/etcd/client/v3"}}, 1},
		{pkg{ImportPath: mod + "/fs", Deps: []string{"github.com/hashicorp/serf/serf"}}, 1},
		{pkg{ImportPath: mod + "/fs", Deps: []string{"github.com/willscott/go-nfs"}}, 1},
		{pkg{ImportPath: mod + "/fs", Deps: []string{mod + "/cluster"}}, 1},
		{pkg{ImportPath: mod + "/fs/fuse", Deps: []string{"github.com/hanwen/go-fuse/v2/fs"}}, 0},
		{pkg{ImportPath: mod + "/cmd/cairn", Imports: []string{mod + "/cluster"}}, 0},
		{pkg{ImportPath: mod + "/cluster/rpc", Imports: []string{mod + "/cluster"}}, 0},
		{pkg{ImportPath: mod + "/nfsgw", Imports: []string{mod + "/cluster"}}, 1},
		{pkg{ImportPath: mod + "/snapshots", Imports: []string{mod + "/clusterfoo"}}, 0},
		{pkg{ImportPath: "other.org/x", Imports: []string{mod + "/cluster"}}, 0},
		{pkg{ImportPath: mod + "/api/cairn/v1", Deps: []string{"google.golang.org/grpc"}}, 0},
		{pkg{ImportPath: mod + "/api/cairn/v1", Deps: []string{mod + "/fs"}}, 1},
		{pkg{ImportPath: mod + "/control/client", Deps: []string{mod + "/api/cairn/v1"}}, 0},
		{pkg{ImportPath: mod + "/control/client", Deps: []string{mod + "/snapshots"}}, 1},
		{pkg{ImportPath: mod + "/control", Deps: []string{mod + "/fs", mod + "/fusefs", mod + "/nfsgw"}}, 0},
		{pkg{ImportPath: mod + "/control", Deps: []string{mod + "/datadir"}}, 1},
		{pkg{ImportPath: mod + "/control", Deps: []string{"github.com/dgraph-io/badger/v4"}}, 1},
	}
	for _, tt := range tests {
		if got := violations(mod, []pkg{tt.pkg}); len(got) != tt.want {
			t.Errorf("%s with imports %q, deps %q: %d violations %q; want %d",
				tt.pkg.ImportPath, tt.pkg.Imports, tt.pkg.Deps, len(got), got, tt.want)
		}
	}
}
