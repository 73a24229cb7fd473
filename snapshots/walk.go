package snapshots

import (
	"context"
	"fmt"
	"sync"
	"syscall"

	"github.com/cairn-storage/cairn/chunks"
	"github.com/cairn-storage/cairn/fs/tree"
)

// readNode reads and decodes tree node id.
func readNode(ctx context.Context, get chunks.Getter, id chunks.ID) (*tree.Node, error) {
	b, err := get.Get(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("tree node %s: %w", id, err)
	}
	return decodeNode(id, b)
}

// decodeNode decodes the bytes of tree node id.
func decodeNode(id chunks.ID, b []byte) (*tree.Node, error) {
	n, err := tree.Decode(b)
	if err != nil {
		return nil, fmt.Errorf("tree node %s: %w", id, err)
	}
	return n, nil
}

// isDirMode reports whether a tree entry's mode is a directory's.
func isDirMode(mode uint32) bool { return mode&syscall.S_IFMT == syscall.S_IFDIR }

// Mark bits: a chunk can be reached as data, as a tree node, or (when a
// file's bytes happen to encode a node) both.
const (
	markData uint8 = 1 << iota
	markTree
)

// marks is a concurrent set of chunk IDs. It costs about 60 bytes per
// chunk (map slot, key and bits).
type marks struct {
	mu sync.Mutex
	m  map[chunks.ID]uint8
}

func newMarks() *marks { return &marks{m: map[chunks.ID]uint8{}} }

// claim sets bit for id and reports whether it was not set before.
func (s *marks) claim(id chunks.ID, bit uint8) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.m[id]
	s.m[id] = old | bit
	return old&bit == 0
}

// has reports whether id has any of bits.
func (s *marks) has(id chunks.ID, bits uint8) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m[id]&bits != 0
}

func (s *marks) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m)
}

// group runs functions on at most n goroutines; beyond that, spawn runs
// the function inline, so recursive walks never deadlock. The first error
// cancels the group's context.
type group struct {
	ctx    context.Context
	cancel context.CancelFunc
	sem    chan struct{}
	wg     sync.WaitGroup
	once   sync.Once
	err    error
}

func newGroup(ctx context.Context, n int) *group {
	ctx, cancel := context.WithCancel(ctx)
	return &group{ctx: ctx, cancel: cancel, sem: make(chan struct{}, n)}
}

func (g *group) fail(err error) {
	if err != nil {
		g.once.Do(func() { g.err = err; g.cancel() })
	}
}

func (g *group) spawn(fn func() error) {
	if g.ctx.Err() != nil {
		return
	}
	select {
	case g.sem <- struct{}{}:
		g.wg.Add(1)
		go func() {
			defer func() { <-g.sem; g.wg.Done() }()
			g.fail(fn())
		}()
	default:
		g.fail(fn())
	}
}

func (g *group) wait() error {
	g.wg.Wait()
	g.cancel()
	if g.err != nil {
		return g.err
	}
	return nil
}

// walker marks everything reachable from tree nodes, reading each node
// once. Subtrees whose node is already marked as a tree are skipped: a
// node is marked only when its whole subtree is being walked.
type walker struct {
	get   chunks.Getter
	marks *marks
	par   int
	// skip, if set, prunes a node (as tree) or chunk (as data) known to be
	// accounted for elsewhere.
	skip func(id chunks.ID, bit uint8) bool
	// found, if set, is called once for every newly marked ID (it may be
	// called concurrently).
	found func(ctx context.Context, id chunks.ID, bit uint8) error
}

// walk marks the trees under roots.
func (w *walker) walk(ctx context.Context, roots ...chunks.ID) error {
	g := newGroup(ctx, max(w.par, 1))
	for _, r := range roots {
		g.spawn(func() error { return w.node(g, r) })
	}
	return g.wait()
}

// data marks a data chunk.
func (w *walker) data(ctx context.Context, id chunks.ID) error {
	if id.IsZero() || (w.skip != nil && w.skip(id, markData)) || !w.marks.claim(id, markData) {
		return nil
	}
	if w.found != nil {
		return w.found(ctx, id, markData)
	}
	return nil
}

func (w *walker) node(g *group, id chunks.ID) error {
	if id.IsZero() || (w.skip != nil && w.skip(id, markTree)) || !w.marks.claim(id, markTree) {
		return nil
	}
	if w.found != nil {
		if err := w.found(g.ctx, id, markTree); err != nil {
			return err
		}
	}
	n, err := readNode(g.ctx, w.get, id)
	if err != nil {
		return err
	}
	for _, e := range n.Extents {
		if err := w.data(g.ctx, e.Chunk); err != nil {
			return err
		}
	}
	for _, e := range n.Entries {
		if child := e.Node; !child.IsZero() {
			g.spawn(func() error { return w.node(g, child) })
		}
	}
	return nil
}
