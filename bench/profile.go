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

// startCPUProfile asks the cairn server at addr for a CPU profile of the
// next seconds seconds (net/http/pprof) and writes it to path. The
// returned function waits for the profile and reports how it went; call
// it before the server stops.
func startCPUProfile(ctx context.Context, addr string, seconds int, path string) (wait func() error) {
	errc := make(chan error, 1)
	go func() { errc <- fetchProfile(ctx, addr, seconds, path) }()
	return func() error { return <-errc }
}

func fetchProfile(ctx context.Context, addr string, seconds int, path string) error {
	url := fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", addr, seconds)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("cpu profile: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("cpu profile: %s: %s", resp.Status, strings.TrimSpace(string(b)))
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return fmt.Errorf("cpu profile: %w", err)
	}
	return f.Close()
}
