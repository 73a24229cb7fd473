package snapshots

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/cairn-storage/cairn/chunks"
)

// The push protocol, over one TCP connection. Every message but the
// stream is a frame: a type byte, a uvarint length (at most
// maxFrame) and that many bytes.
//
//	sender                          receiver
//	'H' stream header (JSON)   →
//	                           ←    'K' (go on) or 'X' error text
//	'O' up to offerBatch IDs   →    (repeated)
//	                           ←    'W' bitmap: bit i set = ID i wanted
//	'S' (empty), then a stream
//	  carrying only wanted objects →
//	                           ←    'K' Received (JSON) or 'X' error text
//
// The receiver pins every offered ID it has until the end, so a GC can't
// sweep what it said it had; the stream is then received as by Receive.
const (
	maxFrame   = 1 << 20
	offerBatch = 4096
	pushIdle   = 10 * time.Minute // longest silence on a push connection

	msgHello  = 'H'
	msgOK     = 'K'
	msgError  = 'X'
	msgOffer  = 'O'
	msgWant   = 'W'
	msgStream = 'S'
)

// PushStats count what a push offered and sent.
type PushStats struct {
	Offered  int64       `json:"offered"`
	Wanted   int64       `json:"wanted"`
	Stream   StreamStats `json:"stream"`
	Received Received    `json:"received"`
}

