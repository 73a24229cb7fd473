package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/png"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// The desktop size every page is laid out and shot at, and the phone
// size of the narrow overview screenshot.
const (
	desktopWidth, desktopHeight = 1280, 900
	phoneWidth, phoneHeight     = 390, 844
)

// browserDeadline bounds a whole browser test: a page that never loads
// or a wait that never ends fails the test rather than hanging it.
const browserDeadline = 3 * time.Minute

// chromiumPath is Debian's chromium. Without it the browser tests skip,
// except in CI, which installs it (.ci/run) and must not pass by
// skipping them.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"/usr/bin/chromium", "chromium"} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	msg := "no chromium to drive the dashboard with: apt-get install chromium (.ci/run installs it)"
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// browser is one headless Chromium tab on a dashboard. It records every
// console error, uncaught exception and browser log error the pages
// cause, and fails the test with them at its end: a script error or a
// failed request is a bug even when the page looks right.
type browser struct {
	t    *testing.T
	ctx  context.Context
	base string // http://HOST:PORT of the dashboard

	mu       sync.Mutex
	at       string   // the path last opened, to say where an error came from
	problems []string // what the page reported, in order
}

// newBrowser starts Chromium for the test, with ctx bounding it, at the
// desktop size.
func newBrowser(t *testing.T, ctx context.Context, base string) *browser {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Headless,
		chromedp.NoSandbox, // the tests run as root, which Chromium's sandbox refuses
		chromedp.DisableGPU,
		chromedp.WindowSize(desktopWidth, desktopHeight),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	tctx, cancelTab := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelTab(); cancelAlloc() })
	b := &browser{t: t, ctx: tctx, base: base}
	// Listen starts the browser; it sees every event from here on.
	if err := chromedp.Listen(tctx, b.record); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	t.Cleanup(b.checkConsole)
	b.viewport(desktopWidth, desktopHeight)
	return b
}

// record keeps what the page reports as an error. It runs on the tab's
// event loop, so it only appends.
func (b *browser) record(ev any) {
	var p string
	switch ev := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		if ev.Type != runtime.ConsoleAPICalledTypeError {
			return
		}
		var args []string
		for _, a := range ev.Args {
			if a.Description != "" {
				args = append(args, a.Description)
			} else {
				args = append(args, string(a.Value))
			}
		}
		p = "console.error: " + strings.Join(args, " ")
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		p = fmt.Sprintf("uncaught exception: %s at %s:%d", d.Text, d.URL, d.LineNumber+1)
		if d.Exception != nil {
			p += ": " + d.Exception.Description
		}
	case *cdplog.EventEntryAdded:
		if ev.Entry.Level != cdplog.EntryLevelError {
			return
		}
		p = fmt.Sprintf("browser log (%s): %s %s", ev.Entry.Source, ev.Entry.Text, ev.Entry.URL)
	default:
		return
	}
	b.mu.Lock()
	b.problems = append(b.problems, "on "+b.at+": "+p)
	b.mu.Unlock()
}

// checkConsole fails the test with what the pages reported.
func (b *browser) checkConsole() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.problems) > 0 {
		b.t.Errorf("the pages reported %d errors:\n%s", len(b.problems), strings.Join(b.problems, "\n"))
	}
}

// runIn runs an action that returns a value, failing the test on error.
func runIn[T any](b *browser, what string, a chromedp.Action[T]) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, a)
	if err != nil {
		b.t.Fatalf("%s (on %s): %v", what, b.path(), err)
	}
	return v
}

// do runs actions that return nothing, failing the test on error.
func (b *browser) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.t.Fatalf("%s (on %s): %v", what, b.path(), err)
	}
}

// evalIn evaluates a JavaScript expression in the page.
func evalIn[T any](b *browser, js string) T {
	b.t.Helper()
	return runIn(b, "evaluating "+js, chromedp.Evaluate[T](js))
}

// setAt notes the page being opened, for the console errors.
func (b *browser) setAt(path string) {
	b.mu.Lock()
	b.at = path
	b.mu.Unlock()
}

// path is the path and query of the page the tab shows.
func (b *browser) path() string {
	loc, err := chromedp.Run(b.ctx, chromedp.Location())
	if err != nil {
		return "?"
	}
	return strings.TrimPrefix(loc, b.base)
}

// viewport lays pages out at width x height CSS pixels, one device pixel
// each, so a screenshot is exactly width pixels wide.
func (b *browser) viewport(width, height int) {
	b.t.Helper()
	b.do(fmt.Sprintf("setting the viewport to %dx%d", width, height), chromedp.EmulateViewport(int64(width), int64(height)))
}

