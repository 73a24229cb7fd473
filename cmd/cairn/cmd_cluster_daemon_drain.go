package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/cairn-storage/cairn/cluster"
	"github.com/cairn-storage/cairn/cluster/peers"
)

// drainPoll is how often `cairn cluster drain` asks how far it got.
const drainPoll = 2 * time.Second

func clusterDrain(c *cli.Context) error {
	name, err := oneArg(c, "NODE")
	if err != nil {
		return err
	}
	return withClusterSource(c, func(src clusterSource) error {
		members, err := src.members(c.Context)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(members, func(m cluster.Member) bool { return m.Name == name })
		if i < 0 || members[i].Role != peers.RoleStorage {
			return fmt.Errorf("drain: %s is not a storage node of this cluster (see `cairn cluster members`)", name)
		}
		st, err := src.drain(c.Context, name, !c.Bool("cancel"))
		if err != nil {
			return err
		}
		if c.Bool("cancel") {
			fmt.Printf("%s is no longer draining\n", name)
			return nil
		}
		if st.Replicas < st.Configured {
			fmt.Fprintf(os.Stderr, "warning: only %d other storage nodes: chunks keep %d copies, not R=%d\n",
				st.PlacementNodes, st.Replicas, st.Configured)
		}
		if c.Bool("no-wait") {
			fmt.Printf("%s is draining: %d chunks to move\n", name, st.Local.Chunks)
			return nil
		}
		return waitDrained(c.Context, src, name, st)
	})
}

// waitDrained shows the drain of name, whose report was st when it
// started, until the node holds no chunk.
func waitDrained(ctx context.Context, src clusterSource, name string, st cluster.NodeStatus) error {
	total := int(st.Local.Chunks)
	prog := newProgress("draining " + name)
	for !st.Drained {
		prog.update(total-int(st.Local.Chunks), total)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(drainPoll):
		}
		var err error
		if st, err = src.report(ctx, name); err != nil {
			return fmt.Errorf("drain %s: %w", name, err)
		}
		if !st.Peer.Draining {
			return errors.New("drain: cancelled")
		}
		total = max(total, int(st.Local.Chunks))
	}
	prog.update(total, total)
	fmt.Printf("%s is drained: every chunk it held has R copies elsewhere; it can be stopped\n", name)
	return nil
}
