package main

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// rssPeak is what an rssSampler saw of a process's memory.
type rssPeak struct {
	HWM     uint64 `json:"vm_hwm_bytes"`     // the kernel's peak RSS (VmHWM), last sample
	MaxRSS  uint64 `json:"max_vm_rss_bytes"` // largest VmRSS sampled
	Samples int    `json:"samples"`
}

// procMemory reads VmHWM and VmRSS, in bytes, from /proc/PID/status.
func procMemory(pid int) (hwm, rss uint64, err error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok || (key != "VmHWM" && key != "VmRSS") {
			continue
		}
		kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(val), " kB"), 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("/proc/%d/status %s: %w", pid, key, err)
		}
		if key == "VmHWM" {
			hwm = kb << 10
		} else {
			rss = kb << 10
		}
	}
	return hwm, rss, sc.Err()
}

// rssSampler samples a process's VmHWM and VmRSS at a fixed interval in
// the background until stopped.
type rssSampler struct {
	stopc chan struct{}
	wg    sync.WaitGroup
	mu    sync.Mutex
	peak  rssPeak
}

// sampleRSS starts sampling process pid every interval.
func sampleRSS(pid int, interval time.Duration) *rssSampler {
	s := &rssSampler{stopc: make(chan struct{})}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			s.sample(pid)
			select {
			case <-s.stopc:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

// sample reads pid's memory once and keeps the maxima.
func (s *rssSampler) sample(pid int) {
	hwm, rss, err := procMemory(pid)
	if err != nil {
		return // the process is gone: keep what we saw
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.peak.HWM = max(s.peak.HWM, hwm)
	s.peak.MaxRSS = max(s.peak.MaxRSS, rss)
	s.peak.Samples++
}

// stop takes a last sample and returns what was seen.
func (s *rssSampler) stop(pid int) rssPeak {
	close(s.stopc)
	s.wg.Wait()
	s.sample(pid)
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.peak
}
