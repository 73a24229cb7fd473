package csi

import (
	"encoding/json"
	"fmt"
	"maps"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/container-storage-interface/spec/lib/go/csi"
	"google.golang.org/grpc/codes"
)

// StorageClass parameters (CreateVolume) and volume context keys
// (NodePublishVolume). The NFS keys follow kubernetes-csi/csi-driver-nfs.
const (
	ParamMounter      = "mounter"      // "fuse" (default) or "nfs"
	ParamServer       = "server"       // NFS: the cairn gateway's host
	ParamShare        = "share"        // NFS: export path under which volumes live; default "/"
	ParamSubDir       = "subDir"       // NFS: directory inside the volume to mount
	ParamMountOptions = "mountOptions" // NFS: comma-separated mount options
	ParamCompress     = "compress"     // "true": store the volume's chunks compressed
	ParamReplicas     = "replicas"     // replication factor (clusters); 0 = default

	MounterFUSE = "fuse"
	MounterNFS  = "nfs"
)

// k8sPrefix starts the keys the Kubernetes sidecars and kubelet add
// (--extra-create-metadata, podInfoOnMount); they are not unknown keys.
const k8sPrefix = "csi.storage.k8s.io/"

// k8sLabels maps the metadata keys of the sidecars to the labels kept.
var k8sLabels = map[string]string{
	k8sPrefix + "pvc/name":                        labelPVC,
	k8sPrefix + "pvc/namespace":                   labelNamespace,
	k8sPrefix + "pv/name":                         labelPV,
	k8sPrefix + "volumesnapshot/name":             labelSnapshot,
	k8sPrefix + "volumesnapshot/namespace":        labelNamespace,
	k8sPrefix + "volumesnapshotcontent/name":      labelContent,
	k8sPrefix + "volumegroupsnapshot/name":        labelSnapshot,
	k8sPrefix + "volumegroupsnapshot/namespace":   labelNamespace,
	k8sPrefix + "volumegroupsnapshotcontent/name": labelContent,
}

// mountSpec says how a node mounts a volume: the volume context.
type mountSpec struct {
	Mounter string
	NFS     nfsSpec
}

// nfsSpec locates a volume on a cairn NFS gateway.
type nfsSpec struct {
	Server, Share, SubDir string
	Options               []string
}

// volumeParams are the parsed StorageClass parameters.
type volumeParams struct {
	mount    mountSpec
	compress bool
	replicas int
	labels   map[string]string // from the sidecars' metadata
}

// parseVolumeParams validates StorageClass parameters; unknown keys and
// bad values are InvalidArgument.
func parseVolumeParams(p map[string]string) (volumeParams, error) {
	var vp volumeParams
	var err error
	rest := maps.Clone(p)
	vp.labels = takeK8sLabels(rest)
	if v, ok := rest[ParamCompress]; ok {
		delete(rest, ParamCompress)
		if vp.compress, err = strconv.ParseBool(v); err != nil {
			return vp, errorf(codes.InvalidArgument, "parameter %s=%q: want true or false", ParamCompress, v)
		}
	}
	if v, ok := rest[ParamReplicas]; ok {
		delete(rest, ParamReplicas)
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 16 {
			return vp, errorf(codes.InvalidArgument, "parameter %s=%q: want a number from 0 (the default) to 16", ParamReplicas, v)
		}
		vp.replicas = n
	}
	if vp.mount, err = parseMountSpec(rest, "parameter"); err != nil {
		return vp, err
	}
	if vp.mount.Mounter == MounterNFS {
		sub, err := expandSubDir(vp.mount.NFS.SubDir, vp.labels)
		if err != nil {
			return vp, err
		}
		vp.mount.NFS.SubDir = sub
	}
	return vp, nil
}

// takeK8sLabels removes the Kubernetes keys from p and returns the labels
// they carry.
func takeK8sLabels(p map[string]string) map[string]string {
	labels := map[string]string{}
	for k, v := range p {
		if !strings.HasPrefix(k, k8sPrefix) {
			continue
		}
		delete(p, k)
		if l, ok := k8sLabels[k]; ok {
			labels[l] = v
		}
	}
	return labels
}

