package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/urfave/cli/v2"

	"github.com/cairn-storage/cairn/cluster"
	"github.com/cairn-storage/cairn/cluster/peers"
	"github.com/cairn-storage/cairn/cluster/pki"
	"github.com/cairn-storage/cairn/cluster/rpc"
)

func clusterCommand() *cli.Command {
	nodeFlags := []cli.Flag{
		&cli.StringFlag{Name: "addr", Usage: "chunk RPC address of any storage node", Value: "127.0.0.1:7947", EnvVars: []string{"CAIRN_CLUSTER_ADDR"}},
		&cli.StringFlag{Name: "tls-dir", Usage: "certificate bundle (ca.crt, node.crt, node.key) of the cluster, e.g. the admin bundle of 'cairn cluster init'", EnvVars: []string{"CAIRN_TLS_DIR"}, Required: true},
		jsonFlag(),
	}
	return &cli.Command{
		Name:  "cluster",
		Usage: "set up a cluster's credentials; list, inspect and drain its nodes",
		Description: "A cluster's nodes gossip (serf, encrypted with the gossip key) and move chunks\n" +
			"over mutual TLS: only holders of a certificate of the cluster CA get in.\n" +
			"`cluster init` makes the CA, the gossip key and one bundle per node; start each\n" +
			"node with `cairn server --tls-dir DIR/NODE --join ...`.",
		Subcommands: []*cli.Command{
			{
				Name:  "init",
				Usage: "create a cluster CA, gossip key and node bundles in --out",
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "out", Usage: "directory to create (must not hold credentials yet)", Required: true},
					&cli.StringSliceFlag{Name: "nodes", Usage: "node names to issue bundles for (also --nodes n1,n2,n3)"},
					&cli.StringSliceFlag{Name: "host", Usage: "extra DNS name or IP for every node certificate (repeatable)"},
					&cli.StringFlag{Name: "client", Usage: "name of a client-only bundle for the CLI", Value: "admin"},
					&cli.BoolFlag{Name: "exists-ok", Usage: "succeed, changing nothing, when --out already holds a CA (for init containers)"},
				},
				Action: clusterInit,
			},
			{
				Name:  "cert",
				Usage: "issue a bundle for one more node from an existing cluster directory",
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "ca", Usage: "cluster directory (ca.crt, ca.key, gossip.key)", Required: true},
					&cli.StringFlag{Name: "node", Usage: "node name (a DNS label)", Required: true},
					&cli.StringFlag{Name: "out", Usage: "bundle directory to create", Required: true},
					&cli.StringSliceFlag{Name: "host", Usage: "extra DNS name or IP for the certificate (repeatable)"},
					&cli.BoolFlag{Name: "client", Usage: "a client-only certificate (for the CLI): it can't serve chunks"},
				},
				Action: clusterCert,
			},
			{
				Name:   "members",
				Usage:  "list the cluster's members as one node sees them",
				Flags:  nodeFlags,
				Action: clusterMembers,
			},
			{
				Name:   "status",
				Usage:  "show every storage node: state, capacity, usage, chunks, under-replication, repair",
				Flags:  nodeFlags,
				Action: clusterStatus,
			},
			{
				Name:      "drain",
				Usage:     "move every chunk off NODE, then report it empty (--cancel to stop)",
				ArgsUsage: "NODE",
				Description: "drain marks NODE draining: placement leaves it out, and NODE copies each of\n" +
					"its chunks to the owners and deletes its copy once R other copies are durable.\n" +
					"The command waits, showing progress, until NODE holds no chunk (unless --no-wait).",
				Flags: append(slices.Clone(nodeFlags),
					&cli.BoolFlag{Name: "cancel", Usage: "stop draining NODE"},
					&cli.BoolFlag{Name: "no-wait", Usage: "return once the drain has started"},
				),
				Action: clusterDrain,
			},
		},
	}
}

