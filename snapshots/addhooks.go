package snapshots

import (
	"context"
	"errors"
	"fmt"

	"github.com/cairn-storage/cairn/fs/meta"
)

// AddHooks appends hooks to the records of the snapshots refs
// (VOLUME@NAME) in one transaction and returns the records. It is how a
// caller that runs hooks itself records the post-hook, which runs after
// Create returned.
func (m *Manager) AddHooks(ctx context.Context, refs []string, hooks []HookRun) ([]Snapshot, error) {
	if len(refs) == 0 {
		return nil, fmt.Errorf("add hooks: no snapshots: %w", ErrInvalid)
	}
	if err := checkHooks(hooks); err != nil {
		return nil, err
	}
	recs := make([]Snapshot, 0, len(refs))
	seen := map[string]bool{}
	for _, ref := range refs {
		if seen[ref] {
			return nil, fmt.Errorf("snapshot %s listed twice: %w", ref, ErrInvalid)
		}
		seen[ref] = true
		s, err := m.Get(ctx, ref)
		if err != nil {
			return nil, err
		}
		recs = append(recs, s)
	}
	err := m.kv.Update(ctx, func(tx meta.Txn) error {
		for i, s := range recs {
			cur, err := appendHooks(tx, s, hooks)
			if err != nil {
				return err
			}
			recs[i] = cur
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("add hooks: %w", err)
	}
	if err := m.kv.Sync(ctx); err != nil {
		return nil, fmt.Errorf("add hooks: sync: %w", err)
	}
	return recs, nil
}

// appendHooks rereads s's record in tx (the transaction may be a retry)
// and stores it with hooks appended.
func appendHooks(tx meta.Txn, s Snapshot, hooks []HookRun) (Snapshot, error) {
	key := recordKey(s.VolumeID, s.Name)
	b, err := tx.Get(key)
	if errors.Is(err, meta.ErrNotFound) {
		return Snapshot{}, fmt.Errorf("snapshot %s: %w", s.Ref(), ErrNotFound)
	} else if err != nil {
		return Snapshot{}, err
	}
	cur, err := decodeRecord(key, b)
	if err != nil {
		return Snapshot{}, err
	}
	cur.Hooks = append(cur.Hooks, hooks...)
	enc, err := encodeRecord(cur)
	if err != nil {
		return Snapshot{}, err
	}
	return cur, tx.Set(key, enc)
}

// checkHooks validates hook records given by a caller.
func checkHooks(hooks []HookRun) error {
	for _, h := range hooks {
		if h.Phase != "pre" && h.Phase != "post" {
			return fmt.Errorf("hook %q: phase %q: want pre or post: %w", h.Command, h.Phase, ErrInvalid)
		}
		if h.Command == "" {
			return fmt.Errorf("%s-hook without a command: %w", h.Phase, ErrInvalid)
		}
	}
	return nil
}
