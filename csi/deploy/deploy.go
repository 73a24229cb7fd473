// Package deploy generates the Kubernetes manifests of cairn: the CSI
// driver (CSIDriver, RBAC, controller Deployment with its sidecars, node
// DaemonSet with its registrar), the cairn server StatefulSet, and the
// StorageClass and snapshot classes. The objects are k8s.io/api types
// marshalled with sigs.k8s.io/yaml; deploy/kubernetes/ holds the output
// for the default configuration (regenerate it with go test ./csi/deploy
// -update).
//
// # Topology
//
// Every cairn process that owns data is a `cairn server`, the node
// daemon: the CSI plugin is a client of its control API.
//
// With Meta badger (one server), the cairn StatefulSet runs `cairn
// server`: the process owning the data directory, serving every volume
// over NFSv3 and its control API on TCP (bearer token, and a
// NetworkPolicy letting only the controller in). The controller
// Deployment runs `cairn csi --mode controller`, unprivileged, calling
// cairn-0. The node DaemonSet runs `cairn csi --mode node`, privileged
// (mounts, /dev/fuse, Bidirectional propagation of the kubelet
// directory); the StorageClass mounts volumes from the gateway (mounter:
// nfs).
//
// With etcd (a cluster), the servers are `cairn server` storage nodes
// (pods started in parallel, in DNS before ready): cairn-0..2 run the
// etcd members with etcd-embedded and cairn-storage-N the other nodes.
// Gossip, chunk RPC and etcd speak mutual TLS with per-pod bundles from
// Secrets (projected, each pod picking its own by $(POD_NAME)). Each pod
// of the first set also runs a daemon that is a client of the cluster,
// for the controller; every node of the DaemonSet runs one too
// (cairn-daemon), which serves the FUSE publishes of the node plugin:
// the cairn-fuse StorageClass.
package deploy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/cairn-storage/cairn/csi"
)

// Config parameterizes the manifests.
type Config struct {
	Namespace string
	// Image is the cairn image; the sidecars are Images.
	Image  string
	Images Sidecars
	// Nodes is the number of cairn servers (StatefulSet replicas).
	Nodes int
	// Replicas is the replication factor of chunks (clusters).
	Replicas int
	// Meta is the metadata store, as cairn's --meta takes it: "badger"
	// (one node), "etcd-embedded" (etcd members inside the servers) or
	// "etcd://HOST:PORT,...".
	Meta string
	// StorageSize is each server's data volume; StorageClass its class
	// ("" for the cluster's default).
	StorageSize  string
	StorageClass string
	// KubeletDir is the kubelet's root directory on the nodes.
	KubeletDir string
	// Token, if set, is put in the Secret holding the controller's bearer
	// token; if empty no Secret is generated (create it yourself).
	Token string
	// PKI is a cluster's credentials (required unless Meta is badger),
	// put in Secrets: a bundle for each of ServerPods and one for the
	// CSI daemons.
	PKI *PKI
}

// Sidecars are the images of the Kubernetes CSI sidecars.
type Sidecars struct {
	Provisioner, Snapshotter, Resizer, Registrar, Liveness string
}

// DefaultConfig returns the configuration of deploy/kubernetes/.
func DefaultConfig() Config {
	const reg = "registry.k8s.io/sig-storage/"
	return Config{
		Namespace: "cairn-system",
		Image:     "ghcr.io/cairn-storage/cairn:latest",
		Images: Sidecars{
			Provisioner: reg + "csi-provisioner:v5.3.0",
			Snapshotter: reg + "csi-snapshotter:v8.3.0",
			Resizer:     reg + "csi-resizer:v1.14.0",
			Registrar:   reg + "csi-node-driver-registrar:v2.14.0",
			Liveness:    reg + "livenessprobe:v2.16.0",
		},
		Nodes: 1, Replicas: 3, Meta: "badger",
		StorageSize: "100Gi", KubeletDir: "/var/lib/kubelet",
	}
}

// Names shared by the objects.
const (
	serverName     = "cairn"
	controllerName = "cairn-csi-controller"
	nodeName       = "cairn-csi-node"
	tokenSecret    = "cairn-control"
	tokenKey       = "token"
	controlPort    = 7070
	nfsPort        = 2049
	metricsPort    = 9091
	// nfsExport is the servers' NFS export: pods act as themselves, root
	// included, as they do on a FUSE publish (the gateway squashes root
	// unless told otherwise).
	nfsExport = "*,rw,no_root_squash"
	// socketDir is where the CSI socket lives in the plugin containers.
	socketDir = "/csi"
	// socketName is the daemons' control socket, in /run/cairn.
	socketName = "cairn.sock"
	// stateDir is the node's state directory, on the host.
	stateDir = "/var/lib/cairn-csi"
)

// Endpoint is the CSI endpoint of the plugin containers.
const Endpoint = "unix://" + socketDir + "/csi.sock"