func clusterInit(c *cli.Context) error {
	out := c.String("out")
	if _, err := os.Stat(filepath.Join(out, pki.CAKey)); err == nil {
		if c.Bool("exists-ok") {
			fmt.Printf("%s already holds a cluster CA: nothing to do\n", out)
			return nil
		}
		return fmt.Errorf("%s already holds a cluster CA: refusing to replace it", out)
	}
	var nodes []string
	for _, n := range c.StringSlice("nodes") {
		nodes = append(nodes, strings.Split(n, ",")...)
	}
	for _, n := range append(slices.Clone(nodes), c.String("client")) {
		if err := pki.ValidName(n); err != nil {
			return err
		}
	}
	ca, err := pki.NewCA(filepath.Base(out))
	if err != nil {
		return err
	}
	key, err := pki.NewGossipKey()
	if err != nil {
		return err
	}
	if err := ca.Save(out); err != nil {
		return err
	}
	if err := pki.WriteGossipKey(filepath.Join(out, pki.GossipKey), key); err != nil {
		return err
	}
	for _, n := range nodes {
		if err := ca.WriteBundle(filepath.Join(out, n), n, pki.KindNode, c.StringSlice("host"), key); err != nil {
			return fmt.Errorf("bundle %s: %w", n, err)
		}
	}
	if cl := c.String("client"); cl != "" {
		if err := ca.WriteBundle(filepath.Join(out, cl), cl, pki.KindClient, nil, nil); err != nil {
			return fmt.Errorf("bundle %s: %w", cl, err)
		}
	}
	fmt.Printf("cluster CA, gossip key and %d node bundles in %s\n", len(nodes), out)
	fmt.Printf("keep %s offline; give each node its own %s/NAME as --tls-dir\n", filepath.Join(out, pki.CAKey), out)
	return nil
}

func clusterCert(c *cli.Context) error {
	dir := c.String("ca")
	ca, err := pki.LoadCA(dir)
	if err != nil {
		return err
	}
	kind := pki.KindNode
	var key []byte
	if c.Bool("client") {
		kind = pki.KindClient
	} else if key, err = pki.ReadGossipKey(filepath.Join(dir, pki.GossipKey)); err != nil {
		return err
	}
	if err := ca.WriteBundle(c.String("out"), c.String("node"), kind, c.StringSlice("host"), key); err != nil {
		return err
	}
	fmt.Printf("bundle for %s in %s\n", c.String("node"), c.String("out"))
	return nil
}

// adminClient is a chunk RPC client for the CLI, with the member list of
// the --addr node so that other nodes can be called by name.
type adminClient struct {
	*rpc.Client
	addr    string
	members []cluster.Member
}

func newAdminClient(c *cli.Context) (*adminClient, error) {
	b, err := pki.LoadBundle(c.String("tls-dir"))
	if err != nil {
		return nil, err
	}
	a := &adminClient{addr: c.String("addr")}
	a.Client = rpc.NewClient(b.ClientTLS(), func(name string) (string, bool) {
		for _, m := range a.members {
			if m.Name == name && m.Addr != "" {
				return m.Addr, true
			}
		}
		return "", false
	})
	ctx, cancel := context.WithTimeout(c.Context, 10*time.Second)
	defer cancel()
	if err := a.CallJSON(ctx, http.MethodGet, a.addr, "/v1/members", nil, &a.members); err != nil {
		return nil, err
	}
	return a, nil
}

// status fetches a node's status by name.
func (a *adminClient) status(ctx context.Context, name string) (cluster.NodeStatus, error) {
	var st cluster.NodeStatus
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	err := a.CallJSON(ctx, http.MethodGet, name, "/v1/status", nil, &st)
	return st, err
}

