package dashboard

import (
	"context"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	cairnv1 "github.com/cairn-storage/cairn/api/cairn/v1"
)

// maxDiffChanges bounds what one diff page lists; the summary still
// counts every change.
const maxDiffChanges = 20000

// diffNode is a directory or file of a diff tree: files carry their
// change; directories the number of changes beneath them.
type diffNode struct {
	Name     string
	Path     string
	Change   *cairnv1.Change // nil for a directory that only holds changes
	Changes  int             // changes beneath this node
	Children []*diffNode
}

// diffData is the diff page.
type diffData struct {
	From, To  string
	Summary   *cairnv1.DiffSummary
	Root      *diffNode
	Truncated bool
	Snapshots []*cairnv1.Snapshot // of the volume, for the form
}

// diffPage shows what changed between two snapshots (or a snapshot and
// the live volume) as a tree.
func (s *Server) diffPage(w http.ResponseWriter, r *http.Request, sess *session) {
	d := diffData{From: r.URL.Query().Get("from"), To: r.URL.Query().Get("to")}
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Minute)
	defer cancel()
	if vol, _, ok := strings.Cut(d.From, "@"); ok {
		all, err := s.api.Snapshots.ListSnapshots(ctx, &cairnv1.ListSnapshotsRequest{Volume: vol})
		if err != nil {
			s.failPage(w, r, sess, "Snapshots", err)
			return
		}
		d.Snapshots = newestFirst(all.GetSnapshots())
	}
	if d.From != "" && d.To != "" {
		changes, sum, err := s.diff(ctx, d.From, d.To)
		if err != nil {
			s.failPage(w, r, sess, "Diff "+d.From+" → "+d.To, err)
			return
		}
		d.Summary, d.Truncated = sum, len(changes) >= maxDiffChanges
		d.Root = diffTree(changes)
	}
	s.render(w, r, sess, "diff", "Diff", d)
}

// diff reads the whole diff stream.
func (s *Server) diff(ctx context.Context, from, to string) ([]*cairnv1.Change, *cairnv1.DiffSummary, error) {
	st, err := s.api.Snapshots.DiffSnapshots(ctx, &cairnv1.DiffSnapshotsRequest{From: from, To: to})
	if err != nil {
		return nil, nil, err
	}
	var changes []*cairnv1.Change
	var sum *cairnv1.DiffSummary
	for {
		m, err := st.Recv()
		if errors.Is(err, io.EOF) {
			return changes, sum, nil
		}
		if err != nil {
			return nil, nil, err
		}
		if m.GetSummary() != nil {
			sum = m.GetSummary()
		}
		for _, c := range m.GetChanges() {
			if len(changes) < maxDiffChanges {
				changes = append(changes, c)
			}
		}
	}
}

// diffTree arranges changes by path, directories first, then by name.
func diffTree(changes []*cairnv1.Change) *diffNode {
	root := &diffNode{Name: "/", Path: "/"}
	for _, c := range changes {
		n := root
		trimmed := strings.Trim(c.GetPath(), "/")
		if trimmed == "" {
			root.Change = c // the root directory itself (its times changed)
			continue
		}
		parts := strings.Split(trimmed, "/")
		for i, p := range parts {
			n.Changes++ // a change beneath n
			n = n.child(p, "/"+strings.Join(parts[:i+1], "/"))
		}
		n.Change = c
	}
	root.sort()
	return root
}

func (n *diffNode) child(name, path string) *diffNode {
	for _, c := range n.Children {
		if c.Name == name {
			return c
		}
	}
	c := &diffNode{Name: name, Path: path}
	n.Children = append(n.Children, c)
	return c
}

func (n *diffNode) sort() {
	slices.SortFunc(n.Children, func(a, b *diffNode) int {
		if da, db := len(a.Children) > 0, len(b.Children) > 0; da != db {
			if da {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Name, b.Name)
	})
	for _, c := range n.Children {
		c.sort()
	}
}
