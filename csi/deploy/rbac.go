package deploy

import (
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cairn-storage/cairn/csi"
)

func meta(c Config, name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: c.Namespace, Labels: labels(name)}
}

func labels(app string) map[string]string {
	return map[string]string{"app.kubernetes.io/name": app, "app.kubernetes.io/part-of": "cairn"}
}

func namespace(c Config) *corev1.Namespace {
	return &corev1.Namespace{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"},
		ObjectMeta: metav1.ObjectMeta{Name: c.Namespace, Labels: map[string]string{
			"app.kubernetes.io/part-of": "cairn",
			// The node plugin is privileged.
			"pod-security.kubernetes.io/enforce": "privileged"}}}
}

func secret(c Config) *corev1.Secret {
	return &corev1.Secret{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: meta(c, tokenSecret), Type: corev1.SecretTypeOpaque,
		StringData: map[string]string{tokenKey: c.Token}}
}

func serviceAccount(c Config, name string) *corev1.ServiceAccount {
	no := false
	return &corev1.ServiceAccount{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ServiceAccount"},
		ObjectMeta: meta(c, name), AutomountServiceAccountToken: &no}
}

func rule(group string, resources []string, verbs ...string) rbacv1.PolicyRule {
	return rbacv1.PolicyRule{APIGroups: []string{group}, Resources: resources, Verbs: verbs}
}

var (
	read  = []string{"get", "list", "watch"}
	write = []string{"get", "list", "watch", "create", "update", "patch", "delete"}
)

// rbac returns the service accounts and the controller's roles: what
// csi-provisioner, csi-snapshotter (with group snapshots) and
// csi-resizer need, and leases for their leader election. The node
// plugin and the servers need no API access.
func rbac(c Config) []any {
	ctrl := serviceAccount(c, controllerName)
	ctrl.AutomountServiceAccountToken = nil // the sidecars use the API
	cluster := &rbacv1.ClusterRole{TypeMeta: metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRole"},
		ObjectMeta: metav1.ObjectMeta{Name: controllerName, Labels: labels(controllerName)},
		Rules: []rbacv1.PolicyRule{
			rule("", []string{"persistentvolumes"}, write...),
			rule("", []string{"persistentvolumeclaims"}, "get", "list", "watch", "update", "patch"),
			rule("", []string{"persistentvolumeclaims/status"}, "patch", "update"),
			rule("", []string{"events"}, "get", "list", "watch", "create", "update", "patch"),
			rule("", []string{"nodes", "pods"}, read...),
			rule("storage.k8s.io", []string{"storageclasses", "csinodes", "volumeattachments", "volumeattributesclasses"}, read...),
			rule("snapshot.storage.k8s.io", []string{"volumesnapshotclasses", "volumesnapshots"}, read...),
			rule("snapshot.storage.k8s.io", []string{"volumesnapshotcontents"}, write...),
			rule("snapshot.storage.k8s.io", []string{"volumesnapshotcontents/status"}, "update", "patch"),
			rule("groupsnapshot.storage.k8s.io", []string{"volumegroupsnapshotclasses", "volumegroupsnapshots"}, read...),
			rule("groupsnapshot.storage.k8s.io", []string{"volumegroupsnapshotcontents"}, write...),
			rule("groupsnapshot.storage.k8s.io", []string{"volumegroupsnapshotcontents/status"}, "update", "patch"),
		}}
	subject := []rbacv1.Subject{{Kind: "ServiceAccount", Name: controllerName, Namespace: c.Namespace}}
	binding := &rbacv1.ClusterRoleBinding{TypeMeta: metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRoleBinding"},
		ObjectMeta: metav1.ObjectMeta{Name: controllerName, Labels: labels(controllerName)}, Subjects: subject,
		RoleRef: rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: controllerName}}
	leases := &rbacv1.Role{TypeMeta: metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "Role"},
		ObjectMeta: meta(c, controllerName),
		Rules:      []rbacv1.PolicyRule{rule("coordination.k8s.io", []string{"leases"}, write...)}}
	leasesBinding := &rbacv1.RoleBinding{TypeMeta: metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "RoleBinding"},
		ObjectMeta: meta(c, controllerName), Subjects: subject,
		RoleRef: rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: controllerName}}
	return []any{ctrl, serviceAccount(c, nodeName), serviceAccount(c, serverName), cluster, binding, leases, leasesBinding}
}

// csiDriver registers the driver: no attach step, volumes mounted per
// pod with fsGroup applied by the kubelet (as csi-driver-nfs does).
func csiDriver(Config) *storagev1.CSIDriver {
	no := false
	policy := storagev1.FileFSGroupPolicy
	return &storagev1.CSIDriver{TypeMeta: metav1.TypeMeta{APIVersion: "storage.k8s.io/v1", Kind: "CSIDriver"},
		ObjectMeta: metav1.ObjectMeta{Name: csi.DriverName, Labels: labels("cairn-csi")},
		Spec: storagev1.CSIDriverSpec{
			AttachRequired: &no, PodInfoOnMount: &no, RequiresRepublish: &no, StorageCapacity: &no,
			FSGroupPolicy:        &policy,
			VolumeLifecycleModes: []storagev1.VolumeLifecycleMode{storagev1.VolumeLifecyclePersistent},
		}}
}
