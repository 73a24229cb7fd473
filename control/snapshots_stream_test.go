package control_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"slices"
	"testing"

	"google.golang.org/grpc/codes"

	cairnv1 "github.com/cairn-storage/cairn/api/cairn/v1"
	"github.com/cairn-storage/cairn/snapshots"
)

// Diffs stream in batches of at most 500 changes, the summary last.
func TestDiffSnapshots(t *testing.T) {
	d := startDaemon(t)
	snapVolume(t, d, "a", nil)
	snapTake(t, d, "a", "s0")
	files := map[string]string{}
	for i := range 1201 {
		files[fmt.Sprintf("f%04d", i)] = "x"
	}
	snapWriteFiles(t, d, "a", files)
	snapTake(t, d, "a", "s1")
	snapWriteFiles(t, d, "a", map[string]string{"live": "y"})
	for _, tc := range []struct {
		from, to string
		added    int64
		batches  []int // the root directory is modified too
	}{
		{from: "a@s0", to: "a@s1", added: 1201, batches: []int{500, 500, 202}},
		{from: "a@s1", to: "a", added: 1, batches: []int{2}},
		{from: "a@s1", to: "a@s1", batches: nil},
	} {
		batches, sum := snapDiff(t, d, tc.from, tc.to)
		if !slices.Equal(batches, tc.batches) || sum.GetAdded() != tc.added || sum.GetFrom() != tc.from || sum.GetTo() != tc.to {
			t.Errorf("diff %s %s: batches %v, summary %v; want %v, %d added", tc.from, tc.to, batches, sum, tc.batches, tc.added)
		}
	}
	for _, bad := range []struct {
		from, to string
		code     codes.Code
	}{
		{"", "a", codes.InvalidArgument},
		{"a@s0", "", codes.InvalidArgument},
		{"a@nope", "a", codes.NotFound},
		{"a@s0", "nope", codes.NotFound},
		{"a", "a@s0", codes.InvalidArgument},
	} {
		st, err := d.api.Snapshots.DiffSnapshots(ctx(t), &cairnv1.DiffSnapshotsRequest{From: bad.from, To: bad.to})
		if err == nil {
			_, err = st.Recv()
		}
		wantCode(t, err, bad.code)
	}
}

// snapDiff returns the sizes of the batches of changes and the summary.
func snapDiff(t *testing.T, d *daemon, from, to string) ([]int, *cairnv1.DiffSummary) {
	t.Helper()
	st, err := d.api.Snapshots.DiffSnapshots(ctx(t), &cairnv1.DiffSnapshotsRequest{From: from, To: to})
	if err != nil {
		t.Fatal(err)
	}
	var batches []int
	var sum *cairnv1.DiffSummary
	for {
		m, err := st.Recv()
		if errors.Is(err, io.EOF) {
			return batches, sum
		} else if err != nil {
			t.Fatal(err)
		}
		if sum != nil {
			t.Fatal("a message after the summary")
		}
		if len(m.GetChanges()) > 0 {
			batches = append(batches, len(m.GetChanges()))
		}
		sum = m.GetSummary()
	}
}