// parseMountSpec reads the mount keys of p (parameters or volume
// context) and fails on any other key; what names the source of p in
// messages.
func parseMountSpec(p map[string]string, what string) (mountSpec, error) {
	ms := mountSpec{Mounter: MounterFUSE}
	for k := range p {
		switch k {
		case ParamMounter, ParamServer, ParamShare, ParamSubDir, ParamMountOptions:
		default:
			if what == "volume context" && strings.HasPrefix(k, k8sPrefix) {
				continue
			}
			known := []string{ParamMounter, ParamServer, ParamShare, ParamSubDir, ParamMountOptions}
			if what == "parameter" {
				known = append(known, ParamCompress, ParamReplicas)
			}
			return ms, errorf(codes.InvalidArgument, "unknown %s %q (known: %s)", what, k, strings.Join(known, ", "))
		}
	}
	if m, ok := p[ParamMounter]; ok {
		if m != MounterFUSE && m != MounterNFS {
			return ms, errorf(codes.InvalidArgument, "%s %s=%q: want %q or %q", what, ParamMounter, m, MounterFUSE, MounterNFS)
		}
		ms.Mounter = m
	}
	if ms.Mounter == MounterFUSE {
		for _, k := range []string{ParamServer, ParamShare, ParamSubDir, ParamMountOptions} {
			if _, ok := p[k]; ok {
				return ms, errorf(codes.InvalidArgument, "%s %q only applies to %s=%s", what, k, ParamMounter, MounterNFS)
			}
		}
		return ms, nil
	}
	n := nfsSpec{Server: p[ParamServer], Share: p[ParamShare], SubDir: p[ParamSubDir]}
	if !hostRE.MatchString(n.Server) {
		return ms, errorf(codes.InvalidArgument, "%s %s=%q: want the host name or IP address of a cairn NFS gateway", what, ParamServer, n.Server)
	}
	if n.Share == "" {
		n.Share = "/"
	}
	if !path.IsAbs(n.Share) || strings.ContainsAny(n.Share, " \t\n,") || path.Clean(n.Share) != n.Share {
		return ms, errorf(codes.InvalidArgument, "%s %s=%q: want a clean absolute path", what, ParamShare, n.Share)
	}
	if n.SubDir != "" && (path.IsAbs(n.SubDir) || path.Clean(n.SubDir) != n.SubDir || strings.HasPrefix(n.SubDir, "..") || strings.ContainsAny(n.SubDir, " \t\n,")) {
		return ms, errorf(codes.InvalidArgument, "%s %s=%q: want a clean relative path inside the volume", what, ParamSubDir, n.SubDir)
	}
	opts, err := parseMountOptions(p[ParamMountOptions])
	if err != nil {
		return ms, errorf(codes.InvalidArgument, "%s %s: %v", what, ParamMountOptions, err)
	}
	n.Options = opts
	ms.NFS = n
	return ms, nil
}

// hostRE accepts host names, IPv4 addresses and IPv6 addresses.
var hostRE = regexp.MustCompile(`^([A-Za-z0-9]([A-Za-z0-9.-]{0,252})|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*)$`)

// optionRE accepts one mount option: a word or word=value.
var optionRE = regexp.MustCompile(`^[A-Za-z0-9_.-]+(=[A-Za-z0-9_.:/@+-]+)?$`)

// parseMountOptions splits a comma-separated option list, refusing
// options that would make it something other than an NFSv3 mount.
func parseMountOptions(s string) ([]string, error) {
	if s == "" {
		return nil, nil
	}
	var out []string
	for _, o := range strings.Split(s, ",") {
		o = strings.TrimSpace(o)
		if o == "" {
			continue
		}
		if !optionRE.MatchString(o) {
			return nil, fmt.Errorf("option %q: want WORD or WORD=VALUE", o)
		}
		key, val, _ := strings.Cut(o, "=")
		if (key == "vers" || key == "nfsvers") && val != "3" {
			return nil, fmt.Errorf("option %q: the cairn gateway speaks NFSv3 only", o)
		}
		out = append(out, o)
	}
	return out, nil
}

