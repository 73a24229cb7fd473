package snapshots

import (
	"context"

	"github.com/cairn-storage/cairn/fs"
)

type fsckReport []fs.Problem

// fsck checks every volume and every chunk they reference.
func fsck(e *env) (fsckReport, error) {
	rep, err := e.d.FS.Fsck(context.Background(), fs.FsckOptions{Chunks: e.d.Local})
	return rep.Problems, err
}
