package snapshots

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"strings"
	"testing"

	"github.com/cairn-storage/cairn/chunks"
	"github.com/cairn-storage/cairn/fs"
)

// sourceVolume fills volume a of e with 200 files of 32 KiB in 4
// directories, plus a symlink, a hard link, xattrs and a sparse file.
func sourceVolume(t *testing.T, e *env, rng *rand.Rand) *fs.Volume {
	ctx := context.Background()
	v := e.vol("a")
	for d := range 4 {
		dir := mkdir(t, v, fs.RootIno, fmt.Sprintf("d%d", d))
		for f := range 50 {
			writeFile(t, v, dir, fmt.Sprintf("f%02d", f), randomBytes(rng, 32<<10), 0)
		}
	}
	sparse := writeFile(t, v, fs.RootIno, "sparse", []byte("end"), 10<<20)
	check(t, v.SetXattr(ctx, nil, sparse, "user.kind", []byte("sparse"), 0))
	must[any](t)(v.Symlink(ctx, nil, fs.RootIno, "link", "d0/f00"))
	must[any](t)(v.Link(ctx, nil, lookup(t, v, "d1/f01"), fs.RootIno, "hard"))
	return v
}

func send(t *testing.T, e *env, snap, base string) []byte {
	t.Helper()
	var buf bytes.Buffer
	st := must[StreamStats](t)(e.m.Send(context.Background(), snap, base, &buf))
	if st.StreamBytes != int64(buf.Len()) {
		t.Fatalf("send reports %d bytes, wrote %d", st.StreamBytes, buf.Len())
	}
	return buf.Bytes()
}

// Full and incremental send/receive into a second data directory give
// the same trees; the incremental stream after a 1% change is at most 2%
// of the full one.
func TestSendReceive(t *testing.T) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(5, 6))
	src, dst := newEnv(t), newEnv(t)
	v := sourceVolume(t, src, rng)
	must[fs.VolumeInfo](t)(src.d.FS.UpdateVolume(ctx, "a", func(c *fs.VolumeConfig) error {
		c.Quota, c.Labels = 1<<40, map[string]string{"team": "db"}
		return nil
	}))
	want1 := volState(t, v)
	s1 := must[Snapshot](t)(src.m.Create(ctx, "a", "s1", CreateOptions{Labels: map[string]string{"k": "v"}}))
	full := send(t, src, "a@s1", "")

	res := must[Received](t)(dst.m.Receive(ctx, bytes.NewReader(full), ReceiveOptions{}))
	if res.Snapshot.Root.Node != s1.Root.Node || !res.VolumeCreated || res.Snapshot.Received == nil {
		t.Fatalf("received %+v", res)
	}
	if res.Snapshot.Config.Quota != 1<<40 || res.Snapshot.Config.Labels["team"] != "db" || res.Snapshot.Labels["k"] != "v" {
		t.Errorf("configuration or labels lost: %+v %+v", res.Snapshot.Config, res.Snapshot.Labels)
	}
	info := must[fs.VolumeInfo](t)(dst.d.FS.VolumeInfo(ctx, "a"))
	if info.Quota != 1<<40 || info.Labels["team"] != "db" {
		t.Errorf("received volume has config %+v", info.VolumeConfig)
	}
	if d := diffStates(want1, volState(t, dst.open("a"))); d != "" {
		t.Fatalf("received volume differs from the source at s1:\n%s", d)
	}

	// Change 1% of the files (2 of 200) and send incrementally.
	for _, p := range []string{"d0/f10", "d3/f20"} {
		writeAt(t, v, lookup(t, v, p), randomBytes(rng, 32<<10), 0)
	}
	want2 := volState(t, v)
	s2 := must[Snapshot](t)(src.m.Create(ctx, "a", "s2", CreateOptions{}))
	incr := send(t, src, "a@s2", "a@s1")
	t.Logf("full stream %d bytes, incremental after 1%% change %d bytes (%.2f%%)", len(full), len(incr), 100*float64(len(incr))/float64(len(full)))
	if len(incr)*50 > len(full) {
		t.Errorf("incremental stream is %d bytes, more than 2%% of the full %d", len(incr), len(full))
	}
	res2 := must[Received](t)(dst.m.Receive(ctx, bytes.NewReader(incr), ReceiveOptions{}))
	if res2.Snapshot.Root.Node != s2.Root.Node || res2.VolumeCreated {
		t.Fatalf("received %+v", res2)
	}
	if d := diffStates(want2, treeState(t, dst.d.Chunks, res2.Snapshot.Root)); d != "" {
		t.Fatalf("received s2 differs:\n%s", d)
	}

	// An incremental stream needs its base.
	other := newEnv(t)
	_, err := other.m.Receive(ctx, bytes.NewReader(incr), ReceiveOptions{})
	if err == nil || !strings.Contains(err.Error(), "full stream first") {
		t.Fatalf("incremental without base: %v", err)
	}
	if l := must[[]Snapshot](t)(other.m.List(ctx, "")); len(l) != 0 {
		t.Fatalf("a refused stream left records: %v", l)
	}
	// The same snapshot twice is refused.
	if _, err := dst.m.Receive(ctx, bytes.NewReader(full), ReceiveOptions{}); !errors.Is(err, ErrExists) {
		t.Fatalf("receiving a snapshot twice: %v", err)
	}
	// Under another volume name, it works again (and dedups everything).
	res3 := must[Received](t)(dst.m.Receive(ctx, bytes.NewReader(full), ReceiveOptions{Volume: "copy"}))
	if res3.Snapshot.Ref() != "copy@s1" || !res3.VolumeCreated {
		t.Fatalf("received as %s (created %v)", res3.Snapshot.Ref(), res3.VolumeCreated)
	}
	if p := must[fsckReport](t)(fsck(dst)); len(p) > 0 {
		t.Fatalf("fsck of the receiver: %v", p)
	}
}

