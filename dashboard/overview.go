package dashboard

import (
	"context"
	"net/http"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	cairnv1 "github.com/cairn-storage/cairn/api/cairn/v1"
)

// callTimeout bounds the API calls of one page.
const callTimeout = 10 * time.Second

// overviewData is the overview page.
type overviewData struct {
	Health    *cairnv1.CheckResponse
	HealthErr string
	Version   *cairnv1.VersionResponse
	Stats     *cairnv1.StatsResponse
	Capacity  *cairnv1.GetCapacityResponse
	Volumes   int
	Snapshots int
	Cluster   *clusterSummary
	Events    eventsData
}

// clusterSummary counts the members by state.
type clusterSummary struct {
	Up, Suspect, Down, Draining int
	UnderReplicated             int64
	Repair                      []string // repair state of nodes that report one
}

// overview is the landing page: capacity, dedup, counts, health, events.
func (s *Server) overview(w http.ResponseWriter, r *http.Request, sess *session) {
	ctx, cancel := context.WithTimeout(r.Context(), callTimeout)
	defer cancel()
	var d overviewData
	var err error
	if d.Health, err = s.api.Health.Check(ctx, &cairnv1.CheckRequest{}); err != nil {
		d.HealthErr = apiMessage(err)
	}
	if d.Version, err = s.api.Health.Version(ctx, &cairnv1.VersionRequest{}); err != nil {
		s.failPage(w, r, sess, "Daemon", err)
		return
	}
	if d.Stats, err = s.api.Maintenance.Stats(ctx, &cairnv1.StatsRequest{}); err != nil {
		s.failPage(w, r, sess, "Statistics", err)
		return
	}
	if d.Capacity, err = s.api.Volumes.GetCapacity(ctx, &cairnv1.GetCapacityRequest{}); err != nil {
		s.failPage(w, r, sess, "Capacity", err)
		return
	}
	vols, err := s.api.Volumes.ListVolumes(ctx, &cairnv1.ListVolumesRequest{})
	if err != nil {
		s.failPage(w, r, sess, "Volumes", err)
		return
	}
	snaps, err := s.api.Snapshots.ListSnapshots(ctx, &cairnv1.ListSnapshotsRequest{})
	if err != nil {
		s.failPage(w, r, sess, "Snapshots", err)
		return
	}
	d.Volumes, d.Snapshots = len(vols.GetVolumes()), len(snaps.GetSnapshots())
	if d.Cluster, err = s.clusterSummary(ctx); err != nil {
		s.failPage(w, r, sess, "Cluster", err)
		return
	}
	d.Events = s.recentEvents(ctx)
	s.render(w, r, sess, "overview", "Overview", d)
}

// clusterSummary is nil on a single node.
func (s *Server) clusterSummary(ctx context.Context) (*clusterSummary, error) {
	st, err := s.api.Cluster.ClusterStatus(ctx, &cairnv1.ClusterStatusRequest{})
	if status.Code(err) == codes.FailedPrecondition {
		return nil, nil // not part of a cluster
	}
	if err != nil {
		return nil, err
	}
	var c clusterSummary
	for _, m := range st.GetMembers() {
		switch m.GetState() {
		case "alive":
			c.Up++
		case "suspect", "leaving":
			c.Suspect++
		default:
			c.Down++
		}
		if m.GetDraining() {
			c.Draining++
		}
		if rep := m.GetReport(); rep != nil {
			c.UnderReplicated += rep.GetUnderReplicated()
			if rep.GetRepair() != "" {
				c.Repair = append(c.Repair, m.GetName()+": "+rep.GetRepair())
			}
		}
	}
	return &c, nil
}
