package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
)

// profilePath is where the CPU profile of workload goes: base itself
// when only one workload is profiled, else base with the workload's name
// before the extension (cpu.pprof -> cpu.seqwrite.pprof).
func profilePath(base, workload string, several bool) string {
	if !several {
		return base
	}
	ext := filepath.Ext(base)
	return strings.TrimSuffix(base, ext) + "." + workload + ext
}

// startFetch asks the cairn server at addr for a profile over the next
// seconds seconds from a net/http/pprof endpoint ("profile" for CPU,
// "trace" for an execution trace) and writes it to path. The returned
// function waits for it; call it before the server stops.
func startFetch(ctx context.Context, addr, endpoint string, seconds int, path string) (wait func() error) {
	errc := make(chan error, 1)
	go func() { errc <- fetchProfile(ctx, addr, endpoint, seconds, path) }()
	return func() error { return <-errc }
}

// fetchProfile GETs /debug/pprof/ENDPOINT?seconds=N from addr into path.
func fetchProfile(ctx context.Context, addr, endpoint string, seconds int, path string) error {
	url := fmt.Sprintf("http://%s/debug/pprof/%s?seconds=%d", addr, endpoint, seconds)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", endpoint, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("%s: %s: %s", endpoint, resp.Status, strings.TrimSpace(string(b)))
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", endpoint, err)
	}
	return f.Close()
}
