package snapshots

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cairn-storage/cairn/chunks"
	"github.com/cairn-storage/cairn/fs"
	"github.com/cairn-storage/cairn/fs/tree"
)

// recSize is the size of one writer record: "wNN SSSSSSSS" padded, '\n'.
const recSize = 32

func record(w, seq int) []byte {
	b := fmt.Appendf(nil, "w%02d %08d", w, seq)
	b = append(b, bytes.Repeat([]byte{'.'}, recSize-1-len(b))...)
	return append(b, '\n')
}

// appender writes records to one file, publishing the last acknowledged.
type appender struct {
	h     *fs.Handle
	acked atomic.Int64 // last sequence number whose Write returned
}

func newAppender(t *testing.T, v *fs.Volume, name string) *appender {
	ino := writeFile(t, v, fs.RootIno, name, nil, 0)
	h, err := v.Open(context.Background(), nil, ino, syscall.O_WRONLY)
	check(t, err)
	t.Cleanup(func() { h.Release(context.Background()) })
	a := &appender{h: h}
	a.acked.Store(-1)
	return a
}

func (a *appender) write(w, seq int) error {
	if seq%64 == 63 {
		time.Sleep(time.Millisecond) // pace: a few thousand records per round
	}
	if _, err := a.h.Write(context.Background(), record(w, seq), int64(seq*recSize)); err != nil {
		return err
	}
	a.acked.Store(int64(seq))
	return nil
}

// records parses a file of the tree: the writer's records, in order,
// none torn. It returns the number of records.
func records(t *testing.T, get chunks.Getter, root tree.Root, name string, w int) int {
	t.Helper()
	st := treeFile(t, get, root, name)
	if len(st)%recSize != 0 {
		t.Fatalf("%s: %d bytes: a torn record", name, len(st))
	}
	n := len(st) / recSize
	for i := range n {
		if got := st[i*recSize : (i+1)*recSize]; !bytes.Equal(got, record(w, i)) {
			t.Fatalf("%s: record %d is %q", name, i, got)
		}
	}
	return n
}

// treeFile reads a top-level file of a tree.
func treeFile(t *testing.T, get chunks.Getter, root tree.Root, name string) []byte {
	t.Helper()
	ctx := context.Background()
	dir, err := readNode(ctx, get, root.Node)
	check(t, err)
	for _, e := range dir.Entries {
		if e.Name != name {
			continue
		}
		buf := make([]byte, e.Attr.Size)
		if e.Node.IsZero() {
			return buf
		}
		n, err := readNode(ctx, get, e.Node)
		check(t, err)
		for _, x := range n.Extents {
			data, err := get.Get(ctx, x.Chunk)
			check(t, err)
			copy(buf[x.Off:min(x.Off+x.Len, e.Attr.Size)], data[x.ChunkOff:])
		}
		return buf
	}
	t.Fatalf("no %s in the tree", name)
	return nil
}

// Every record acknowledged before Create starts is in the snapshot, and
// no record is torn, while writers keep writing.
func TestConsistencyUnderWriters(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	v := e.vol("a")
	const writers = 4
	apps := make([]*appender, writers)
	for i := range apps {
		apps[i] = newAppender(t, v, "w"+strconv.Itoa(i))
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i, a := range apps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for seq := 0; ; seq++ {
				select {
				case <-stop:
					return
				default:
				}
				if err := a.write(i, seq); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	for round := range 5 {
		time.Sleep(20 * time.Millisecond)
		before := make([]int64, writers)
		for i, a := range apps {
			before[i] = a.acked.Load()
		}
		s := must[Snapshot](t)(e.m.Create(ctx, "a", fmt.Sprintf("s%d", round), CreateOptions{}))
		for i := range apps {
			n := records(t, e.d.Chunks, s.Root, "w"+strconv.Itoa(i), i)
			if int64(n) < before[i]+1 {
				t.Errorf("round %d: writer %d had %d records acknowledged before the snapshot, which has %d", round, i, before[i]+1, n)
			}
			if after := apps[i].acked.Load(); int64(n) > after+1 {
				t.Errorf("round %d: writer %d: snapshot has %d records, only %d were written", round, i, n, after+1)
			}
		}
	}
	close(stop)
	wg.Wait()
}

// A group snapshot cuts its volumes at one instant: each writer writes
// record n to a, then b, then c, so the cut must see
// count(c) <= count(b) <= count(a) <= count(c)+1.
func TestGroupSnapshotConsistent(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	names := []string{"a", "b", "c"}
	const writers = 3
	apps := make([][]*appender, writers)
	vols := map[string]*fs.Volume{}
	for _, n := range names {
		vols[n] = e.vol(n)
	}
	for w := range writers {
		for _, n := range names {
			apps[w] = append(apps[w], newAppender(t, vols[n], "w"+strconv.Itoa(w)))
		}
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for seq := 0; ; seq++ {
				for _, a := range apps[w] {
					select {
					case <-stop:
						return
					default:
					}
					if err := a.write(w, seq); err != nil {
						t.Error(err)
						return
					}
				}
			}
		}()
	}
	for round := range 4 {
		time.Sleep(20 * time.Millisecond)
		group := fmt.Sprintf("g%d", round)
		snaps := must[[]Snapshot](t)(e.m.CreateGroup(ctx, group, names, CreateOptions{}))
		if len(snaps) != 3 {
			t.Fatalf("group of %d snapshots", len(snaps))
		}
		for w := range writers {
			var counts []int
			for i, s := range snaps {
				if s.Volume != names[i] || s.Group != group || s.Name != group {
					t.Fatalf("snapshot %d of the group is %s (group %q)", i, s.Ref(), s.Group)
				}
				counts = append(counts, records(t, e.d.Chunks, s.Root, "w"+strconv.Itoa(w), w))
			}
			if !(counts[2] <= counts[1] && counts[1] <= counts[0] && counts[0] <= counts[2]+1) {
				t.Errorf("round %d, writer %d: records in a, b, c = %v: not one instant", round, w, counts)
			}
		}
	}
	close(stop)
	wg.Wait()
	if _, err := e.m.CreateGroup(ctx, "g0", names, CreateOptions{}); err == nil {
		t.Fatal("a group name used twice was accepted")
	}
}