// check validates the configuration.
func (c Config) check() error {
	switch {
	case c.Namespace == "":
		return fmt.Errorf("a namespace is required")
	case c.Image == "":
		return fmt.Errorf("an image is required")
	case c.Nodes < 1:
		return fmt.Errorf("nodes %d: want at least 1", c.Nodes)
	case c.Replicas < 1 || c.Replicas > 16:
		return fmt.Errorf("replicas %d: want 1 to 16", c.Replicas)
	case c.Meta != "badger" && c.Meta != "etcd-embedded" && !strings.HasPrefix(c.Meta, "etcd://"):
		return fmt.Errorf("meta %q: want badger, etcd-embedded or etcd://HOST:PORT[,...]", c.Meta)
	case !strings.HasPrefix(c.KubeletDir, "/"):
		return fmt.Errorf("kubelet dir %q: want an absolute path", c.KubeletDir)
	case !c.clustered() && c.Nodes > 1:
		return fmt.Errorf("nodes %d with meta badger: badger keeps the metadata in one server; use --meta etcd-embedded (or etcd://) for a cluster", c.Nodes)
	case c.clustered() && c.PKI == nil:
		return fmt.Errorf("meta %s: a cluster needs its credentials (PKI)", c.Meta)
	}
	if c.clustered() {
		for _, pod := range c.ServerPods() {
			if b := c.PKI.Servers[pod]; len(b.Cert) == 0 || len(b.Key) == 0 {
				return fmt.Errorf("PKI: no bundle for server %s", pod)
			}
		}
		if len(c.PKI.Client.Cert) == 0 || len(c.PKI.Client.Key) == 0 || len(c.PKI.CACert) == 0 || len(c.PKI.GossipKey) == 0 {
			return fmt.Errorf("PKI: the CA, the gossip key and the CSI daemons' bundle are required")
		}
	}
	return nil
}

// serverAddr is the DNS name of the first cairn server.
func (c Config) serverAddr() string {
	return fmt.Sprintf("%s-0.%s.%s.svc.cluster.local", serverName, serverName, c.Namespace)
}

// pluginDir is the kubelet's directory of the driver's socket.
func (c Config) pluginDir() string { return c.KubeletDir + "/plugins/" + csi.DriverName }

// File is one manifest file: a name and its objects.
type File struct {
	Name    string
	Comment string // put at the top, as YAML comments
	Objects []any
}

// Files returns the manifests, in the order to apply them.
func Files(c Config) ([]File, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	ns := []any{namespace(c)}
	if c.Token != "" {
		ns = append(ns, secret(c))
	}
	tokenNote := ""
	if c.Token == "" {
		tokenNote = "The controller authenticates to the cairn servers with a token; create it once:\n" +
			"  kubectl -n " + c.Namespace + " create secret generic " + tokenSecret +
			" --from-literal=" + tokenKey + "=$(head -c 32 /dev/urandom | base64)"
	}
	if c.clustered() {
		ns = append(ns, pkiSecrets(c)...)
		tokenNote = strings.TrimPrefix(tokenNote+"\n", "\n") + "The cluster's credentials (CA, gossip key, one bundle per server and the CSI daemons'):\n" +
			"keep this file secret, and the CA key of `cairn k8s spec` offline."
	}
	return []File{
		{Name: "00-namespace.yaml", Comment: tokenNote, Objects: ns},
		{Name: "01-rbac.yaml", Objects: rbac(c)},
		{Name: "02-csidriver.yaml", Objects: []any{csiDriver(c)}},
		{Name: "03-server.yaml", Comment: "The cairn servers: data, NFSv3 gateway and the CSI controller's backend.",
			Objects: append(append([]any{serverService(c)}, servers(c)...), controlPolicy(c))},
		{Name: "04-controller.yaml", Comment: "Needs the snapshot CRDs and snapshot-controller of kubernetes-csi/external-snapshotter.",
			Objects: []any{controller(c)}},
		{Name: "05-node.yaml", Objects: []any{node(c)}},
		{Name: "06-classes.yaml", Objects: classes(c)},
	}, nil
}

// Marshal returns the YAML documents of objs, separated by ---.
func Marshal(objs ...any) ([]byte, error) {
	var b bytes.Buffer
	for i, o := range objs {
		doc, err := marshal(o)
		if err != nil {
			return nil, err
		}
		if i > 0 {
			b.WriteString("---\n")
		}
		b.Write(doc)
	}
	return b.Bytes(), nil
}

// Bytes returns a file's content.
func (f File) Bytes() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString("# Generated by `cairn k8s spec`; do not edit.\n")
	for _, l := range strings.Split(f.Comment, "\n") {
		if l != "" {
			b.WriteString("# " + l + "\n")
		}
	}
	docs, err := Marshal(f.Objects...)
	if err != nil {
		return nil, err
	}
	b.Write(docs)
	return b.Bytes(), nil
}

// Spec returns every manifest as one stream for kubectl apply -f -.
func Spec(c Config) ([]byte, error) {
	files, err := Files(c)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	for i, f := range files {
		doc, err := f.Bytes()
		if err != nil {
			return nil, err
		}
		if i > 0 {
			b.WriteString("---\n")
		}
		b.Write(doc)
	}
	return b.Bytes(), nil
}

// marshal encodes one object as YAML, without the fields an object
// being created has no value for (creationTimestamp: null, status).
func marshal(o any) ([]byte, error) {
	j, err := json.Marshal(o)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(j, &m); err != nil {
		return nil, err
	}
	prune(m)
	return yaml.Marshal(m)
}

// prune drops creationTimestamp: null and status, recursively (no
// object generated has another field called status).
func prune(v any) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if k == "creationTimestamp" && x == nil {
				delete(v, k)
				continue
			}
			if _, ok := x.(map[string]any); k == "status" && ok {
				delete(v, k)
				continue
			}
			prune(x)
		}
	case []any:
		for _, x := range v {
			prune(x)
		}
	}
}