// Truncated or corrupt streams are rejected, leaving no record and no
// volume; only the intact stream is accepted.
func TestReceiveRejectsBadStreams(t *testing.T) {
	ctx := context.Background()
	src, dst := newEnv(t), newEnv(t)
	v := src.vol("a")
	rng := rand.New(rand.NewPCG(7, 8))
	for i := range 5 {
		writeFile(t, v, fs.RootIno, fmt.Sprintf("f%d", i), randomBytes(rng, 20<<10), 0)
	}
	must[Snapshot](t)(src.m.Create(ctx, "a", "s", CreateOptions{}))
	good := send(t, src, "a@s", "")
	n := len(good)
	var bads [][]byte
	for _, cut := range []int{0, 4, 9, 14, 30, n / 3, n / 2, n - 50, n - 33, n - 32, n - 1} {
		bads = append(bads, good[:cut])
	}
	for _, pos := range []int{3, 9, 20, n / 3, n / 2, n - 40, n - 20, n - 1} {
		b := bytes.Clone(good)
		b[pos] ^= 0x40
		bads = append(bads, b)
	}
	bads = append(bads, append(bytes.Clone(good), 0))
	// A well-formed stream (valid checksum) that lacks an object. (Into a
	// fresh receiver: the failed receives below leave their objects.)
	fresh := newEnv(t)
	if _, err := fresh.m.Receive(ctx, bytes.NewReader(streamWithout(t, src, "a@s")), ReceiveOptions{}); !errorsContain(err, "neither in the stream nor here") {
		t.Fatalf("stream lacking an object: %v", err)
	}
	if l := must[[]Snapshot](t)(fresh.m.List(ctx, "")); len(l) != 0 {
		t.Fatal("a stream lacking an object left a record")
	}
	for i, b := range bads {
		_, err := dst.m.Receive(ctx, bytes.NewReader(b), ReceiveOptions{})
		if err == nil {
			t.Fatalf("bad stream %d (%d bytes) accepted", i, len(b))
		}
		if l := must[[]Snapshot](t)(dst.m.List(ctx, "")); len(l) != 0 {
			t.Fatalf("bad stream %d left a record", i)
		}
		if _, err := dst.d.FS.VolumeInfo(ctx, "a"); !errors.Is(err, fs.ErrNoVolume) {
			t.Fatalf("bad stream %d left a volume (%v)", i, err)
		}
	}
	must[Received](t)(dst.m.Receive(ctx, bytes.NewReader(good), ReceiveOptions{}))
}

