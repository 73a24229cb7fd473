package cluster

import (
	"context"

	"github.com/cairn-storage/cairn/chunks"
)

// The per-node operations, short-circuited to the local store when the
// node is this one. Each remote call is bounded by Config.RPCTimeout.

func (n *Node) isLocal(node string) bool { return n.local != nil && node == n.cfg.Name }

func (n *Node) rpcCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, n.cfg.RPCTimeout)
}

func (n *Node) getFrom(ctx context.Context, node string, id chunks.ID) ([]byte, error) {
	if n.isLocal(node) {
		return n.local.Get(ctx, id)
	}
	ctx, cancel := n.rpcCtx(ctx)
	defer cancel()
	return n.client.Get(ctx, node, id)
}

// putTo stores a chunk on node. Remote nodes always hash what they
// receive; the local store trusts opts.Trusted as the caller set it.
func (n *Node) putTo(ctx context.Context, node string, id chunks.ID, data []byte, opts chunks.PutOptions) error {
	if n.isLocal(node) {
		return n.local.Put(ctx, id, data, opts)
	}
	ctx, cancel := n.rpcCtx(ctx)
	defer cancel()
	return n.client.Put(ctx, node, id, data, opts.Compress)
}

func (n *Node) statOn(ctx context.Context, node string, id chunks.ID) (chunks.Info, error) {
	if n.isLocal(node) {
		return n.local.Stat(ctx, id)
	}
	ctx, cancel := n.rpcCtx(ctx)
	defer cancel()
	return n.client.Stat(ctx, node, id)
}

func (n *Node) deleteOn(ctx context.Context, node string, id chunks.ID) error {
	if n.isLocal(node) {
		return n.local.Delete(ctx, id)
	}
	ctx, cancel := n.rpcCtx(ctx)
	defer cancel()
	return n.client.Delete(ctx, node, id)
}

func (n *Node) syncNode(ctx context.Context, node string) error {
	if n.isLocal(node) {
		return n.local.Sync(ctx)
	}
	ctx, cancel := n.rpcCtx(ctx)
	defer cancel()
	return n.client.Sync(ctx, node)
}

// hasOn reports which of ids node holds.
func (n *Node) hasOn(ctx context.Context, node string, ids []chunks.ID) ([]bool, error) {
	if !n.isLocal(node) {
		ctx, cancel := n.rpcCtx(ctx)
		defer cancel()
		return n.client.Has(ctx, node, ids)
	}
	out := make([]bool, len(ids))
	for i, id := range ids {
		_, err := n.local.Stat(ctx, id)
		switch {
		case err == nil:
			out[i] = true
		case !isNotFound(err):
			return nil, err
		}
	}
	return out, nil
}

func (n *Node) walkOn(ctx context.Context, node string, fn func(chunks.Info) error) error {
	if n.isLocal(node) {
		return n.local.Walk(ctx, fn)
	}
	return n.client.Walk(ctx, node, fn)
}

// parallel runs fn for each node concurrently and returns the errors,
// indexed like nodes.
func parallel(nodes []string, fn func(i int, node string) error) []error {
	errs := make([]error, len(nodes))
	if len(nodes) == 1 {
		errs[0] = fn(0, nodes[0])
		return errs
	}
	done := make(chan struct{}, len(nodes))
	sem := make(chan struct{}, 16)
	for i, node := range nodes {
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; done <- struct{}{} }()
			errs[i] = fn(i, node)
		}()
	}
	for range nodes {
		<-done
	}
	return errs
}
