package main

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/cairn-storage/cairn/cluster/pki"
	"github.com/cairn-storage/cairn/csi/deploy"
)

func k8sCommand() *cli.Command {
	def := deploy.DefaultConfig()
	return &cli.Command{
		Name:  "k8s",
		Usage: "Kubernetes deployment",
		Subcommands: []*cli.Command{{
			Name:  "spec",
			Usage: "print the manifests that install cairn and its CSI driver (kubectl apply -f -)",
			Description: "spec prints the namespace, RBAC, CSIDriver, the cairn server StatefulSet, the CSI\n" +
				"controller Deployment and node DaemonSet, the StorageClass and the snapshot classes:\n" +
				"  cairn k8s spec --nodes 3 | kubectl apply -f -\n" +
				"One server keeps its metadata in badger; several form a cluster (--meta etcd-embedded\n" +
				"by default: etcd members in the first three), with credentials generated into Secrets\n" +
				"(--ca DIR keeps the CA to add nodes or admin bundles later).\n" +
				"The snapshot CRDs and snapshot-controller of kubernetes-csi/external-snapshotter\n" +
				"must be installed for snapshots. A random control token is generated into a Secret\n" +
				"unless --token or --no-token-secret is given.",
			Flags: []cli.Flag{
				&cli.StringFlag{Name: "namespace", Usage: "namespace of everything", Value: def.Namespace},
				&cli.StringFlag{Name: "image", Usage: "cairn image", Value: def.Image},
				&cli.IntFlag{Name: "nodes", Usage: "cairn servers (StatefulSet replicas)", Value: def.Nodes},
				&cli.IntFlag{Name: "replicas", Usage: "replication factor of chunks (clusters)", Value: def.Replicas},
				&cli.StringFlag{Name: "meta", Usage: "metadata store of the servers: badger (one server), etcd-embedded or etcd://HOST:PORT[,...]", Value: def.Meta, DefaultText: "badger; etcd-embedded with --nodes > 1"},
				&cli.StringFlag{Name: "storage-size", Usage: "data volume of each server", Value: def.StorageSize},
				&cli.StringFlag{Name: "storage-class", Usage: "StorageClass of the servers' data volumes (default: the cluster's)"},
				&cli.StringFlag{Name: "kubelet-dir", Usage: "the kubelet's root directory on the nodes", Value: def.KubeletDir},
				&cli.StringFlag{Name: "token", Usage: "control token to put in the Secret (default: random)"},
				&cli.BoolFlag{Name: "no-token-secret", Usage: "do not generate the token Secret (create it yourself)"},
				&cli.StringFlag{Name: "out-dir", Usage: "write one file per part here instead of printing the stream"},
				&cli.StringFlag{Name: "ca", Usage: "a cluster's CA directory (ca.crt, ca.key, gossip.key): used if it holds one, else made there; needed later to add nodes or admin bundles (default: a new CA, its key not kept)"},
			},
			Action: k8sSpec,
		}},
	}
}

func k8sSpec(c *cli.Context) error {
	cfg := deploy.DefaultConfig()
	cfg.Namespace, cfg.Image = c.String("namespace"), c.String("image")
	cfg.Nodes, cfg.Replicas, cfg.Meta = c.Int("nodes"), c.Int("replicas"), c.String("meta")
	if cfg.Nodes > 1 && !c.IsSet("meta") {
		cfg.Meta = "etcd-embedded" // several servers are a cluster
	}
	cfg.StorageSize, cfg.StorageClass = c.String("storage-size"), c.String("storage-class")
	cfg.KubeletDir = c.String("kubelet-dir")
	if !c.Bool("no-token-secret") {
		cfg.Token = c.String("token")
		if cfg.Token == "" {
			b := make([]byte, 32)
			if _, err := rand.Read(b); err != nil {
				return err
			}
			cfg.Token = hex.EncodeToString(b)
		}
	}
	if cfg.Meta != "badger" {
		creds, err := k8sPKI(c.String("ca"), cfg)
		if err != nil {
			return fmt.Errorf("k8s spec: %w", err)
		}
		cfg.PKI = creds
	}
	if dir := c.String("out-dir"); dir != "" {
		files, err := deploy.Files(cfg)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		for _, f := range files {
			b, err := f.Bytes()
			if err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(dir, f.Name), b, 0o644); err != nil {
				return err
			}
		}
		return nil
	}
	b, err := deploy.Spec(cfg)
	if err != nil {
		return fmt.Errorf("k8s spec: %w", err)
	}
	_, err = os.Stdout.Write(b)
	return err
}

// k8sPKI issues the cluster's credentials for cfg's server pods and CSI
// daemons, with the CA in caDir (made there if it holds none) or a new
// one whose key is not kept.
func k8sPKI(caDir string, cfg deploy.Config) (*deploy.PKI, error) {
	var ca *pki.CA
	var key []byte
	var err error
	switch _, statErr := os.Stat(filepath.Join(caDir, pki.CAKey)); {
	case caDir != "" && statErr == nil:
		if ca, err = pki.LoadCA(caDir); err != nil {
			return nil, err
		}
		if key, err = pki.ReadGossipKey(filepath.Join(caDir, pki.GossipKey)); err != nil {
			return nil, err
		}
	default:
		if ca, err = pki.NewCA(cfg.Namespace); err != nil {
			return nil, err
		}
		if key, err = pki.NewGossipKey(); err != nil {
			return nil, err
		}
		if caDir == "" {
			fmt.Fprintln(os.Stderr, "k8s spec: a new cluster CA whose key is not kept (pass --ca DIR to keep it for adding nodes or admin bundles)")
			break
		}
		if err := errors.Join(ca.Save(caDir), pki.WriteGossipKey(filepath.Join(caDir, pki.GossipKey), key)); err != nil {
			return nil, err
		}
	}
	creds := &deploy.PKI{CACert: ca.CertPEM(), GossipKey: []byte(base64.StdEncoding.EncodeToString(key) + "\n"),
		Servers: map[string]deploy.Bundle{}}
	for _, pod := range cfg.ServerPods() {
		cert, k, err := ca.Issue(pod, pki.KindNode, cfg.PodHosts(pod))
		if err != nil {
			return nil, fmt.Errorf("certificate of %s: %w", pod, err)
		}
		creds.Servers[pod] = deploy.Bundle{Cert: cert, Key: k}
	}
	cert, k, err := ca.Issue(deploy.ClientBundle, pki.KindNode, nil)
	if err != nil {
		return nil, fmt.Errorf("certificate of the CSI daemons: %w", err)
	}
	creds.Client = deploy.Bundle{Cert: cert, Key: k}
	return creds, nil
}
