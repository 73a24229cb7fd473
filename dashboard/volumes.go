package dashboard

import (
	"context"
	"net/http"
	"slices"
	"strings"

	cairnv1 "github.com/cairn-storage/cairn/api/cairn/v1"
)

// volumeRow is a volume with who uses it.
type volumeRow struct {
	*cairnv1.Volume
	Mounts     []*cairnv1.MountInfo
	NFSClients []*cairnv1.NFSClient
}

// volumeRows lists the volumes with their mounts and NFS clients.
func (s *Server) volumeRows(ctx context.Context) ([]volumeRow, error) {
	vols, err := s.api.Volumes.ListVolumes(ctx, &cairnv1.ListVolumesRequest{})
	if err != nil {
		return nil, err
	}
	mounts, err := s.api.Mounts.ListMounts(ctx, &cairnv1.ListMountsRequest{})
	if err != nil {
		return nil, err
	}
	rows := make([]volumeRow, 0, len(vols.GetVolumes()))
	for _, v := range vols.GetVolumes() {
		rows = append(rows, usersOf(v, mounts))
	}
	return rows, nil
}

// usersOf is v with its FUSE mounts (snapshot mounts included: they
// name the volume@snapshot) and NFS clients.
func usersOf(v *cairnv1.Volume, m *cairnv1.ListMountsResponse) volumeRow {
	row := volumeRow{Volume: v}
	for _, mi := range m.GetMounts() {
		if mi.GetVolume() == v.GetName() || strings.HasPrefix(mi.GetVolume(), v.GetName()+"@") {
			row.Mounts = append(row.Mounts, mi)
		}
	}
	for _, c := range m.GetNfsClients() {
		if c.GetVolume() == v.GetName() {
			row.NFSClients = append(row.NFSClients, c)
		}
	}
	return row
}

// volumeWithUsers returns volume name with its mounts and NFS clients.
func (s *Server) volumeWithUsers(ctx context.Context, name string) (volumeRow, error) {
	v, err := s.api.Volumes.GetVolume(ctx, &cairnv1.GetVolumeRequest{Name: name})
	if err != nil {
		return volumeRow{}, err
	}
	mounts, err := s.api.Mounts.ListMounts(ctx, &cairnv1.ListMountsRequest{})
	if err != nil {
		return volumeRow{}, err
	}
	return usersOf(v, mounts), nil
}

// volumesPage lists the volumes and offers to create one.
func (s *Server) volumesPage(w http.ResponseWriter, r *http.Request, sess *session) {
	ctx, cancel := context.WithTimeout(r.Context(), callTimeout)
	defer cancel()
	rows, err := s.volumeRows(ctx)
	if err != nil {
		s.failPage(w, r, sess, "Volumes", err)
		return
	}
	s.render(w, r, sess, "volumes", "Volumes", rows)
}

// volumeData is a volume's page.
type volumeData struct {
	volumeRow
	Snapshots []*cairnv1.Snapshot // newest first
	Schedule  *cairnv1.Schedule
	IO        ioData
}

// volumePage shows a volume: usage, users, live I/O, its snapshots as a
// timeline, and its actions.
func (s *Server) volumePage(w http.ResponseWriter, r *http.Request, sess *session) {
	name := r.PathValue("name")
	ctx, cancel := context.WithTimeout(r.Context(), callTimeout)
	defer cancel()
	row, err := s.volumeWithUsers(ctx, name)
	if err != nil {
		s.failPage(w, r, sess, "Volume "+name, err)
		return
	}
	snaps, err := s.api.Snapshots.ListSnapshots(ctx, &cairnv1.ListSnapshotsRequest{Volume: name})
	if err != nil {
		s.failPage(w, r, sess, "Snapshots of "+name, err)
		return
	}
	scheds, err := s.api.Snapshots.ListSchedules(ctx, &cairnv1.ListSchedulesRequest{})
	if err != nil {
		s.failPage(w, r, sess, "Schedules", err)
		return
	}
	d := volumeData{volumeRow: row, Snapshots: newestFirst(snaps.GetSnapshots()), IO: s.ioOf(name)}
	for _, sc := range scheds.GetSchedules() {
		if sc.GetVolume() == name {
			d.Schedule = sc
		}
	}
	s.render(w, r, sess, "volume", "Volume "+name, d)
}

// newestFirst sorts snapshots by creation time, newest first.
func newestFirst(ss []*cairnv1.Snapshot) []*cairnv1.Snapshot {
	out := slices.Clone(ss)
	slices.SortStableFunc(out, func(a, b *cairnv1.Snapshot) int {
		return b.GetCreated().AsTime().Compare(a.GetCreated().AsTime())
	})
	return out
}