// A sent snapshot received by another daemon holds the same files.
func TestSendReceiveSnapshot(t *testing.T) {
	src, dst := startDaemon(t), startDaemon(t)
	big := make([]byte, 1<<20)
	rand.NewChaCha8([32]byte{1}).Read(big)
	snapVolume(t, src, "a", map[string]string{"big": string(big), "small": "hi"})
	snapTake(t, src, "a", "s")
	stream, stats := snapSend(t, src, "a@s", "")
	if stats.GetStreamBytes() != int64(len(stream)) || stats.GetDataChunks() == 0 {
		t.Fatalf("stats %v for a stream of %d bytes", stats, len(stream))
	}
	res := snapReceive(t, dst, "", stream)
	if !res.GetVolumeCreated() || res.GetSnapshot().GetName() != "s" || res.GetStats().GetObjects() != stats.GetObjects() {
		t.Fatalf("received %v", res)
	}
	if got, _ := snapReadFile(t, dst, "a", "big"); got != string(big) {
		t.Fatal("the received volume's big file differs")
	}
	// Incremental, into another volume name.
	snapWriteFiles(t, src, "a", map[string]string{"new": "n"})
	snapTake(t, src, "a", "s2")
	inc, _ := snapSend(t, src, "a@s2", "a@s")
	if len(inc) >= len(stream)/2 {
		t.Fatalf("incremental stream of %d bytes, the full one %d", len(inc), len(stream))
	}
	if res := snapReceive(t, dst, "", inc); res.GetSnapshot().GetName() != "s2" {
		t.Fatalf("received %v", res)
	}
	if res := snapReceive(t, dst, "copy", stream); res.GetSnapshot().GetVolume() != "copy" || !res.GetVolumeCreated() {
		t.Fatalf("received into copy: %v", res)
	}
	before := snapRefs(t, dst)
	for name, data := range map[string][]byte{"empty": nil, "truncated": stream[:len(stream)/2], "garbage": []byte("not a stream")} {
		_, err := snapReceiveErr(t, dst, "fresh", data)
		t.Logf("%s: %v", name, err)
		wantCode(t, err, codes.InvalidArgument)
	}
	late, err := dst.api.Snapshots.ReceiveSnapshot(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	late.Send(&cairnv1.ReceiveSnapshotRequest{Data: stream[:10]})
	late.Send(&cairnv1.ReceiveSnapshotRequest{Volume: "fresh", Data: stream[10:]})
	_, err = late.CloseAndRecv()
	wantCode(t, err, codes.InvalidArgument) // volume in a later message
	snapUnchanged(t, dst, before)
	_, err = dst.api.Volumes.GetVolume(ctx(t), &cairnv1.GetVolumeRequest{Name: "fresh"})
	wantCode(t, err, codes.NotFound)
	for _, bad := range []struct {
		snap, base string
		code       codes.Code
	}{{"a@nope", "", codes.NotFound}, {"", "", codes.InvalidArgument}, {"a@s2", "a@nope", codes.NotFound}, {"bad", "", codes.InvalidArgument}} {
		_, _, err := snapSendErr(t, src, bad.snap, bad.base)
		wantCode(t, err, bad.code)
	}
}

// snapSend returns a snapshot's stream and stats, checking message sizes.
func snapSend(t *testing.T, d *daemon, snap, base string) ([]byte, *cairnv1.StreamStats) {
	t.Helper()
	data, stats, err := snapSendErr(t, d, snap, base)
	if err != nil {
		t.Fatal(err)
	}
	return data, stats
}

func snapSendErr(t *testing.T, d *daemon, snap, base string) ([]byte, *cairnv1.StreamStats, error) {
	t.Helper()
	st, err := d.api.Snapshots.SendSnapshot(ctx(t), &cairnv1.SendSnapshotRequest{Snapshot: snap, Base: base})
	if err != nil {
		return nil, nil, err
	}
	var buf bytes.Buffer
	var stats *cairnv1.StreamStats
	for {
		m, err := st.Recv()
		if errors.Is(err, io.EOF) {
			return buf.Bytes(), stats, nil
		} else if err != nil {
			return nil, nil, err
		}
		if stats != nil || len(m.GetData()) > 256<<10 {
			t.Fatalf("a message of %d bytes after stats %v", len(m.GetData()), stats)
		}
		buf.Write(m.GetData())
		stats = m.GetStats()
	}
}

// snapReceive sends data to ReceiveSnapshot in 100 KiB messages.
func snapReceive(t *testing.T, d *daemon, volume string, data []byte) *cairnv1.ReceiveSnapshotResponse {
	t.Helper()
	res, err := snapReceiveErr(t, d, volume, data)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func snapReceiveErr(t *testing.T, d *daemon, volume string, data []byte) (*cairnv1.ReceiveSnapshotResponse, error) {
	t.Helper()
	st, err := d.api.Snapshots.ReceiveSnapshot(ctx(t))
	if err != nil {
		return nil, err
	}
	for first := true; first || len(data) > 0; first = false {
		n := min(len(data), 100<<10)
		m := &cairnv1.ReceiveSnapshotRequest{Data: data[:n]}
		if first {
			m.Volume = volume
		}
		if err := st.Send(m); err != nil {
			break // the daemon gave up: CloseAndRecv says why
		}
		data = data[n:]
	}
	return st.CloseAndRecv()
}

// A push reaches another daemon's receiver.
func TestPushSnapshot(t *testing.T) {
	src, dst := startDaemon(t), startDaemon(t)
	snapVolume(t, src, "a", map[string]string{"f": "pushed"})
	snapTake(t, src, "a", "s")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- snapshots.New(dst.d.FS, dst.d.Chunks, snapshots.Options{}).ServePush(c, l) }()
	t.Cleanup(func() { cancel(); <-done })
	resp, err := src.api.Snapshots.PushSnapshot(ctx(t), &cairnv1.PushSnapshotRequest{Snapshot: "a@s", Address: l.Addr().String()})
	if err != nil {
		t.Fatal(err)
	}
	if resp.GetOffered() == 0 || resp.GetWanted() != resp.GetOffered() || resp.GetReceived().GetSnapshot().GetName() != "s" {
		t.Fatalf("pushed %v", resp)
	}
	if got, _ := snapReadFile(t, dst, "a", "f"); got != "pushed" {
		t.Fatalf("the pushed volume's f holds %q", got)
	}
	for _, bad := range []struct {
		snap, addr string
		code       codes.Code
	}{{"a@nope", l.Addr().String(), codes.NotFound}, {"", "x:1", codes.InvalidArgument}, {"a@s", "", codes.InvalidArgument}} {
		_, err := src.api.Snapshots.PushSnapshot(ctx(t), &cairnv1.PushSnapshotRequest{Snapshot: bad.snap, Address: bad.addr})
		wantCode(t, err, bad.code)
	}
}

// snapTake takes snapshot volume@name through the API.
func snapTake(t *testing.T, d *daemon, volume, name string) {
	t.Helper()
	if _, err := d.api.Snapshots.CreateSnapshot(ctx(t), &cairnv1.CreateSnapshotRequest{Volume: volume, Name: name}); err != nil {
		t.Fatal(err)
	}
}
