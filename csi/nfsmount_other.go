//go:build !linux

package csi

import (
	"context"
	"errors"
	"fmt"
)

// mountNFS fails: publishing an NFS volume needs Linux's NFS client and
// mount(2) options; the CSI node plugin only runs on Linux nodes.
func mountNFS(_ context.Context, m NFSMount) error {
	return fmt.Errorf("mount %s at %s: NFS publishes need Linux: %w", m.Source(), m.Target, errors.ErrUnsupported)
}
