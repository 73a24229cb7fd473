//go:build !linux

package chunks

import "log/slog"

// setTopDir is a no-op: the top-directory flag is specific to Linux ext4.
func setTopDir(string, *slog.Logger) {}
