package snapshots

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/cairn-storage/cairn/chunks"
	"github.com/cairn-storage/cairn/fs"
	"github.com/cairn-storage/cairn/fs/tree"
)

// Snapshot is the record of one snapshot of one volume.
type Snapshot struct {
	Name     string // unique among the volume's snapshots
	Volume   string // name of the volume at the cut
	VolumeID uint64 // ID of the volume the record belongs to
	Created  time.Time
	// Root is the tree: the root directory's attributes and node.
	Root tree.Root
	// MaxIno is the highest inode number in use at the cut.
	MaxIno fs.Ino
	// Usage is what the volume held at the cut.
	Usage fs.Usage
	// Group names the group snapshot this is part of; "" if none.
	Group string
	// Hooks are the hooks run around the cut.
	Hooks  []HookRun
	Labels map[string]string
	// Config is the volume's configuration at the cut; clones and
	// receivers get it.
	Config fs.VolumeConfig
	// Received is when the snapshot arrived by receive or push; nil for
	// snapshots taken here.
	Received *time.Time
}

// Ref returns the snapshot's name as commands take it: VOLUME@NAME.
func (s Snapshot) Ref() string { return s.Volume + "@" + s.Name }

// HookRun is the outcome of one pre- or post-hook.
type HookRun struct {
	Phase    string        `json:"phase"` // "pre" or "post"
	Command  string        `json:"command"`
	ExitCode int           `json:"exit_code"`
	Error    string        `json:"error,omitempty"`
	Output   string        `json:"output,omitempty"` // the end of stdout and stderr
	Duration time.Duration `json:"duration_ns"`
}

// Failed reports whether the hook did not succeed.
func (h HookRun) Failed() bool { return h.Error != "" }

// recordJSON is the stored and printed form of a Snapshot.
type recordJSON struct {
	Name     string            `json:"name"`
	Volume   string            `json:"volume"`
	VolumeID uint64            `json:"volume_id"`
	Created  time.Time         `json:"created"`
	Root     rootJSON          `json:"root"`
	MaxIno   uint64            `json:"max_ino"`
	Bytes    uint64            `json:"bytes"`
	Inodes   uint64            `json:"inodes"`
	Group    string            `json:"group,omitempty"`
	Hooks    []HookRun         `json:"hooks,omitempty"`
	Labels   map[string]string `json:"labels,omitempty"`
	Config   fs.VolumeConfig   `json:"config"`
	Received *time.Time        `json:"received,omitempty"`
}

// rootJSON is a tree.Root with its node in hex. Every other field of
// tree.Root is promoted, so fields the fs adds are kept.
type rootJSON struct {
	tree.Root
	Node string `json:"Node"` // shadows Root.Node
}

// MarshalJSON encodes the record with snake_case keys and the root node in hex.
func (s Snapshot) MarshalJSON() ([]byte, error) {
	return json.Marshal(recordJSON{
		Name: s.Name, Volume: s.Volume, VolumeID: s.VolumeID, Created: s.Created,
		Root:   rootJSON{Root: s.Root, Node: s.Root.Node.String()},
		MaxIno: uint64(s.MaxIno), Bytes: s.Usage.Bytes, Inodes: s.Usage.Inodes,
		Group: s.Group, Hooks: s.Hooks, Labels: s.Labels, Config: s.Config, Received: s.Received,
	})
}

// UnmarshalJSON decodes what MarshalJSON encodes.
func (s *Snapshot) UnmarshalJSON(b []byte) error {
	var r recordJSON
	if err := json.Unmarshal(b, &r); err != nil {
		return err
	}
	node, err := chunks.ParseID(r.Root.Node)
	if err != nil {
		return fmt.Errorf("root node: %w", err)
	}
	root := r.Root.Root
	root.Node = node
	*s = Snapshot{
		Name: r.Name, Volume: r.Volume, VolumeID: r.VolumeID, Created: r.Created,
		Root:   root,
		MaxIno: fs.Ino(r.MaxIno), Usage: fs.Usage{Bytes: r.Bytes, Inodes: r.Inodes},
		Group: r.Group, Hooks: r.Hooks, Labels: r.Labels, Config: r.Config, Received: r.Received,
	}
	return nil
}

// check validates a record read from the KV or from a stream.
func (s *Snapshot) check() error {
	if err := CheckName(s.Name); err != nil {
		return err
	}
	if err := fs.CheckVolumeName(s.Volume); err != nil {
		return err
	}
	if s.Root.Node.IsZero() {
		return fmt.Errorf("snapshot %s: no root node: %w", s.Ref(), ErrBadRecord)
	}
	if s.Root.Attr.Mode&0o170000 != 0o040000 {
		return fmt.Errorf("snapshot %s: root is not a directory (mode %#o): %w", s.Ref(), s.Root.Attr.Mode, ErrBadRecord)
	}
	return nil
}

var (
	// ErrNotFound is returned (wrapped) for a snapshot that does not exist.
	ErrNotFound = errors.New("no such snapshot")
	// ErrExists is returned (wrapped) when a snapshot name is taken.
	ErrExists = errors.New("snapshot exists")
	// ErrBadRecord is returned (wrapped) for a record that does not decode.
	ErrBadRecord = errors.New("bad snapshot record")
	// ErrInvalid is returned (wrapped) for bad arguments.
	ErrInvalid = errors.New("invalid argument")
)

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$`)

// CheckName validates a snapshot name: 1-128 letters, digits, '.', '_',
// ':' or '-', starting with a letter or digit.
func CheckName(name string) error {
	if !nameRE.MatchString(name) {
		return fmt.Errorf("snapshot name %q: want 1-128 of [A-Za-z0-9._:-], starting with a letter or digit: %w", name, ErrInvalid)
	}
	return nil
}

// ParseRef splits VOLUME@NAME.
func ParseRef(ref string) (volume, name string, err error) {
	volume, name, ok := strings.Cut(ref, "@")
	if !ok {
		return "", "", fmt.Errorf("snapshot %q: want VOLUME@NAME: %w", ref, ErrInvalid)
	}
	if err := fs.CheckVolumeName(volume); err != nil {
		return "", "", fmt.Errorf("snapshot %q: %w", ref, err)
	}
	if err := CheckName(name); err != nil {
		return "", "", fmt.Errorf("snapshot %q: %w", ref, err)
	}
	return volume, name, nil
}

// Keys; see the package documentation.
const keyTag = 'S'

func volPrefix(vol uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte{keyTag}, vol)
}

func recordKey(vol uint64, name string) []byte { return append(volPrefix(vol), name...) }

func auxKey(kind, name string) []byte { return append(append(volPrefix(0), kind...), name...) }

const (
	auxSchedule = "sched/"
	auxRestore  = "restore/"
)

func encodeRecord(s Snapshot) ([]byte, error) {
	b, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("encode snapshot %s: %w", s.Ref(), err)
	}
	return b, nil
}

func decodeRecord(key, b []byte) (Snapshot, error) {
	var s Snapshot
	if err := json.Unmarshal(b, &s); err != nil {
		return s, fmt.Errorf("record %q: %v: %w", key, err, ErrBadRecord)
	}
	if err := s.check(); err != nil {
		return s, fmt.Errorf("record %q: %w", key, err)
	}
	return s, nil
}
