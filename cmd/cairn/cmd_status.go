package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	cairnv1 "github.com/cairn-storage/cairn/api/cairn/v1"
	"github.com/cairn-storage/cairn/control/client"
)

func statusCommand() *cli.Command {
	return &cli.Command{
		Name:  "status",
		Usage: "tell whether a cairn daemon owns --data, and its version and health",
		Description: "Exit status 0 when a daemon answers and its stores are healthy (or\n" +
			"degraded), 1 when none runs or it is unhealthy.",
		Flags:  []cli.Flag{jsonFlag()},
		Action: daemonStatus,
	}
}

func daemonStatus(c *cli.Context) error {
	sock := socketPath(c)
	api, err := client.Find(c.Context, sock)
	if errors.Is(err, client.ErrNoDaemon) {
		return cli.Exit(fmt.Sprintf("no cairn daemon owns %s (%v); start one with `cairn server`", c.String("data"), err), 1)
	} else if err != nil {
		return err
	}
	defer api.Close()
	v, err := api.Health.Version(c.Context, &cairnv1.VersionRequest{})
	if err != nil {
		return apiError(err)
	}
	h, herr := api.Health.Check(c.Context, &cairnv1.CheckRequest{})
	if c.Bool("json") {
		if herr != nil {
			h = &cairnv1.CheckResponse{Status: "unhealthy", Detail: apiError(herr).Error()}
		}
		if err := printProto(v); err != nil {
			return err
		}
		return printProto(h)
	}
	fmt.Printf("daemon:   pid %d, cairn %s, API %s, up %s\n", v.GetPid(), v.GetVersion(), v.GetApi(),
		time.Since(v.GetStarted().AsTime()).Round(time.Second))
	fmt.Printf("data:     %s (metadata: %s)\n", v.GetData(), v.GetMeta())
	fmt.Printf("socket:   %s\n", sock)
	if d := v.GetDashboard(); d != "" {
		fmt.Printf("web:      %s\n", d)
	}
	if herr != nil {
		return cli.Exit("health:   unhealthy: "+apiError(herr).Error(), 1)
	}
	fmt.Printf("health:   %s %s\n", h.GetStatus(), h.GetDetail())
	return nil
}
