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

func serverService(c Config) *corev1.Service {
	return &corev1.Service{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: meta(c, serverName),
		Spec: corev1.ServiceSpec{
			ClusterIP: corev1.ClusterIPNone, Selector: labels(serverName),
			Ports: []corev1.ServicePort{
				{Name: "nfs", Port: nfsPort, TargetPort: intstr.FromString("nfs")},
				{Name: "control", Port: controlPort, TargetPort: intstr.FromString("control")},
				{Name: "metrics", Port: metricsPort, TargetPort: intstr.FromString("metrics")},
			},
		}}
}

// server is the cairn server StatefulSet. Today each server owns its
// data directory (cairn-0 serves the CSI controller and the NFS mounts);
// CAIRN_REPLICAS and CAIRN_META configure the cluster to come.
func server(c Config) *appsv1.StatefulSet {
	replicas := int32(c.Nodes)
	uid := int64(nonRoot)
	vol, mount := tokenVolume()
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
	container := corev1.Container{
		Name: "cairn", Image: c.Image,
		Args: []string{"--log-json", "csi", "host",
			"--data", "/var/lib/cairn", "--socket", "/run/cairn/host.sock",
			"--listen", fmt.Sprintf("tcp://0.0.0.0:%d", controlPort), "--token-file", mount.MountPath + "/" + tokenKey,
			"--serve-nfs", "--nfs-listen", fmt.Sprintf(":%d", nfsPort),
			"--metrics", fmt.Sprintf(":%d", metricsPort), "--memory-limit", "800MiB"},
		Env: []corev1.EnvVar{nodeNameEnv,
			{Name: "CAIRN_REPLICAS", Value: strconv.Itoa(c.Replicas)},
			{Name: "CAIRN_META", Value: c.Meta}},
		Ports: []corev1.ContainerPort{
			{Name: "nfs", ContainerPort: nfsPort}, {Name: "control", ContainerPort: controlPort},
			{Name: "metrics", ContainerPort: metricsPort}},
		VolumeMounts: []corev1.VolumeMount{{Name: "data", MountPath: "/var/lib/cairn"},
			{Name: "run", MountPath: "/run/cairn"}, mount},
		Resources: corev1.ResourceRequirements{
			Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("250m"), corev1.ResourceMemory: resource.MustParse("512Mi")},
			Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("1Gi")}},
		ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromString("control")}},
			PeriodSeconds: 5},
		LivenessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromString("nfs")}},
			InitialDelaySeconds: 10, PeriodSeconds: 10, FailureThreshold: 6},
		SecurityContext: restricted(),
	}
	return &appsv1.StatefulSet{TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "StatefulSet"},
		ObjectMeta: meta(c, serverName),
		Spec: appsv1.StatefulSetSpec{
			Replicas: &replicas, ServiceName: serverName,
			Selector: &metav1.LabelSelector{MatchLabels: labels(serverName)},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels(serverName)},
				Spec: corev1.PodSpec{
					ServiceAccountName: serverName, TerminationGracePeriodSeconds: ptr(int64(60)),
					SecurityContext: &corev1.PodSecurityContext{FSGroup: &uid},
					Containers:      []corev1.Container{container},
					Volumes:         []corev1.Volume{{Name: "run", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}, vol},
				},
			},
			VolumeClaimTemplates: []corev1.PersistentVolumeClaim{claim},
		}}
}

// controlPolicy lets only the CSI controller reach the servers' control
// port; NFS and metrics stay open.
func controlPolicy(c Config) *networkingv1.NetworkPolicy {
	tcp := corev1.ProtocolTCP
	port := func(p int) networkingv1.NetworkPolicyPort {
		v := intstr.FromInt32(int32(p))
		return networkingv1.NetworkPolicyPort{Protocol: &tcp, Port: &v}
	}
	return &networkingv1.NetworkPolicy{TypeMeta: metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy"},
		ObjectMeta: meta(c, serverName+"-control"),
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: labels(serverName)},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
			Ingress: []networkingv1.NetworkPolicyIngressRule{
				{Ports: []networkingv1.NetworkPolicyPort{port(controlPort)},
					From: []networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{MatchLabels: labels(controllerName)}}}},
				{Ports: []networkingv1.NetworkPolicyPort{port(nfsPort), port(metricsPort)}},
			},
		}}
}

func ptr[T any](v T) *T { return &v }
