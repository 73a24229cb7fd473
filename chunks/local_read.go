package chunks

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// Get returns the verified plaintext of chunk id; see Getter.
func (l *Local) Get(ctx context.Context, id ID) ([]byte, error) {
	if err := l.check(ctx); err != nil {
		return nil, fmt.Errorf("chunk %s: get: %w", id, err)
	}
	path := l.path(id)
	l.mu.Lock()
	p, pending := l.pending[id]
	l.mu.Unlock()
	var frame []byte
	var err error
	if pending {
		frame, err = readFrame(p.tmp)
		if errors.Is(err, fs.ErrNotExist) { // Sync renamed it meanwhile
			frame, err = readFrame(path)
		} else {
			path = p.tmp
		}
	} else {
		frame, err = readFrame(path)
	}
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("chunk %s: %w", id, ErrNotFound)
	}
	if err == nil {
		var data []byte
		if data, err = decodeFrame(frame); err == nil {
			sum := Sum(data)
			if sum == id {
				return data, nil
			}
			err = fmt.Errorf("%w: data hashes to %s", ErrCorrupt, sum)
		}
	}
	if errors.Is(err, ErrCorrupt) {
		l.log.Error("chunks: corrupt chunk", "id", id, "path", path, "err", err)
	}
	return nil, fmt.Errorf("chunk %s: get %s: %w", id, path, err)
}

// maxFrameLen is the longest valid chunk file: a frame is only compressed
// when that makes it smaller.
const maxFrameLen = int64(maxHeaderLen) + MaxSize

// readFrame reads a chunk file, refusing files too large to be a frame
// rather than allocating whatever size a damaged disk reports.
func readFrame(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() > maxFrameLen {
		return nil, fmt.Errorf("%w: file is %d bytes, more than any frame", ErrCorrupt, st.Size())
	}
	buf := make([]byte, st.Size())
	if _, err := io.ReadFull(f, buf); err != nil {
		return nil, err
	}
	return buf, nil
}

// Stat returns the chunk's Info; see Statter. It reads only the frame
// header: it does not verify the data.
func (l *Local) Stat(ctx context.Context, id ID) (Info, error) {
	if err := l.check(ctx); err != nil {
		return Info{}, fmt.Errorf("chunk %s: stat: %w", id, err)
	}
	l.mu.Lock()
	p, ok := l.pending[id]
	l.mu.Unlock()
	if ok {
		return p.info, nil
	}
	// A pending chunk renamed since the lookup is now at its final path.
	info, err := statFile(l.path(id), id)
	if errors.Is(err, fs.ErrNotExist) {
		return Info{}, fmt.Errorf("chunk %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return Info{}, fmt.Errorf("chunk %s: stat: %w", id, err)
	}
	return info, nil
}

// statFile returns the Info of a chunk file from its size and header.
// If the header is corrupt it returns the Info with Size 0 and an error
// wrapping ErrCorrupt.
func statFile(path string, id ID) (Info, error) {
	f, err := os.Open(path)
	if err != nil {
		return Info{}, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return Info{}, err
	}
	info := Info{ID: id, Stored: st.Size(), ModTime: st.ModTime()}
	var buf [maxHeaderLen]byte
	n, err := io.ReadFull(f, buf[:])
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return info, fmt.Errorf("read %s: %w", path, err)
	}
	h, err := parseHeader(buf[:n])
	if err != nil {
		return info, fmt.Errorf("%s: %w", path, err)
	}
	info.Size = int64(h.plainLen)
	return info, nil
}
