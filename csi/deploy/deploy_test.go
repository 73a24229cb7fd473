package deploy

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	groupv1 "github.com/kubernetes-csi/external-snapshotter/client/v8/apis/volumegroupsnapshot/v1"
	snapv1 "github.com/kubernetes-csi/external-snapshotter/client/v8/apis/volumesnapshot/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/cairn-storage/cairn/csi"
)

var update = flag.Bool("update", false, "rewrite deploy/kubernetes/ from the generator")

// checkedIn is where the generated manifests are checked in.
const checkedIn = "../../deploy/kubernetes"

// TestUpToDate checks deploy/kubernetes/ is the generator's output for
// the default configuration (go test ./csi/deploy -update rewrites it).
func TestUpToDate(t *testing.T) {
	files, err := Files(DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		names = append(names, f.Name)
		want, err := f.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(checkedIn, f.Name)
		if *update {
			if err := os.MkdirAll(checkedIn, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test ./csi/deploy -update)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is not the generator's output: run go test ./csi/deploy -update", path)
		}
	}
	ents, err := os.ReadDir(checkedIn)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".yaml") && !slices.Contains(names, e.Name()) {
			t.Errorf("%s/%s is not generated: remove it", checkedIn, e.Name())
		}
	}
}

// decoded is the set of objects of a spec, decoded strictly.
type decoded struct {
	kinds       []string
	driver      *storagev1.CSIDriver
	server      *appsv1.StatefulSet // the first of servers
	servers     []*appsv1.StatefulSet
	classes     []*storagev1.StorageClass
	secrets     map[string]*corev1.Secret
	service     *corev1.Service
	controller  *appsv1.Deployment
	node        *appsv1.DaemonSet
	class       *storagev1.StorageClass
	snapClass   *snapv1.VolumeSnapshotClass
	groupClass  *groupv1.VolumeGroupSnapshotClass
	clusterRole *rbacv1.ClusterRole
	policy      *networkingv1.NetworkPolicy
}

// decode splits a spec into documents and decodes each strictly into
// its k8s.io/api type: an unknown field fails.
func decode(t *testing.T, spec []byte) decoded {
	t.Helper()
	var d decoded
	for i, doc := range bytes.Split(spec, []byte("\n---\n")) {
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal(doc, &tm); err != nil {
			t.Fatalf("document %d: %v", i, err)
		}
		var obj any
		want := map[string]string{"Namespace": "v1", "Secret": "v1", "ServiceAccount": "v1", "Service": "v1",
			"ClusterRole": "rbac.authorization.k8s.io/v1", "ClusterRoleBinding": "rbac.authorization.k8s.io/v1",
			"Role": "rbac.authorization.k8s.io/v1", "RoleBinding": "rbac.authorization.k8s.io/v1",
			"CSIDriver": "storage.k8s.io/v1", "StorageClass": "storage.k8s.io/v1", "StatefulSet": "apps/v1",
			"Deployment": "apps/v1", "DaemonSet": "apps/v1", "NetworkPolicy": "networking.k8s.io/v1",
			"VolumeSnapshotClass": "snapshot.storage.k8s.io/v1", "VolumeGroupSnapshotClass": "groupsnapshot.storage.k8s.io/v1"}[tm.Kind]
		if want != tm.APIVersion {
			t.Fatalf("document %d: %s of apiVersion %q, want %q", i, tm.Kind, tm.APIVersion, want)
		}
		switch tm.Kind {
		case "Namespace":
			obj = &corev1.Namespace{}
		case "Secret":
			obj = &corev1.Secret{}
		case "ServiceAccount":
			obj = &corev1.ServiceAccount{}
		case "Service":
			d.service = &corev1.Service{}
			obj = d.service
		case "ClusterRole":
			d.clusterRole = &rbacv1.ClusterRole{}
			obj = d.clusterRole
		case "ClusterRoleBinding":
			obj = &rbacv1.ClusterRoleBinding{}
		case "Role":
			obj = &rbacv1.Role{}
		case "RoleBinding":
			obj = &rbacv1.RoleBinding{}
		case "CSIDriver":
			d.driver = &storagev1.CSIDriver{}
			obj = d.driver
		case "StorageClass":
			sc := &storagev1.StorageClass{}
			d.classes = append(d.classes, sc)
			d.class = d.classes[0]
			obj = sc
		case "StatefulSet":
			set := &appsv1.StatefulSet{}
			d.servers = append(d.servers, set)
			d.server = d.servers[0]
			obj = set
		case "Deployment":
			d.controller = &appsv1.Deployment{}
			obj = d.controller
		case "DaemonSet":
			d.node = &appsv1.DaemonSet{}
			obj = d.node
		case "NetworkPolicy":
			d.policy = &networkingv1.NetworkPolicy{}
			obj = d.policy
		case "VolumeSnapshotClass":
			d.snapClass = &snapv1.VolumeSnapshotClass{}
			obj = d.snapClass
		case "VolumeGroupSnapshotClass":
			d.groupClass = &groupv1.VolumeGroupSnapshotClass{}
			obj = d.groupClass
		}
		if err := yaml.UnmarshalStrict(doc, obj); err != nil {
			t.Fatalf("document %d (%s): %v", i, tm.Kind, err)
		}
		if sec, ok := obj.(*corev1.Secret); ok {
			if d.secrets == nil {
				d.secrets = map[string]*corev1.Secret{}
			}
			d.secrets[sec.Name] = sec
		}
		d.kinds = append(d.kinds, tm.Kind)
	}
	return d
}