// load opens path and checks the page: status 200, the heading h1, the
// accessibility checks.
func (b *browser) load(path, h1 string) {
	b.t.Helper()
	b.setAt(path)
	resp := runIn(b, "loading "+path, chromedp.NavigateResponse(b.base+path))
	if resp.Status != http.StatusOK {
		b.t.Fatalf("%s: HTTP %d %s, want 200", path, resp.Status, resp.StatusText)
	}
	b.checkPage(h1)
}

// submit runs steps that submit a form (a click, Enter) and waits for the
// page the action lands on, which must answer 200.
func (b *browser) submit(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	resp, err := chromedp.RunResponse(b.ctx, steps...)
	if err != nil {
		b.t.Fatalf("%s (from %s): %v", what, b.path(), err)
	}
	b.setAt(b.path())
	if resp.Status != http.StatusOK {
		b.t.Fatalf("%s: landed on %s with HTTP %d, want 200", what, resp.URL, resp.Status)
	}
}

// checkPage checks the page shown has the heading h1 and passes the
// accessibility checks.
func (b *browser) checkPage(h1 string) {
	b.t.Helper()
	if got := evalIn[string](b, `document.querySelector("h1") ? document.querySelector("h1").textContent.trim() : ""`); got != h1 {
		b.t.Fatalf("%s: the heading is %q, want %q", b.path(), got, h1)
	}
	b.checkA11y()
	b.checkPatterns()
}

// patternsJS lists the pattern attributes the browser cannot compile.
// It compiles them as it does, with the v flag, under which a "-" in a
// character class must be escaped; it then ignores the pattern, checking
// nothing, and says so only in its log once a value is typed.
const patternsJS = `[...document.querySelectorAll("input[pattern]")].flatMap(el => {
	try { new RegExp("^(?:" + el.pattern + ")$", "v"); return []; }
	catch (e) { return ["#" + el.id + ": " + e.message]; }
})`

// checkPatterns fails the test if an input's pattern does not compile.
func (b *browser) checkPatterns() {
	b.t.Helper()
	if bad := evalIn[[]string](b, patternsJS); len(bad) > 0 {
		b.t.Fatalf("%s has patterns the browser ignores:\n%s", b.path(), strings.Join(bad, "\n"))
	}
}

// a11yJS lists what keeps a page from being usable with a screen reader
// or the keyboard alone, as a person auditing it would check first.
const a11yJS = `(() => {
	const problems = [];
	const describe = el => {
		let s = el.tagName.toLowerCase();
		if (el.id) s += "#" + el.id;
		if (el.getAttribute("name")) s += "[name=" + el.getAttribute("name") + "]";
		if (el.getAttribute("href")) s += "[href=" + el.getAttribute("href") + "]";
		return s;
	};
	const visible = el => !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length);
	const named = el => (el.textContent || "").trim() !== "" ||
		(el.getAttribute("aria-label") || "").trim() !== "" ||
		(el.getAttribute("aria-labelledby") || "").trim() !== "" ||
		[...el.querySelectorAll("img[alt]")].some(img => img.alt.trim() !== "");
	if (!document.documentElement.getAttribute("lang")) {
		problems.push("<html> has no lang");
	}
	const h1 = document.querySelectorAll("h1").length;
	if (h1 !== 1) {
		problems.push(h1 + " h1 elements, want exactly one");
	}
	for (const el of document.querySelectorAll("input, select, textarea")) {
		if (el.type === "hidden" || !visible(el)) continue;
		if (el.labels.length === 0 && !el.getAttribute("aria-label") && !el.getAttribute("aria-labelledby")) {
			problems.push(describe(el) + " has no label");
		}
	}
	for (const el of document.querySelectorAll("button, a")) {
		if (!named(el)) problems.push(describe(el) + " has no accessible name");
	}
	for (const el of document.querySelectorAll("img")) {
		if (!el.hasAttribute("alt")) problems.push(describe(el) + " has no alt");
	}
	const seen = new Set();
	for (const el of document.querySelectorAll("[id]")) {
		if (seen.has(el.id)) problems.push("id " + el.id + " is not unique");
		seen.add(el.id);
	}
	return problems;
})()`

// checkA11y fails the test with the accessibility problems of the page.
func (b *browser) checkA11y() {
	b.t.Helper()
	if problems := evalIn[[]string](b, a11yJS); len(problems) > 0 {
		b.t.Fatalf("%s fails the accessibility checks:\n%s", b.path(), strings.Join(problems, "\n"))
	}
}

// flashes are the texts of the messages an action left on the page.
func (b *browser) flashes() []string {
	b.t.Helper()
	return evalIn[[]string](b, `[...document.querySelectorAll("main > .flash")].map(e => e.textContent.trim())`)
}

