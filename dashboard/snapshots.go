package dashboard

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/dustin/go-humanize"

	cairnv1 "github.com/cairn-storage/cairn/api/cairn/v1"
)

// snapshotPath is the page of snapshot ref (volume@name).
func snapshotPath(ref string) string { return "/ui/snapshots/" + pathEscape(ref) }

// snapshotsData is the snapshots page.
type snapshotsData struct {
	Volume    string // the filter, "" for all
	Volumes   []string
	Snapshots []*cairnv1.Snapshot
}

// snapshotsPage lists the snapshots, of one volume with ?volume=.
func (s *Server) snapshotsPage(w http.ResponseWriter, r *http.Request, sess *session) {
	ctx, cancel := context.WithTimeout(r.Context(), callTimeout)
	defer cancel()
	d := snapshotsData{Volume: r.URL.Query().Get("volume")}
	snaps, err := s.api.Snapshots.ListSnapshots(ctx, &cairnv1.ListSnapshotsRequest{Volume: d.Volume})
	if err != nil {
		s.failPage(w, r, sess, "Snapshots", err)
		return
	}
	vols, err := s.api.Volumes.ListVolumes(ctx, &cairnv1.ListVolumesRequest{})
	if err != nil {
		s.failPage(w, r, sess, "Volumes", err)
		return
	}
	for _, v := range vols.GetVolumes() {
		d.Volumes = append(d.Volumes, v.GetName())
	}
	d.Snapshots = newestFirst(snaps.GetSnapshots())
	s.render(w, r, sess, "snapshots", "Snapshots", d)
}

// snapshotData is a snapshot's page.
type snapshotData struct {
	*cairnv1.GetSnapshotResponse
	Ref      string
	Siblings []*cairnv1.Snapshot // the volume's other snapshots, to diff with
}

// snapshotPage shows a snapshot with the bytes only it holds.
func (s *Server) snapshotPage(w http.ResponseWriter, r *http.Request, sess *session) {
	ref := r.PathValue("ref")
	ctx, cancel := context.WithTimeout(r.Context(), time.Minute) // unique bytes walk every snapshot
	defer cancel()
	resp, err := s.api.Snapshots.GetSnapshot(ctx, &cairnv1.GetSnapshotRequest{Ref: ref, Unique: true})
	if err != nil {
		s.failPage(w, r, sess, "Snapshot "+ref, err)
		return
	}
	all, err := s.api.Snapshots.ListSnapshots(ctx, &cairnv1.ListSnapshotsRequest{Volume: resp.GetSnapshot().GetVolume()})
	if err != nil {
		s.failPage(w, r, sess, "Snapshots", err)
		return
	}
	d := snapshotData{GetSnapshotResponse: resp, Ref: ref}
	for _, o := range newestFirst(all.GetSnapshots()) {
		if o.GetName() != resp.GetSnapshot().GetName() {
			d.Siblings = append(d.Siblings, o)
		}
	}
	s.render(w, r, sess, "snapshot", "Snapshot "+ref, d)
}

// cloneSnapshot makes a writable volume of the snapshot.
func (s *Server) cloneSnapshot(w http.ResponseWriter, r *http.Request, sess *session) {
	ref, name := r.PathValue("ref"), strings.TrimSpace(r.PostFormValue("clone"))
	_, err := s.api.Snapshots.CloneSnapshot(r.Context(), &cairnv1.CloneSnapshotRequest{Snapshot: ref, Name: name})
	s.finish(w, r, sess, err, snapshotPath(ref), volumePath(name), "Volume "+name+" cloned from "+ref+".")
}

// deleteSnapshot deletes the snapshot once its ref was typed to confirm.
func (s *Server) deleteSnapshot(w http.ResponseWriter, r *http.Request, sess *session) {
	ref := r.PathValue("ref")
	if r.PostFormValue("confirm") != ref {
		s.done(w, r, sess, snapshotPath(ref), fmt.Errorf("snapshot %s not deleted: type %s to confirm", ref, ref), "")
		return
	}
	_, err := s.api.Snapshots.DeleteSnapshot(r.Context(), &cairnv1.DeleteSnapshotRequest{Ref: ref})
	vol, _, _ := strings.Cut(ref, "@")
	s.finish(w, r, sess, err, snapshotPath(ref), volumePath(vol), "Snapshot "+ref+" deleted.")
}

// pushSnapshot sends the snapshot to another cairn's receiver, as a job.
func (s *Server) pushSnapshot(w http.ResponseWriter, r *http.Request, sess *session) {
	ref, addr, base := r.PathValue("ref"), strings.TrimSpace(r.PostFormValue("address")), strings.TrimSpace(r.PostFormValue("base"))
	id := s.jobs.start("push", "Push "+ref+" to "+addr, func(ctx context.Context, progress func(string, int64, int64)) ([]string, string, error) {
		progress("pushing (the receiver is asked which objects it lacks, then sent them)", 0, 0)
		resp, err := s.api.Snapshots.PushSnapshot(ctx, &cairnv1.PushSnapshotRequest{Snapshot: ref, Base: base, Address: addr})
		if err != nil {
			return nil, snapshotPath(ref), err
		}
		st := resp.GetStream()
		return []string{
			fmt.Sprintf("Offered %d objects; the receiver wanted %d.", resp.GetOffered(), resp.GetWanted()),
			fmt.Sprintf("Sent %s (%d data chunks, %d tree nodes).", humanize.IBytes(uint64(st.GetStreamBytes())), st.GetDataChunks(), st.GetTreeNodes()),
		}, snapshotPath(ref), nil
	})
	http.Redirect(w, r, fmt.Sprintf("/ui/jobs/%d", id), http.StatusSeeOther)
}
