//go:build dockercluster

package cluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// stack is one compose project of the suite.
type stack struct {
	t       *testing.T
	root    string   // the repository
	compose []string // "docker compose" or "docker-compose", with -p and -f
	image   string
	project string
	network string            // the project's network
	ids     map[string]string // service -> container ID
	logDir  string
}

// Services of deploy/docker-compose.yml the suite drives.
var (
	storageNodes = []string{"node1", "node2", "node3"}
	allNodes     = []string{"node1", "node2", "node3", "gateway"}
)

// run runs a command with a deadline and returns its standard output;
// a failure includes its standard error.
func run(timeout time.Duration, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(errb.String())
		if ctx.Err() != nil {
			err = fmt.Errorf("%w after %v", ctx.Err(), timeout)
		}
		return out.String(), fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, msg)
	}
	return out.String(), nil
}

// composeTool finds the compose command: CAIRN_TEST_COMPOSE, else the
// `docker compose` plugin, else docker-compose.
func composeTool() ([]string, error) {
	if s := os.Getenv("CAIRN_TEST_COMPOSE"); s != "" {
		return strings.Fields(s), nil
	}
	if _, err := run(20*time.Second, "docker", "compose", "version"); err == nil {
		return []string{"docker", "compose"}, nil
	}
	if _, err := run(20*time.Second, "docker-compose", "version"); err == nil {
		return []string{"docker-compose"}, nil
	}
	return nil, errors.New("neither `docker compose` nor docker-compose works")
}

// newStack checks that Docker answers, builds the binaries and the test
// image, and prepares (but does not start) the compose project.
func newStack(t *testing.T) *stack {
	if _, err := run(30*time.Second, "docker", "info", "--format", "{{.ServerVersion}}"); err != nil {
		t.Skipf("no Docker engine: %v", err)
	}
	tool, err := composeTool()
	if err != nil {
		t.Fatalf("Docker answers but %v", err)
	}
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	s := &stack{t: t, root: root, image: "cairn-test:dev", ids: make(map[string]string)}
	s.project = os.Getenv("CAIRN_TEST_PROJECT")
	if s.project == "" {
		s.project = "cairntest"
	}
	s.compose = append(tool, "-p", s.project,
		"-f", filepath.Join(root, "deploy", "docker-compose.yml"),
		"-f", filepath.Join(root, "test", "cluster", "compose.test.yml"))
	if s.logDir = os.Getenv("CAIRN_TEST_LOGS"); s.logDir == "" {
		if s.logDir, err = os.MkdirTemp("", "cairn-test-cluster-"); err != nil {
			t.Fatal(err)
		}
	} else if err := os.MkdirAll(s.logDir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("compose: %s; logs go to %s", strings.Join(tool, " "), s.logDir)
	s.build()
	return s
}

// build compiles bin/cairn (as `make build` does) and the probe, and
// puts both on the test image.
func (s *stack) build() {
	t := s.t
	start := time.Now()
	ctx := t.TempDir()
	for _, b := range []struct{ out, pkg string }{
		{filepath.Join(s.root, "bin", "cairn"), "./cmd/cairn"},
		{filepath.Join(ctx, "probe"), "./test/cluster/probe"},
	} {
		cmd := exec.Command("go", "build", "-o", b.out, b.pkg)
		cmd.Dir, cmd.Env = s.root, append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", b.pkg, err, out)
		}
	}
	bin, err := os.ReadFile(filepath.Join(s.root, "bin", "cairn"))
	if err == nil {
		err = os.WriteFile(filepath.Join(ctx, "cairn"), bin, 0o755)
	}
	if err != nil {
		t.Fatal(err)
	}
	if _, err := run(5*time.Minute, "docker", "build", "-q", "-t", s.image,
		"-f", filepath.Join(s.root, "test", "cluster", "Dockerfile"), ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("built bin/cairn, the probe and image %s in %v", s.image, time.Since(start).Round(time.Second))
}

// composeRun runs the compose tool with the test's files and image.
func (s *stack) composeRun(timeout time.Duration, args ...string) (string, error) {
	all := append(append([]string{}, s.compose[1:]...), args...)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, s.compose[0], all...)
	cmd.Env = append(os.Environ(), "CAIRN_IMAGE="+s.image)
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s %s: %w\n%s", s.compose[0], strings.Join(all, " "), err, out)
	}
	return string(out), nil
}

