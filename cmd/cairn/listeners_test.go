package main

import (
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"
	"github.com/hashicorp/serf/serf"
	"github.com/urfave/cli/v2"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	cairnv1 "github.com/cairn-storage/cairn/api/cairn/v1"
	"github.com/cairn-storage/cairn/cluster/pki"
	"github.com/cairn-storage/cairn/control/client"
)

// listenerNode is a node daemon in cluster mode with every TCP listener
// it can have on: the credentials of its cluster are in pki.
type listenerNode struct {
	*tour
	pki                                    string
	gossip, rpc, etcdClient, etcdPeer, api string
	http, receive, token                   string
	member                                 *pki.Bundle // another node's bundle
}

// startListenerNode starts `cairn server` as a cluster's storage node n1,
// with an embedded etcd member over mutual TLS, the control API on TCP,
// the HTTP address with pprof, and the snapshot receiver.
func startListenerNode(t *testing.T) *listenerNode {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end: starts a server")
	}
	base := t.TempDir()
	n := &listenerNode{tour: &tour{t: t, data: filepath.Join(base, "data")}, pki: filepath.Join(base, "pki"),
		gossip: freeAddr(t), rpc: freeAddr(t), etcdClient: freeAddr(t), etcdPeer: freeAddr(t),
		api: freeAddr(t), http: freeAddr(t), receive: freeAddr(t), token: "listener-test-token"}
	if err := newApp().Run([]string{"cairn", "cluster", "init", "--out", n.pki, "--nodes", "n1,n2", "--host", "127.0.0.1"}); err != nil {
		t.Fatal(err)
	}
	tokenFile := filepath.Join(base, "token")
	if err := os.WriteFile(tokenFile, []byte(n.token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var err error
	if n.member, err = pki.LoadBundle(filepath.Join(n.pki, "n2")); err != nil {
		t.Fatal(err)
	}
	startCairn(t, "n1.log", "--data", n.data, "--meta", "etcd-embedded", "server", "--node-name", "n1",
		"--tls-dir", filepath.Join(n.pki, "n1"), "--bind", n.gossip, "--rpc-listen", n.rpc, "--replicas", "1",
		"--etcd-client-url", "https://"+n.etcdClient, "--etcd-peer-url", "https://"+n.etcdPeer,
		"--api-listen", "tcp://"+n.api, "--api-token-file", tokenFile, "--metrics", n.http, "--pprof",
		"--receive", n.receive, "--no-nfs", "--no-snapshot-scheduler")
	waitAPI(t, n.tour)
	return n
}

// TestListenersRefuseStrangers calls every TCP listener of a node daemon
// as a client without the cluster's credentials: each refuses it, or
// serves only what is public by design (/metrics, the login page, and
// the snapshot receiver, which has no authentication and is off unless
// asked for). Each refusal is paired with the same call made with
// credentials, which succeeds, so a refusal is not a broken probe.
func TestListenersRefuseStrangers(t *testing.T) {
	n := startListenerNode(t)
	anon := n.member.ClientTLS()
	anon.Certificates = nil
	t.Run("gossip", func(t *testing.T) {
		other := make([]byte, 32)
		rand.Read(other)
		if joined, err := joinGossip(t, n.gossip, nil); err == nil {
			t.Errorf("a member without the gossip key joined (%d)", joined)
		}
		if joined, err := joinGossip(t, n.gossip, other); err == nil {
			t.Errorf("a member with another gossip key joined (%d)", joined)
		}
		if _, err := joinGossip(t, n.gossip, n.member.GossipKey); err != nil {
			t.Errorf("a member with the cluster's gossip key could not join: %v", err)
		}
	})
	httpsCases := []struct{ name, url, proto string }{
		{"chunk RPC", "https://" + n.rpc + "/", "h2"},
		{"etcd client URL", "https://" + n.etcdClient + "/version", "h2"},
		{"etcd peer URL", "https://" + n.etcdPeer + "/members", "http/1.1"},
	}
	for _, tt := range httpsCases {
		t.Run(tt.name, func(t *testing.T) {
			if resp, err := httpsGet(tt.url, tt.proto, anon); err == nil {
				t.Errorf("a client without a certificate got %s", resp.Status)
			}
			if _, err := httpsGet(tt.url, tt.proto, n.member.ClientTLS()); err != nil {
				t.Errorf("a client with a certificate of the cluster CA: %v", err)
			}
		})
	}
	t.Run("control API on TCP", func(t *testing.T) {
		for _, tt := range []struct {
			name string
			opts client.Options
			code codes.Code
		}{
			{"in clear", client.Options{Token: n.token}, codes.Unavailable},
			{"TLS, no certificate, no token", client.Options{TLS: anon}, codes.Unauthenticated},
			{"TLS, a guessed token", client.Options{TLS: anon, Token: "guess"}, codes.Unauthenticated},
			{"TLS and the token", client.Options{TLS: anon, Token: n.token}, codes.OK},
			{"a certificate of the cluster CA", client.Options{TLS: n.member.ClientTLS()}, codes.OK},
		} {
			api, err := client.Dial("tcp://"+n.api, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			_, err = api.Volumes.ListVolumes(t.Context(), &cairnv1.ListVolumesRequest{})
			api.Close()
			if got := status.Code(err); got != tt.code {
				t.Errorf("%s: %v, want %s", tt.name, err, tt.code)
			}
		}
	})
	t.Run("metrics and dashboard", func(t *testing.T) { checkHTTPAddr(t, n.http) })
	t.Run("snapshot receiver", func(t *testing.T) { checkReceiver(t, n) })
}

// joinGossip joins the gossip at addr as a serf agent keyed with key
// (none if nil), and returns how many members it reached.
func joinGossip(t *testing.T, addr string, key []byte) (int, error) {
	t.Helper()
	ml := memberlist.DefaultLANConfig()
	ml.BindAddr, ml.BindPort = "127.0.0.1", 0
	ml.LogOutput = io.Discard
	if key != nil {
		ring, err := memberlist.NewKeyring(nil, key)
		if err != nil {
			t.Fatal(err)
		}
		ml.Keyring = ring
	}
	conf := serf.DefaultConfig()
	conf.NodeName = fmt.Sprintf("stranger-%d", mrand.Uint64())
	conf.MemberlistConfig, conf.LogOutput = ml, io.Discard
	s, err := serf.Create(conf)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown()
	defer s.Leave()
	return s.Join([]string{addr}, true)
}

// httpsGet makes one GET over proto (h2 or http/1.1) with the TLS
// configuration conf; any status is a success: TLS let it through.
func httpsGet(url, proto string, conf *tls.Config) (*http.Response, error) {
	conf = conf.Clone()
	conf.NextProtos = []string{proto}
	hc := &http.Client{Timeout: 20 * time.Second,
		Transport: &http.Transport{TLSClientConfig: conf, ForceAttemptHTTP2: proto == "h2"}}
	defer hc.CloseIdleConnections()
	resp, err := hc.Get(url)
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	return resp, nil
}

// checkHTTPAddr checks the --metrics address: /metrics is public by
// design, the dashboard sends a stranger to its login page, and pprof
// answers a loopback client naming this host only.
func checkHTTPAddr(t *testing.T, addr string) {
	get := func(path, host, from string) *http.Response {
		t.Helper()
		dialer := &net.Dialer{Timeout: 10 * time.Second}
		if from != "" {
			dialer.LocalAddr = &net.TCPAddr{IP: net.ParseIP(from)}
		}
		hc := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{DialContext: dialer.DialContext},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		defer hc.CloseIdleConnections()
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://"+addr+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if host != "" {
			req.Host = host
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if resp := get("/metrics", "", ""); resp.StatusCode != http.StatusOK {
		t.Errorf("/metrics: %s, want 200 (public by design)", resp.Status)
	}
	if resp := get("/ui/", "", ""); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/ui/login") {
		t.Errorf("/ui/ without a login: %s to %q, want 303 to the login page", resp.Status, resp.Header.Get("Location"))
	}
	if resp := get("/debug/pprof/", "", ""); resp.StatusCode != http.StatusOK {
		t.Errorf("pprof from loopback: %s, want 200", resp.Status)
	}
	if resp := get("/debug/pprof/cmdline", "rebound.example.com", ""); resp.StatusCode != http.StatusForbidden {
		t.Errorf("pprof from loopback for another host name (DNS rebinding): %s, want 403", resp.Status)
	}
	other := nonLoopbackIP(t)
	if other == "" {
		t.Log("no address other than loopback on this machine: pprof's refusal of remote clients is not checked")
		return
	}
	if resp := get("/debug/pprof/cmdline", "", other); resp.StatusCode != http.StatusForbidden {
		t.Errorf("pprof from %s: %s, want 403", other, resp.Status)
	}
}

// nonLoopbackIP returns an IPv4 address of this machine other than
// loopback, or "" if it has none.
func nonLoopbackIP(t *testing.T) string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && !n.IP.IsLoopback() {
			return n.IP.String()
		}
	}
	return ""
}

