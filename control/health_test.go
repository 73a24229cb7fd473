package control_test

import (
	"os"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	cairnv1 "github.com/cairn-storage/cairn/api/cairn/v1"
	"github.com/cairn-storage/cairn/control"
)

func TestHealthRPCs(t *testing.T) {
	d := startDaemon(t)
	c := ctx(t)
	h, err := d.api.Health.Check(c, &cairnv1.CheckRequest{})
	if err != nil || h.GetStatus() != "ok" {
		t.Fatalf("check: %v, %v", h, err)
	}
	v, err := d.api.Health.Version(c, &cairnv1.VersionRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if v.GetApi() != control.APIName || v.GetPid() != int32(os.Getpid()) || v.GetData() != d.dir || v.GetVersion() != "test" ||
		v.GetCluster() || v.GetStarted().AsTime().IsZero() {
		t.Fatalf("version: %v", v)
	}
}

// Calls are counted by method and code on /metrics.
func TestCallMetrics(t *testing.T) {
	d := startDaemon(t)
	c := ctx(t)
	const method = "/cairn.v1.Volumes/GetVolume"
	before := testutil.ToFloat64(control.CallsCounter(method, "NotFound"))
	if _, err := d.api.Volumes.GetVolume(c, &cairnv1.GetVolumeRequest{Name: "nope"}); err == nil {
		t.Fatal("GetVolume of a missing volume succeeded")
	}
	if got := testutil.ToFloat64(control.CallsCounter(method, "NotFound")); got != before+1 {
		t.Fatalf("%s NotFound calls: %v, want %v", method, got, before+1)
	}
}
