package deploy

import (
	"fmt"

	groupv1 "github.com/kubernetes-csi/external-snapshotter/client/v8/apis/volumegroupsnapshot/v1"
	snapv1 "github.com/kubernetes-csi/external-snapshotter/client/v8/apis/volumesnapshot/v1"
	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cairn-storage/cairn/csi"
)

// Names of the classes.
const (
	StorageClassName       = "cairn"
	FUSEStorageClassName   = "cairn-fuse"
	SnapshotClassName      = "cairn-snapshots"
	GroupSnapshotClassName = "cairn-group-snapshots"
)

// classes returns the StorageClass (ReadWriteMany volumes, expandable,
// mounted from the cairn NFS gateway), in a cluster a second one whose
// volumes are FUSE mounts, and the snapshot classes.
func classes(c Config) []any {
	expand := true
	reclaim := corev1.PersistentVolumeReclaimDelete
	binding := storagev1.VolumeBindingImmediate
	sc := &storagev1.StorageClass{TypeMeta: metav1.TypeMeta{APIVersion: "storage.k8s.io/v1", Kind: "StorageClass"},
		ObjectMeta:  metav1.ObjectMeta{Name: StorageClassName, Labels: labels(StorageClassName)},
		Provisioner: csi.DriverName,
		Parameters: map[string]string{
			csi.ParamMounter: csi.MounterNFS,
			csi.ParamServer:  c.serverAddr(),
			csi.ParamShare:   "/",
			// The gateway serves NFS and MOUNT on one port, without NLM.
			csi.ParamMountOptions: fmt.Sprintf("proto=tcp,port=%d,mountport=%d,nolock", nfsPort, nfsPort),
		},
		ReclaimPolicy: &reclaim, AllowVolumeExpansion: &expand, VolumeBindingMode: &binding,
	}
	snap := &snapv1.VolumeSnapshotClass{TypeMeta: metav1.TypeMeta{APIVersion: "snapshot.storage.k8s.io/v1", Kind: "VolumeSnapshotClass"},
		ObjectMeta: metav1.ObjectMeta{Name: SnapshotClassName, Labels: labels(SnapshotClassName)},
		Driver:     csi.DriverName, DeletionPolicy: snapv1.VolumeSnapshotContentDelete}
	group := &groupv1.VolumeGroupSnapshotClass{TypeMeta: metav1.TypeMeta{APIVersion: "groupsnapshot.storage.k8s.io/v1", Kind: "VolumeGroupSnapshotClass"},
		ObjectMeta: metav1.ObjectMeta{Name: GroupSnapshotClassName, Labels: labels(GroupSnapshotClassName)},
		Driver:     csi.DriverName, DeletionPolicy: snapv1.VolumeSnapshotContentDelete}
	if !c.clustered() {
		return []any{sc, snap, group}
	}
	// A cluster's nodes each run a daemon: FUSE mounts, no NFS hop.
	fuse := *sc
	fuse.ObjectMeta = metav1.ObjectMeta{Name: FUSEStorageClassName, Labels: labels(FUSEStorageClassName)}
	fuse.Parameters = map[string]string{csi.ParamMounter: csi.MounterFUSE}
	return []any{sc, &fuse, snap, group}
}