func printClusterJSON(v any) error {
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func clusterMembers(c *cli.Context) error {
	a, err := newAdminClient(c)
	if err != nil {
		return err
	}
	defer a.Close()
	if c.Bool("json") {
		return printClusterJSON(a.members)
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tROLE\tSTATE\tZONE\tRPC\tGOSSIP\tCAPACITY\tPLACEMENT")
	for _, m := range a.members {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%v\n", m.Name, m.Role, memberState(m.Peer),
			clusterDash(m.Zone), clusterDash(m.Addr), m.Gossip, clusterCapacity(m.Capacity), m.Placement)
	}
	return tw.Flush()
}

func memberState(p peers.Peer) string {
	if p.Draining {
		return string(p.Status) + ",draining"
	}
	return string(p.Status)
}

func clusterDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func clusterCapacity(n int64) string {
	if n <= 0 {
		return "-"
	}
	return humanize.IBytes(uint64(n))
}

// clusterStatusRow is one line of `cluster status`.
type clusterStatusRow struct {
	cluster.Member
	// Report is the node's own account; the embedded Member's Status is
	// its gossip state.
	Report *cluster.NodeStatus `json:"report,omitempty"`
	Error  string              `json:"error,omitempty"`
}

func clusterStatus(c *cli.Context) error {
	a, err := newAdminClient(c)
	if err != nil {
		return err
	}
	defer a.Close()
	var rows []clusterStatusRow
	for _, m := range a.members {
		if m.Role != peers.RoleStorage {
			continue
		}
		row := clusterStatusRow{Member: m}
		if m.Status == peers.StatusAlive {
			if st, err := a.status(c.Context, m.Name); err != nil {
				row.Error = err.Error()
			} else {
				row.Report = &st
			}
		}
		rows = append(rows, row)
	}
	if c.Bool("json") {
		return printClusterJSON(rows)
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tADDRESS\tZONE\tSTATE\tCAPACITY\tUSED\tCHUNKS\tUNDER-REPL\tREPAIR")
	var replicas, configured int
	for _, r := range rows {
		used, chunks, under, repair := "-", "-", "-", "-"
		if st := r.Report; st != nil {
			used = humanize.IBytes(uint64(st.Local.StoredBytes))
			chunks = fmt.Sprint(st.Local.Chunks)
			under = fmt.Sprint(st.Repair.UnderReplicated)
			repair = repairText(st.Repair)
			replicas, configured = st.Replicas, st.Configured
		} else if r.Error != "" {
			repair = "error: " + r.Error
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Name, clusterDash(r.Addr), clusterDash(r.Zone),
			memberState(r.Peer), clusterCapacity(r.Capacity), used, chunks, under, repair)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if replicas < configured {
		fmt.Printf("warning: %d copies per chunk: R=%d is capped by the %d storage nodes that own chunks\n",
			replicas, configured, replicas)
	}
	return nil
}

// repairText summarizes a repair loop for the status table.
func repairText(r cluster.RepairStatus) string {
	s := fmt.Sprintf("%d scans, %d copied, %d handed off", r.Scans, r.Copied, r.Deleted)
	if r.Running && r.Total > 0 {
		s = fmt.Sprintf("scanning %.0f%%; ", 100*float64(r.Scanned)/float64(r.Total)) + s
	}
	if r.Error != "" {
		s += "; last error: " + r.Error
	}
	return s
}

func clusterDrain(c *cli.Context) error {
	name, err := oneArg(c, "NODE")
	if err != nil {
		return err
	}
	a, err := newAdminClient(c)
	if err != nil {
		return err
	}
	defer a.Close()
	i := slices.IndexFunc(a.members, func(m cluster.Member) bool { return m.Name == name })
	if i < 0 || a.members[i].Role != peers.RoleStorage {
		return fmt.Errorf("drain: %s is not a storage node of this cluster (see `cairn cluster members`)", name)
	}
	var st cluster.NodeStatus
	if err := a.CallJSON(c.Context, http.MethodPost, name, "/v1/drain", cluster.DrainRequest{Drain: !c.Bool("cancel")}, &st); err != nil {
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
	total := int(st.Local.Chunks)
	prog := newProgress("draining " + name)
	for !st.Drained {
		prog.update(total-int(st.Local.Chunks), total)
		select {
		case <-c.Context.Done():
			return c.Context.Err()
		case <-time.After(2 * time.Second):
		}
		if st, err = a.status(c.Context, name); err != nil {
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
