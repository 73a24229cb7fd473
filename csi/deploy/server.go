package deploy

import (
	"fmt"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// nonRoot is the user the unprivileged containers run as.
const nonRoot = 65532

// restricted is the security context of an unprivileged container: no
// privilege, no capability, no escalation, a read-only root, not root.
func restricted() *corev1.SecurityContext {
	no, yes := false, true
	uid := int64(nonRoot)
	return &corev1.SecurityContext{
		Privileged: &no, AllowPrivilegeEscalation: &no, ReadOnlyRootFilesystem: &yes,
		RunAsNonRoot: &yes, RunAsUser: &uid, RunAsGroup: &uid,
		Capabilities:   &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
		SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
	}
}

// tokenVolume mounts the controller's bearer token.
func tokenVolume() (corev1.Volume, corev1.VolumeMount) {
	return corev1.Volume{Name: "control-token", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: tokenSecret}}},
		corev1.VolumeMount{Name: "control-token", MountPath: "/etc/cairn/control", ReadOnly: true}
}

// nodeNameEnv passes the node's name to cairn.
var nodeNameEnv = corev1.EnvVar{Name: "KUBE_NODE_NAME", ValueFrom: &corev1.EnvVarSource{
	FieldRef: &corev1.ObjectFieldSelector{FieldPath: "spec.nodeName"}}}

// serverService is the headless service naming every server pod. A
// cluster's pods are in DNS before they are ready: etcd members and
// gossip seeds must find each other to become ready at all.
func serverService(c Config) *corev1.Service {
	ports := []corev1.ServicePort{
		{Name: "nfs", Port: nfsPort, TargetPort: intstr.FromString("nfs")},
		{Name: "control", Port: controlPort, TargetPort: intstr.FromString("control")},
		{Name: "metrics", Port: metricsPort, TargetPort: intstr.FromString("metrics")},
	}
	if c.clustered() {
		ports = append(ports, corev1.ServicePort{Name: "gossip", Port: gossipPort, TargetPort: intstr.FromString("gossip")},
			corev1.ServicePort{Name: "rpc", Port: rpcPort, TargetPort: intstr.FromString("rpc")})
	}
	return &corev1.Service{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: meta(c, serverName),
		Spec: corev1.ServiceSpec{
			ClusterIP: corev1.ClusterIPNone, Selector: map[string]string{serverRoleLabel: serverName},
			PublishNotReadyAddresses: c.clustered(),
			Ports:                    ports,
		}}
}

// servers returns the cairn server StatefulSets. One server owning its
// data directory runs `cairn server`: data, NFS gateway and the control
// API the CSI controller calls, in one process. A cluster runs `cairn
// server` storage nodes (the etcd members in the first set, the others
// in a second), each pod of the first set with a daemon beside it, a
// client of the cluster serving the controller.
func servers(c Config) []any {
	if !c.clustered() {
		return []any{serverSet(c, serverName, c.Nodes, []corev1.Container{standaloneServer(c)}, nil)}
	}
	members := c.Nodes
	if c.Meta == "etcd-embedded" {
		members = min(c.Nodes, etcdMembers)
	}
	storage := func(set string) corev1.Container {
		ct := serverContainer(c, c.storageArgs(set))
		ct.Env = []corev1.EnvVar{podNameEnv}
		ct.Ports = clusterPorts()
		ct.VolumeMounts = append(ct.VolumeMounts, corev1.VolumeMount{Name: "pki", MountPath: pkiDir, ReadOnly: true})
		ct.ReadinessProbe = tcpProbe("rpc", 0, 5, 3)
		ct.LivenessProbe = tcpProbe("rpc", 30, 10, 6)
		return ct
	}
	_, token := tokenVolume()
	daemon := corev1.Container{
		Name: "cairn-csi-daemon", Image: c.Image,
		Args: append(c.clientDaemonArgs("/var/lib/cairn-csi-daemon", "/run/cairn/"+socketName),
			"--api-listen", fmt.Sprintf("tcp://0.0.0.0:%d", controlPort), "--api-token-file", token.MountPath+"/"+tokenKey),
		Env:   []corev1.EnvVar{nodeNameEnv},
		Ports: []corev1.ContainerPort{{Name: "control", ContainerPort: controlPort}},
		VolumeMounts: []corev1.VolumeMount{{Name: "daemon-data", MountPath: "/var/lib/cairn-csi-daemon"},
			{Name: "run", MountPath: "/run/cairn"}, token, {Name: "pki-client", MountPath: clientPKIDir, ReadOnly: true}},
		Resources: corev1.ResourceRequirements{
			Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("256Mi")},
			Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("1Gi")}},
		ReadinessProbe:  tcpProbe("control", 0, 5, 3),
		SecurityContext: restricted(),
	}
	extra := []corev1.Volume{serverPKIVolume(c), clientPKIVolume(),
		{Name: "daemon-data", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}}
	sets := []any{serverSet(c, serverName, members, []corev1.Container{storage(serverName), daemon}, extra)}
	if rest := c.Nodes - members; rest > 0 {
		sets = append(sets, serverSet(c, storageSetName, rest, []corev1.Container{storage(storageSetName)}, extra[:1]))
	}
	return sets
}

