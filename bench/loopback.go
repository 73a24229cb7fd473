package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"syscall"
	"time"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// serveLoopbackFlag, as the first argument, turns the bench binary into
// the loopback server: the bench re-executes itself with it so that the
// loopback mount, like cairn's, is served by a process of its own.
const serveLoopbackFlag = "-serve-loopback"

// mountTuning are the FUSE settings cairn's fusefs uses; the loopback
// mount copies them so that the two differ only in what serves them.
var mountTuning = struct {
	attrTimeout, entryTimeout time.Duration
	maxWrite, maxReadAhead    int
	maxBackground             int
}{time.Second, time.Second, 1 << 20, 128 << 10, 64}

// serveLoopback serves a go-fuse loopback (passthrough) file system of a
// directory until SIGTERM or SIGINT, then unmounts cleanly. args are the
// arguments after serveLoopbackFlag.
func serveLoopback(args []string) error {
	fl := flag.NewFlagSet("serve-loopback", flag.ContinueOnError)
	writeback := fl.Bool("writeback", false, "enable the kernel's writeback cache")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if fl.NArg() != 2 {
		return fmt.Errorf("%s: want SOURCE MOUNTPOINT", serveLoopbackFlag)
	}
	src, mnt := fl.Arg(0), fl.Arg(1)
	root, err := gofs.NewLoopbackRoot(src)
	if err != nil {
		return fmt.Errorf("loopback root %s: %w", src, err)
	}
	asRoot := os.Geteuid() == 0
	attr, entry := mountTuning.attrTimeout, mountTuning.entryTimeout
	opts := &gofs.Options{
		AttrTimeout:  &attr,
		EntryTimeout: &entry,
		MountOptions: fuse.MountOptions{
			AllowOther:    asRoot,
			Options:       []string{"default_permissions"},
			MaxBackground: mountTuning.maxBackground,
			MaxWrite:      mountTuning.maxWrite,
			MaxReadAhead:  mountTuning.maxReadAhead,
			FsName:        "loopback:" + src,
			Name:          "loopback",
			DirectMount:   asRoot,
		},
	}
	if *writeback {
		opts.ExtraCapabilities |= fuse.CAP_WRITEBACK_CACHE
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	server, err := gofs.Mount(mnt, root, opts)
	if err != nil {
		return fmt.Errorf("mount loopback of %s at %s: %w", src, mnt, err)
	}
	done := make(chan struct{})
	go func() { server.Wait(); close(done) }()
	select {
	case s := <-sigs:
		log.Printf("loopback: %v: unmounting %s", s, mnt)
		if err := server.Unmount(); err != nil {
			return fmt.Errorf("unmount %s: %w", mnt, err)
		}
		<-done
	case <-done:
		log.Printf("loopback: %s unmounted from outside", mnt)
	}
	return nil
}
