package main

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"

	"github.com/urfave/cli/v2"

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
				"The snapshot CRDs and snapshot-controller of kubernetes-csi/external-snapshotter\n" +
				"must be installed for snapshots. A random control token is generated into a Secret\n" +
				"unless --token or --no-token-secret is given.",
			Flags: []cli.Flag{
				&cli.StringFlag{Name: "namespace", Usage: "namespace of everything", Value: def.Namespace},
				&cli.StringFlag{Name: "image", Usage: "cairn image", Value: def.Image},
				&cli.IntFlag{Name: "nodes", Usage: "cairn servers (StatefulSet replicas)", Value: def.Nodes},
				&cli.IntFlag{Name: "replicas", Usage: "replication factor of chunks (clusters)", Value: def.Replicas},
				&cli.StringFlag{Name: "meta", Usage: "metadata store of the servers: badger, etcd-embedded or etcd://HOST:PORT[,...]", Value: def.Meta},
				&cli.StringFlag{Name: "storage-size", Usage: "data volume of each server", Value: def.StorageSize},
				&cli.StringFlag{Name: "storage-class", Usage: "StorageClass of the servers' data volumes (default: the cluster's)"},
				&cli.StringFlag{Name: "kubelet-dir", Usage: "the kubelet's root directory on the nodes", Value: def.KubeletDir},
				&cli.StringFlag{Name: "token", Usage: "control token to put in the Secret (default: random)"},
				&cli.BoolFlag{Name: "no-token-secret", Usage: "do not generate the token Secret (create it yourself)"},
				&cli.StringFlag{Name: "out-dir", Usage: "write one file per part here instead of printing the stream"},
			},
			Action: k8sSpec,
		}},
	}
}

func k8sSpec(c *cli.Context) error {
	cfg := deploy.DefaultConfig()
	cfg.Namespace, cfg.Image = c.String("namespace"), c.String("image")
	cfg.Nodes, cfg.Replicas, cfg.Meta = c.Int("nodes"), c.Int("replicas"), c.String("meta")
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
