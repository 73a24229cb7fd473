package control_test

import (
	"os"
	"testing"

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
