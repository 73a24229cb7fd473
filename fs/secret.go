package fs

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"

	"github.com/cairn-storage/cairn/fs/meta"
)

// Secret returns the random secret called name, creating it on first use.
// Secrets live in the metadata store, so every gateway that shares it (a
// cluster) agrees on them and they survive restarts: NFS file handles are
// authenticated with one.
func (f *FS) Secret(ctx context.Context, name string) ([]byte, error) {
	key := append([]byte("s"), name...)
	var secret []byte
	err := f.kv.Update(ctx, func(tx meta.Txn) error {
		v, err := tx.Get(key)
		if err == nil {
			secret = v
			return nil
		}
		if !errors.Is(err, meta.ErrNotFound) {
			return err
		}
		secret = make([]byte, 32)
		if _, err := rand.Read(secret); err != nil {
			return fmt.Errorf("generate secret %q: %w", name, err)
		}
		return tx.Set(key, secret)
	})
	return secret, err
}
