// Package placement simulates cairn's chunk placement (package
// cluster/placement) at scale: how evenly weighted rendezvous hashing
// spreads chunks over 10, 100 and 1,000 nodes, and how many move when a
// node joins. Run it with
//
//	go test ./bench/placement -v                   # 1M chunks
//	go test ./bench/placement -v -chunks 10000000  # the full figure
//
// (-short simulates 200k chunks; the race detector 20k.)
package placement

import (
	"encoding/binary"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/cairn-storage/cairn/chunks"
	"github.com/cairn-storage/cairn/cluster/placement"
)

var chunksFlag = flag.Int("chunks", 0, "chunks to simulate (default 1M; 200k with -short; 20k under -race)")

const replicas = 3

func numChunks() int {
	switch {
	case *chunksFlag > 0:
		return *chunksFlag
	case raceEnabled:
		return 20_000
	case testing.Short():
		return 200_000
	}
	return 1_000_000
}

// chunkID returns the i-th simulated chunk ID (uniform, as BLAKE3 is).
func chunkID(i int) chunks.ID {
	r := rand.New(rand.NewPCG(uint64(i), 0x5eed))
	var id chunks.ID
	for k := 0; k < chunks.IDSize; k += 8 {
		binary.LittleEndian.PutUint64(id[k:], r.Uint64())
	}
	return id
}

// result is one simulation's figures.
type result struct {
	load   []int64 // replicas per node (old table)
	moved  int64   // replicas whose node changed when the last node of grown joined
	chunks int
}

// simulate places n chunks on old and on grown (old plus nodes appended
// at the end), in parallel.
func simulate(old, grown *placement.Table, n int) result {
	workers := runtime.GOMAXPROCS(0)
	res := result{load: make([]int64, old.Len()), chunks: n}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			load := make([]int64, old.Len())
			var moved int64
			var a, b [replicas]int
			for i := w; i < n; i += workers {
				id := chunkID(i)
				oa := old.Owners(id, replicas, a[:0])
				for _, o := range oa {
					load[o]++
				}
				if grown == nil {
					continue
				}
			next:
				for _, o := range grown.Owners(id, replicas, b[:0]) {
					for _, p := range oa {
						if o == p { // same index, same node: grown extends old
							continue next
						}
					}
					moved++
				}
			}
			mu.Lock()
			for i, c := range load {
				res.load[i] += c
			}
			res.moved += moved
			mu.Unlock()
		})
	}
	wg.Wait()
	return res
}

// stats returns the mean, the standard deviation relative to the mean,
// and the extremes relative to the mean of loads.
func stats(load []int64, weights []float64) (mean, relStd, lo, hi float64) {
	// Normalize by weight, so weighted nodes compare to their share.
	var sumW float64
	for _, w := range weights {
		sumW += w
	}
	var total float64
	for _, c := range load {
		total += float64(c)
	}
	lo, hi = math.Inf(1), math.Inf(-1)
	var ss float64
	for i, c := range load {
		share := total * weights[i] / sumW
		r := float64(c) / share
		lo, hi = min(lo, r), max(hi, r)
		ss += (r - 1) * (r - 1)
	}
	return total / float64(len(load)), math.Sqrt(ss / float64(len(load))), lo, hi
}

func nodes(n, zones int, weight func(i int) float64) []placement.Node {
	out := make([]placement.Node, n)
	for i := range out {
		out[i] = placement.Node{Name: fmt.Sprintf("node-%04d", i), Weight: weight(i)}
		if zones > 0 {
			out[i].Zone = fmt.Sprintf("zone-%d", i%zones)
		}
	}
	return out
}

func weights(ns []placement.Node) []float64 {
	w := make([]float64, len(ns))
	for i, n := range ns {
		w[i] = n.Weight
	}
	return w
}

// TestSimulation places the chunks with equal weights on 10, 100 and
// 1,000 nodes, then adds one node; it requires a load standard deviation
// under 5% of the mean and about 1/(N+1) of the replicas moving.
func TestSimulation(t *testing.T) {
	n := numChunks()
	t.Logf("%d chunks, R=%d, equal weights, no zones", n, replicas)
	t.Logf("%6s %12s %9s %9s %9s %11s %11s %8s", "nodes", "replicas/nd", "std/mean", "min/mean", "max/mean", "moved(+1)", "1/(N+1)", "time")
	for _, size := range []int{10, 100, 1000} {
		start := time.Now()
		ns := nodes(size, 0, func(int) float64 { return 1 << 40 })
		grown := append(ns[:len(ns):len(ns)], placement.Node{Name: "node-new", Weight: 1 << 40})
		res := simulate(placement.New(ns), placement.New(grown), n)
		mean, rel, lo, hi := stats(res.load, weights(ns))
		moved := float64(res.moved) / float64(n*replicas)
		ideal := 1 / float64(size+1)
		t.Logf("%6d %12.0f %8.2f%% %9.3f %9.3f %10.4f%% %10.4f%% %8v", size, mean, 100*rel, lo, hi,
			100*moved, 100*ideal, time.Since(start).Round(time.Millisecond))
		// The binomial noise alone is 1/sqrt(mean); require 5% only where
		// the sample is big enough to show it.
		if noise := 1 / math.Sqrt(mean); rel > max(0.05, 3*noise) {
			t.Errorf("%d nodes: load std/mean %.2f%%, want < 5%%", size, 100*rel)
		}
		if want := ideal; math.Abs(moved-want) > max(0.2*want, 4*math.Sqrt(want/float64(n*replicas))) {
			t.Errorf("%d nodes: adding one moved %.4f%% of replicas, want about %.4f%%", size, 100*moved, 100*want)
		}
	}
}

// TestSimulationWeightsAndZones reports the spread with unequal
// capacities (a third of the nodes twice as big) and with three zones.
func TestSimulationWeightsAndZones(t *testing.T) {
	n := numChunks() / 4
	for _, tc := range []struct {
		name  string
		zones int
		w     func(i int) float64
	}{
		{"capacity 2x on every third node", 0, func(i int) float64 {
			if i%3 == 0 {
				return 2 << 40
			}
			return 1 << 40
		}},
		{"3 zones, equal weights", 3, func(int) float64 { return 1 << 40 }},
	} {
		ns := nodes(30, tc.zones, tc.w)
		res := simulate(placement.New(ns), nil, n)
		_, rel, lo, hi := stats(res.load, weights(ns))
		var big, small float64
		for i, c := range res.load {
			if i%3 == 0 {
				big += float64(c)
			} else {
				small += float64(c)
			}
		}
		t.Logf("%s, 30 nodes, %d chunks: load/share std %.2f%%, min %.3f, max %.3f; every-third/others per node %.3f",
			tc.name, n, 100*rel, lo, hi, (big/10)/(small/20))
		if tc.zones > 0 && rel > 0.05 {
			t.Errorf("%s: std/mean %.2f%%", tc.name, 100*rel)
		}
	}
}

// BenchmarkOwners measures one placement lookup.
func BenchmarkOwners(b *testing.B) {
	for _, size := range []int{10, 100, 1000} {
		b.Run(fmt.Sprintf("nodes=%d", size), func(b *testing.B) {
			tab := placement.New(nodes(size, 3, func(int) float64 { return 1 }))
			var buf [replicas]int
			i := 0
			for b.Loop() {
				tab.Owners(chunkID(i), replicas, buf[:0])
				i++
			}
		})
	}
}
