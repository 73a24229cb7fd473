package chunks

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// countsFile keeps a cleanly closed store's Stats, so that the next open
// need not read every chunk file to count them (a scan that competes
// with the first reads of a mount for minutes on a large store). Open
// removes it before anything changes: after a crash there is none, and
// the store is counted again.
const countsFile = "counts.json"

// takeCounts reads and removes the counts a clean Close left. It reports
// false when there are none to trust; the store is then scanned. tmpHad
// says whether tmp/ held chunks (a crash, whatever the file says).
func (l *Local) takeCounts(tmpHad bool) (Stats, bool, error) {
	path := filepath.Join(l.dir, countsFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Stats{}, false, nil
	}
	if err != nil {
		return Stats{}, false, err
	}
	if err := os.Remove(path); err != nil {
		return Stats{}, false, err
	}
	if err := fsyncPath(l.dir); err != nil {
		return Stats{}, false, err
	}
	var st Stats
	if err := json.Unmarshal(b, &st); err != nil || st.Chunks < 0 || st.PlainBytes < 0 || st.StoredBytes < 0 {
		l.log.Warn("chunks: ignoring a bad counts file; counting the chunks", "dir", l.dir, "err", err)
		return Stats{}, false, nil
	}
	return st, !tmpHad, nil
}

// saveCounts records the counters for the next open; the store must be
// synced and its counters exact (scanned).
func (l *Local) saveCounts() error {
	b, err := json.Marshal(l.counts.get())
	if err != nil {
		return err
	}
	tmp := filepath.Join(l.dir, countsFile+".tmp")
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if serr := f.Sync(); err == nil {
		err = serr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(l.dir, countsFile))
	}
	if err == nil {
		err = fsyncPath(l.dir)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("save counts: %w", err)
	}
	return nil
}

// startCounting sets the counters from a clean close's record, or starts
// the background scan.
func (l *Local) startCounting(tmpHad bool) error {
	st, ok, err := l.takeCounts(tmpHad)
	if err != nil {
		return err
	}
	if !ok {
		go l.scan(l.scanCtx)
		return nil
	}
	l.counts.add(st.Chunks, st.PlainBytes, st.StoredBytes)
	for s := range l.shards {
		l.shards[s].scanned = true
	}
	close(l.scanDone)
	return nil
}
