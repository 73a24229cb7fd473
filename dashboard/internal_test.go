package dashboard

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	cairnv1 "github.com/cairn-storage/cairn/api/cairn/v1"
)

func TestDiffTree(t *testing.T) {
	root := diffTree([]*cairnv1.Change{
		{Type: "added", Path: "/z.txt"},
		{Type: "modified", Path: "/a/b/c.txt"},
		{Type: "removed", Path: "/a/d.txt"},
		{Type: "added", Path: "/a"},
		{Type: "modified", Path: "/"},
	})
	var lines []string
	var walk func(n *diffNode, depth int)
	walk = func(n *diffNode, depth int) {
		typ := ""
		if n.Change != nil {
			typ = " " + n.Change.GetType()
		}
		lines = append(lines, strings.Repeat(" ", depth)+n.Name+typ)
		for _, c := range n.Children {
			walk(c, depth+1)
		}
	}
	walk(root, 0)
	want := "/ modified\n a added\n  b\n   c.txt modified\n  d.txt removed\n z.txt"
	if got := strings.Join(lines, "\n"); got != want+" added" {
		t.Errorf("tree:\n%s\nwant:\n%s added", got, want)
	}
	if root.Changes != 4 || root.Children[0].Changes != 2 || root.Change.GetType() != "modified" {
		t.Errorf("root counts %d changes beneath (want 4), a/ %d (want 2); root change %v",
			root.Changes, root.Children[0].Changes, root.Change)
	}
}

func TestChartEscapes(t *testing.T) {
	out := string(chart(`<script>`, millis, series{Name: `"x"`, Class: "read", Points: []float64{1, 2}}))
	if strings.Contains(out, "<script>") || strings.Contains(out, `"x"`) {
		t.Errorf("unescaped text in %s", out)
	}
	if !strings.Contains(out, "<polyline") || !strings.Contains(out, "2.00 ms") {
		t.Errorf("chart: %s", out)
	}
}

// safeNext never sends a browser off the dashboard.
func FuzzSafeNext(f *testing.F) {
	for _, s := range []string{"/ui/volumes", "//evil", "/ui/\\evil", "https://x/ui/", "/ui//evil", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, next string) {
		got := safeNext(next)
		if !strings.HasPrefix(got, "/ui/") || strings.HasPrefix(got, "//") || strings.ContainsAny(got, "\\\r\n") {
			t.Fatalf("safeNext(%q) = %q", next, got)
		}
	})
}

// parseQuota takes what a user types, never panics, and errs clearly.
func FuzzParseQuota(f *testing.F) {
	for _, s := range []string{"", "0", "10GiB", "1.5 TB", "-1", "abc", "99999999999999999999 EiB"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if _, err := parseQuota(s); err != nil && !strings.Contains(err.Error(), "quota") {
			t.Fatalf("parseQuota(%q): %v", s, err)
		}
	})
}

// A flood of anonymous visitors evicts anonymous sessions only: nobody
// logged in is logged out by it.
func TestSessionEviction(t *testing.T) {
	ss := newSessions()
	r := httptest.NewRequest(http.MethodGet, "/ui/", nil)
	admin := ss.create(httptest.NewRecorder(), r, true)
	for range 2*maxSessions + 10 {
		ss.create(httptest.NewRecorder(), r, false)
	}
	if ss.byID[admin.id] == nil {
		t.Fatal("the logged-in session was evicted by anonymous ones")
	}
	if n := len(ss.byID); n > maxSessions+1 {
		t.Errorf("%d sessions kept, want at most %d", n, maxSessions+1)
	}
}
