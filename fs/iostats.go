package fs

import (
	"sync"
	"sync/atomic"
	"time"
)

// IOStats are a volume's data-path counters since the FS was made, through
// every frontend: reads and writes of handles (count, bytes and the time
// spent in them, waits for the file's lock included) and fsyncs.
type IOStats struct {
	Reads, Writes         uint64
	ReadBytes, WriteBytes uint64
	ReadTime, WriteTime   time.Duration
	Fsyncs                uint64
}

// ioCounters are the live counters of one volume. A Volume holds a pointer
// to them, so that a read or write costs a few atomic adds and no lookup.
type ioCounters struct {
	reads, writes         atomic.Uint64
	readBytes, writeBytes atomic.Uint64
	readNanos, writeNanos atomic.Uint64
	fsyncs                atomic.Uint64
}

// countRead records a read that began at start and returned *n bytes; it
// is deferred, hence the pointer.
func (c *ioCounters) countRead(start time.Time, n *int) {
	c.readNanos.Add(uint64(time.Since(start)))
	c.readBytes.Add(uint64(max(*n, 0)))
	c.reads.Add(1)
}

// countWrite is countRead for writes.
func (c *ioCounters) countWrite(start time.Time, n *int) {
	c.writeNanos.Add(uint64(time.Since(start)))
	c.writeBytes.Add(uint64(max(*n, 0)))
	c.writes.Add(1)
}

func (c *ioCounters) load() IOStats {
	return IOStats{
		Reads: c.reads.Load(), Writes: c.writes.Load(),
		ReadBytes: c.readBytes.Load(), WriteBytes: c.writeBytes.Load(),
		ReadTime: time.Duration(c.readNanos.Load()), WriteTime: time.Duration(c.writeNanos.Load()),
		Fsyncs: c.fsyncs.Load(),
	}
}

// ioTable holds the counters by volume ID rather than in the Volume: a
// Volume is open state, which may be dropped and made again, and the
// counters of a volume mounted, unmounted and mounted again must go on
// from where they were.
type ioTable struct {
	mu   sync.Mutex
	byID map[uint64]*ioCounters
}

// counters returns the counters of volume id, made on first use.
func (t *ioTable) counters(id uint64) *ioCounters {
	t.mu.Lock()
	defer t.mu.Unlock()
	c := t.byID[id]
	if c == nil {
		if t.byID == nil {
			t.byID = map[uint64]*ioCounters{}
		}
		c = &ioCounters{}
		t.byID[id] = c
	}
	return c
}

// drop forgets the counters of a deleted volume (IDs are never reused).
func (t *ioTable) drop(id uint64) {
	t.mu.Lock()
	delete(t.byID, id)
	t.mu.Unlock()
}

// IOStats returns the data-path counters of the volume with the given ID
// (see VolumeInfo.ID); all zero for a volume not used since the FS was
// made, or deleted.
func (f *FS) IOStats(id uint64) IOStats {
	f.io.mu.Lock()
	c := f.io.byID[id]
	f.io.mu.Unlock()
	if c == nil {
		return IOStats{}
	}
	return c.load()
}