// TestStrict decodes every object strictly, for the default
// configuration and a larger one.
func TestStrict(t *testing.T) {
	big := DefaultConfig()
	big.Namespace, big.Nodes, big.Replicas, big.Meta, big.Token = "storage", 5, 3, "etcd-embedded", "s3cret"
	big.StorageClass, big.KubeletDir = "fast-ssd", "/var/snap/microk8s/common/var/lib/kubelet"
	big.PKI = testPKI(t, big)
	for _, cfg := range []Config{DefaultConfig(), big} {
		spec, err := Spec(cfg)
		if err != nil {
			t.Fatal(err)
		}
		d := decode(t, spec)
		for _, kind := range []string{"Namespace", "CSIDriver", "ClusterRole", "StatefulSet", "Deployment", "DaemonSet",
			"StorageClass", "VolumeSnapshotClass", "VolumeGroupSnapshotClass"} {
			if !slices.Contains(d.kinds, kind) {
				t.Errorf("no %s in the spec", kind)
			}
		}
		if got := slices.Contains(d.kinds, "Secret"); got != (cfg.Token != "") {
			t.Errorf("secret generated: %v, token %q", got, cfg.Token)
		}
		var servers int32
		for _, set := range d.servers {
			servers += *set.Spec.Replicas
		}
		if servers != int32(cfg.Nodes) {
			t.Errorf("servers: %d, want %d", servers, cfg.Nodes)
		}
	}
	bad := func(edit func(*Config)) Config {
		c := DefaultConfig()
		edit(&c)
		return c
	}
	for what, cfg := range map[string]Config{
		"empty":                   {},
		"badger on three servers": bad(func(c *Config) { c.Nodes = 3 }),
		"a cluster without PKI":   bad(func(c *Config) { c.Nodes, c.Meta = 3, "etcd-embedded" }),
		"a PKI missing a server": bad(func(c *Config) {
			c.Nodes, c.Meta = 3, "etcd-embedded"
			c.PKI = testPKI(t, *c)
			delete(c.PKI.Servers, "cairn-2")
		}),
	} {
		if _, err := Files(cfg); err == nil {
			t.Errorf("%s: accepted", what)
		}
	}
}

// containers returns the containers of a pod template by name.
func containers(spec corev1.PodSpec) map[string]corev1.Container {
	m := map[string]corev1.Container{}
	for _, c := range spec.Containers {
		m[c.Name] = c
	}
	return m
}

