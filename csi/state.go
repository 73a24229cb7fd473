package csi

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// publication records one NodePublishVolume: what is (or must be)
// mounted at a target. Records live in the node's state directory so a
// restarted plugin knows what it published and can re-attach.
type publication struct {
	Volume     string    `json:"volume"`
	Target     string    `json:"target"`
	Mounter    string    `json:"mounter"`
	NFS        *nfsSpec  `json:"nfs,omitempty"`
	ReadOnly   bool      `json:"read_only,omitempty"`
	Mode       string    `json:"access_mode"`
	MountFlags []string  `json:"mount_flags,omitempty"`
	Published  time.Time `json:"published"`
}

// sameMount reports whether p and q ask for the same mount.
func (p publication) sameMount(q publication) bool {
	a, _ := json.Marshal(publication{Volume: p.Volume, Target: p.Target, Mounter: p.Mounter, NFS: p.NFS, ReadOnly: p.ReadOnly, MountFlags: p.MountFlags})
	b, _ := json.Marshal(publication{Volume: q.Volume, Target: q.Target, Mounter: q.Mounter, NFS: q.NFS, ReadOnly: q.ReadOnly, MountFlags: q.MountFlags})
	return string(a) == string(b)
}

// publications is the set of records of a state directory.
type publications struct {
	dir string

	mu   sync.Mutex
	byTP map[string]publication // by target path
}

// openPublications loads the records under dir/publications.
func openPublications(dir string) (*publications, error) {
	p := &publications{dir: filepath.Join(dir, "publications"), byTP: map[string]publication{}}
	if err := os.MkdirAll(p.dir, 0o700); err != nil {
		return nil, fmt.Errorf("state directory: %w", err)
	}
	ents, err := os.ReadDir(p.dir)
	if err != nil {
		return nil, fmt.Errorf("state directory: %w", err)
	}
	for _, e := range ents {
		if !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(p.dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("state directory: %w", err)
		}
		var pub publication
		if err := json.Unmarshal(b, &pub); err != nil || pub.Target == "" {
			return nil, fmt.Errorf("state directory: record %s: bad JSON: %v", e.Name(), err)
		}
		p.byTP[pub.Target] = pub
	}
	return p, nil
}

// file returns the record file of target.
func (p *publications) file(target string) string {
	sum := sha256.Sum256([]byte(target))
	return filepath.Join(p.dir, hex.EncodeToString(sum[:16])+".json")
}

// get returns the record of target.
func (p *publications) get(target string) (publication, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	pub, ok := p.byTP[target]
	return pub, ok
}

// all returns every record, by target.
func (p *publications) all() []publication {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]publication, 0, len(p.byTP))
	for _, pub := range p.byTP {
		out = append(out, pub)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Target < out[j].Target })
	return out
}

// ofVolume returns the records of volume.
func (p *publications) ofVolume(volume string) []publication {
	var out []publication
	for _, pub := range p.all() {
		if pub.Volume == volume {
			out = append(out, pub)
		}
	}
	return out
}

// put stores a record durably (written to a temporary file, synced and
// renamed).
func (p *publications) put(pub publication) error {
	b, err := json.MarshalIndent(pub, "", "  ")
	if err != nil {
		return err
	}
	name := p.file(pub.Target)
	tmp, err := os.CreateTemp(p.dir, ".tmp-*")
	if err != nil {
		return fmt.Errorf("record publication: %w", err)
	}
	_, err = tmp.Write(append(b, '\n'))
	err = errors.Join(err, tmp.Sync(), tmp.Close())
	if err == nil {
		err = os.Rename(tmp.Name(), name)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("record publication: %w", err)
	}
	if err := syncDir(p.dir); err != nil {
		return err
	}
	p.mu.Lock()
	p.byTP[pub.Target] = pub
	p.mu.Unlock()
	return nil
}

// remove deletes the record of target, if any.
func (p *publications) remove(target string) error {
	if err := os.Remove(p.file(target)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("forget publication: %w", err)
	}
	p.mu.Lock()
	delete(p.byTP, target)
	p.mu.Unlock()
	return syncDir(p.dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
