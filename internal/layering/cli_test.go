package layering

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// dataOpeners are the CLI's ways to open a data directory itself.
var dataOpeners = []string{"withData", "openData", "datadir.Open"}

// ownerFiles are the files of cmd/cairn allowed to open a data directory:
// the daemons (server, nfs, the push receiver) and withAPI's fallback,
// which is taken only when no daemon answers on the socket. Every other
// command reaches the data through the control API, so none of them can
// collide with a daemon that owns the directory.
var ownerFiles = []string{
	"api.go",                 // withAPI's no-daemon fallback
	"cmd_server.go",          // the daemon
	"cmd_nfs.go",             // a standalone NFS gateway (a daemon)
	"cmd_mount.go",           // a foreground mount when no daemon runs
	"cmd_snapshot_server.go", // the push receiver (a daemon)
	"cmd_snapshot_serve.go",  // the same, as a snapshot subcommand
	"cmd_csi.go",             // the CSI plugin's daemon spawning
	"cmd_server_cluster.go",  // the daemon's cluster wiring
	"client.go", "global.go", // the definitions of withData/openData
	"meta.go", // the metadata store options of the daemon
}

// TestCLIOpensDataOnlyWithoutDaemon checks that only ownerFiles call the
// data openers.
func TestCLIOpensDataOnlyWithoutDaemon(t *testing.T) {
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	dir := filepath.Join(filepath.Dir(strings.TrimSpace(string(gomod))), "cmd", "cairn")
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no Go files in %s: %v", dir, err)
	}
	fset := token.NewFileSet()
	for _, path := range files {
		base := filepath.Base(path)
		if strings.HasSuffix(base, "_test.go") || slices.Contains(ownerFiles, base) {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			if name := callName(call.Fun); slices.Contains(dataOpeners, name) {
				t.Errorf("%s: %s opens the data directory; go through withAPI (the daemon's control API)",
					fset.Position(call.Pos()), name)
			}
			return true
		})
	}
}

// callName is the name a call is made by: f or pkg.F.
func callName(fun ast.Expr) string {
	switch f := fun.(type) {
	case *ast.Ident:
		return f.Name
	case *ast.SelectorExpr:
		if x, ok := f.X.(*ast.Ident); ok {
			return x.Name + "." + f.Sel.Name
		}
	}
	return ""
}
