package dashboard

import (
	"context"
	"net/http"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	cairnv1 "github.com/cairn-storage/cairn/api/cairn/v1"
)

// clusterData is the cluster page; Single is set on a lone node.
type clusterData struct {
	Single  bool
	Members []*cairnv1.Member
}

// clusterPage lists the members with their zone, capacity, chunks and
// health.
func (s *Server) clusterPage(w http.ResponseWriter, r *http.Request, sess *session) {
	ctx, cancel := context.WithTimeout(r.Context(), callTimeout)
	defer cancel()
	st, err := s.api.Cluster.ClusterStatus(ctx, &cairnv1.ClusterStatusRequest{})
	if status.Code(err) == codes.FailedPrecondition {
		s.render(w, r, sess, "cluster", "Cluster", clusterData{Single: true})
		return
	}
	if err != nil {
		s.failPage(w, r, sess, "Cluster", err)
		return
	}
	s.render(w, r, sess, "cluster", "Cluster", clusterData{Members: st.GetMembers()})
}

// drain starts or stops draining a node.
func (s *Server) drain(w http.ResponseWriter, r *http.Request, sess *session) {
	node, cancel := r.PathValue("node"), r.PostFormValue("cancel") == "true"
	_, err := s.api.Cluster.Drain(r.Context(), &cairnv1.DrainRequest{Node: node, Cancel: cancel})
	msg := "Node " + node + " drains: its chunks move to the other nodes."
	if cancel {
		msg = "Node " + node + " no longer drains."
	}
	s.done(w, r, sess, "/ui/cluster", err, msg)
}
