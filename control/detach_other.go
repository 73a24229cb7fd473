//go:build !linux

package control

import (
	"errors"
	"fmt"
)

// detach needs Linux's lazy unmount.
func detach(dir string) error {
	return fmt.Errorf("lazy unmount of %s needs Linux: %w", dir, errors.ErrUnsupported)
}
