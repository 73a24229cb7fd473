package nfsgw

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"

	nfs "github.com/willscott/go-nfs"
)

const (
	// maxRecord bounds one RPC record: the largest WRITE plus headers.
	maxRecord = maxIOSize + 64<<10
	// maxInflight bounds the calls of one connection served at once;
	// clients pipeline many (Linux keeps up to 64K slots), and serving
	// them concurrently is what makes a single mount fast.
	maxInflight = 32
)

// request is one call being served.
type request struct {
	*rpcCall
	client netip.Addr
	port   uint16 // the client's source port, for secure exports
}

// from is the client's address and source port.
func (rq *request) from() netip.AddrPort { return netip.AddrPortFrom(rq.client, rq.port) }

// procFunc serves one procedure: it decodes the arguments from rq.args,
// returning errGarbage if they don't decode (before writing anything), and
// appends the results to w. The status is what metrics count.
type procFunc func(ctx context.Context, s *Server, rq *request, w *xdrWriter) (nfs.NFSStatus, error)

type procedure struct {
	name string
	fn   procFunc
}

type program struct {
	name      string
	low, high uint32
	procs     []procedure
}

// programs is filled in by init functions of the program files.
var programs = map[uint32]*program{}

// serveConn reads the records of one connection and serves their calls
// concurrently, up to maxInflight at once.
func (s *Server) serveConn(nc net.Conn) {
	client := clientAddr(nc)
	br := bufio.NewReaderSize(nc, 64<<10)
	var wmu sync.Mutex
	bw := bufio.NewWriterSize(nc, 64<<10)
	sem := make(chan struct{}, maxInflight)
	var wg sync.WaitGroup
	defer func() {
		wg.Wait()
		nc.Close()
	}()
	for {
		rec, err := readRecord(br, maxRecord)
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				s.log.Debug("closing connection", "client", client.String(), "err", err)
			}
			return
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			reply := s.handleRecord(s.ctx, client, rec)
			if reply == nil {
				return
			}
			wmu.Lock()
			defer wmu.Unlock()
			var mark [4]byte
			binary.BigEndian.PutUint32(mark[:], 1<<31|uint32(len(reply)))
			bw.Write(mark[:])
			bw.Write(reply)
			if err := bw.Flush(); err != nil {
				nc.Close() // the reader then stops too
			}
		}()
	}
}

// readRecord reads one RPC record (RFC 5531 record marking), joining its
// fragments; a record longer than max is an error.
func readRecord(r io.Reader, max int) ([]byte, error) {
	var rec []byte
	for {
		var mark [4]byte
		if _, err := io.ReadFull(r, mark[:]); err != nil {
			if len(rec) > 0 && errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
		h := binary.BigEndian.Uint32(mark[:])
		n := int(h & 0x7fffffff)
		if len(rec)+n > max {
			return nil, fmt.Errorf("RPC record of more than %d bytes", max)
		}
		start := len(rec)
		rec = append(rec, make([]byte, n)...)
		if _, err := io.ReadFull(r, rec[start:]); err != nil {
			return nil, io.ErrUnexpectedEOF
		}
		if h&(1<<31) != 0 {
			return rec, nil
		}
	}
}

// handleRecord serves the call in one record and returns the reply
// record, or nil if there is nothing to answer. It is the whole
// protocol path from bytes to bytes, which is what the fuzz test drives.
func (s *Server) handleRecord(ctx context.Context, from netip.AddrPort, rec []byte) []byte {
	c, reply, err := decodeCall(rec)
	if err != nil {
		return nil
	}
	if reply != nil {
		return reply
	}
	w := &xdrWriter{b: make([]byte, 0, 512)}
	p := programs[c.prog]
	switch {
	case p == nil:
		replyAccepted(w, c.xid, acceptProgUnavail)
		return w.b
	case c.vers < p.low || c.vers > p.high:
		replyAccepted(w, c.xid, acceptProgMismatch)
		w.uint32(p.low)
		w.uint32(p.high)
		return w.b
	case int64(c.proc) >= int64(len(p.procs)) || p.procs[c.proc].fn == nil:
		replyAccepted(w, c.xid, acceptProcUnavail)
		return w.b
	}
	proc := p.procs[c.proc]
	replyAccepted(w, c.xid, acceptSuccess)
	start := time.Now()
	st, err := s.call(ctx, proc.fn, &request{rpcCall: c, client: from.Addr(), port: from.Port()}, w)
	label := statusName(st)
	if err != nil {
		w.b = w.b[:0]
		if errors.Is(err, errGarbage) {
			replyAccepted(w, c.xid, acceptGarbageArgs)
			label = "GARBAGE_ARGS"
		} else {
			s.log.Error("procedure failed", "program", p.name, "procedure", proc.name, "err", err)
			replyAccepted(w, c.xid, acceptSystemErr)
			label = "SYSTEM_ERR"
		}
	}
	s.metrics.observe(p.name, proc.name, label, time.Since(start))
	if s.log.Enabled(ctx, slog.LevelDebug) {
		s.log.Debug("call", "client", from.String(), "program", p.name, "procedure", proc.name, "status", label)
	}
	return w.b
}

// crashOnPanic lets the fuzz tests see panics that call would hide.
var crashOnPanic = false

// call runs a procedure, turning a panic into a SYSTEM_ERR reply so that
// a bug in one procedure cannot take the gateway down.
func (s *Server) call(ctx context.Context, fn procFunc, rq *request, w *xdrWriter) (st nfs.NFSStatus, err error) {
	defer func() {
		if r := recover(); r != nil {
			if crashOnPanic {
				panic(r)
			}
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return fn(ctx, s, rq, w)
}
