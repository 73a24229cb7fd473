//go:build !linux

package chunks

import (
	"log/slog"
	"os"
)

// setTopDir is a no-op: the top-directory flag is specific to Linux ext4.
func setTopDir(string, *slog.Logger) {}

// lockDir only opens path: off Linux (developer machines) the store is
// not protected against a second process opening it.
func lockDir(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
}