// serverContainer is the cairn container of a server pod, running args,
// with its data volume.
func serverContainer(c Config, args []string) corev1.Container {
	return corev1.Container{
		Name: "cairn", Image: c.Image, Args: args,
		VolumeMounts: []corev1.VolumeMount{{Name: "data", MountPath: "/var/lib/cairn"}},
		Resources: corev1.ResourceRequirements{
			Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("250m"), corev1.ResourceMemory: resource.MustParse("512Mi")},
			Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("1Gi")}},
		SecurityContext: restricted(),
	}
}

// standaloneServer is the container of a server owning its data alone.
func standaloneServer(c Config) corev1.Container {
	_, mount := tokenVolume()
	ct := serverContainer(c, []string{"--log-json", "--data", "/var/lib/cairn", "server", "--volume=",
		"--socket", "/run/cairn/" + socketName,
		"--api-listen", fmt.Sprintf("tcp://0.0.0.0:%d", controlPort), "--api-token-file", mount.MountPath + "/" + tokenKey,
		"--nfs-listen", fmt.Sprintf(":%d", nfsPort), "--export", nfsExport,
		"--metrics", fmt.Sprintf(":%d", metricsPort), "--memory-limit", "800MiB"})
	ct.Env = []corev1.EnvVar{nodeNameEnv,
		{Name: "CAIRN_REPLICAS", Value: strconv.Itoa(c.Replicas)},
		{Name: "CAIRN_META", Value: c.Meta}}
	ct.Ports = []corev1.ContainerPort{
		{Name: "nfs", ContainerPort: nfsPort}, {Name: "control", ContainerPort: controlPort},
		{Name: "metrics", ContainerPort: metricsPort}}
	ct.VolumeMounts = append(ct.VolumeMounts, corev1.VolumeMount{Name: "run", MountPath: "/run/cairn"}, mount)
	ct.ReadinessProbe = tcpProbe("control", 0, 5, 3)
	ct.LivenessProbe = tcpProbe("nfs", 10, 10, 6)
	return ct
}

// tcpProbe probes a named port.
func tcpProbe(port string, delay, period, failures int32) *corev1.Probe {
	return &corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromString(port)}},
		InitialDelaySeconds: delay, PeriodSeconds: period, FailureThreshold: failures}
}

// serverSet is a StatefulSet of name with replicas server pods of
// containers, each with its data volume, plus volumes. Its pods start
// together: etcd members wait for each other.
func serverSet(c Config, name string, replicas int, containers []corev1.Container, volumes []corev1.Volume) *appsv1.StatefulSet {
	n := int32(replicas)
	uid := int64(nonRoot)
	vol, _ := tokenVolume()
	claim := corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: "data", Labels: labels(serverName)},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{
				corev1.ResourceStorage: resource.MustParse(c.StorageSize)}},
		}}
	if c.StorageClass != "" {
		claim.Spec.StorageClassName = &c.StorageClass
	}
	vols := []corev1.Volume{{Name: "run", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}, vol}
	policy := appsv1.OrderedReadyPodManagement
	if c.clustered() {
		policy = appsv1.ParallelPodManagement
	}
	return &appsv1.StatefulSet{TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "StatefulSet"},
		ObjectMeta: meta(c, name),
		Spec: appsv1.StatefulSetSpec{
			Replicas: &n, ServiceName: serverName, PodManagementPolicy: policy,
			Selector: &metav1.LabelSelector{MatchLabels: labels(name)},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: podLabels(name)},
				Spec: corev1.PodSpec{
					ServiceAccountName: serverName, TerminationGracePeriodSeconds: ptr(int64(60)),
					SecurityContext: &corev1.PodSecurityContext{FSGroup: &uid},
					Containers:      containers,
					Volumes:         append(vols, volumes...),
				},
			},
			VolumeClaimTemplates: []corev1.PersistentVolumeClaim{claim},
		}}
}

// podLabels are the labels of the pods of a server set: its own, and the
// servers' (what the headless service and the network policy select).
func podLabels(set string) map[string]string {
	l := labels(set)
	l[serverRoleLabel] = serverName
	return l
}

// serverRoleLabel marks every server pod, whatever its set.
const serverRoleLabel = "cairn.dev/role"

// controlPolicy lets only the CSI controller reach the servers' control
// port; NFS and metrics stay open, and so do a cluster's ports, whose
// peers authenticate with certificates of the cluster CA (the node
// plugins' daemons join from the host network, which no pod selector
// matches).
func controlPolicy(c Config) *networkingv1.NetworkPolicy {
	tcp, udp := corev1.ProtocolTCP, corev1.ProtocolUDP
	portOf := func(p int, proto *corev1.Protocol) networkingv1.NetworkPolicyPort {
		v := intstr.FromInt32(int32(p))
		return networkingv1.NetworkPolicyPort{Protocol: proto, Port: &v}
	}
	port := func(p int) networkingv1.NetworkPolicyPort { return portOf(p, &tcp) }
	open := []networkingv1.NetworkPolicyPort{port(nfsPort), port(metricsPort)}
	if c.clustered() {
		open = append(open, port(gossipPort), portOf(gossipPort, &udp), port(rpcPort), port(etcdPort), port(etcdPeerPort))
	}
	return &networkingv1.NetworkPolicy{TypeMeta: metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy"},
		ObjectMeta: meta(c, serverName+"-control"),
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{serverRoleLabel: serverName}},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
			Ingress: []networkingv1.NetworkPolicyIngressRule{
				{Ports: []networkingv1.NetworkPolicyPort{port(controlPort)},
					From: []networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{MatchLabels: labels(controllerName)}}}},
				{Ports: open},
			},
		}}
}

func ptr[T any](v T) *T { return &v }