// expandSubDir replaces the csi-driver-nfs templates ${pvc.metadata.name},
// ${pvc.metadata.namespace} and ${pv.metadata.name} in subDir.
func expandSubDir(subDir string, labels map[string]string) (string, error) {
	if !strings.Contains(subDir, "${") {
		return subDir, nil
	}
	for tmpl, label := range map[string]string{"${pvc.metadata.name}": labelPVC,
		"${pvc.metadata.namespace}": labelNamespace, "${pv.metadata.name}": labelPV} {
		if !strings.Contains(subDir, tmpl) {
			continue
		}
		v := labels[label]
		if v == "" {
			return "", errorf(codes.InvalidArgument, "parameter %s uses %s, but the provisioner passed no such metadata (run it with --extra-create-metadata)", ParamSubDir, tmpl)
		}
		subDir = strings.ReplaceAll(subDir, tmpl, v)
	}
	if strings.Contains(subDir, "${") {
		return "", errorf(codes.InvalidArgument, "parameter %s=%q: unknown template (known: ${pvc.metadata.name}, ${pvc.metadata.namespace}, ${pv.metadata.name})", ParamSubDir, subDir)
	}
	return subDir, nil
}

// context returns the volume context that tells nodes how to mount.
func (ms mountSpec) context() map[string]string {
	c := map[string]string{ParamMounter: ms.Mounter}
	if ms.Mounter == MounterNFS {
		c[ParamServer] = ms.NFS.Server
		c[ParamShare] = ms.NFS.Share
		if ms.NFS.SubDir != "" {
			c[ParamSubDir] = ms.NFS.SubDir
		}
		if len(ms.NFS.Options) > 0 {
			c[ParamMountOptions] = strings.Join(ms.NFS.Options, ",")
		}
	}
	return c
}

// encodeContext encodes a volume context canonically (sorted keys).
func encodeContext(c map[string]string) string {
	b, _ := json.Marshal(c) // maps marshal with sorted keys
	return string(b)
}

// decodeContext decodes what encodeContext encoded; nil if s is bad.
func decodeContext(s string) map[string]string {
	var c map[string]string
	if json.Unmarshal([]byte(s), &c) != nil {
		return nil
	}
	return c
}

// parseSnapshotParams validates VolumeSnapshotClass (or group class)
// parameters: only the sidecars' metadata is known.
func parseSnapshotParams(p map[string]string) (map[string]string, error) {
	rest := maps.Clone(p)
	labels := takeK8sLabels(rest)
	for k := range rest {
		return nil, errorf(codes.InvalidArgument, "unknown snapshot parameter %q (cairn snapshots take none)", k)
	}
	return labels, nil
}

// supportedModes are the access modes cairn volumes support: any number
// of readers and writers on any number of nodes.
var supportedModes = []csi.VolumeCapability_AccessMode_Mode{
	csi.VolumeCapability_AccessMode_SINGLE_NODE_WRITER,
	csi.VolumeCapability_AccessMode_SINGLE_NODE_READER_ONLY,
	csi.VolumeCapability_AccessMode_MULTI_NODE_READER_ONLY,
	csi.VolumeCapability_AccessMode_MULTI_NODE_SINGLE_WRITER,
	csi.VolumeCapability_AccessMode_MULTI_NODE_MULTI_WRITER,
	csi.VolumeCapability_AccessMode_SINGLE_NODE_SINGLE_WRITER,
	csi.VolumeCapability_AccessMode_SINGLE_NODE_MULTI_WRITER,
}

// checkCapability returns why cairn cannot provide c, or nil.
func checkCapability(c *csi.VolumeCapability) error {
	if c == nil {
		return missing("volume capability")
	}
	if c.GetBlock() != nil {
		return errorf(codes.InvalidArgument, "block access is not supported: cairn volumes are filesystems (use access type mount)")
	}
	if c.GetMount() == nil {
		return errorf(codes.InvalidArgument, "volume capability has no access type: want mount")
	}
	mode := c.GetAccessMode().GetMode()
	if !slices.Contains(supportedModes, mode) {
		return errorf(codes.InvalidArgument, "access mode %v is not supported", mode)
	}
	return nil
}

// checkCapabilities checks every capability of a request that needs one.
func checkCapabilities(caps []*csi.VolumeCapability) error {
	if len(caps) == 0 {
		return missing("volume_capabilities")
	}
	for _, c := range caps {
		if err := checkCapability(c); err != nil {
			return err
		}
	}
	return nil
}

// readOnlyMode reports whether mode allows no writer.
func readOnlyMode(mode csi.VolumeCapability_AccessMode_Mode) bool {
	return mode == csi.VolumeCapability_AccessMode_SINGLE_NODE_READER_ONLY ||
		mode == csi.VolumeCapability_AccessMode_MULTI_NODE_READER_ONLY
}
