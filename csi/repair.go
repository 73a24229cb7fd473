package csi

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"
)

// Repair re-attaches every recorded publication, as a restarted plugin
// must: a live mount is kept; a dead one (its FUSE server was killed) is
// detached and mounted again; a missing one is mounted again.
func (n *Node) Repair(ctx context.Context) error {
	var errs []error
	for _, pub := range n.pubs.all() {
		if err := n.repair(ctx, pub.Target); err != nil {
			errs = append(errs, fmt.Errorf("re-attach %s at %s: %w", pub.Volume, pub.Target, err))
		}
	}
	return errors.Join(errs...)
}

func (n *Node) repair(ctx context.Context, target string) error {
	pub, ok := n.pubs.get(target)
	if !ok {
		return nil
	}
	defer n.locks.lock("volume/" + pub.Volume)()
	defer n.locks.lock("target/" + target)()
	if pub, ok = n.pubs.get(target); !ok {
		return nil // unpublished meanwhile
	}
	st, err := stateOf(n.opts.MountInfo, pub)
	if err != nil {
		return err
	}
	switch st {
	case mountLive:
		return nil
	case mountOther:
		return fmt.Errorf("something else is mounted at %s", target)
	case mountDead:
		if err := unmountAll(n.opts.MountInfo, target); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(target, 0o750); err != nil {
		return err
	}
	if err := n.mount(ctx, pub); err != nil {
		return err
	}
	n.log.Info("csi: publication re-attached", "volume", pub.Volume, "target", target, "was", st.String())
	return nil
}

// RunRepair repairs the publications every interval until ctx is done.
func (n *Node) RunRepair(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := n.Repair(ctx); err != nil && ctx.Err() == nil {
				n.log.Error("csi: re-attaching publications", "err", err)
			}
		}
	}
}
