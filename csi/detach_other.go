//go:build !linux

package csi

import (
	"errors"
	"fmt"
)

// detachMount fails: lazy unmounts (MNT_DETACH) are Linux's.
func detachMount(target string) error {
	return fmt.Errorf("lazy unmount of %s needs Linux: %w", target, errors.ErrUnsupported)
}
