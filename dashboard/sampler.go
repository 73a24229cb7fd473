package dashboard

import (
	"context"
	"log/slog"
	"sync"
	"time"

	cairnv1 "github.com/cairn-storage/cairn/api/cairn/v1"
	"github.com/cairn-storage/cairn/control/client"
)

// keepSamples is how many I/O samples the graphs span.
const keepSamples = 150

// sample is every volume's counters at one time.
type sample struct {
	at   time.Time
	vols map[string]*cairnv1.VolumeIO
}

// sampler polls the volumes' I/O counters, keeping the last samples.
type sampler struct {
	mu      sync.Mutex
	samples []sample // oldest first
	cancel  context.CancelFunc
	done    chan struct{}
}

// startSampler samples api every period until stop.
func startSampler(api *client.Client, every time.Duration, log *slog.Logger) *sampler {
	ctx, cancel := context.WithCancel(context.Background())
	s := &sampler{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		t := time.NewTicker(every)
		defer t.Stop()
		failing := false
		for {
			err := s.take(ctx, api)
			if err != nil && !failing && ctx.Err() == nil {
				log.Warn("dashboard: sampling volume I/O", "err", err) // once per outage
			}
			failing = err != nil
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return s
}

// take records one sample.
func (s *sampler) take(ctx context.Context, api *client.Client) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	resp, err := api.Volumes.GetVolumeIO(ctx, &cairnv1.GetVolumeIORequest{})
	if err != nil {
		return err
	}
	smp := sample{at: resp.GetSampled().AsTime(), vols: map[string]*cairnv1.VolumeIO{}}
	if resp.GetSampled() == nil {
		smp.at = time.Now()
	}
	for _, v := range resp.GetVolumes() {
		smp.vols[v.GetVolume()] = v
	}
	s.mu.Lock()
	s.samples = append(s.samples, smp)
	if len(s.samples) > keepSamples+1 {
		s.samples = s.samples[len(s.samples)-keepSamples-1:]
	}
	s.mu.Unlock()
	return nil
}

func (s *sampler) stop() {
	s.cancel()
	<-s.done
}

// rates are a volume's I/O between consecutive samples.
type rates struct {
	at                    []time.Time
	readBps, writeBps     []float64 // bytes per second
	readIOPS, writeIOPS   []float64
	readLatMs, writeLatMs []float64 // mean per operation in the interval
}

// rates returns volume's rates over the kept samples. A counter that went
// down (the daemon restarted) gives a zero, not a negative rate.
func (s *sampler) rates(volume string) rates {
	s.mu.Lock()
	defer s.mu.Unlock()
	var r rates
	for i := 1; i < len(s.samples); i++ {
		a, b := s.samples[i-1], s.samples[i]
		dt := b.at.Sub(a.at).Seconds()
		if dt <= 0 {
			continue
		}
		x, y := a.vols[volume], b.vols[volume]
		if x == nil || y == nil {
			x, y = &cairnv1.VolumeIO{}, &cairnv1.VolumeIO{}
		}
		r.at = append(r.at, b.at)
		r.readBps = append(r.readBps, delta(x.GetReadBytes(), y.GetReadBytes())/dt)
		r.writeBps = append(r.writeBps, delta(x.GetWriteBytes(), y.GetWriteBytes())/dt)
		reads, writes := delta(x.GetReads(), y.GetReads()), delta(x.GetWrites(), y.GetWrites())
		r.readIOPS = append(r.readIOPS, reads/dt)
		r.writeIOPS = append(r.writeIOPS, writes/dt)
		r.readLatMs = append(r.readLatMs, meanMs(y.GetReadSeconds()-x.GetReadSeconds(), reads))
		r.writeLatMs = append(r.writeLatMs, meanMs(y.GetWriteSeconds()-x.GetWriteSeconds(), writes))
	}
	return r
}

func delta(a, b uint64) float64 {
	if b < a {
		return 0
	}
	return float64(b - a)
}

func meanMs(seconds, ops float64) float64 {
	if ops <= 0 || seconds <= 0 {
		return 0
	}
	return seconds * 1000 / ops
}
