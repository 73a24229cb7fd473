package csi

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"sort"
	"strings"

	"google.golang.org/grpc/codes"
)

// IDs. A volume ID is the cairn volume's name; a snapshot ID is the
// snapshot's reference VOLUME@NAME; a group snapshot ID is the name its
// member snapshots share. The names come from the CO's names when they
// are valid cairn names (Kubernetes' pvc-UUID and snapshot-UUID are), so
// `cairn volume list` shows the PVs; other names are hashed.

// nameRE is the intersection of cairn's volume and snapshot name rules.
var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// snapNameRE is cairn's snapshot name rule.
var snapNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$`)

// cairnName maps a CO's name to a cairn volume or snapshot name.
func cairnName(coName string) string {
	if nameRE.MatchString(coName) {
		return coName
	}
	sum := sha256.Sum256([]byte(coName))
	return "csi-" + hex.EncodeToString(sum[:16])
}

// validVolumeID reports whether id can name a cairn volume; an ID that
// cannot (another driver's) names no volume of this driver.
func validVolumeID(id string) bool { return nameRE.MatchString(id) }

// validSnapshotID reports whether id has the form VOLUME@NAME.
func validSnapshotID(id string) bool {
	vol, name, ok := strings.Cut(id, "@")
	return ok && validVolumeID(vol) && snapNameRE.MatchString(name)
}

// Labels the driver keeps on volumes and snapshots.
const (
	labelName      = "csi.name"      // the CO's name of the volume or snapshot
	labelSource    = "csi.source"    // volume content source: snapshot:ID or volume:ID
	labelContext   = "csi.context"   // the volume context, canonically encoded
	labelPVC       = "csi.pvc"       // Kubernetes PVC name
	labelNamespace = "csi.namespace" // Kubernetes namespace of the PVC or snapshot
	labelPV        = "csi.pv"        // Kubernetes PV name
	labelSnapshot  = "csi.snapshot"  // Kubernetes VolumeSnapshot or group name
	labelContent   = "csi.content"   // Kubernetes snapshot content name
)

// tokenPrefix starts every pagination token: a token is the ID of the
// last entry returned, so pages stay correct while entries come and go.
const tokenPrefix = "after:"

// page returns the entries of sorted after token, at most max (0: all),
// and the token of the next page ("" if this is the last). A token that
// this driver did not hand out is Aborted, as the spec asks.
func page[T any](sorted []T, id func(T) string, token string, max int32) ([]T, string, error) {
	if max < 0 {
		return nil, "", errorf(codes.InvalidArgument, "max_entries %d is negative", max)
	}
	if token != "" {
		after, ok := strings.CutPrefix(token, tokenPrefix)
		if !ok || after == "" {
			return nil, "", errorf(codes.Aborted, "starting_token %q was not handed out by this driver", token)
		}
		i := sort.Search(len(sorted), func(i int) bool { return id(sorted[i]) > after })
		sorted = sorted[i:]
	}
	if max == 0 || len(sorted) <= int(max) {
		return sorted, "", nil
	}
	sorted = sorted[:max]
	return sorted, tokenPrefix + id(sorted[len(sorted)-1]), nil
}
