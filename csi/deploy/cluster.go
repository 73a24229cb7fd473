package deploy

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Cluster ports of the servers (cairn's defaults): gossip, chunk RPC
// and the embedded etcd members'.
const (
	gossipPort   = 7946
	rpcPort      = 7947
	etcdPort     = 2379
	etcdPeerPort = 2380
	// etcdMembers is how many servers run an etcd member with
	// --meta etcd-embedded; the others are etcd clients of them.
	etcdMembers = 3
	// storageSetName is the StatefulSet of the servers past the etcd
	// members.
	storageSetName = serverName + "-storage"
	// ClientBundle is the name (and certificate name) of the bundle of
	// the cluster's clients: the CSI daemons.
	ClientBundle = "csi"
	// pkiDir holds a server's bundles (one directory per pod), and
	// clientPKIDir the CSI daemons' bundle.
	pkiDir       = "/etc/cairn/pki"
	clientPKIDir = "/etc/cairn/pki-client"
)

// PKI holds the credentials of a cluster, PEM-encoded, as `cairn cluster
// init` makes them: the CA certificate, the gossip key and one bundle
// per server pod (by pod name) and for the CSI daemons (Client).
type PKI struct {
	CACert    []byte
	GossipKey []byte // base64, as in gossip.key
	Servers   map[string]Bundle
	Client    Bundle
}

// Bundle is a certificate and its key, PEM-encoded.
type Bundle struct{ Cert, Key []byte }

// clustered reports whether the servers form a cluster (every
// metadata store but badger, which one process owns).
func (c Config) clustered() bool { return c.Meta != "badger" }

// ServerPods returns the names of the server pods, in order: the etcd
// members first (with etcd-embedded). They are the names the PKI needs.
func (c Config) ServerPods() []string {
	var pods []string
	for i := range c.Nodes {
		set, ord := c.podSet(i)
		pods = append(pods, fmt.Sprintf("%s-%d", set, ord))
	}
	return pods
}

// podSet returns the StatefulSet of server i and its ordinal there.
func (c Config) podSet(i int) (string, int) {
	if c.Meta == "etcd-embedded" && i >= etcdMembers {
		return storageSetName, i - etcdMembers
	}
	return serverName, i
}

// PodHosts returns the DNS names of a server pod (through the headless
// service), for its certificate.
func (c Config) PodHosts(pod string) []string {
	short := pod + "." + serverName
	return []string{short, short + "." + c.Namespace + ".svc", c.podFQDN(pod)}
}

func (c Config) podFQDN(pod string) string {
	return fmt.Sprintf("%s.%s.%s.svc.cluster.local", pod, serverName, c.Namespace)
}

// seedPods are the first servers: the gossip seeds and, with
// etcd-embedded, the etcd members.
func (c Config) seedPods() []string { return c.ServerPods()[:min(c.Nodes, etcdMembers)] }

// seeds returns the gossip addresses of the first servers, which every
// member and client joins through.
func (c Config) seeds() string {
	var s []string
	for _, pod := range c.seedPods() {
		s = append(s, fmt.Sprintf("%s:%d", c.podFQDN(pod), gossipPort))
	}
	return strings.Join(s, ",")
}

// pkiSecretName is the Secret holding the bundle of name.
func pkiSecretName(name string) string { return serverName + "-pki-" + name }

// pkiSecrets returns one Secret per bundle, each a bundle directory.
func pkiSecrets(c Config) []any {
	bundle := func(name string, b Bundle) any {
		return &corev1.Secret{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
			ObjectMeta: meta(c, pkiSecretName(name)), Type: corev1.SecretTypeOpaque,
			StringData: map[string]string{"ca.crt": string(c.PKI.CACert), "node.crt": string(b.Cert),
				"node.key": string(b.Key), "gossip.key": string(c.PKI.GossipKey)}}
	}
	var out []any
	for _, pod := range c.ServerPods() {
		out = append(out, bundle(pod, c.PKI.Servers[pod]))
	}
	return append(out, bundle(ClientBundle, c.PKI.Client))
}

// serverPKIVolume projects every server's bundle, each in a directory
// named after its pod: a pod template can't name its own Secret, so
// each server finds its bundle by $(POD_NAME).
func serverPKIVolume(c Config) corev1.Volume {
	var srcs []corev1.VolumeProjection
	for _, pod := range c.ServerPods() {
		srcs = append(srcs, corev1.VolumeProjection{Secret: &corev1.SecretProjection{
			LocalObjectReference: corev1.LocalObjectReference{Name: pkiSecretName(pod)},
			Items: []corev1.KeyToPath{{Key: "ca.crt", Path: pod + "/ca.crt"}, {Key: "node.crt", Path: pod + "/node.crt"},
				{Key: "node.key", Path: pod + "/node.key"}, {Key: "gossip.key", Path: pod + "/gossip.key"}}}})
	}
	mode := int32(0o440)
	return corev1.Volume{Name: "pki", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
		Sources: srcs, DefaultMode: &mode}}}
}

