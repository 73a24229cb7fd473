package main

import (
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	cairnv1 "github.com/cairn-storage/cairn/api/cairn/v1"
	"github.com/cairn-storage/cairn/chunks"
	"github.com/cairn-storage/cairn/cluster"
	"github.com/cairn-storage/cairn/cluster/peers"
)

// The Cluster service carries members and reports whole, both ways: the
// daemon turns the cluster's own types into the API's, and `cairn
// cluster` turns them back, so that it prints the same through a daemon
// as from a node's admin routes (TestClusterProtoRoundTrip holds every
// field to that).

// rowProto is the API form of a member and its report (or error).
func rowProto(r clusterStatusRow) *cairnv1.Member {
	m := peerProto(r.Peer)
	m.Placement = r.Placement
	m.Error = r.Error
	if r.Report != nil {
		m.Report = nodeReportProto(*r.Report)
	}
	return m
}

// rowFromProto is rowProto undone.
func rowFromProto(m *cairnv1.Member) clusterStatusRow {
	r := clusterStatusRow{Member: cluster.Member{Peer: peerFromProto(m), Placement: m.GetPlacement()}, Error: m.GetError()}
	if m.GetReport() != nil {
		st := nodeStatusFromProto(m.GetReport())
		r.Report = &st
	}
	return r
}

// peerProto is the API form of a member as gossip describes it.
func peerProto(p peers.Peer) *cairnv1.Member {
	return &cairnv1.Member{Name: p.Name, Role: string(p.Role), State: string(p.Status), Draining: p.Draining,
		Zone: p.Zone, Address: p.Addr, Gossip: p.Gossip, Capacity: p.Capacity, Version: int32(p.Version),
		Replicas: int32(p.Replicas), WriteQuorum: int32(p.WriteQuorum), Meta: p.Meta}
}

// peerFromProto is peerProto undone.
func peerFromProto(m *cairnv1.Member) peers.Peer {
	return peers.Peer{Name: m.GetName(), Role: peers.Role(m.GetRole()), Status: peers.Status(m.GetState()),
		Draining: m.GetDraining(), Zone: m.GetZone(), Addr: m.GetAddress(), Gossip: m.GetGossip(),
		Capacity: m.GetCapacity(), Version: int(m.GetVersion()), Replicas: int(m.GetReplicas()),
		WriteQuorum: int(m.GetWriteQuorum()), Meta: m.GetMeta()}
}

// nodeReportProto is the API form of a storage node's report.
func nodeReportProto(st cluster.NodeStatus) *cairnv1.NodeReport {
	return &cairnv1.NodeReport{Chunks: st.Local.Chunks, StoredBytes: st.Local.StoredBytes, PlainBytes: st.Local.PlainBytes,
		Replicas: int32(st.Replicas), ConfiguredReplicas: int32(st.Configured), PlacementNodes: int32(st.PlacementNodes),
		DegradedPuts: st.DegradedPuts, UnderReplicated: st.Repair.UnderReplicated, Repair: repairText(st.Repair),
		RepairLoop: repairProto(st.Repair), Drained: st.Drained, Self: peerProto(st.Peer)}
}

// nodeStatusFromProto is nodeReportProto undone.
func nodeStatusFromProto(r *cairnv1.NodeReport) cluster.NodeStatus {
	st := cluster.NodeStatus{
		Peer:           peerFromProto(r.GetSelf()),
		Local:          chunks.Stats{Chunks: r.GetChunks(), PlainBytes: r.GetPlainBytes(), StoredBytes: r.GetStoredBytes()},
		Replicas:       int(r.GetReplicas()),
		Configured:     int(r.GetConfiguredReplicas()),
		PlacementNodes: int(r.GetPlacementNodes()),
		DegradedPuts:   r.GetDegradedPuts(),
		Repair:         repairFromProto(r.GetRepairLoop()),
		Drained:        r.GetDrained(),
	}
	st.Repair.UnderReplicated = r.GetUnderReplicated()
	return st
}

// repairProto is the API form of a repair loop's status (its
// under-replicated count is the report's).
func repairProto(r cluster.RepairStatus) *cairnv1.RepairLoop {
	l := &cairnv1.RepairLoop{Running: r.Running, Scans: r.Scans, Scanned: r.Scanned, Total: r.Total,
		Copied: r.Copied, Deleted: r.Deleted, LastDuration: durationpb.New(r.Duration), Error: r.Error}
	if !r.LastScan.IsZero() {
		l.LastScan = timestamppb.New(r.LastScan)
	}
	return l
}

// repairFromProto is repairProto undone; an unset last scan is the zero
// time, as it is on the node.
func repairFromProto(l *cairnv1.RepairLoop) cluster.RepairStatus {
	r := cluster.RepairStatus{Running: l.GetRunning(), Scans: l.GetScans(), Scanned: l.GetScanned(), Total: l.GetTotal(),
		Copied: l.GetCopied(), Deleted: l.GetDeleted(), Duration: l.GetLastDuration().AsDuration(), Error: l.GetError()}
	if l.GetLastScan() != nil {
		r.LastScan = l.GetLastScan().AsTime()
	}
	return r
}
