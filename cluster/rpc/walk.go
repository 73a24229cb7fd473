package rpc

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/cairn-storage/cairn/chunks"
)

// The walk stream is a sequence of records, each starting with a type
// byte:
//
//	'c' ID[32] size[8] stored[8] mtime[8]  a chunk (big-endian; mtime in Unix ns)
//	'e' len[4] message                     the walk failed
//	'z'                                    the walk is complete
//
// A stream that ends without 'z' or 'e' was cut: the client reports an
// error, never a short walk as a complete one.
const (
	recChunk = 'c'
	recError = 'e'
	recEnd   = 'z'

	chunkRecLen = chunks.IDSize + 24
	maxErrLen   = 64 << 10
)

func (s *server) walk(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/x-cairn-walk")
	bw := bufio.NewWriterSize(w, 64<<10)
	var rec [1 + chunkRecLen]byte
	rec[0] = recChunk
	err := s.b.Walk(r.Context(), func(info chunks.Info) error {
		copy(rec[1:], info.ID[:])
		binary.BigEndian.PutUint64(rec[1+chunks.IDSize:], uint64(info.Size))
		binary.BigEndian.PutUint64(rec[1+chunks.IDSize+8:], uint64(info.Stored))
		binary.BigEndian.PutUint64(rec[1+chunks.IDSize+16:], uint64(info.ModTime.UnixNano()))
		_, err := bw.Write(rec[:])
		return err
	})
	if err != nil {
		msg := err.Error()
		if len(msg) > maxErrLen {
			msg = msg[:maxErrLen]
		}
		var hdr [5]byte
		hdr[0] = recError
		binary.BigEndian.PutUint32(hdr[1:], uint32(len(msg)))
		bw.Write(hdr[:])
		bw.WriteString(msg)
	} else {
		bw.WriteByte(recEnd)
	}
	bw.Flush()
}

// readWalk decodes a walk stream, calling fn for each chunk. An error
// from fn is returned as is.
func readWalk(body io.Reader, fn func(chunks.Info) error) error {
	br := bufio.NewReaderSize(body, 64<<10)
	var rec [chunkRecLen]byte
	for {
		typ, err := br.ReadByte()
		if err != nil {
			return fmt.Errorf("walk stream cut: %w", noEOF(err))
		}
		switch typ {
		case recChunk:
			if _, err := io.ReadFull(br, rec[:]); err != nil {
				return fmt.Errorf("walk stream cut: %w", noEOF(err))
			}
			info := chunks.Info{
				ID:      chunks.ID(rec[:chunks.IDSize]),
				Size:    int64(binary.BigEndian.Uint64(rec[chunks.IDSize:])),
				Stored:  int64(binary.BigEndian.Uint64(rec[chunks.IDSize+8:])),
				ModTime: time.Unix(0, int64(binary.BigEndian.Uint64(rec[chunks.IDSize+16:]))),
			}
			if err := fn(info); err != nil {
				return err
			}
		case recError:
			var n [4]byte
			if _, err := io.ReadFull(br, n[:]); err != nil {
				return fmt.Errorf("walk stream cut: %w", noEOF(err))
			}
			msg := make([]byte, min(binary.BigEndian.Uint32(n[:]), maxErrLen))
			if _, err := io.ReadFull(br, msg); err != nil {
				return fmt.Errorf("walk stream cut: %w", noEOF(err))
			}
			return fmt.Errorf("remote walk: %s", msg)
		case recEnd:
			return nil
		default:
			return fmt.Errorf("walk stream: bad record type %#x", typ)
		}
	}
}

// noEOF turns a clean EOF into ErrUnexpectedEOF: in the middle of a
// stream, it is not.
func noEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}
