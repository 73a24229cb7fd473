// Package cluster is cairn's clustered chunk store: a chunks.Store whose
// chunks live, R copies each, on the storage nodes of a cluster. Only
// wiring code (the CLI, test harnesses) imports it; the file system sees a
// chunks.Store.
//
// # Membership
//
// Nodes find each other with serf (gossip, failure detection), encrypted
// with the cluster's gossip key. Each node describes itself in serf tags
// (chunk RPC address, zone, capacity, protocol version, role, draining),
// read in one place: peers.Parse. A Node turns serf's member list into an
// immutable view: the placement set (storage nodes not draining that are
// alive or down for less than Config.Grace), the nodes that are up, and
// the effective replica count R = min(Config.Replicas, placement set).
//
// # Placement
//
// A chunk's owners are the R best nodes of the placement set by weighted
// rendezvous hashing (weight = capacity), in distinct zones while there
// are zones left (package placement). Every node computes the same owners
// from the same view, without coordination.
//
// # Chunk traffic
//
// Nodes serve their local store over the chunk RPC (package rpc): HTTP/2
// over mutual TLS, where only certificates of the cluster CA (package pki)
// get in. Receivers hash every chunk written to them; readers hash every
// chunk they read. Store (see its comment) writes to the owners, falls
// back to the next nodes by rank when an owner is down, acknowledges a
// write once R copies (or the write quorum, counted as degraded) took it,
// makes writes durable with one Sync per node, fails reads over and
// repairs bad replicas.
//
// # Repair, rebalance, drain
//
// Every storage node walks its own chunks periodically (the repair loop,
// see repairer): it completes the copies of chunks it is responsible for,
// and hands chunks it no longer owns (after a join, a fallback write, or
// while draining) to their owners, deleting its copy only once every
// owner has made its copy durable. A failed node's chunks are therefore
// re-replicated when the grace period ends and the view drops it; a node
// that returns empty is refilled; a draining node empties. Repair traffic
// goes through a token bucket (Config.RepairBandwidth).
//
// # Operating
//
// `cairn cluster init|cert` make the credentials; `cairn cluster
// members|status|drain` use the admin routes (see admin.go); Prometheus
// metrics are named cairn_cluster_* (see metrics.go).
package cluster
