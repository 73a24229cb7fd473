package control

import (
	"context"
	"errors"
	"fmt"
	"io"

	"google.golang.org/grpc/codes"

	cairnv1 "github.com/cairn-storage/cairn/api/cairn/v1"
	"github.com/cairn-storage/cairn/snapshots"
)

// diffBatch is how many changes one DiffSnapshots message carries: big
// diffs stream instead of making one message past the size limit.
const diffBatch = 500

// sendChunk is the data one SendSnapshot message carries.
const sendChunk = 256 << 10

// DiffSnapshots streams the changes in batches, then the summary.
func (v snapshotsService) DiffSnapshots(r *cairnv1.DiffSnapshotsRequest, stream cairnv1.Snapshots_DiffSnapshotsServer) error {
	if r.GetFrom() == "" {
		return required("from")
	}
	if r.GetTo() == "" {
		return required("to")
	}
	res, err := v.s.cfg.Snapshots.Diff(stream.Context(), r.GetFrom(), r.GetTo())
	if err != nil {
		return err
	}
	for i := 0; i < len(res.Changes); i += diffBatch {
		batch := res.Changes[i:min(i+diffBatch, len(res.Changes))]
		if err := stream.Send(&cairnv1.DiffSnapshotsResponse{Changes: changeProtos(batch)}); err != nil {
			return err
		}
	}
	return stream.Send(&cairnv1.DiffSnapshotsResponse{Summary: &cairnv1.DiffSummary{From: res.From, To: res.To,
		Added: int64(res.Added), Removed: int64(res.Removed), Modified: int64(res.Modified), Renamed: int64(res.Renamed)}})
}

// SendSnapshot streams a snapshot in sendChunk messages, then the stats.
func (v snapshotsService) SendSnapshot(r *cairnv1.SendSnapshotRequest, stream cairnv1.Snapshots_SendSnapshotServer) error {
	if r.GetSnapshot() == "" {
		return required("snapshot")
	}
	w := &sendWriter{stream: stream}
	st, err := v.s.cfg.Snapshots.Send(stream.Context(), r.GetSnapshot(), r.GetBase(), w)
	if err == nil {
		err = w.flush()
	}
	if err != nil {
		return err
	}
	return stream.Send(&cairnv1.SendSnapshotResponse{Stats: statsProto(st)})
}

// sendWriter cuts what Send writes into messages of sendChunk bytes.
type sendWriter struct {
	stream cairnv1.Snapshots_SendSnapshotServer
	buf    []byte
}

// Write buffers p, sending every full chunk.
func (w *sendWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		if w.buf == nil {
			// A fresh buffer per message: gRPC may read a sent message
			// after Send returns.
			w.buf = make([]byte, 0, sendChunk)
		}
		k := copy(w.buf[len(w.buf):cap(w.buf)], p)
		w.buf, p = w.buf[:len(w.buf)+k], p[k:]
		if len(w.buf) == sendChunk {
			if err := w.flush(); err != nil {
				return n - len(p), err
			}
		}
	}
	return n, nil
}

// flush sends what is buffered.
func (w *sendWriter) flush() error {
	if len(w.buf) == 0 {
		return nil
	}
	msg := &cairnv1.SendSnapshotResponse{Data: w.buf}
	w.buf = nil
	if err := w.stream.Send(msg); err != nil {
		return fmt.Errorf("send stream: %w", err)
	}
	return nil
}

// ReceiveSnapshot stores the stream the client sends.
func (v snapshotsService) ReceiveSnapshot(stream cairnv1.Snapshots_ReceiveSnapshotServer) error {
	first, err := stream.Recv()
	if errors.Is(err, io.EOF) {
		return errorf(codes.InvalidArgument, "receive: the client sent no stream")
	} else if err != nil {
		return err
	}
	r := &recvReader{stream: stream, buf: first.GetData()}
	res, err := v.s.cfg.Snapshots.Receive(stream.Context(), r, snapshots.ReceiveOptions{Volume: first.GetVolume()})
	if err != nil {
		return err
	}
	return stream.SendAndClose(receivedProto(res))
}

// recvReader reads the data of the messages of a ReceiveSnapshot stream.
type recvReader struct {
	stream cairnv1.Snapshots_ReceiveSnapshotServer
	buf    []byte
}

// Read returns buffered data, receiving the next message when none is
// left; io.EOF once the client closed its side.
func (r *recvReader) Read(p []byte) (int, error) {
	for len(r.buf) == 0 {
		msg, err := r.stream.Recv()
		if err != nil {
			return 0, err
		}
		if msg.GetVolume() != "" {
			return 0, fmt.Errorf("receive: volume %q in a later message: set it in the first one only: %w",
				msg.GetVolume(), snapshots.ErrInvalid)
		}
		r.buf = msg.GetData()
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

// PushSnapshot sends a snapshot to another cluster's receiver.
func (v snapshotsService) PushSnapshot(ctx context.Context, r *cairnv1.PushSnapshotRequest) (*cairnv1.PushSnapshotResponse, error) {
	if r.GetSnapshot() == "" {
		return nil, required("snapshot")
	}
	if r.GetAddress() == "" {
		return nil, required("address")
	}
	st, err := v.s.cfg.Snapshots.Push(ctx, r.GetSnapshot(), r.GetBase(), r.GetAddress())
	if err != nil {
		return nil, err
	}
	return &cairnv1.PushSnapshotResponse{Offered: st.Offered, Wanted: st.Wanted, Stream: statsProto(st.Stream),
		Received: receivedProto(st.Received)}, nil
}

// changeProtos is the API form of diff changes.
func changeProtos(cs []snapshots.Change) []*cairnv1.Change {
	out := make([]*cairnv1.Change, 0, len(cs))
	for _, c := range cs {
		out = append(out, &cairnv1.Change{Type: c.Type, Path: c.Path, From: c.From, Kind: c.Kind, Ino: c.Ino})
	}
	return out
}

// statsProto is the API form of a stream's counts.
func statsProto(s snapshots.StreamStats) *cairnv1.StreamStats {
	return &cairnv1.StreamStats{Objects: s.Objects, TreeNodes: s.TreeNodes, DataChunks: s.DataChunks,
		ObjectBytes: s.ObjectBytes, StreamBytes: s.StreamBytes}
}

// receivedProto is the API form of a received snapshot.
func receivedProto(r snapshots.Received) *cairnv1.ReceiveSnapshotResponse {
	return &cairnv1.ReceiveSnapshotResponse{Snapshot: snapshotProto(r.Snapshot), Stats: statsProto(r.Stats),
		VolumeCreated: r.VolumeCreated}
}
