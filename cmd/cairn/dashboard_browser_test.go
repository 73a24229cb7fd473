package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	cairnv1 "github.com/cairn-storage/cairn/api/cairn/v1"
	"github.com/cairn-storage/cairn/control"
	"github.com/cairn-storage/cairn/control/client"
)

// TestDashboardInBrowser drives the dashboard of a real `cairn server`
// with headless Chromium as a person would: every page loads with its
// heading and passes basic accessibility checks; a snapshot is taken with
// the keyboard alone and another with the mouse, and the CLI sees them;
// a diff between them shows what changed in the FUSE mount; a snapshot
// is cloned and the clone deleted behind its typed confirmation; gc runs
// as a job whose page updates itself. No page may log a console error.
// It also takes the screenshots of docs/screenshots.
func TestDashboardInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: starts a server and a browser")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root for FUSE mounts")
	}
	chromiumPath(t)
	ctx, cancel := context.WithTimeout(context.Background(), browserDeadline)
	defer cancel()

	// A short base: the control socket's path must fit in 104 bytes.
	base, err := os.MkdirTemp("", "cairn-ui-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	data, mnt := filepath.Join(base, "d"), filepath.Join(base, "m")
	if err := os.Mkdir(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	httpAddr := freeAddr(t)
	// No scheduler: the gc step sets a schedule whose hook must run only
	// when the test asks.
	srv := startServer(t, "server.log", "--data", data, "server", "--volume", "web", "--mount", mnt,
		"--nfs-listen", freeAddr(t), "--metrics", httpAddr, "--no-snapshot-scheduler")
	srv.waitUp(t, mnt)
	waitUI(t, srv, "http://"+httpAddr)
	tr := &tour{t: t, data: data}
	writeMntFiles(t, mnt, map[string]string{"a/b/one.txt": "one\n", "two.txt": "two\n", "keep.txt": "keep me\n"})

	b := newBrowser(t, ctx, "http://"+httpAddr)
	// Even on loopback the pages need a login (other local users must
	// not get past the 0600 socket): the link `cairn status` prints.
	b.load("/ui/volumes", "Log in")
	b.setAt("/ui/login")
	b.do("following the login link", chromedp.Navigate(dashboardLink(t, tr)))
	b.checkPage("Overview")
	for _, p := range dashboardPages {
		b.load(p.path, p.h1)
	}

	// Snapshot s1 with the keyboard only: Tab to the name, type, Enter.
	b.load("/ui/volumes/web", "Volume web")
	tabs := b.tabTo("snap-name", 60)
	t.Logf("the snapshot name is %d Tabs from the top of the volume page", tabs)
	b.submit("snapshot s1 with Enter", chromedp.KeyEvent("s1"+kb.Enter))
	b.checkPage("Volume web")
	b.wantFlash("Snapshot web@s1 taken.")
	if got := snapshotTimeline(b); !slices.Contains(got, "s1") {
		t.Fatalf("the volume's snapshot timeline lists %q, want s1", got)
	}
	if got := firstFields(tr.run("snapshot", "list", "web")); !slices.Contains(got, "web@s1") {
		t.Fatalf("cairn snapshot list web lists %q, want web@s1", got)
	}

	// Snapshot s2 with the mouse, after changes the diff must show.
	writeMntFiles(t, mnt, map[string]string{"two.txt": "two, changed\n", "a/new.txt": "new\n"})
	if err := os.Remove(filepath.Join(mnt, "keep.txt")); err != nil {
		t.Fatal(err)
	}
	b.do("typing the name s2", chromedp.SendKeys(chromedp.ID("snap-name"), "s2"))
	b.submit("snapshot s2 by click", chromedp.Click(chromedp.ID("snapshot-now")))
	b.checkPage("Volume web")
	b.wantFlash("Snapshot web@s2 taken.")
	if got := snapshotTimeline(b); !slices.Equal(got, []string{"s2", "s1"}) {
		t.Fatalf("the volume's snapshot timeline lists %q, want s2 then s1", got)
	}

	b.load("/ui/snapshots/web@s2", "Snapshot web@s2")
	b.do("choosing s1 to diff from", chromedp.SetValue(chromedp.ID("diff-from"), "web@s1"))
	b.submit("showing the diff", chromedp.Click(chromedp.ID("diff-go")))
	b.checkPage("Diff")
	changes := evalIn[map[string]string](b, `Object.fromEntries([...document.querySelectorAll(".tree .change[data-path]")]
		.map(e => [e.dataset.path.replace(/^\//, ""), e.className]))`)
	for path, want := range map[string]string{"a/new.txt": "change added", "two.txt": "change modified", "keep.txt": "change removed"} {
		if changes[path] != want {
			t.Errorf("the diff tree shows %s as %q, want %q (all: %q)", path, changes[path], want, changes)
		}
	}
	if c, ok := changes["a/b/one.txt"]; ok {
		t.Errorf("the diff tree shows the unchanged a/b/one.txt as %q", c)
	}

	// Clone s1, then delete the clone behind its typed confirmation.
	b.load("/ui/snapshots/web@s1", "Snapshot web@s1")
	b.do("naming the clone", chromedp.SendKeys(chromedp.ID("sclone-name"), "fromui"))
	b.submit("cloning s1", chromedp.Click(chromedp.ID("clone-snapshot")))
	b.checkPage("Volume fromui")
	b.wantFlash("Volume fromui cloned from web@s1.")
	if got := volumeNames(tr); !slices.Contains(got, "fromui") {
		t.Fatalf("cairn volume list lists %q, want fromui", got)
	}
	deleteOff := `document.getElementById("delete-volume").disabled`
	if !evalIn[bool](b, deleteOff) {
		t.Fatal("the delete button is enabled before the volume's name was typed")
	}
	b.do("typing most of the name", chromedp.SendKeys(chromedp.ID("delete-confirm"), "fromu"))
	if !evalIn[bool](b, deleteOff) {
		t.Fatal("the delete button is enabled with half the volume's name typed")
	}
	b.do("typing the rest", chromedp.SendKeys(chromedp.ID("delete-confirm"), "i"))
	if evalIn[bool](b, deleteOff) {
		t.Fatal("the delete button stays disabled with the volume's name typed")
	}
	b.submit("deleting fromui", chromedp.Click(chromedp.ID("delete-volume")))
	b.checkPage("Volumes")
	b.wantFlash("Volume fromui deleted")
	if got := volumeNames(tr); slices.Contains(got, "fromui") {
		t.Fatalf("cairn volume list still lists fromui after the delete: %q", got)
	}

	takeScreenshots(t, b, mnt)
	gcLive(t, b, tr, base)
}

// dashboardPages are the dashboard's pages of a server with volume web,
// with their headings.
var dashboardPages = []struct{ path, h1 string }{
	{"/ui/", "Overview"},
	{"/ui/volumes", "Volumes"},
	{"/ui/volumes/web", "Volume web"},
	{"/ui/snapshots", "Snapshots"},
	{"/ui/schedules", "Schedules"},
	{"/ui/cluster", "Cluster"},
	{"/ui/maintenance", "Maintenance"},
}

// writeMntFiles writes files (path: content) under dir.
func writeMntFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// snapshotTimeline is the snapshot names of a volume page's timeline, newest
// first.
func snapshotTimeline(b *browser) []string {
	b.t.Helper()
	return evalIn[[]string](b, `[...document.querySelectorAll(".timeline li")].map(li => li.querySelector("a").textContent.trim())`)
}

// takeScreenshots takes the pictures of docs/screenshots, the volume page
// after enough I/O that its graphs show some.
func takeScreenshots(t *testing.T, b *browser, mnt string) {
	b.load("/ui/", "Overview")
	b.screenshot("overview", desktopWidth)
	b.load("/ui/volumes", "Volumes")
	b.screenshot("volumes", desktopWidth)

	// A few MB written and read back, then three samples (2 s apart).
	data := make([]byte, 4<<20)
	rand.Read(data)
	for _, name := range []string{"io-1.bin", "io-2.bin"} {
		p := filepath.Join(mnt, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		if got, err := os.ReadFile(p); err != nil || !bytes.Equal(got, data) {
			t.Fatalf("reading back %s: %v", p, err)
		}
	}
	time.Sleep(6 * time.Second)
	b.load("/ui/volumes/web", "Volume web")
	b.waitJS("the I/O graphs", `document.querySelectorAll("#io polyline").length > 0`, 20*time.Second)
	b.screenshot("volume", desktopWidth)

	b.load("/ui/snapshots/web@s2", "Snapshot web@s2")
	b.screenshot("snapshot", desktopWidth)
	b.load("/ui/diff?from=web@s1&to=web@s2", "Diff")
	b.screenshot("diff", desktopWidth)
	b.load("/ui/cluster", "Cluster")
	b.screenshot("cluster", desktopWidth)

	// On a phone no page may be wider than the screen: wide tables
	// scroll inside their own box, not the page.
	b.viewport(phoneWidth, phoneHeight)
	for _, p := range append(dashboardPages, struct{ path, h1 string }{"/ui/snapshots/web@s2", "Snapshot web@s2"}) {
		b.load(p.path, p.h1)
		if w := evalIn[int](b, `document.documentElement.scrollWidth`); w > phoneWidth {
			t.Errorf("%s is %d pixels wide on a %d pixel wide phone", p.path, w, phoneWidth)
		}
	}
	b.load("/ui/", "Overview")
	b.screenshot("overview-phone", phoneWidth)
	b.viewport(desktopWidth, desktopHeight)
}

// gcLive runs gc from the maintenance page and watches its job page turn
// from progress to the result by itself. A gc of a few files ends in
// milliseconds, before the page could show any progress, so the test
// holds it back: a snapshot with the schedule's post-hook holds off
// gc's sweep until the hook ends (gc may not sweep while a cut is being
// recorded), and the hook sleeps a few seconds once it has said it runs.
func gcLive(t *testing.T, b *browser, tr *tour, base string) {
	started := filepath.Join(base, "hook-started")
	tr.run("snapshot", "schedule", "web", "--every", "24h", "--keep", "5",
		"--post-hook", "touch "+started+" && sleep 5")
	api, err := client.Dial(control.SocketPath(tr.data), client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer api.Close()
	held := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_, err := api.Snapshots.CreateSnapshot(ctx,
			&cairnv1.CreateSnapshotRequest{Volume: "web", Name: "held", ScheduleHooks: true})
		held <- err
	}()
	waitFor(t, func() bool { _, err := os.Stat(started); return err == nil })

	b.load("/ui/maintenance", "Maintenance")
	b.submit("starting gc", chromedp.Click(chromedp.ID("start-gc")))
	b.checkPage("Garbage collection")
	// A reload would drop this mark; the script's refresh keeps the page.
	b.do("marking the page", chromedp.Evaluate[chromedp.Void](`window.cairnSamePage = true`))
	// One look at the page, which the script may replace at any time.
	phase := evalIn[string](b, `(() => {
		const p = document.querySelector("#job[data-refresh] .phase");
		return p && !document.getElementById("job-result") ? p.textContent.trim() : "";
	})()`)
	if phase == "" {
		t.Fatalf("the job page shows no gc in progress (the hook holds it):\n%s",
			evalIn[string](b, `document.getElementById("job").outerHTML`))
	}
	t.Logf("the job page shows gc in progress: %q", phase)
	b.waitJS("the gc result", `document.getElementById("job-result") !== null`, 60*time.Second)
	if !evalIn[bool](b, `window.cairnSamePage === true`) {
		t.Fatal("the job page was reloaded; it must update itself in place")
	}
	result := runIn(b, "reading the result", chromedp.Text(chromedp.ID("job-result")))
	if !strings.Contains(result, "Marked") || !strings.Contains(result, "Swept") {
		t.Fatalf("the gc result reads %q, want its marked and swept counts", result)
	}
	if evalIn[bool](b, `document.querySelector("[data-refresh]#job") !== null`) {
		t.Error("the finished job still asks to be refreshed")
	}
	b.checkA11y()
	select {
	case err := <-held:
		if err != nil {
			t.Fatalf("the snapshot holding gc back: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the snapshot holding gc back did not end")
	}
}

// TestDashboardLogin checks the dashboard on an address other machines
// can reach: nothing is served without a login, neither to a browser nor
// to a plain client; a wrong token is refused and the right one lets the
// browser in; an action without the session's CSRF token, or from
// another site, is refused and does nothing. Without a token file the
// daemon makes one up, and the link `cairn status` prints logs in.
func TestDashboardLogin(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: starts servers and a browser")
	}
	chromiumPath(t)
	ctx, cancel := context.WithTimeout(context.Background(), browserDeadline)
	defer cancel()
	base, err := os.MkdirTemp("", "cairn-ui-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	tokenBytes := make([]byte, 16)
	rand.Read(tokenBytes)
	token := hex.EncodeToString(tokenBytes)
	tokenFile := filepath.Join(base, "token")
	if err := os.WriteFile(tokenFile, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// Both listen on every address; the test talks to them on loopback.
	_, port, _ := net.SplitHostPort(freeAddr(t))
	_, bare, _ := net.SplitHostPort(freeAddr(t))
	withToken := startServer(t, "token.log", "--data", filepath.Join(base, "d1"), "server", "--volume=", "--no-nfs",
		"--metrics", "0.0.0.0:"+port, "--api-token-file", tokenFile)
	noToken := startServer(t, "bare.log", "--data", filepath.Join(base, "d2"), "server", "--volume=", "--no-nfs",
		"--metrics", "0.0.0.0:"+bare)
	ui, bareUI := "http://127.0.0.1:"+port, "http://127.0.0.1:"+bare
	waitUI(t, withToken, ui)
	waitUI(t, noToken, bareUI)
	tr := &tour{t: t, data: filepath.Join(base, "d1")}

	t.Run("no login, no pages", func(t *testing.T) {
		c := noRedirects(nil)
		for _, path := range []string{"/ui/", "/ui/volumes"} {
			status, loc, body := uiGet(t, c, ui+path)
			if status != http.StatusSeeOther || !strings.HasPrefix(loc, "/ui/login?") {
				t.Errorf("GET %s without a login: %d to %q, want 303 to /ui/login?...", path, status, loc)
			}
			if strings.Contains(body, "<h1>") || strings.Contains(body, "<table") {
				t.Errorf("GET %s without a login shows a page:\n%s", path, body)
			}
		}
	})

	t.Run("no token file, a made-up token", func(t *testing.T) {
		c := noRedirects(nil)
		if status, loc, _ := uiGet(t, c, bareUI+"/ui/"); status != http.StatusSeeOther || !strings.HasPrefix(loc, "/ui/login?") {
			t.Errorf("GET /ui/ without a token file: %d to %q, want 303 to the login page", status, loc)
		}
		link, err := url.Parse(dashboardLink(t, &tour{t: t, data: filepath.Join(base, "d2")}))
		if err != nil {
			t.Fatal(err)
		}
		jar, _ := cookiejar.New(nil)
		c = noRedirects(jar)
		if status, loc, _ := uiGet(t, c, bareUI+link.RequestURI()); status != http.StatusSeeOther || loc != "/ui/" {
			t.Fatalf("the login link of cairn status: %d to %q, want 303 to /ui/", status, loc)
		}
		if status, _, _ := uiGet(t, c, bareUI+"/ui/volumes"); status != http.StatusOK {
			t.Errorf("after the login link: %d", status)
		}
	})

	t.Run("csrf", func(t *testing.T) {
		jar, _ := cookiejar.New(nil)
		c := noRedirects(jar)
		// Not logged in: refused before the CSRF check even matters.
		uiGet(t, c, ui+"/ui/login")
		if status := uiPost(t, c, ui+"/ui/volumes", url.Values{"name": {"x"}}, ""); status != http.StatusUnauthorized && status != http.StatusForbidden {
			t.Errorf("POST /ui/volumes without a login: %d, want 401 or 403", status)
		}
		// Logged in, as a script with the token would be.
		_, _, page := uiGet(t, c, ui+"/ui/login")
		if status := uiPost(t, c, ui+"/ui/login", url.Values{"token": {token}, "csrf": {csrfOf(t, page)}}, ""); status != http.StatusSeeOther {
			t.Fatalf("logging in: %d, want 303", status)
		}
		status, _, page := uiGet(t, c, ui+"/ui/volumes")
		if status != http.StatusOK {
			t.Fatalf("GET /ui/volumes after login: %d", status)
		}
		csrf := csrfOf(t, page)
		if status := uiPost(t, c, ui+"/ui/volumes", url.Values{"name": {"x"}}, ""); status != http.StatusForbidden {
			t.Errorf("POST /ui/volumes without the CSRF token: %d, want 403", status)
		}
		if status := uiPost(t, c, ui+"/ui/volumes", url.Values{"name": {"x"}, "csrf": {csrf}}, "http://evil.example"); status != http.StatusForbidden {
			t.Errorf("POST /ui/volumes from another site: %d, want 403", status)
		}
		if got := volumeNames(tr); slices.Contains(got, "x") {
			t.Fatalf("a refused POST created volume x: %q", got)
		}
		// The same form with its token works: the refusals were the
		// CSRF checks, not a broken form.
		if status := uiPost(t, c, ui+"/ui/volumes", url.Values{"name": {"y"}, "csrf": {csrf}}, ""); status != http.StatusSeeOther {
			t.Errorf("POST /ui/volumes with the CSRF token: %d, want 303", status)
		}
		if got := volumeNames(tr); !slices.Contains(got, "y") {
			t.Fatalf("cairn volume list lists %q, want y created through the dashboard", got)
		}
	})

	t.Run("browser", func(t *testing.T) {
		b := newBrowser(t, ctx, ui)
		b.setAt("/ui/")
		b.do("opening /ui/", chromedp.Navigate(ui+"/ui/"))
		if p := b.path(); !strings.HasPrefix(p, "/ui/login") {
			t.Fatalf("/ui/ without a login lands on %s, want the login page", p)
		}
		b.checkPage("Log in")
		b.do("typing a wrong token", chromedp.SendKeys(chromedp.ID("token"), "not-"+token))
		b.submit("logging in with a wrong token", chromedp.Click(chromedp.CSS(`form[action="/ui/login"] button`)))
		b.checkPage("Log in")
		b.wantFlash("Wrong token.")
		b.do("typing the token", chromedp.SendKeys(chromedp.ID("token"), token))
		b.submit("logging in", chromedp.Click(chromedp.CSS(`form[action="/ui/login"] button`)))
		if p := b.path(); p != "/ui/" {
			t.Fatalf("the login lands on %s, want /ui/", p)
		}
		b.checkPage("Overview")
	})
}

// uiGet GETs target and returns the status, the Location header and the body.
func uiGet(t *testing.T, c *http.Client, target string) (int, string, string) {
	t.Helper()
	resp, err := c.Get(target)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("Location"), string(body)
}

// uiPost POSTs form to target, with an Origin header if origin is set, and
// returns the status.
func uiPost(t *testing.T, c *http.Client, target string, form url.Values, origin string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// csrfInput is the hidden CSRF field every dashboard form carries.
var csrfInput = regexp.MustCompile(`<input type="hidden" name="csrf" value="([^"]+)">`)

// csrfOf is the CSRF token of a dashboard page.
func csrfOf(t *testing.T, page string) string {
	t.Helper()
	m := csrfInput.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF field in the page:\n%s", page)
	}
	return m[1]
}
