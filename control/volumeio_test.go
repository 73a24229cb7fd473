package control_test

import (
	"bytes"
	"slices"
	"syscall"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc/codes"

	cairnv1 "github.com/cairn-storage/cairn/api/cairn/v1"
	"github.com/cairn-storage/cairn/fs"
)

// writeThroughFS writes data to a new file of volume and reads it back
// through the daemon's filesystem, as a frontend does: two writes, one
// read, one fsync.
func writeThroughFS(t *testing.T, d *daemon, volume string, data []byte) {
	t.Helper()
	c := ctx(t)
	v, err := d.d.FS.OpenVolume(c, volume)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close(c)
	a, err := v.Mknod(c, nil, fs.RootIno, "f", syscall.S_IFREG|0o644, 0)
	if err != nil {
		t.Fatal(err)
	}
	h, err := v.Open(c, nil, a.Ino, syscall.O_RDWR)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Release(c)
	half := len(data) / 2
	if _, err := h.Write(c, data[:half], 0); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Write(c, data[half:], int64(half)); err != nil {
		t.Fatal(err)
	}
	if err := h.Fsync(c); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(data)+10)
	n, err := h.Read(c, got, 0)
	if err != nil || !bytes.Equal(got[:n], data) {
		t.Fatalf("read back %d bytes, %v", n, err)
	}
}

func TestGetVolumeIO(t *testing.T) {
	d := startDaemon(t)
	c := ctx(t)
	for _, name := range []string{"db", "web", "idle"} {
		if _, err := d.api.Volumes.CreateVolume(c, &cairnv1.CreateVolumeRequest{Name: name}); err != nil {
			t.Fatal(err)
		}
	}
	writeThroughFS(t, d, "db", make([]byte, 3000))
	fuseData := bytes.Repeat([]byte("cairn"), 20000)
	writeFile(t, d, "web", "index.html", fuseData) // through a FUSE mount
	db := &cairnv1.VolumeIO{Volume: "db", Reads: 1, Writes: 2, ReadBytes: 3000, WriteBytes: 3000, Fsyncs: 1}
	tests := []struct {
		name  string
		names []string
		code  codes.Code
		want  []string // the volumes reported, in order
	}{
		{"all", nil, codes.OK, []string{"db", "idle", "web"}},
		{"named, in order", []string{"web", "db"}, codes.OK, []string{"web", "db"}},
		{"unknown", []string{"db", "nope"}, codes.NotFound, nil},
		{"empty name", []string{""}, codes.InvalidArgument, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := d.api.Volumes.GetVolumeIO(c, &cairnv1.GetVolumeIORequest{Names: tt.names})
			wantCode(t, err, tt.code)
			if err != nil {
				return
			}
			if resp.GetSampled() == nil {
				t.Error("no sampled time")
			}
			var got []string
			for _, v := range resp.GetVolumes() {
				got = append(got, v.GetVolume())
				switch v.GetVolume() {
				case "db":
					if v.GetReadSeconds() <= 0 || v.GetWriteSeconds() <= 0 {
						t.Errorf("db times %v, %v", v.GetReadSeconds(), v.GetWriteSeconds())
					}
					v.ReadSeconds, v.WriteSeconds = 0, 0
					if v.String() != db.String() {
						t.Errorf("db: got %v, want %v", v, db)
					}
				case "web":
					if v.GetWriteBytes() != uint64(len(fuseData)) || v.GetWrites() == 0 {
						t.Errorf("web, written through FUSE: %v", v)
					}
				case "idle":
					if v.GetReads()+v.GetWrites()+v.GetFsyncs() != 0 {
						t.Errorf("idle: %v", v)
					}
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("volumes %v, want %v", got, tt.want)
			}
		})
	}
	if got := metric(t, "cairn_volume_write_bytes_total", "db"); got != 3000 {
		t.Errorf("cairn_volume_write_bytes_total{volume=db} = %v, want 3000", got)
	}
	if got := metric(t, "cairn_volume_reads_total", "db"); got != 1 {
		t.Errorf("cairn_volume_reads_total{volume=db} = %v, want 1", got)
	}
}

// metric is the value of the counter name of volume on the process's
// metrics, which export the newest daemon's volumes.
func metric(t *testing.T, name, volume string) float64 {
	t.Helper()
	families, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "volume" && l.GetValue() == volume {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	t.Fatalf("no %s{volume=%q}", name, volume)
	return 0
}
