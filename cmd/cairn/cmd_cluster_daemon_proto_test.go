package main

import (
	"reflect"
	"testing"
	"time"

	"github.com/cairn-storage/cairn/cluster"
	"github.com/cairn-storage/cairn/cluster/peers"
)

// TestClusterProtoRoundTrip holds the Cluster service to carrying every
// field `cairn cluster` prints: a row with every field set (found by
// reflection, so a field added to peers.Peer or cluster.NodeStatus and
// not to the conversions fails here) comes back from its API form equal.
func TestClusterProtoRoundTrip(t *testing.T) {
	full := clusterStatusRow{}
	fill(t, reflect.ValueOf(&full).Elem(), "row")
	report := *full.Report
	tests := []struct {
		name string
		row  clusterStatusRow
	}{
		{"every field", full},
		{"no report, an error", clusterStatusRow{Member: full.Member, Error: "dial tcp: connection refused"}},
		{"a gateway", clusterStatusRow{Member: cluster.Member{Peer: peers.Peer{Name: "g", Role: peers.RoleGateway,
			Status: peers.StatusAlive, Gossip: "127.0.0.1:1"}}}},
		{"a report before the first scan", clusterStatusRow{Member: full.Member,
			Report: &cluster.NodeStatus{Peer: report.Peer, Local: report.Local, Replicas: 1, Configured: 3}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := rowFromProto(rowProto(tc.row))
			if !reflect.DeepEqual(got, tc.row) {
				t.Fatalf("through the API:\n%+v\nwant\n%+v", got, tc.row)
			}
			if r := tc.row.Report; r != nil {
				if st := nodeStatusFromProto(nodeReportProto(*r)); !reflect.DeepEqual(st, *r) {
					t.Fatalf("report through the API:\n%+v\nwant\n%+v", st, *r)
				}
			}
		})
	}
}

// fill sets every field under v to a value that is not its zero value,
// distinct per field where the type allows.
func fill(t *testing.T, v reflect.Value, path string) {
	t.Helper()
	n := int64(len(path)) // differs between most fields
	switch {
	case v.Type() == reflect.TypeFor[time.Time]():
		v.Set(reflect.ValueOf(time.Date(2026, 5, 4, 3, 2, 1, int(n), time.UTC)))
	case v.Type() == reflect.TypeFor[time.Duration]():
		v.SetInt(n * int64(time.Millisecond))
	}
	if !v.IsZero() {
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			fill(t, v.Field(i), path+"."+v.Type().Field(i).Name)
		}
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(t, v.Elem(), path)
	case reflect.String:
		v.SetString(path)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int32, reflect.Int64:
		v.SetInt(n)
	default:
		t.Fatalf("%s: fill does not know %s: teach it, and the conversions", path, v.Type())
	}
}