// streamWithout writes a valid stream of snap that leaves out one data chunk.
func streamWithout(t *testing.T, e *env, snap string) []byte {
	ctx := context.Background()
	p := must[*sendPlan](t)(e.m.plan(ctx, snap, ""))
	var buf bytes.Buffer
	sw := newStreamWriter(&buf)
	check(t, sw.header(p.header()))
	skipped := false
	check(t, p.objects(ctx, true, func(kind byte, id chunks.ID, data []byte) error {
		if kind == kindData && !skipped {
			skipped = true
			return nil
		}
		return sw.object(kind, id, data)
	}))
	check(t, sw.trailer())
	return buf.Bytes()
}

// Push sends only what the receiver lacks.
func TestPush(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rng := rand.New(rand.NewPCG(9, 10))
	src, dst := newEnv(t), newEnv(t)
	v := sourceVolume(t, src, rng)
	s1 := must[Snapshot](t)(src.m.Create(ctx, "a", "s1", CreateOptions{}))
	l := must[net.Listener](t)(net.Listen("tcp", "127.0.0.1:0"))
	done := make(chan error, 1)
	go func() { done <- dst.m.ServePush(ctx, l) }()
	addr := l.Addr().String()

	st := must[PushStats](t)(src.m.Push(ctx, "a@s1", "", addr))
	if st.Received.Snapshot.Root.Node != s1.Root.Node || st.Wanted != st.Offered {
		t.Fatalf("first push: %+v", st)
	}
	// After a 1% change, a full push (no base) offers everything but
	// sends only the changed objects.
	for _, p := range []string{"d0/f10", "d3/f20"} {
		writeAt(t, v, lookup(t, v, p), randomBytes(rng, 32<<10), 0)
	}
	s2 := must[Snapshot](t)(src.m.Create(ctx, "a", "s2", CreateOptions{}))
	st2 := must[PushStats](t)(src.m.Push(ctx, "a@s2", "", addr))
	t.Logf("push of s2: offered %d objects, %d wanted, stream %d bytes (first push: %d)", st2.Offered, st2.Wanted, st2.Stream.StreamBytes, st.Stream.StreamBytes)
	if st2.Received.Snapshot.Root.Node != s2.Root.Node || st2.Wanted*10 > st2.Offered || st2.Stream.StreamBytes*20 > st.Stream.StreamBytes {
		t.Fatalf("second push: %+v", st2)
	}
	// Incremental push, and a refused one.
	check(t, src.m.Delete(ctx, "a@s2"))
	must[Snapshot](t)(src.m.Create(ctx, "a", "s3", CreateOptions{}))
	st3 := must[PushStats](t)(src.m.Push(ctx, "a@s3", "a@s1", addr))
	if st3.Offered > 20 {
		t.Errorf("incremental push offered %d objects", st3.Offered)
	}
	if _, err := src.m.Push(ctx, "a@s3", "", addr); !errorsContain(err, "exists") {
		t.Errorf("pushing a snapshot the receiver has: %v", err)
	}
	cancel()
	check(t, <-done)
	if p := must[fsckReport](t)(fsck(dst)); len(p) > 0 {
		t.Fatalf("fsck of the receiver: %v", p)
	}
}

func errorsContain(err error, s string) bool { return err != nil && strings.Contains(err.Error(), s) }
