package dashboard_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	cairnv1 "github.com/cairn-storage/cairn/api/cairn/v1"
	"github.com/cairn-storage/cairn/dashboard"
)

func volumeNames(t *testing.T, s *site) []string {
	t.Helper()
	resp, err := s.d.API.Volumes.ListVolumes(ctx(t), &cairnv1.ListVolumesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, v := range resp.GetVolumes() {
		names = append(names, v.GetName())
	}
	return names
}

// The actions go through the API: create, snapshot, clone, delete (typed
// confirmation), each answered by a redirect to a page saying what
// happened; refused actions change nothing.
func TestActions(t *testing.T) {
	s := startSite(t, dashboard.Config{})
	b := s.browser(t)
	code, loc := b.post("/ui/volumes", url.Values{"name": {"web"}, "quota": {"1GiB"}}, "/ui/volumes")
	if code != http.StatusSeeOther || loc != "/ui/volumes/web" {
		t.Fatalf("create: %d %s", code, loc)
	}
	if _, _, body := b.get(loc); !strings.Contains(body, "Volume web created.") || !strings.Contains(body, "1.0 GiB") {
		t.Errorf("volume page after create lacks the message or quota:\n%.2000s", body)
	}
	b.post("/ui/volumes/web/snapshot", url.Values{"snapshot": {"s1"}}, "/ui/volumes/web")
	if _, _, body := b.get("/ui/volumes/web"); !strings.Contains(body, "Snapshot web@s1 taken.") || !strings.Contains(body, ">s1</a>") {
		t.Errorf("snapshot not shown:\n%.3000s", body)
	}
	code, loc = b.post("/ui/snapshots/web@s1/clone", url.Values{"clone": {"copy"}}, "/ui/snapshots/web@s1")
	if code != http.StatusSeeOther || loc != "/ui/volumes/copy" || !slices.Contains(volumeNames(t, s), "copy") {
		t.Fatalf("clone: %d %s, volumes %v", code, loc, volumeNames(t, s))
	}
	// A wrong confirmation deletes nothing and says so.
	b.post("/ui/volumes/copy/delete", url.Values{"confirm": {"cop"}}, "/ui/volumes/copy")
	if _, _, body := b.get("/ui/volumes/copy"); !strings.Contains(body, "type its name to confirm") {
		t.Errorf("no refusal shown:\n%.2000s", body)
	}
	if !slices.Contains(volumeNames(t, s), "copy") {
		t.Fatal("deleted despite a wrong confirmation")
	}
	code, loc = b.post("/ui/volumes/copy/delete", url.Values{"confirm": {"copy"}}, "/ui/volumes/copy")
	if code != http.StatusSeeOther || loc != "/ui/volumes" || slices.Contains(volumeNames(t, s), "copy") {
		t.Fatalf("delete: %d %s, volumes %v", code, loc, volumeNames(t, s))
	}
	// An API refusal is shown as the API words it.
	b.post("/ui/volumes", url.Values{"name": {"web"}}, "/ui/volumes")
	if _, _, body := b.get("/ui/volumes"); !strings.Contains(body, "exists") {
		t.Errorf("duplicate create: no error shown:\n%.2000s", body)
	}
}

// Actions need the session's CSRF token and, when the browser names an
// origin, this site's.
func TestCSRF(t *testing.T) {
	s := startSite(t, dashboard.Config{})
	b := s.browser(t)
	tok := b.csrf("/ui/volumes")
	tests := []struct {
		name string
		form url.Values
		hdr  []string
	}{
		{"no token", url.Values{"name": {"x1"}}, nil},
		{"wrong token", url.Values{"name": {"x2"}, "csrf": {tok + "x"}}, nil},
		{"other origin", url.Values{"name": {"x3"}, "csrf": {tok}}, []string{"Origin", "http://evil.example"}},
	}
	for _, tt := range tests {
		if code, _ := b.post("/ui/volumes", tt.form, "", tt.hdr...); code != http.StatusForbidden {
			t.Errorf("%s: %d, want 403", tt.name, code)
		}
	}
	// Another browser's token is not this one's.
	other := s.browser(t)
	if code, _ := other.post("/ui/volumes", url.Values{"name": {"x4"}, "csrf": {tok}}, ""); code != http.StatusForbidden {
		t.Errorf("another session's token: %d, want 403", code)
	}
	if n := volumeNames(t, s); len(n) != 0 {
		t.Errorf("refused posts created volumes %v", n)
	}
	if code, _ := b.post("/ui/volumes", url.Values{"name": {"ok"}}, "/ui/volumes", "Origin", b.base); code != http.StatusSeeOther {
		t.Errorf("same-origin post: %d", code)
	}
}

// Long operations run as jobs whose page shows the outcome.
func TestGCJob(t *testing.T) {
	s := startSite(t, dashboard.Config{})
	b := s.browser(t)
	code, loc := b.post("/ui/maintenance/gc", url.Values{"dry_run": {"on"}}, "/ui/maintenance")
	if code != http.StatusSeeOther || !strings.HasPrefix(loc, "/ui/jobs/") {
		t.Fatalf("gc: %d %s", code, loc)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, _, body := b.get(loc + "/progress")
		if strings.Contains(body, `id="job-result"`) {
			if !strings.Contains(body, "Would sweep") {
				t.Errorf("gc result:\n%s", body)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("gc job not done in 30s:\n%s", body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, _, body := b.get("/ui/maintenance"); !strings.Contains(body, "Garbage collection") || !strings.Contains(body, "done") {
		t.Errorf("maintenance page does not list the job:\n%.3000s", body)
	}
}