// checkReceiver checks the snapshot receiver: it has no authentication
// (whoever reaches it may push), so it is off unless asked for and, for
// `snapshot serve-receive`, on loopback by default; what it refuses is
// anything but a snapshot stream, and that leaves no volume behind.
func checkReceiver(t *testing.T, n *listenerNode) {
	conn, err := net.DialTimeout("tcp", n.receive, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	hello := "not a stream header" // a hello frame: type, uvarint length, payload
	if _, err := conn.Write(append([]byte{'H', byte(len(hello))}, hello...)); err != nil {
		t.Fatal(err)
	}
	reply, err := io.ReadAll(conn)
	if err != nil && !isReset(err) {
		t.Fatalf("reading the receiver's answer: %v", err)
	}
	if len(reply) == 0 || reply[0] != 'X' {
		t.Errorf("the receiver answered a bad hello with %q, want an error frame", reply)
	}
	if out := n.run("volume", "list"); strings.Count(strings.TrimSpace(out), "\n") != 1 || !strings.Contains(out, "default") {
		t.Errorf("volumes after a garbage push:\n%s", out)
	}
	f := snapshotServeReceiveCommand().Flags[0].(*cli.StringFlag)
	if host, _, err := net.SplitHostPort(f.Value); f.Name != "listen" || err != nil || !net.ParseIP(host).IsLoopback() {
		t.Errorf("serve-receive --%s is %q by default, want a loopback address", f.Name, f.Value)
	}
}

// isReset tells whether err is the peer closing a connection it had not
// read to the end.
func isReset(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && strings.Contains(op.Err.Error(), "reset")
}
