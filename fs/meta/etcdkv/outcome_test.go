package etcdkv_test

import (
	"context"
	"strconv"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cairn-storage/cairn/fs/meta"
	"github.com/cairn-storage/cairn/fs/meta/etcdkv"
)

// A commit that fails in transit is resolved by reading back what it
// wrote: applied, the update succeeds without running again (a counter
// is bumped once); not applied, it runs again (and is bumped once).
func TestCommitFailedInTransit(t *testing.T) {
	tests := []struct {
		name     string
		before   bool // the commit is lost before it applies
		wantRuns int
	}{
		{"applied, answer lost", false, 1},
		{"lost before applying", true, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kv := openKV(t, sharedCluster(t, 1), freshPrefix())
			put(t, kv, "n", "0")
			failures := 1
			etcdkv.SetCommitFault(func(before bool) error {
				if before != tt.before || failures == 0 {
					return nil
				}
				failures--
				return status.Error(codes.Unavailable, "error reading from server: connection timed out")
			})
			t.Cleanup(func() { etcdkv.SetCommitFault(nil) })
			runs := 0
			err := kv.Update(context.Background(), func(tx meta.Txn) error {
				runs++
				b, err := tx.Get([]byte("n"))
				if err != nil {
					return err
				}
				n, err := strconv.Atoi(string(b))
				if err != nil {
					return err
				}
				return tx.Set([]byte("n"), []byte(strconv.Itoa(n+1)))
			})
			if err != nil {
				t.Fatalf("update: %v", err)
			}
			if runs != tt.wantRuns {
				t.Fatalf("fn ran %d times, want %d", runs, tt.wantRuns)
			}
			wantValue(t, kv, "n", "1")
		})
	}
}