// wantFlash fails the test unless a message on the page starts with want.
func (b *browser) wantFlash(want string) {
	b.t.Helper()
	got := b.flashes()
	for _, f := range got {
		if strings.HasPrefix(f, want) {
			return
		}
	}
	b.t.Fatalf("%s: messages %q, want one saying %q", b.path(), got, want)
}

// tabTo presses Tab from the top of the page until the element id has
// the focus, failing after max presses: a form a keyboard user cannot
// reach is broken for them. It returns the number of presses.
func (b *browser) tabTo(id string, max int) int {
	b.t.Helper()
	b.do("going to the top of the page", chromedp.Evaluate[chromedp.Void](
		`document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0)`))
	var path []string
	for i := 1; i <= max; i++ {
		b.do("pressing Tab", chromedp.KeyEvent(kb.Tab))
		if evalIn[string](b, `document.activeElement ? document.activeElement.id : ""`) == id {
			return i
		}
		got := evalIn[string](b, `(() => { const e = document.activeElement; if (!e) return "nothing";
			return e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + " " + (e.textContent || "").trim().slice(0, 30); })()`)
		path = append(path, got)
	}
	b.t.Fatalf("%s: #%s still not focused after %d Tabs; the focus went through:\n%s", b.path(), id, max, strings.Join(path, "\n"))
	return 0
}

// waitJS waits up to timeout for a JavaScript condition to hold in the
// page shown, without reloading it.
func (b *browser) waitJS(what, cond string, timeout time.Duration) {
	b.t.Helper()
	b.do("waiting for "+what, chromedp.Poll[chromedp.Void](cond,
		chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(timeout)))
}

// screenshot takes a full-page PNG of what the tab shows, checks it is a
// real picture width pixels wide, and keeps it as docs/screenshots/
// NAME.png when CAIRN_UPDATE_SCREENSHOTS=1 (to refresh the README's
// pictures), else in the test's temporary directory.
func (b *browser) screenshot(name string, width int) {
	b.t.Helper()
	buf := runIn(b, "screenshot "+name, chromedp.FullScreenshot(100))
	img, err := png.Decode(bytes.NewReader(buf))
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	if got := img.Bounds().Dx(); got != width {
		b.t.Errorf("screenshot %s is %d pixels wide, want %d", name, got, width)
	}
	// A blank or error page compresses to a few kilobytes.
	if len(buf) < 10<<10 {
		b.t.Errorf("screenshot %s is only %d bytes: is the page empty?", name, len(buf))
	}
	dir := b.t.TempDir()
	if os.Getenv("CAIRN_UPDATE_SCREENSHOTS") == "1" {
		dir = filepath.Join("..", "..", "docs", "screenshots")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			b.t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), buf, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot %s: %dx%d, %d KiB", name, img.Bounds().Dx(), img.Bounds().Dy(), len(buf)>>10)
}

// waitUI waits until the server's dashboard is wired up (its assets are
// served without a login), failing at once if the server exits first.
// The HTTP address listens before the daemon adds the dashboard to it.
func waitUI(t *testing.T, srv *testServer, base string) {
	t.Helper()
	var last string
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); {
		resp, err := http.Get(base + "/ui/assets/app.css")
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		select {
		case <-srv.exited:
			t.Fatalf("server exited before serving the dashboard: %v", srv.err)
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatalf("no dashboard at %s within 60s: %s", base, last)
}

// noRedirects is an HTTP client that shows redirects instead of
// following them, to see what a request without a login gets.
func noRedirects(jar http.CookieJar) *http.Client {
	return &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// volumeNames are the volumes `cairn volume list` lists, through the
// daemon of tr.
func volumeNames(tr *tour) []string {
	tr.t.Helper()
	return firstFields(tr.run("volume", "list"))
}

// firstFields are the first words of out's lines.
func firstFields(out string) []string {
	var names []string
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) > 0 {
			names = append(names, f[0])
		}
	}
	return names
}

// dashboardLink is the login link `cairn status` reports for the daemon.
func dashboardLink(t *testing.T, tr *tour) string {
	t.Helper()
	var v struct{ Dashboard string }
	if err := json.NewDecoder(strings.NewReader(tr.run("status", "--json"))).Decode(&v); err != nil {
		t.Fatalf("cairn status --json: %v", err)
	}
	if !strings.Contains(v.Dashboard, "/ui/login?token=") {
		t.Fatalf("cairn status reports the dashboard at %q, want a login link", v.Dashboard)
	}
	return v.Dashboard
}
