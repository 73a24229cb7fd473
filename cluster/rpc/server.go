// Package rpc is cairn's chunk RPC: how nodes read and write each other's
// local chunk stores. It is HTTP/2 over mutual TLS (the listener and the
// client's tls.Config come from package pki):
//
//	PUT    /v1/chunks/{id}[?compress=1]  store (the receiver hashes the body)
//	GET    /v1/chunks/{id}               read (the caller hashes the body)
//	HEAD   /v1/chunks/{id}               stat: Cairn-Size, Cairn-Stored, Cairn-Mtime
//	DELETE /v1/chunks/{id}               delete
//	POST   /v1/has                       body: IDs (32 bytes each); reply: a byte each, 1 = held
//	POST   /v1/sync                      make every earlier write durable
//	GET    /v1/walk                      stream every chunk's Info (see walk.go)
//	GET    /v1/stats                     the store's chunks.Stats, JSON
//
// Failures carry a Cairn-Error header (not-found, corrupt, id-mismatch,
// too-large) that the client turns back into the chunks sentinel errors.
// Data from the network is never trusted: both ends verify the hash.
package rpc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/cairn-storage/cairn/chunks"
)

// Backend is what a node serves: its local chunk store.
type Backend interface {
	chunks.Getter
	chunks.Putter
	chunks.Syncer
	chunks.Statter
	chunks.Walker
	chunks.Deleter
	Stats(ctx context.Context) (chunks.Stats, error)
}

// Header names.
const (
	hdrError  = "Cairn-Error"
	hdrSize   = "Cairn-Size"
	hdrStored = "Cairn-Stored"
	hdrMtime  = "Cairn-Mtime" // Unix nanoseconds
)

// maxHas bounds one /v1/has request.
const maxHas = 1 << 16

// Register adds the chunk routes for b to mux.
func Register(mux *http.ServeMux, b Backend) {
	s := &server{b: b}
	mux.HandleFunc("PUT /v1/chunks/{id}", s.put)
	mux.HandleFunc("GET /v1/chunks/{id}", s.get)
	mux.HandleFunc("HEAD /v1/chunks/{id}", s.head)
	mux.HandleFunc("DELETE /v1/chunks/{id}", s.delete)
	mux.HandleFunc("POST /v1/has", s.has)
	mux.HandleFunc("POST /v1/sync", s.sync)
	mux.HandleFunc("GET /v1/walk", s.walk)
	mux.HandleFunc("GET /v1/stats", s.stats)
}

type server struct{ b Backend }

// chunkID parses the {id} path element, answering 400 when it is bad.
func chunkID(w http.ResponseWriter, r *http.Request) (chunks.ID, bool) {
	id, err := chunks.ParseID(r.PathValue("id"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return id, false
	}
	return id, true
}

func (s *server) put(w http.ResponseWriter, r *http.Request) {
	id, ok := chunkID(w, r)
	if !ok {
		return
	}
	if r.ContentLength > chunks.MaxSize {
		writeErr(w, fmt.Errorf("%d bytes: %w", r.ContentLength, chunks.ErrTooLarge))
		return
	}
	buf := make([]byte, 0, max(r.ContentLength, 0))
	data, err := readAllInto(buf, http.MaxBytesReader(w, r.Body, chunks.MaxSize))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			err = fmt.Errorf("%w: %v", chunks.ErrTooLarge, err)
		}
		writeErr(w, err)
		return
	}
	// Never Trusted: Put hashes the data and refuses a mismatch.
	opts := chunks.PutOptions{Compress: r.URL.Query().Get("compress") == "1"}
	if err := s.b.Put(r.Context(), id, data, opts); err != nil {
		writeErr(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *server) get(w http.ResponseWriter, r *http.Request) {
	id, ok := chunkID(w, r)
	if !ok {
		return
	}
	data, err := s.b.Get(r.Context(), id)
	if err != nil {
		writeErr(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.Write(data)
}

func (s *server) head(w http.ResponseWriter, r *http.Request) {
	id, ok := chunkID(w, r)
	if !ok {
		return
	}
	info, err := s.b.Stat(r.Context(), id)
	if err != nil {
		writeErr(w, err)
		return
	}
	h := w.Header()
	h.Set(hdrSize, strconv.FormatInt(info.Size, 10))
	h.Set(hdrStored, strconv.FormatInt(info.Stored, 10))
	h.Set(hdrMtime, strconv.FormatInt(info.ModTime.UnixNano(), 10))
	w.WriteHeader(http.StatusOK)
}

func (s *server) delete(w http.ResponseWriter, r *http.Request) {
	id, ok := chunkID(w, r)
	if !ok {
		return
	}
	if err := s.b.Delete(r.Context(), id); err != nil {
		writeErr(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *server) has(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxHas*chunks.IDSize))
	if err != nil || len(body)%chunks.IDSize != 0 {
		http.Error(w, "want a whole number of chunk IDs", http.StatusBadRequest)
		return
	}
	out := make([]byte, len(body)/chunks.IDSize)
	for i := range out {
		_, err := s.b.Stat(r.Context(), chunks.ID(body[i*chunks.IDSize:]))
		switch {
		case err == nil:
			out[i] = 1
		case !errors.Is(err, chunks.ErrNotFound):
			writeErr(w, err)
			return
		}
	}
	w.Write(out)
}

func (s *server) sync(w http.ResponseWriter, r *http.Request) {
	if err := s.b.Sync(r.Context()); err != nil {
		writeErr(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *server) stats(w http.ResponseWriter, r *http.Request) {
	st, err := s.b.Stats(r.Context())
	if err != nil {
		writeErr(w, err)
		return
	}
	WriteJSON(w, st)
}

// WriteJSON answers 200 with v as JSON.
func WriteJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

// writeErr answers with the status and Cairn-Error code for err.
func writeErr(w http.ResponseWriter, err error) {
	code, status := "", http.StatusInternalServerError
	switch {
	case errors.Is(err, chunks.ErrNotFound):
		code, status = "not-found", http.StatusNotFound
	case errors.Is(err, chunks.ErrCorrupt):
		code = "corrupt"
	case errors.Is(err, chunks.ErrIDMismatch):
		code, status = "id-mismatch", http.StatusBadRequest
	case errors.Is(err, chunks.ErrTooLarge):
		code, status = "too-large", http.StatusRequestEntityTooLarge
	}
	if code != "" {
		w.Header().Set(hdrError, code)
	}
	http.Error(w, err.Error(), status)
}

// readAllInto reads r to EOF, appending to buf.
func readAllInto(buf []byte, r io.Reader) ([]byte, error) {
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
	}
}
