package control

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cairn-storage/cairn/fs"
)

// volumeIOMetrics puts the volumes' data-path counters (GetVolumeIO) on
// the daemon's /metrics. It is registered once per process, as the other
// metrics are; the filesystem it reads is the newest daemon server's (see
// New): a daemon has one, tests make many, and the CLI serving itself
// (Exclusive) has no /metrics.
var volumeIOMetrics = newVolumeIOCollector()

func init() { prometheus.MustRegister(volumeIOMetrics) }

// volumeIOSeries are the metrics of each volume, labelled volume.
var volumeIOSeries = []struct {
	name, help string
	value      func(fs.IOStats) float64
}{
	{"cairn_volume_reads_total", "Reads of the volume's files, through every frontend.",
		func(s fs.IOStats) float64 { return float64(s.Reads) }},
	{"cairn_volume_writes_total", "Writes to the volume's files, through every frontend.",
		func(s fs.IOStats) float64 { return float64(s.Writes) }},
	{"cairn_volume_read_bytes_total", "Bytes read from the volume's files.",
		func(s fs.IOStats) float64 { return float64(s.ReadBytes) }},
	{"cairn_volume_write_bytes_total", "Bytes written to the volume's files.",
		func(s fs.IOStats) float64 { return float64(s.WriteBytes) }},
	{"cairn_volume_read_seconds_total", "Time spent in reads of the volume's files.",
		func(s fs.IOStats) float64 { return s.ReadTime.Seconds() }},
	{"cairn_volume_write_seconds_total", "Time spent in writes to the volume's files.",
		func(s fs.IOStats) float64 { return s.WriteTime.Seconds() }},
	{"cairn_volume_fsyncs_total", "Fsyncs of the volume's files.",
		func(s fs.IOStats) float64 { return float64(s.Fsyncs) }},
}

// volumeIOCollector is a prometheus.Collector of volumeIOSeries.
type volumeIOCollector struct {
	fs    atomic.Pointer[fs.FS] // nil: nothing to export
	descs []*prometheus.Desc    // by volumeIOSeries index
}

func newVolumeIOCollector() *volumeIOCollector {
	c := &volumeIOCollector{}
	for _, m := range volumeIOSeries {
		c.descs = append(c.descs, prometheus.NewDesc(m.name, m.help, []string{"volume"}, nil))
	}
	return c
}

// Describe implements prometheus.Collector.
func (c *volumeIOCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs {
		ch <- d
	}
}

// Collect implements prometheus.Collector. A failure to list the volumes
// is logged and leaves their series out, rather than failing the whole
// scrape: the other metrics matter most when the metadata store is sick.
func (c *volumeIOCollector) Collect(ch chan<- prometheus.Metric) {
	fsys := c.fs.Load()
	if fsys == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	infos, err := fsys.ListVolumes(ctx)
	if err != nil {
		slog.Warn("volume metrics: listing the volumes failed", "err", err)
		return
	}
	for _, info := range infos {
		st := fsys.IOStats(info.ID)
		for i, m := range volumeIOSeries {
			ch <- prometheus.MustNewConstMetric(c.descs[i], prometheus.CounterValue, m.value(st), info.Name)
		}
	}
}
