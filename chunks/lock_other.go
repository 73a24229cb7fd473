//go:build !unix

package chunks

import "os"

// lockDir only opens path: without flock(2) (Windows, Plan 9) the store
// is not protected against a second process opening it.
func lockDir(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
}
