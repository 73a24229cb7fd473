package etcdkv_test

import (
	"fmt"
	"testing"

	"github.com/cairn-storage/cairn/fs/meta"
)

// Costs of the common transactions on a one-member cluster (with fsync
// off, so this measures the client and server, not the disk).

func BenchmarkUpdateReadModifyWrite(b *testing.B) {
	kv := openKV(b, sharedCluster(b, 1), "")
	put(b, kv, "inode", "v")
	for b.Loop() {
		err := kv.Update(b.Context(), func(tx meta.Txn) error {
			v, err := tx.Get([]byte("inode"))
			if err != nil {
				return err
			}
			if _, err := tx.Get([]byte("dirent")); err == nil {
				return fmt.Errorf("unexpected dirent")
			}
			if err := tx.Set([]byte("dirent"), v); err != nil {
				return err
			}
			return tx.Delete([]byte("dirent"))
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkViewGet(b *testing.B) {
	kv := openKV(b, sharedCluster(b, 1), "")
	put(b, kv, "a", "1", "b", "2")
	for b.Loop() {
		err := kv.View(b.Context(), func(r meta.Reader) error {
			if _, err := r.Get([]byte("a")); err != nil {
				return err
			}
			_, err := r.Get([]byte("b"))
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkViewScan1000(b *testing.B) {
	kv := openKV(b, sharedCluster(b, 1), "")
	err := kv.Update(b.Context(), func(tx meta.Txn) error {
		for i := range 1000 {
			if err := tx.Set(fmt.Appendf(nil, "d/%04d", i), make([]byte, 40)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		n := 0
		err := kv.View(b.Context(), func(r meta.Reader) error {
			return r.Scan([]byte("d/"), []byte("d0"), func(k, v []byte) error { n++; return nil })
		})
		if err != nil || n != 1000 {
			b.Fatal(n, err)
		}
	}
}
