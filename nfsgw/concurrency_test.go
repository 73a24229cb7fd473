package nfsgw

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cairn-storage/cairn/fs"
)

// TestConcurrentClients runs 8 clients writing their own files while 2
// more write interleaved blocks of one shared file with UNSTABLE writes
// and COMMIT. Nothing may be lost.
func TestConcurrentClients(t *testing.T) {
	e := newEnv(t, Export{NoRootSquash: true})
	const (
		writers = 8
		fileLen = 3 << 20
		block   = 64 << 10
		blocks  = 48 // of the shared file, half per sharer
	)
	content := func(i int) []byte {
		return bytes.Repeat([]byte(fmt.Sprintf("writer %d|", i)), fileLen/10)
	}
	blockData := func(b int) []byte { return bytes.Repeat([]byte{byte(b)}, block) }

	setup := dialRaw(t, e.addr, "")
	_, root := setup.mount("/vol")
	st, r := setup.nfs(8, createArgs(root, "shared"))
	if st != 0 || !r.bool() {
		t.Fatal("create shared file")
	}
	shared := r.opaque(maxFH)

	var wg sync.WaitGroup
	errs := make(chan error, writers+2)
	for i := range writers {
		c := mountClient(t, e, 0, 0)
		wg.Add(1)
		go func() {
			defer wg.Done()
			f, err := c.tgt.OpenFile(fmt.Sprintf("/w%d", i), 0o644)
			if err == nil {
				_, err = f.Write(content(i))
			}
			if err == nil {
				err = f.Close()
			}
			if err != nil {
				errs <- fmt.Errorf("writer %d: %w", i, err)
			}
		}()
	}
	for s := range 2 {
		c := dialRaw(t, e.addr, "")
		wg.Add(1)
		go func() {
			defer wg.Done()
			var verf uint64
			for b := s; b < blocks; b += 2 {
				st, r := c.nfs(7, func(w *xdrWriter) {
					w.opaque(shared)
					w.uint64(uint64(b * block))
					w.uint32(block)
					w.uint32(unstable)
					w.opaque(blockData(b))
				})
				readWcc(r)
				r.uint32()
				r.uint32()
				if verf = r.uint64(); st != 0 {
					errs <- fmt.Errorf("sharer %d: write status %d", s, st)
					return
				}
			}
			st, r := c.nfs(21, func(w *xdrWriter) { w.opaque(shared); w.uint64(0); w.uint32(0) })
			readWcc(r)
			if v := r.uint64(); st != 0 || v != verf {
				errs <- fmt.Errorf("sharer %d: commit status %d, verifier changed: %v", s, st, v != verf)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	c := mountClient(t, e, 0, 0)
	for i := range writers {
		if got := c.readFile(fmt.Sprintf("/w%d", i)); !bytes.Equal(got, content(i)) {
			t.Errorf("file of writer %d: %d bytes, not what was written", i, len(got))
		}
	}
	got := c.readFile("/shared")
	if len(got) != blocks*block {
		t.Fatalf("shared file has %d bytes, want %d", len(got), blocks*block)
	}
	for b := range blocks {
		if !bytes.Equal(got[b*block:(b+1)*block], blockData(b)) {
			t.Errorf("block %d of the shared file is wrong", b)
		}
	}
}

// TestCoherenceWithFUSE checks that a file written and committed through
// NFS is seen at once through the filesystem API that the FUSE adapter of
// the same process uses, and the other way around.
func TestCoherenceWithFUSE(t *testing.T) {
	e := newEnv(t, Export{NoRootSquash: true})
	c := mountClient(t, e, 0, 0)
	c.writeFile("/from-nfs", []byte("written over NFS"))

	ctx := context.Background()
	v := e.volume()
	a, err := v.Lookup(ctx, nil, fs.RootIno, "from-nfs")
	if err != nil {
		t.Fatal(err)
	}
	h, err := v.Open(ctx, nil, a.Ino, syscall.O_RDONLY)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 100)
	n, err := h.Read(ctx, buf, 0)
	if err != nil || string(buf[:n]) != "written over NFS" || a.Size != 16 {
		t.Errorf("local read of an NFS-written file: %q size %d, %v", buf[:n], a.Size, err)
	}
	h.Release(ctx)

	// The other way: written and closed locally, read over NFS.
	a, err = v.Mknod(ctx, nil, fs.RootIno, "from-fuse", syscall.S_IFREG|0o644, 0)
	if err != nil {
		t.Fatal(err)
	}
	h, err = v.Open(ctx, nil, a.Ino, syscall.O_WRONLY)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Write(ctx, []byte("written locally"), 0); err != nil {
		t.Fatal(err)
	}
	if err := h.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if got := c.readFile("/from-fuse"); string(got) != "written locally" {
		t.Errorf("NFS read of a locally written file: %q", got)
	}
}

// TestIdleClose checks that an idle open file is written back and closed.
func TestIdleClose(t *testing.T) {
	e := newEnv(t, Export{NoRootSquash: true}, func(c *Config) { c.IdleClose = 50 * time.Millisecond })
	c := dialRaw(t, e.addr, "")
	_, root := c.mount("/vol")
	_, r := c.nfs(8, createArgs(root, "f"))
	r.bool()
	fh := r.opaque(maxFH)
	st, _ := c.nfs(7, func(w *xdrWriter) {
		w.opaque(fh)
		w.uint64(0)
		w.uint32(4)
		w.uint32(unstable)
		w.opaque([]byte("idle"))
	})
	if st != 0 {
		t.Fatal(st)
	}
	// Written back: the stored attributes count the data's blocks, which
	// buffered data does not have.
	v := e.volume()
	waitFor(t, 5*time.Second, func() bool {
		e.srv.files.mu.Lock()
		open := len(e.srv.files.files)
		e.srv.files.mu.Unlock()
		a, err := v.Lookup(context.Background(), nil, fs.RootIno, "f")
		return open == 0 && err == nil && a.Size == 4 && a.Blocks > 0
	})
}
