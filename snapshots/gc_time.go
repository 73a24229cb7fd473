package snapshots

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/cairn-storage/cairn/chunks"
)

// LocalChunkTimes returns a GCOptions.ChunkTime for a chunks.Local store
// in dir: the modification time of the chunk's file
// (dir/chunks/ab/cd/ID). A chunk without its final file (put, not yet
// synced) counts as stored now.
//
// This is a stopgap that knows the local store's layout: it belongs in
// the chunk store (chunks.Info carrying the time of the last Put, which a
// Put of an existing chunk must refresh).
func LocalChunkTimes(dir string) func(ctx context.Context, id chunks.ID) (time.Time, error) {
	return func(ctx context.Context, id chunks.ID) (time.Time, error) {
		h := id.String()
		st, err := os.Stat(filepath.Join(dir, "chunks", h[:2], h[2:4], h))
		if errors.Is(err, fs.ErrNotExist) {
			return time.Now(), nil
		}
		if err != nil {
			return time.Time{}, err
		}
		return st.ModTime(), nil
	}
}
