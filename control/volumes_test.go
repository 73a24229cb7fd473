package control_test

import (
	"testing"

	"google.golang.org/grpc/codes"

	cairnv1 "github.com/cairn-storage/cairn/api/cairn/v1"
)

func TestVolumesRPCs(t *testing.T) {
	d := startDaemon(t)
	c := ctx(t)
	v := d.api.Volumes
	if _, err := v.CreateVolume(c, &cairnv1.CreateVolumeRequest{Name: "web", Quota: 1 << 30, Compress: true}); err != nil {
		t.Fatal(err)
	}
	ro, rw := true, false
	tests := []struct {
		name string
		call func() (*cairnv1.Volume, error)
		code codes.Code
		want func(*cairnv1.Volume) bool
	}{
		{"create", func() (*cairnv1.Volume, error) {
			return v.CreateVolume(c, &cairnv1.CreateVolumeRequest{Name: "db", Labels: map[string]string{"app": "pg"}})
		}, codes.OK, func(x *cairnv1.Volume) bool {
			return x.GetName() == "db" && x.GetLabels()["app"] == "pg" && x.GetId() > 0
		}},
		{"create taken", func() (*cairnv1.Volume, error) {
			return v.CreateVolume(c, &cairnv1.CreateVolumeRequest{Name: "web"})
		}, codes.AlreadyExists, nil},
		{"create bad name", func() (*cairnv1.Volume, error) {
			return v.CreateVolume(c, &cairnv1.CreateVolumeRequest{Name: "../etc"})
		}, codes.InvalidArgument, nil},
		{"create no name", func() (*cairnv1.Volume, error) { return v.CreateVolume(c, &cairnv1.CreateVolumeRequest{}) }, codes.InvalidArgument, nil},
		{"create negative replicas", func() (*cairnv1.Volume, error) {
			return v.CreateVolume(c, &cairnv1.CreateVolumeRequest{Name: "r", Replicas: -1})
		}, codes.InvalidArgument, nil},
		{"get", func() (*cairnv1.Volume, error) { return v.GetVolume(c, &cairnv1.GetVolumeRequest{Name: "web"}) },
			codes.OK, func(x *cairnv1.Volume) bool { return x.GetQuota() == 1<<30 && x.GetCompress() && x.GetFiles() == 1 }},
		{"get unknown", func() (*cairnv1.Volume, error) { return v.GetVolume(c, &cairnv1.GetVolumeRequest{Name: "nope"}) }, codes.NotFound, nil},
		{"expand quota", func() (*cairnv1.Volume, error) {
			return v.SetQuota(c, &cairnv1.SetQuotaRequest{Name: "web", Quota: 2 << 30})
		}, codes.OK, func(x *cairnv1.Volume) bool { return x.GetQuota() == 2<<30 }},
		{"quota unknown volume", func() (*cairnv1.Volume, error) {
			return v.SetQuota(c, &cairnv1.SetQuotaRequest{Name: "nope", Quota: 1})
		}, codes.NotFound, nil},
		{"read-only on", func() (*cairnv1.Volume, error) {
			return v.SetOptions(c, &cairnv1.SetOptionsRequest{Name: "web", ReadOnly: &ro, Labels: map[string]string{"tier": "gold"}})
		}, codes.OK, func(x *cairnv1.Volume) bool {
			return x.GetReadOnly() && x.GetLabels()["tier"] == "gold" && x.GetCompress()
		}},
		{"read-only off, label removed", func() (*cairnv1.Volume, error) {
			return v.SetOptions(c, &cairnv1.SetOptionsRequest{Name: "web", ReadOnly: &rw, Labels: map[string]string{"tier": ""}})
		}, codes.OK, func(x *cairnv1.Volume) bool { return !x.GetReadOnly() && len(x.GetLabels()) == 0 }},
		{"options unknown volume", func() (*cairnv1.Volume, error) {
			return v.SetOptions(c, &cairnv1.SetOptionsRequest{Name: "nope", ReadOnly: &ro})
		}, codes.NotFound, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.call()
			wantCode(t, err, tt.code)
			if tt.want != nil && !tt.want(got) {
				t.Fatalf("got %v", got)
			}
		})
	}
	list, err := v.ListVolumes(c, &cairnv1.ListVolumesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, x := range list.GetVolumes() {
		names = append(names, x.GetName())
	}
	if len(names) != 2 || names[0] != "db" || names[1] != "web" {
		t.Fatalf("volumes %q: want db and web, and nothing a refused call made", names)
	}
}

// A quota below what a volume holds is refused and changes nothing.
func TestQuotaBelowUsage(t *testing.T) {
	d := startDaemon(t)
	c := ctx(t)
	if _, err := d.api.Volumes.CreateVolume(c, &cairnv1.CreateVolumeRequest{Name: "full"}); err != nil {
		t.Fatal(err)
	}
	writeFile(t, d, "full", "f", make([]byte, 1<<20))
	_, err := d.api.Volumes.SetQuota(c, &cairnv1.SetQuotaRequest{Name: "full", Quota: 4096})
	wantCode(t, err, codes.FailedPrecondition)
	got, err := d.api.Volumes.GetVolume(c, &cairnv1.GetVolumeRequest{Name: "full"})
	if err != nil || got.GetQuota() != 0 || got.GetUsedBytes() != 1<<20 {
		t.Fatalf("after a refused quota: %v, %v", got, err)
	}
}

func TestDeleteVolume(t *testing.T) {
	d := startDaemon(t)
	c := ctx(t)
	if _, err := d.api.Volumes.CreateVolume(c, &cairnv1.CreateVolumeRequest{Name: "tmp"}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if _, err := d.api.Mounts.Mount(c, &cairnv1.MountRequest{Volume: "tmp", Mountpoint: dir}); err != nil {
		t.Fatal(err)
	}
	_, err := d.api.Volumes.DeleteVolume(c, &cairnv1.DeleteVolumeRequest{Name: "tmp"})
	wantCode(t, err, codes.FailedPrecondition)
	if _, err := d.api.Mounts.Unmount(c, &cairnv1.UnmountRequest{Mountpoint: dir}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.api.Volumes.DeleteVolume(c, &cairnv1.DeleteVolumeRequest{Name: "tmp"}); err != nil {
		t.Fatal(err)
	}
	_, err = d.api.Volumes.DeleteVolume(c, &cairnv1.DeleteVolumeRequest{Name: "tmp"})
	wantCode(t, err, codes.NotFound)
	_, err = d.api.Volumes.DeleteVolume(c, &cairnv1.DeleteVolumeRequest{})
	wantCode(t, err, codes.InvalidArgument)
}