// up starts the cluster from scratch and learns the containers' IDs.
func (s *stack) up() {
	t := s.t
	s.down() // a previous run's leftovers
	t.Cleanup(func() {
		keep := t.Failed() || os.Getenv("CAIRN_TEST_LOGS") != ""
		if keep {
			s.saveLogs()
		}
		if os.Getenv("CAIRN_TEST_KEEP") != "" {
			t.Logf("CAIRN_TEST_KEEP: leaving project %s running", s.project)
			return
		}
		s.down()
		if !keep {
			os.RemoveAll(s.logDir)
		}
	})
	if _, err := s.composeRun(3*time.Minute, "up", "-d"); err != nil {
		t.Fatal(err)
	}
	for _, svc := range append(append([]string{}, allNodes...), "admin") {
		out, err := s.composeRun(time.Minute, "ps", "-q", svc)
		id := strings.TrimSpace(out)
		if err != nil || id == "" {
			t.Fatalf("container of %s: %q, %v", svc, id, err)
		}
		s.ids[svc] = id
	}
	out, err := run(time.Minute, "docker", "inspect", "-f",
		"{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}", s.ids["gateway"])
	if nets := strings.Fields(out); err != nil || len(nets) != 1 {
		t.Fatalf("network of the gateway: %q, %v", out, err)
	} else {
		s.network = nets[0]
	}
}

// down removes the project's containers, network and volumes.
func (s *stack) down() {
	if out, err := s.composeRun(3*time.Minute, "down", "-v", "--remove-orphans", "-t", "5"); err != nil {
		s.t.Logf("compose down: %v\n%s", err, out)
	}
}

// saveLogs writes every container's log to the log directory.
func (s *stack) saveLogs() {
	for svc, id := range s.ids {
		out, err := exec.Command("docker", "logs", "-t", id).CombinedOutput()
		if err != nil {
			s.t.Logf("logs of %s: %v", svc, err)
		}
		if err := os.WriteFile(filepath.Join(s.logDir, svc+".log"), out, 0o644); err != nil {
			s.t.Logf("save logs of %s: %v", svc, err)
		}
	}
	s.t.Logf("container logs saved in %s", s.logDir)
}

// docker runs a docker command on the containers of svcs (their IDs
// are appended to args).
func (s *stack) docker(timeout time.Duration, args []string, svcs ...string) error {
	for _, svc := range svcs {
		args = append(args, s.ids[svc])
	}
	_, err := run(timeout, "docker", args...)
	return err
}

// exec runs a command in the container of svc and returns its output.
func (s *stack) exec(timeout time.Duration, svc string, args ...string) (string, error) {
	return run(timeout, "docker", append([]string{"exec", s.ids[svc]}, args...)...)
}

func (s *stack) kill(svc string) error  { return s.docker(time.Minute, []string{"kill"}, svc) }
func (s *stack) start(svc string) error { return s.docker(time.Minute, []string{"start"}, svc) }

// restart stops svc gracefully (SIGTERM, then SIGKILL after 30 s) and
// starts it again.
func (s *stack) restart(svc string) error {
	return s.docker(2*time.Minute, []string{"restart", "-t", "30"}, svc)
}

// disconnect and connect cut svc off the project's network and back.
func (s *stack) disconnect(svc string) error {
	return s.docker(time.Minute, []string{"network", "disconnect", s.network}, svc)
}

// connect gives svc its service name as an alias again, as compose did.
func (s *stack) connect(svc string) error {
	return s.docker(time.Minute, []string{"network", "connect", "--alias", svc, s.network}, svc)
}