// arg returns the value of --name in args (as --name=V or --name V).
func arg(args []string, name string) string {
	for i, a := range args {
		if v, ok := strings.CutPrefix(a, name+"="); ok {
			return v
		}
		if a == name && i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
}

// mountPath returns where a container mounts a volume.
func mountPath(c corev1.Container, volume string) string {
	for _, m := range c.VolumeMounts {
		if m.Name == volume {
			return m.MountPath
		}
	}
	return ""
}

// TestConsistent checks the names the objects share: the driver name,
// the images, the CSI socket of every sidecar, the kubelet registration
// path and the server address.
func TestConsistent(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Token = "t"
	spec, err := Spec(cfg)
	if err != nil {
		t.Fatal(err)
	}
	d := decode(t, spec)
	for what, name := range map[string]string{"CSIDriver": d.driver.Name, "StorageClass": d.class.Provisioner,
		"VolumeSnapshotClass": d.snapClass.Driver, "VolumeGroupSnapshotClass": d.groupClass.Driver} {
		if name != csi.DriverName {
			t.Errorf("%s names driver %q, want %q", what, name, csi.DriverName)
		}
	}
	sidecars := []string{cfg.Images.Provisioner, cfg.Images.Snapshotter, cfg.Images.Resizer, cfg.Images.Registrar, cfg.Images.Liveness}
	for _, pod := range []corev1.PodSpec{d.controller.Spec.Template.Spec, d.node.Spec.Template.Spec, d.server.Spec.Template.Spec} {
		cs := containers(pod)
		for name, c := range cs {
			if name == "cairn" || name == "cairn-csi" {
				if c.Image != cfg.Image {
					t.Errorf("container %s: image %q, want %q", name, c.Image, cfg.Image)
				}
				continue
			}
			if !slices.Contains(sidecars, c.Image) {
				t.Errorf("container %s: image %q is not a configured sidecar", name, c.Image)
			}
			sock := arg(c.Args, "--csi-address")
			if filepath.Dir(sock) != mountPath(c, "socket-dir") {
				t.Errorf("container %s: --csi-address %s, but socket-dir is mounted at %s", name, sock, mountPath(c, "socket-dir"))
			}
			plugin := cs["cairn-csi"]
			if ep := arg(plugin.Args, "--endpoint"); ep != "unix://"+sock || mountPath(plugin, "socket-dir") != filepath.Dir(sock) {
				t.Errorf("container %s: --csi-address %s, but the plugin serves %s with socket-dir at %s", name, sock, ep, mountPath(plugin, "socket-dir"))
			}
		}
	}
	node := d.node.Spec.Template.Spec
	reg := containers(node)["node-driver-registrar"]
	var socketHost string
	for _, v := range node.Volumes {
		if v.Name == "socket-dir" {
			socketHost = v.HostPath.Path
		}
	}
	if socketHost != cfg.KubeletDir+"/plugins/"+csi.DriverName {
		t.Errorf("node socket-dir %s: want the kubelet's plugin directory of %s", socketHost, csi.DriverName)
	}
	if got := arg(reg.Args, "--kubelet-registration-path"); got != socketHost+"/csi.sock" {
		t.Errorf("registration path %s, want %s/csi.sock", got, socketHost)
	}
	server := fmt.Sprintf("%s-0.%s.%s.svc.cluster.local", d.server.Name, d.server.Spec.ServiceName, d.server.Namespace)
	if d.service.Name != d.server.Spec.ServiceName || d.service.Spec.ClusterIP != corev1.ClusterIPNone {
		t.Errorf("service %s (clusterIP %q), StatefulSet serviceName %s: want the same headless service", d.service.Name, d.service.Spec.ClusterIP, d.server.Spec.ServiceName)
	}
	ctrl := containers(d.controller.Spec.Template.Spec)["cairn-csi"]
	if got := arg(ctrl.Args, "--daemon"); got != fmt.Sprintf("tcp://%s:%d", server, controlPort) {
		t.Errorf("controller --daemon %s, want the first server's control port", got)
	}
	checkDaemon(t, containers(d.server.Spec.Template.Spec)["cairn"], ctrl)
	if got := arg(containers(node)["cairn-csi"].Args, "--daemon"); got != "none" {
		t.Errorf("node plugin --daemon %s: with one server no daemon runs on the nodes", got)
	}
	if got := d.class.Parameters[csi.ParamServer]; got != server {
		t.Errorf("StorageClass server %s, want %s", got, server)
	}
	for k := range d.class.Parameters {
		if !slices.Contains([]string{csi.ParamMounter, csi.ParamServer, csi.ParamShare, csi.ParamSubDir, csi.ParamMountOptions, csi.ParamCompress, csi.ParamReplicas}, k) {
			t.Errorf("StorageClass parameter %q is unknown to the driver", k)
		}
	}
	if !*d.class.AllowVolumeExpansion {
		t.Error("StorageClass does not allow expansion")
	}
}

// checkDaemon checks the daemon the controller calls: `cairn server`
// serving its control API on the control port with the token the
// controller sends.
func checkDaemon(t *testing.T, daemon, ctrl corev1.Container) {
	t.Helper()
	if !slices.Contains(daemon.Args, "server") || slices.Contains(daemon.Args, "csi") {
		t.Errorf("container %s runs %q, want cairn server", daemon.Name, daemon.Args)
	}
	if got := arg(daemon.Args, "--api-listen"); got != fmt.Sprintf("tcp://0.0.0.0:%d", controlPort) {
		t.Errorf("container %s: --api-listen %s, want the control port", daemon.Name, got)
	}
	tok, ctok := arg(daemon.Args, "--api-token-file"), arg(ctrl.Args, "--daemon-token-file")
	if tok == "" || filepath.Dir(tok) != mountPath(daemon, "control-token") || filepath.Base(tok) != filepath.Base(ctok) ||
		filepath.Dir(ctok) != mountPath(ctrl, "control-token") {
		t.Errorf("daemon --api-token-file %s, controller --daemon-token-file %s: want the token Secret's file", tok, ctok)
	}
}

// TestPrivileges checks the node plugin gets what a FUSE node plugin
// needs (privileged, /dev/fuse, Bidirectional propagation of the kubelet
// directory) and that nothing else is privileged or touches the host.
func TestPrivileges(t *testing.T) {
	t.Run("one server", func(t *testing.T) {
		cfg := DefaultConfig()
		spec, err := Spec(cfg)
		if err != nil {
			t.Fatal(err)
		}
		checkPrivileges(t, cfg, decode(t, spec))
	})
	t.Run("cluster", func(t *testing.T) {
		cfg, d := clusterSpec(t, 5, "etcd-embedded")
		checkPrivileges(t, cfg, d)
	})
}

// mounters are the node containers that mount: the plugin (NFS) and, in a
// cluster, the node daemon (FUSE).
var mounters = []string{"cairn-csi", "cairn-daemon"}

func checkPrivileges(t *testing.T, cfg Config, d decoded) {
	node := d.node.Spec.Template.Spec
	hostPaths := map[string]corev1.HostPathVolumeSource{}
	for _, v := range node.Volumes {
		if v.HostPath != nil {
			hostPaths[v.Name] = *v.HostPath
		}
	}
	for name, c := range containers(node) {
		privileged := c.SecurityContext != nil && c.SecurityContext.Privileged != nil && *c.SecurityContext.Privileged
		if privileged != slices.Contains(mounters, name) {
			t.Errorf("node container %s: privileged %v", name, privileged)
		}
		for _, m := range c.VolumeMounts {
			bidir := m.MountPropagation != nil && *m.MountPropagation == corev1.MountPropagationBidirectional
			if bidir != (slices.Contains(mounters, name) && m.Name == "kubelet-dir") {
				t.Errorf("node container %s: mount %s with propagation %v", name, m.Name, m.MountPropagation)
			}
		}
		if !slices.Contains(mounters, name) {
			if sc := c.SecurityContext; sc == nil || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation || len(sc.Capabilities.Add) > 0 {
				t.Errorf("node container %s may escalate or adds capabilities", name)
			}
		}
	}
	plugin := containers(node)["cairn-csi"]
	if hp := hostPaths["fuse-device"]; hp.Path != "/dev/fuse" || *hp.Type != corev1.HostPathCharDev || mountPath(plugin, "fuse-device") != "/dev/fuse" {
		t.Errorf("node plugin: /dev/fuse not mounted as a char device: %+v", hp)
	}
	if hp := hostPaths["kubelet-dir"]; hp.Path != cfg.KubeletDir || mountPath(plugin, "kubelet-dir") != cfg.KubeletDir {
		t.Errorf("node plugin: kubelet dir %+v mounted at %s", hp, mountPath(plugin, "kubelet-dir"))
	}
	if node.HostPID || node.HostIPC {
		t.Error("node plugin shares the host's PID or IPC namespace")
	}
	pods := map[string]corev1.PodSpec{"controller": d.controller.Spec.Template.Spec}
	for _, set := range d.servers {
		pods[set.Name] = set.Spec.Template.Spec
	}
	for what, pod := range pods {
		if pod.HostNetwork || pod.HostPID || pod.HostIPC {
			t.Errorf("%s shares a host namespace", what)
		}
		for _, v := range pod.Volumes {
			if v.HostPath != nil {
				t.Errorf("%s mounts host path %s", what, v.HostPath.Path)
			}
		}
		for name, c := range containers(pod) {
			sc := c.SecurityContext
			if sc == nil || (sc.Privileged != nil && *sc.Privileged) || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
				sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot || sc.Capabilities == nil || len(sc.Capabilities.Add) > 0 || !slices.Contains(sc.Capabilities.Drop, "ALL") {
				t.Errorf("%s container %s is not unprivileged: %+v", what, name, sc)
			}
		}
	}
	if d.driver.Spec.AttachRequired == nil || *d.driver.Spec.AttachRequired {
		t.Error("CSIDriver requires attach: the driver has no ControllerPublishVolume")
	}
}
