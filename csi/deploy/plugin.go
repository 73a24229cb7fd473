package deploy

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// Health ports of the livenessprobe sidecars (the node's is on the host
// network, so it avoids the common 9808).
const (
	controllerHealthPort = 9808
	nodeHealthPort       = 29653
)

// socketMount mounts the directory of the CSI socket.
var socketMount = corev1.VolumeMount{Name: "socket-dir", MountPath: socketDir}

// sidecar is a CSI sidecar container talking to the plugin's socket.
func sidecar(name, image string, args ...string) corev1.Container {
	return corev1.Container{Name: name, Image: image,
		Args:         append([]string{"--csi-address=" + socketDir + "/csi.sock"}, args...),
		VolumeMounts: []corev1.VolumeMount{socketMount},
		Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
			corev1.ResourceCPU: resource.MustParse("10m"), corev1.ResourceMemory: resource.MustParse("32Mi")}},
		SecurityContext: restricted(),
	}
}

// livenessProbe is the probe of a plugin container, answered by the
// livenessprobe sidecar (which calls the plugin's Probe).
func livenessProbe() *corev1.Probe {
	return &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{
		Path: "/healthz", Port: intstr.FromString("healthz")}},
		InitialDelaySeconds: 10, TimeoutSeconds: 3, PeriodSeconds: 10, FailureThreshold: 5}
}

// controller is the CSI controller Deployment: cairn calling the control
// API of the first server's daemon, and the provisioner, snapshotter,
// resizer and livenessprobe sidecars. Nothing in it is privileged or
// touches the host.
func controller(c Config) *appsv1.Deployment {
	one := int32(1)
	vol, mount := tokenVolume()
	plugin := corev1.Container{
		Name: "cairn-csi", Image: c.Image,
		Args: []string{"--log-json", "csi", "--endpoint", Endpoint, "--mode", "controller",
			"--daemon", fmt.Sprintf("tcp://%s:%d", c.serverAddr(), controlPort),
			"--daemon-token-file", mount.MountPath + "/" + tokenKey},
		Env:          []corev1.EnvVar{nodeNameEnv},
		Ports:        []corev1.ContainerPort{{Name: "healthz", ContainerPort: controllerHealthPort}},
		VolumeMounts: []corev1.VolumeMount{socketMount, mount},
		Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
			corev1.ResourceCPU: resource.MustParse("10m"), corev1.ResourceMemory: resource.MustParse("64Mi")}},
		LivenessProbe:   livenessProbe(),
		SecurityContext: restricted(),
	}
	leader := []string{"--leader-election", "--leader-election-namespace=" + c.Namespace, "--timeout=120s", "--v=2"}
	containers := []corev1.Container{
		plugin,
		sidecar("csi-provisioner", c.Images.Provisioner, append([]string{"--extra-create-metadata", "--feature-gates=Topology=true"}, leader...)...),
		sidecar("csi-snapshotter", c.Images.Snapshotter, append([]string{"--extra-create-metadata", "--feature-gates=CSIVolumeGroupSnapshot=true"}, leader...)...),
		sidecar("csi-resizer", c.Images.Resizer, append([]string{"--handle-volume-inuse-error=false"}, leader...)...),
		sidecar("liveness-probe", c.Images.Liveness, fmt.Sprintf("--health-port=%d", controllerHealthPort)),
	}
	return &appsv1.Deployment{TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: meta(c, controllerName),
		Spec: appsv1.DeploymentSpec{
			Replicas: &one,
			Selector: &metav1.LabelSelector{MatchLabels: labels(controllerName)},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels(controllerName)},
				Spec: corev1.PodSpec{
					ServiceAccountName: controllerName, PriorityClassName: "system-cluster-critical",
					Containers: containers,
					Volumes: []corev1.Volume{
						{Name: "socket-dir", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}, vol},
				},
			},
		}}
}

// hostPath is a volume of a directory (or device) of the node.
func hostPath(name, path string, t corev1.HostPathType) corev1.Volume {
	return corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: path, Type: &t}}}
}

