package main

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/urfave/cli/v2"

	cairnv1 "github.com/cairn-storage/cairn/api/cairn/v1"
	"github.com/cairn-storage/cairn/control/client"
)

func unmountCommand() *cli.Command {
	return &cli.Command{
		Name:      "unmount",
		Aliases:   []string{"umount"},
		Usage:     "flush and unmount a FUSE mount the daemon serves",
		ArgsUsage: "MOUNTPOINT",
		Description: "unmount asks the cairn daemon owning --data to flush every buffered write\n" +
			"of the mount and unmount it. A mount with open files is refused unless --lazy\n" +
			"(then it leaves the namespace at once and is served until they close).\n" +
			"A foreground `cairn mount` (no daemon) unmounts on Ctrl-C instead.",
		Flags:  []cli.Flag{&cli.BoolFlag{Name: "lazy", Aliases: []string{"l"}, Usage: "detach a busy mount"}},
		Action: unmount,
	}
}

func unmount(c *cli.Context) error {
	dir, err := oneArg(c, "MOUNTPOINT")
	if err != nil {
		return err
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("mountpoint %q: %w", dir, err)
	}
	api, err := client.Find(c.Context, socketPath(c))
	if errors.Is(err, client.ErrNoDaemon) {
		return fmt.Errorf("unmount %s: %w for %s: a foreground `cairn mount` unmounts on Ctrl-C (or umount %s)",
			abs, client.ErrNoDaemon, c.String("data"), abs)
	} else if err != nil {
		return err
	}
	defer api.Close()
	if _, err := api.Mounts.Unmount(c.Context, &cairnv1.UnmountRequest{Mountpoint: abs, Lazy: c.Bool("lazy")}); err != nil {
		return apiError(err)
	}
	fmt.Printf("unmounted %s\n", abs)
	return nil
}
