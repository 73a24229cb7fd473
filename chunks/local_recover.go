package chunks

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// recoverTmp installs the complete, verified chunks left in tmp/ by a
// process that stopped before syncing them. A crash of the process (not
// of the machine) loses nothing it had stored: the files' data is in the
// page cache even though it was never fsynced, and the metadata that
// refers to them survived too. Torn or corrupt files are left for
// prepareDirs to delete.
func (l *Local) recoverTmp() error {
	entries, err := os.ReadDir(l.tmpDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	} else if err != nil {
		return err
	}
	dirs := map[string]bool{}
	recovered := 0
	for _, e := range entries {
		name, _, _ := strings.Cut(e.Name(), ".")
		id, err := ParseID(name)
		if err != nil || !e.Type().IsRegular() {
			continue
		}
		tmp := filepath.Join(l.tmpDir, e.Name())
		frame, err := os.ReadFile(tmp)
		if err != nil {
			continue
		}
		plain, err := decodeFrame(frame)
		if err != nil || Sum(plain) != id {
			continue
		}
		if err := fsyncPath(tmp); err != nil {
			return err
		}
		if _, err := os.Stat(l.path(id)); err == nil {
			continue
		}
		// Before the store counts its chunks: no counter to adjust.
		if err := l.renameInto(tmp, l.path(id), dirs); err != nil {
			return err
		}
		recovered++
	}
	for d := range dirs {
		if err := fsyncPath(d); err != nil {
			return err
		}
	}
	if recovered > 0 {
		l.log.Info("recovered unsynced chunks left by a stopped process", "dir", l.dir, "chunks", recovered)
	}
	return nil
}