// node is the node plugin DaemonSet. The plugin container (and, in a
// cluster, the node daemon beside it) is the only privileged one: it
// mounts (NFS, and FUSE through /dev/fuse) into the kubelet's directory,
// whose mounts must propagate back to the host (Bidirectional). It uses
// the host network so NFS mounts live in the host's network namespace.
// The registrar and the livenessprobe are unprivileged. With one server
// no daemon runs on the nodes: volumes are mounted from its NFS gateway.
func node(c Config) *appsv1.DaemonSet {
	yes := true
	bidir := corev1.MountPropagationBidirectional
	daemon := []string{"--daemon", "none"}
	if c.clustered() {
		daemon = []string{"--daemon", "unix://" + nodeDaemonSocket, "--spawn-daemon=false"}
	}
	plugin := corev1.Container{
		Name: "cairn-csi", Image: c.Image,
		Args: append([]string{"--log-json", "csi", "--endpoint", Endpoint, "--mode", "node",
			"--state-dir", stateDir}, daemon...),
		Env:   []corev1.EnvVar{nodeNameEnv},
		Ports: []corev1.ContainerPort{{Name: "healthz", ContainerPort: nodeHealthPort}},
		VolumeMounts: []corev1.VolumeMount{
			socketMount,
			{Name: "kubelet-dir", MountPath: c.KubeletDir, MountPropagation: &bidir},
			{Name: "fuse-device", MountPath: "/dev/fuse"},
			{Name: "state-dir", MountPath: stateDir},
		},
		Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
			corev1.ResourceCPU: resource.MustParse("10m"), corev1.ResourceMemory: resource.MustParse("64Mi")}},
		LivenessProbe:   livenessProbe(),
		SecurityContext: &corev1.SecurityContext{Privileged: &yes},
	}
	containers := []corev1.Container{plugin}
	volumes := []corev1.Volume{}
	if c.clustered() {
		containers = append(containers, nodeDaemon(c, plugin))
		volumes = append(volumes, clientPKIVolume())
	}
	registrar := sidecar("node-driver-registrar", c.Images.Registrar,
		"--kubelet-registration-path="+c.pluginDir()+"/csi.sock")
	registrar.VolumeMounts = append(registrar.VolumeMounts, corev1.VolumeMount{Name: "registration-dir", MountPath: "/registration"})
	// The registrar and the probe reach the socket the root plugin made.
	registrar.SecurityContext.RunAsNonRoot, registrar.SecurityContext.RunAsUser, registrar.SecurityContext.RunAsGroup = nil, ptr(int64(0)), ptr(int64(0))
	liveness := sidecar("liveness-probe", c.Images.Liveness, fmt.Sprintf("--health-port=%d", nodeHealthPort))
	liveness.SecurityContext.RunAsNonRoot, liveness.SecurityContext.RunAsUser, liveness.SecurityContext.RunAsGroup = nil, ptr(int64(0)), ptr(int64(0))
	return &appsv1.DaemonSet{TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "DaemonSet"},
		ObjectMeta: meta(c, nodeName),
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels(nodeName)},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels(nodeName)},
				Spec: corev1.PodSpec{
					ServiceAccountName: nodeName, PriorityClassName: "system-node-critical",
					HostNetwork: true, DNSPolicy: corev1.DNSClusterFirstWithHostNet,
					Tolerations: []corev1.Toleration{{Operator: corev1.TolerationOpExists}},
					Containers:  append(append([]corev1.Container{registrar}, containers...), liveness),
					Volumes: append(volumes,
						hostPath("socket-dir", c.pluginDir(), corev1.HostPathDirectoryOrCreate),
						hostPath("registration-dir", c.KubeletDir+"/plugins_registry", corev1.HostPathDirectory),
						hostPath("kubelet-dir", c.KubeletDir, corev1.HostPathDirectory),
						hostPath("fuse-device", "/dev/fuse", corev1.HostPathCharDev),
						hostPath("state-dir", stateDir, corev1.HostPathDirectoryOrCreate),
					),
				},
			},
		}}
}

// nodeDaemonSocket is the control socket of a node's daemon, in the
// state directory both containers mount.
const nodeDaemonSocket = stateDir + "/daemon.sock"

// nodeDaemon is the daemon of a node of a cluster: `cairn server`, a
// client of the cluster, serving the node plugin's FUSE publishes on its
// control socket. It is a container of its own, so that a restart of
// the plugin leaves the mounts serving; it needs what FUSE mounts need,
// like the plugin.
func nodeDaemon(c Config, plugin corev1.Container) corev1.Container {
	return corev1.Container{
		Name: "cairn-daemon", Image: c.Image,
		Args: c.clientDaemonArgs(stateDir+"/daemon-data", nodeDaemonSocket),
		Env:  []corev1.EnvVar{nodeNameEnv},
		VolumeMounts: append(append([]corev1.VolumeMount(nil), plugin.VolumeMounts[1:]...),
			corev1.VolumeMount{Name: "pki-client", MountPath: clientPKIDir, ReadOnly: true}),
		Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
			corev1.ResourceCPU: resource.MustParse("50m"), corev1.ResourceMemory: resource.MustParse("256Mi")}},
		SecurityContext: plugin.SecurityContext,
	}
}