// clientPKIVolume is the CSI daemons' bundle.
func clientPKIVolume() corev1.Volume {
	mode := int32(0o400)
	return corev1.Volume{Name: "pki-client", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{
		SecretName: pkiSecretName(ClientBundle), DefaultMode: &mode}}}
}

// clientArgs are the global flags of a cairn process that is a client
// of the cluster.
func (c Config) clientArgs() []string {
	return []string{"--cluster", c.seeds(), "--tls-dir", clientPKIDir}
}

// clientDaemonArgs are the arguments of a daemon that is a client of the
// cluster (`cairn server` joining through the seeds with the client
// bundle), its data directory data and its control socket socket: no
// NFS (the servers serve it), no volume of its own, no scheduled
// snapshots (the servers take them).
func (c Config) clientDaemonArgs(data, socket string) []string {
	args := append([]string{"--log-json"}, c.clientArgs()...)
	return append(args, "--data", data, "server", "--socket", socket, "--no-nfs", "--volume=", "--no-snapshot-scheduler")
}

// podNameEnv passes the pod's name to cairn.
var podNameEnv = corev1.EnvVar{Name: "POD_NAME", ValueFrom: &corev1.EnvVarSource{
	FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}}

// storageArgs are the arguments of `cairn server` on a storage node of
// set (set members run etcd when the metadata is etcd-embedded).
func (c Config) storageArgs(set string) []string {
	self := "$(POD_NAME)." + serverName + "." + c.Namespace + ".svc.cluster.local"
	args := []string{"--log-json", "server", "--role", "storage", "--node-name", "$(POD_NAME)",
		"--tls-dir", pkiDir + "/$(POD_NAME)", "--data", "/var/lib/cairn",
		"--advertise", fmt.Sprintf("%s:%d", self, gossipPort), "--join", c.seeds(),
		"--replicas", fmt.Sprint(c.Replicas), "--nfs-listen", fmt.Sprintf(":%d", nfsPort), "--export", nfsExport,
		"--metrics", fmt.Sprintf(":%d", metricsPort)}
	switch {
	case c.Meta == "etcd-embedded" && set == serverName:
		var members []string
		for _, pod := range c.seedPods() {
			members = append(members, fmt.Sprintf("%s=https://%s:%d", pod, c.podFQDN(pod), etcdPeerPort))
		}
		args = append(args, "--meta", "etcd-embedded",
			"--etcd-client-url", fmt.Sprintf("https://0.0.0.0:%d", etcdPort),
			"--etcd-peer-url", fmt.Sprintf("https://0.0.0.0:%d", etcdPeerPort),
			"--etcd-advertise-client-url", fmt.Sprintf("https://%s:%d", self, etcdPort),
			"--etcd-advertise-peer-url", fmt.Sprintf("https://%s:%d", self, etcdPeerPort),
			"--etcd-initial-cluster", strings.Join(members, ","))
	case c.Meta == "etcd-embedded":
		var eps []string
		for _, pod := range c.seedPods() {
			eps = append(eps, fmt.Sprintf("%s:%d", c.podFQDN(pod), etcdPort))
		}
		args = append(args, "--meta", "etcds://"+strings.Join(eps, ","))
	default:
		args = append(args, "--meta", c.Meta)
	}
	return args
}

// clusterPorts are the container ports of a storage node.
func clusterPorts() []corev1.ContainerPort {
	return []corev1.ContainerPort{
		{Name: "gossip", ContainerPort: gossipPort}, {Name: "gossip-udp", ContainerPort: gossipPort, Protocol: corev1.ProtocolUDP},
		{Name: "rpc", ContainerPort: rpcPort}, {Name: "etcd", ContainerPort: etcdPort}, {Name: "etcd-peer", ContainerPort: etcdPeerPort},
		{Name: "nfs", ContainerPort: nfsPort}, {Name: "metrics", ContainerPort: metricsPort}}
}
