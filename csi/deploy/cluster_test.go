package deploy

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"

	"github.com/cairn-storage/cairn/cluster/pki"
	"github.com/cairn-storage/cairn/csi"
)

// testPKI issues real credentials for cfg's pods, as `cairn k8s spec`
// does.
func testPKI(t *testing.T, cfg Config) *PKI {
	t.Helper()
	ca, err := pki.NewCA("test")
	if err != nil {
		t.Fatal(err)
	}
	key, err := pki.NewGossipKey()
	if err != nil {
		t.Fatal(err)
	}
	p := &PKI{CACert: ca.CertPEM(), GossipKey: []byte(base64.StdEncoding.EncodeToString(key)), Servers: map[string]Bundle{}}
	for _, pod := range cfg.ServerPods() {
		cert, k, err := ca.Issue(pod, pki.KindNode, cfg.PodHosts(pod))
		if err != nil {
			t.Fatal(err)
		}
		p.Servers[pod] = Bundle{cert, k}
	}
	cert, k, err := ca.Issue(ClientBundle, pki.KindNode, nil)
	if err != nil {
		t.Fatal(err)
	}
	p.Client = Bundle{cert, k}
	return p
}

// clusterSpec generates and decodes the spec of a cluster.
func clusterSpec(t *testing.T, nodes int, meta string) (Config, decoded) {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Nodes, cfg.Meta, cfg.Token = nodes, meta, "t"
	cfg.PKI = testPKI(t, cfg)
	spec, err := Spec(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return cfg, decode(t, spec)
}

// TestClusterTopology checks that a cluster's objects agree: every server
// pod has its bundle, names itself and its peers by DNS names its
// certificate holds, etcd members are the first three pods and the
// others their clients, and the CSI daemons join through the seeds with
// the client bundle.
func TestClusterTopology(t *testing.T) {
	for _, tc := range []struct {
		nodes int
		meta  string
		sets  []int32
	}{
		{1, "etcd-embedded", []int32{1}},
		{3, "etcd-embedded", []int32{3}},
		{5, "etcd-embedded", []int32{3, 2}},
		{4, "etcd://etcd-0.etcd:2379,etcd-1.etcd:2379", []int32{4}},
	} {
		t.Run(fmt.Sprintf("%d nodes %s", tc.nodes, tc.meta), func(t *testing.T) {
			cfg, d := clusterSpec(t, tc.nodes, tc.meta)
			var sets []int32
			var pods []string
			for _, set := range d.servers {
				sets = append(sets, *set.Spec.Replicas)
				for i := range *set.Spec.Replicas {
					pods = append(pods, fmt.Sprintf("%s-%d", set.Name, i))
				}
				checkServerSet(t, cfg, d, set)
			}
			if !slices.Equal(sets, tc.sets) || !slices.Equal(pods, cfg.ServerPods()) {
				t.Fatalf("StatefulSets of %v replicas, pods %v; want %v, pods %v", sets, pods, tc.sets, cfg.ServerPods())
			}
			checkCerts(t, cfg, d, pods)
			checkClients(t, cfg, d)
		})
	}
}

// checkServerSet checks one StatefulSet of storage nodes.
func checkServerSet(t *testing.T, cfg Config, d decoded, spec *appsv1.StatefulSet) {
	t.Helper()
	pod := spec.Spec.Template
	for k, v := range d.service.Spec.Selector {
		if pod.Labels[k] != v {
			t.Errorf("%s: pods not selected by the service (%s=%s)", spec.Name, k, v)
		}
	}
	for k, v := range d.policy.Spec.PodSelector.MatchLabels {
		if pod.Labels[k] != v {
			t.Errorf("%s: pods not selected by the network policy (%s=%s)", spec.Name, k, v)
		}
	}
	if spec.Spec.PodManagementPolicy != "Parallel" || spec.Spec.ServiceName != d.service.Name || !d.service.Spec.PublishNotReadyAddresses {
		t.Errorf("%s: pods must start together and be in DNS before ready (policy %s, service %s)", spec.Name, spec.Spec.PodManagementPolicy, spec.Spec.ServiceName)
	}
	node := containers(pod.Spec)["cairn"]
	args := node.Args
	if got, want := arg(args, "--tls-dir"), mountPath(node, "pki")+"/$(POD_NAME)"; got != want {
		t.Errorf("%s: --tls-dir %s, want %s", spec.Name, got, want)
	}
	if arg(args, "--node-name") != "$(POD_NAME)" || !slices.ContainsFunc(node.Env, func(e corev1.EnvVar) bool {
		return e.Name == "POD_NAME" && e.ValueFrom != nil && e.ValueFrom.FieldRef.FieldPath == "metadata.name"
	}) {
		t.Errorf("%s: the node is not named after its pod", spec.Name)
	}
	if got := arg(args, "--join"); got != cfg.seeds() {
		t.Errorf("%s: --join %s, want the seeds %s", spec.Name, got, cfg.seeds())
	}
	meta := arg(args, "--meta")
	switch {
	case !strings.HasPrefix(cfg.Meta, "etcd-embedded"):
		if meta != cfg.Meta {
			t.Errorf("%s: --meta %s, want %s", spec.Name, meta, cfg.Meta)
		}
	case spec.Name == serverName:
		members := strings.Split(arg(args, "--etcd-initial-cluster"), ",")
		if meta != "etcd-embedded" || len(members) != min(cfg.Nodes, etcdMembers) {
			t.Errorf("%s: --meta %s with members %v", spec.Name, meta, members)
		}
	default:
		want := []string{}
		for _, p := range cfg.seedPods() {
			want = append(want, cfg.podFQDN(p)+":2379")
		}
		if meta != "etcds://"+strings.Join(want, ",") {
			t.Errorf("%s: --meta %s, want the members over TLS", spec.Name, meta)
		}
	}
}

// checkCerts checks each server's Secret, its projection into the pods,
// and that its certificate verifies, by the cluster CA, for every name
// the others reach it by (gossip, etcd peers and clients).
func checkCerts(t *testing.T, cfg Config, d decoded, pods []string) {
	t.Helper()
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(cfg.PKI.CACert) {
		t.Fatal("CA certificate does not parse")
	}
	var projected []string
	for _, v := range d.server.Spec.Template.Spec.Volumes {
		if v.Name == "pki" {
			for _, src := range v.Projected.Sources {
				for _, item := range src.Secret.Items {
					projected = append(projected, src.Secret.Name+":"+item.Key+"->"+item.Path)
				}
			}
		}
	}
	args := strings.Join(containers(d.server.Spec.Template.Spec)["cairn"].Args, " ")
	for _, pod := range pods {
		sec := d.secrets[pkiSecretName(pod)]
		if sec == nil {
			t.Errorf("no Secret for %s", pod)
			continue
		}
		for _, key := range []string{"ca.crt", "node.crt", "node.key", "gossip.key"} {
			if sec.StringData[key] == "" {
				t.Errorf("Secret of %s has no %s", pod, key)
			}
			if want := sec.Name + ":" + key + "->" + pod + "/" + key; !slices.Contains(projected, want) {
				t.Errorf("the servers' pki volume lacks %s", want)
			}
		}
		block, _ := pem.Decode([]byte(sec.StringData["node.crt"]))
		if block == nil {
			t.Errorf("%s: node.crt is not PEM", pod)
			continue
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		// Every host name the spec gives for a pod (advertised gossip and
		// etcd URLs, with $(POD_NAME) expanded, and the seeds).
		names := map[string]bool{}
		for _, f := range strings.FieldsFunc(strings.ReplaceAll(args, "$(POD_NAME)", pod), func(r rune) bool { return r == ' ' || r == ',' || r == '=' }) {
			if u, err := url.Parse(f); err == nil && u.Host != "" {
				f = u.Host
			}
			if host, _, ok := strings.Cut(f, ":"); ok && strings.HasPrefix(host, pod+".") {
				names[host] = true
			}
		}
		if len(names) == 0 && pod == pods[0] {
			t.Errorf("%s: the spec names no host of it", pod)
		}
		for name := range names {
			if _, err := cert.Verify(x509.VerifyOptions{DNSName: name, Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
				t.Errorf("%s: certificate for %s: %v", pod, name, err)
			}
		}
	}
}

// checkClients checks the CSI daemons: the controller's beside the etcd
// members and each node's, both `cairn server` joining through the seeds
// with the client bundle, and the FUSE StorageClass they serve.
func checkClients(t *testing.T, cfg Config, d decoded) {
	t.Helper()
	if d.secrets[pkiSecretName(ClientBundle)] == nil {
		t.Fatal("no Secret for the CSI daemons' bundle")
	}
	daemons := map[string]corev1.Container{
		"server": containers(d.server.Spec.Template.Spec)["cairn-csi-daemon"],
		"node":   containers(d.node.Spec.Template.Spec)["cairn-daemon"],
	}
	vols := map[string][]corev1.Volume{"server": d.server.Spec.Template.Spec.Volumes, "node": d.node.Spec.Template.Spec.Volumes}
	for where, h := range daemons {
		if h.Name == "" {
			t.Errorf("%s: no CSI daemon", where)
			continue
		}
		if i := slices.Index(h.Args, "server"); i < 0 || slices.Index(h.Args, "--cluster") > i || !slices.Contains(h.Args, "--no-snapshot-scheduler") {
			t.Errorf("%s daemon runs %q: want cairn --cluster ... server --no-snapshot-scheduler", where, h.Args)
		}
		if got := arg(h.Args, "--cluster"); got != cfg.seeds() {
			t.Errorf("%s daemon: --cluster %s, want %s", where, got, cfg.seeds())
		}
		if got := arg(h.Args, "--tls-dir"); got != mountPath(h, "pki-client") || got == "" {
			t.Errorf("%s daemon: --tls-dir %s, but the bundle is mounted at %s", where, got, mountPath(h, "pki-client"))
		}
		i := slices.IndexFunc(vols[where], func(v corev1.Volume) bool { return v.Name == "pki-client" })
		if i < 0 || vols[where][i].Secret == nil || vols[where][i].Secret.SecretName != pkiSecretName(ClientBundle) {
			t.Errorf("%s daemon: the pki-client volume is not the client bundle's Secret", where)
		}
	}
	plugin := containers(d.node.Spec.Template.Spec)["cairn-csi"]
	if got, want := arg(plugin.Args, "--daemon"), "unix://"+arg(daemons["node"].Args, "--socket"); got != want ||
		filepath.Dir(arg(daemons["node"].Args, "--socket")) != mountPath(plugin, "state-dir") {
		t.Errorf("node plugin --daemon %s, but the node's daemon serves %s", got, want)
	}
	ctrl := containers(d.controller.Spec.Template.Spec)["cairn-csi"]
	if got, want := arg(ctrl.Args, "--daemon"), fmt.Sprintf("tcp://%s:%d", cfg.serverAddr(), controlPort); got != want {
		t.Errorf("controller --daemon %s, want %s", got, want)
	}
	checkDaemon(t, daemons["server"], ctrl)
	i := slices.IndexFunc(d.classes, func(c *storagev1.StorageClass) bool { return c.Name == FUSEStorageClassName })
	if i < 0 || d.classes[i].Parameters[csi.ParamMounter] != csi.MounterFUSE {
		t.Errorf("no StorageClass %s with mounter %s", FUSEStorageClassName, csi.MounterFUSE)
	}
}