// Push sends snapshot snap to a receiver at addr (see ServePush),
// incremental to base if base is not "": it offers the IDs of the
// objects the snapshot needs in batches, and sends only those the
// receiver lacks.
func (m *Manager) Push(ctx context.Context, snap, base, addr string) (PushStats, error) {
	var st PushStats
	p, err := m.plan(ctx, snap, base)
	if err != nil {
		return st, err
	}
	conn, err := (&net.Dialer{Timeout: 30 * time.Second}).DialContext(ctx, "tcp", addr)
	if err != nil {
		return st, fmt.Errorf("push %s: %w", snap, err)
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	pc := newPushConn(conn)
	fail := func(err error) (PushStats, error) {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return st, fmt.Errorf("push %s to %s: %w", snap, addr, err)
	}

	hdr, err := json.Marshal(p.header())
	if err != nil {
		return fail(err)
	}
	if err := pc.send(msgHello, hdr); err != nil {
		return fail(err)
	}
	if _, err := pc.reply(msgOK); err != nil {
		return fail(err)
	}
	type ref struct {
		kind byte
		id   chunks.ID
	}
	var list []ref
	err = p.objects(ctx, false, func(kind byte, id chunks.ID, _ []byte) error {
		list = append(list, ref{kind, id})
		return nil
	})
	if err != nil {
		return fail(err)
	}
	want := make([]bool, len(list))
	for lo := 0; lo < len(list); lo += offerBatch {
		batch := list[lo:min(lo+offerBatch, len(list))]
		b := make([]byte, 0, len(batch)*chunks.IDSize)
		for _, r := range batch {
			b = append(b, r.id[:]...)
		}
		if err := pc.send(msgOffer, b); err != nil {
			return fail(err)
		}
		bits, err := pc.reply(msgWant)
		if err != nil {
			return fail(err)
		}
		if len(bits) != (len(batch)+7)/8 {
			return fail(fmt.Errorf("want bitmap of %d bytes for %d offers", len(bits), len(batch)))
		}
		for i := range batch {
			if bits[i/8]&(1<<(i%8)) != 0 {
				want[lo+i] = true
				st.Wanted++
			}
		}
		st.Offered += int64(len(batch))
	}
	if err := pc.send(msgStream, nil); err != nil {
		return fail(err)
	}
	sw := newStreamWriter(pc.w)
	if err := sw.header(p.header()); err != nil {
		return fail(err)
	}
	for i, r := range list {
		if !want[i] {
			continue
		}
		data, err := m.store.Get(ctx, r.id)
		if err != nil {
			return fail(fmt.Errorf("object %s: %w", r.id, err))
		}
		if err := sw.object(r.kind, r.id, data); err != nil {
			return fail(err)
		}
	}
	if err := sw.trailer(); err != nil {
		return fail(err)
	}
	if err := pc.w.Flush(); err != nil {
		return fail(err)
	}
	st.Stream = sw.stats
	res, err := pc.reply(msgOK)
	if err != nil {
		return fail(err)
	}
	if err := json.Unmarshal(res, &st.Received); err != nil {
		return fail(fmt.Errorf("receiver's answer: %w", err))
	}
	m.log.Info("snapshot pushed", "snapshot", snap, "to", addr, "offered", st.Offered, "sent", st.Wanted,
		"bytes", st.Stream.StreamBytes)
	return st, nil
}

// ServePush receives pushed snapshots on l until ctx is done. Each
// connection is served on its own goroutine; errors are logged and sent
// to the pusher. The protocol has no authentication: listen only where
// the senders are trusted (or tunnel it).
func (m *Manager) ServePush(ctx context.Context, l net.Listener) error {
	stop := context.AfterFunc(ctx, func() { l.Close() })
	defer stop()
	var wg sync.WaitGroup
	defer wg.Wait() // handlers end with ctx: their connections close
	for {
		conn, err := l.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return fmt.Errorf("serve push: %w", err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer conn.Close()
			if err := m.handlePush(ctx, conn); err != nil {
				m.log.Warn("push failed", "from", conn.RemoteAddr().String(), "err", err)
			}
		}()
	}
}

// handlePush serves one push connection.
func (m *Manager) handlePush(ctx context.Context, conn net.Conn) error {
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	pc := newPushConn(conn)
	rc := m.newReceiver(ReceiveOptions{})
	defer rc.release()
	refuse := func(err error) error {
		_ = pc.send(msgError, []byte(err.Error()))
		_ = pc.w.Flush()
		return err
	}
	typ, b, err := pc.read()
	if err != nil {
		return err
	}
	if typ != msgHello {
		return refuse(fmt.Errorf("message %q before hello: %w", typ, ErrBadStream))
	}
	var hdr streamHeader
	if err := json.Unmarshal(b, &hdr); err != nil {
		return refuse(bad("hello: %v", err))
	}
	if err := checkHeader(hdr); err != nil {
		return refuse(err)
	}
	if err := rc.prepare(ctx, hdr); err != nil {
		return refuse(err)
	}
	if err := pc.send(msgOK, nil); err != nil {
		return err
	}
	for {
		typ, b, err := pc.read()
		if err != nil {
			return err
		}
		if typ == msgStream {
			break
		}
		if typ != msgOffer || len(b)%chunks.IDSize != 0 || len(b)/chunks.IDSize > offerBatch {
			return refuse(bad("bad offer (message %q of %d bytes)", typ, len(b)))
		}
		n := len(b) / chunks.IDSize
		bits := make([]byte, (n+7)/8)
		for i := range n {
			id := chunks.ID(b[i*chunks.IDSize:])
			rc.pin(id)
			if _, err := m.store.Stat(ctx, id); errors.Is(err, chunks.ErrNotFound) {
				bits[i/8] |= 1 << (i % 8)
			} else if err != nil {
				return refuse(err)
			}
		}
		if err := pc.send(msgWant, bits); err != nil {
			return err
		}
	}
	sr := newStreamReader(pc.r)
	h2, err := sr.header()
	if err != nil {
		return refuse(err)
	}
	if h2.Snapshot.Name != hdr.Snapshot.Name || h2.Snapshot.Root.Node != hdr.Snapshot.Root.Node {
		return refuse(bad("stream is not the snapshot offered"))
	}
	if err := rc.objects(ctx, sr); err != nil {
		return refuse(err)
	}
	res, err := rc.finish(ctx, sr.stats)
	if err != nil {
		return refuse(err)
	}
	js, err := json.Marshal(res)
	if err != nil {
		return refuse(err)
	}
	return pc.send(msgOK, js)
}

// pushConn frames messages on a connection, with an idle timeout.
type pushConn struct {
	conn net.Conn
	r    *bufio.Reader
	w    *bufio.Writer
}

func newPushConn(conn net.Conn) *pushConn {
	ic := idleConn{conn}
	return &pushConn{conn: conn, r: bufio.NewReaderSize(ic, 256<<10), w: bufio.NewWriterSize(ic, 256<<10)}
}

// send writes one frame and flushes it.
func (pc *pushConn) send(typ byte, payload []byte) error {
	b := binary.AppendUvarint([]byte{typ}, uint64(len(payload)))
	if _, err := pc.w.Write(b); err != nil {
		return err
	}
	if _, err := pc.w.Write(payload); err != nil {
		return err
	}
	return pc.w.Flush()
}

// read reads one frame.
func (pc *pushConn) read() (byte, []byte, error) {
	typ, err := pc.r.ReadByte()
	if err != nil {
		return 0, nil, err
	}
	n, err := binary.ReadUvarint(pc.r)
	if err != nil {
		return 0, nil, err
	}
	if n > maxFrame {
		return 0, nil, bad("frame of %d bytes", n)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(pc.r, b); err != nil {
		return 0, nil, err
	}
	return typ, b, nil
}

// reply reads the peer's answer: want, or an error frame.
func (pc *pushConn) reply(want byte) ([]byte, error) {
	typ, b, err := pc.read()
	switch {
	case err != nil:
		return nil, err
	case typ == msgError:
		return nil, fmt.Errorf("receiver: %s", b)
	case typ != want:
		return nil, bad("answer %q, want %q", typ, want)
	}
	return b, nil
}

// idleConn gives every read and write a deadline of pushIdle from now.
type idleConn struct{ net.Conn }

func (c idleConn) Read(p []byte) (int, error) {
	if err := c.SetReadDeadline(time.Now().Add(pushIdle)); err != nil {
		return 0, err
	}
	return c.Conn.Read(p)
}

func (c idleConn) Write(p []byte) (int, error) {
	if err := c.SetWriteDeadline(time.Now().Add(pushIdle)); err != nil {
		return 0, err
	}
	return c.Conn.Write(p)
}
