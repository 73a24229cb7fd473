package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/dustin/go-humanize"
	"github.com/urfave/cli/v2"

	"github.com/cairn-storage/cairn/cluster"
	"github.com/cairn-storage/cairn/cluster/peers"
	"github.com/cairn-storage/cairn/cluster/pki"
)

func clusterCommand() *cli.Command {
	nodeFlags := []cli.Flag{
		&cli.StringFlag{Name: "addr", Usage: "ask the storage node with this chunk RPC address directly, not the local daemon (with --tls-dir; " +
			"--tls-dir alone asks " + defaultNodeAddr + ")", EnvVars: []string{"CAIRN_CLUSTER_ADDR"}},
		&cli.StringFlag{Name: "tls-dir", Usage: "with --addr: a certificate bundle (ca.crt, node.crt, node.key) of the cluster, " +
			"e.g. the admin bundle of 'cairn cluster init'", EnvVars: []string{"CAIRN_TLS_DIR"}},
		&cli.BoolFlag{Name: "json", Usage: "print machine-readable JSON (the nodes' own reports, as their admin routes give them)"},
	}
	return &cli.Command{
		Name:  "cluster",
		Usage: "set up a cluster's credentials; list, inspect and drain its nodes",
		Description: "A cluster's nodes gossip (serf, encrypted with the gossip key) and move chunks\n" +
			"over mutual TLS: only holders of a certificate of the cluster CA get in.\n" +
			"`cluster init` makes the CA, the gossip key and one bundle per node; start each\n" +
			"node with `cairn server --tls-dir DIR/NODE --join ...`.\n\n" + clusterWhere,
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
				Name:        "members",
				Usage:       "list the cluster's members as one node sees them",
				Description: "members lists every member (storage nodes and gateways) as the node asked sees it.\n\n" + clusterWhere,
				Flags:       nodeFlags,
				Action:      clusterMembers,
			},
			{
				Name:  "status",
				Usage: "show every storage node: state, capacity, usage, chunks, under-replication, repair",
				Description: "status lists the storage nodes as the node asked sees them, each alive one with\n" +
					"its own report (asked of it over the cluster's mutual TLS).\n\n" + clusterWhere,
				Flags:  nodeFlags,
				Action: clusterStatus,
			},
			{
				Name:      "drain",
				Usage:     "move every chunk off NODE, then report it empty (--cancel to stop)",
				ArgsUsage: "NODE",
				Description: "drain marks NODE draining: placement leaves it out, and NODE copies each of\n" +
					"its chunks to the owners and deletes its copy once R other copies are durable.\n" +
					"The command waits, showing progress, until NODE holds no chunk (unless --no-wait).\n\n" + clusterWhere,
				Flags: append(slices.Clone(nodeFlags),
					&cli.BoolFlag{Name: "cancel", Usage: "stop draining NODE"},
					&cli.BoolFlag{Name: "no-wait", Usage: "return once the drain has started"},
				),
				Action: clusterDrain,
			},
		},
	}
}

// clusterWhere is the help of the commands that ask a node: which node,
// and how.
const clusterWhere = "members, status and drain ask the node daemon (`cairn server`) that owns --data,\n" +
	"on its control socket (or --socket). With --addr and --tls-dir they ask the storage\n" +
	"node at --addr directly, over the cluster's mutual TLS, as a machine without a daemon\n" +
	"must (CAIRN_CLUSTER_ADDR and CAIRN_TLS_DIR set them too). Either way they print the\n" +
	"same, --json has the same shape, and they exit the same."

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

func printClusterJSON(v any) error {
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func clusterMembers(c *cli.Context) error {
	return withClusterSource(c, func(src clusterSource) error {
		members, err := src.members(c.Context)
		if err != nil {
			return err
		}
		if c.Bool("json") {
			return printClusterJSON(members)
		}
		tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tROLE\tSTATE\tZONE\tRPC\tGOSSIP\tCAPACITY\tPLACEMENT")
		for _, m := range members {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%v\n", m.Name, m.Role, memberState(m.Peer),
				clusterDash(m.Zone), clusterDash(m.Addr), m.Gossip, clusterCapacity(m.Capacity), m.Placement)
		}
		return tw.Flush()
	})
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

func clusterStatus(c *cli.Context) error {
	return withClusterSource(c, func(src clusterSource) error {
		rows, err := src.statusRows(c.Context)
		if err != nil {
			return err
		}
		if c.Bool("json") {
			return printClusterJSON(rows)
		}
		return printClusterStatus(rows)
	})
}

// printClusterStatus prints the status table, and a warning when too few
// storage nodes own chunks for R copies.
func printClusterStatus(rows []clusterStatusRow) error {
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
