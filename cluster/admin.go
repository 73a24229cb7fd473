package cluster

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/cairn-storage/cairn/chunks"
	"github.com/cairn-storage/cairn/cluster/peers"
	"github.com/cairn-storage/cairn/cluster/rpc"
)

// The admin routes, served beside the chunk RPC (same mutual TLS):
//
//	GET  /v1/members  []Member: the membership as this node sees it
//	GET  /v1/status   NodeStatus of this node
//	POST /v1/drain    DrainRequest: start or stop draining this node

// Member is a cluster member as one node sees it.
type Member struct {
	peers.Peer
	// Placement says whether the member owns chunks now (a storage node
	// not draining, alive or down for less than the grace period).
	Placement bool `json:"placement"`
}

// NodeStatus describes one storage node.
type NodeStatus struct {
	Peer peers.Peer `json:"peer"`
	// Local is the node's own store: chunks and bytes on its disk.
	Local chunks.Stats `json:"local"`
	// Replicas is the effective R (configured R capped by the placement
	// nodes), Configured the configured R.
	Replicas   int `json:"replicas"`
	Configured int `json:"configured_replicas"`
	// PlacementNodes is the size of the placement set.
	PlacementNodes int `json:"placement_nodes"`
	// DegradedPuts counts writes through this node acknowledged with
	// fewer than R copies.
	DegradedPuts int64        `json:"degraded_puts"`
	Repair       RepairStatus `json:"repair"`
	// Drained is true when the node is draining and holds no chunk.
	Drained bool `json:"drained"`
}

// DrainRequest starts (Drain true) or stops draining the node.
type DrainRequest struct {
	Drain bool `json:"drain"`
}

func (n *Node) registerAdmin(mux *http.ServeMux) {
	mux.HandleFunc("GET /v1/members", func(w http.ResponseWriter, r *http.Request) {
		rpc.WriteJSON(w, n.memberList())
	})
	mux.HandleFunc("GET /v1/status", func(w http.ResponseWriter, r *http.Request) {
		st, err := n.Status(r.Context())
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		rpc.WriteJSON(w, st)
	})
	mux.HandleFunc("POST /v1/drain", func(w http.ResponseWriter, r *http.Request) {
		var req DrainRequest
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<10)).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if err := n.SetDraining(req.Drain); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		if n.repair != nil {
			n.repair.poke()
		}
		st, err := n.Status(r.Context())
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		rpc.WriteJSON(w, st)
	})
}

// MemberList returns the members as this node sees them, each with its
// placement flag: what GET /v1/members serves.
func (n *Node) MemberList() []Member { return n.memberList() }

// memberList returns the members with their placement flag.
func (n *Node) memberList() []Member {
	v := n.view.Load()
	inTable := make(map[string]bool)
	for i := range v.table.Len() {
		inTable[v.table.Node(i).Name] = true
	}
	out := make([]Member, len(v.peers))
	for i, p := range v.peers {
		out[i] = Member{Peer: p, Placement: inTable[p.Name]}
	}
	return out
}

// Status returns the node's status.
func (n *Node) Status(ctx context.Context) (NodeStatus, error) {
	v := n.view.Load()
	n.selfMu.Lock()
	self := n.self
	n.selfMu.Unlock()
	if p, ok := v.peer(self.Name); ok {
		self.Status = p.Status
		self.Gossip = p.Gossip
	}
	st := NodeStatus{
		Peer:           self,
		Replicas:       v.r,
		Configured:     n.cfg.Replicas,
		PlacementNodes: v.table.Len(),
		DegradedPuts:   n.store.Degraded(),
	}
	if n.local != nil {
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		local, err := n.local.Stats(ctx)
		if err != nil {
			return st, err
		}
		st.Local = local
		st.Repair = n.repair.status()
		st.Drained = self.Draining && local.Chunks == 0
	}
	return st, nil
}
