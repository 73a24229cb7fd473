package chunks

import "errors"

var (
	// ErrIDMismatch is returned (wrapped) by Put when the ID is not the
	// hash of the data: a caller bug that would otherwise store data
	// under a name it can never be read back by.
	ErrIDMismatch = errors.New("chunk id does not match data")
	// ErrTooLarge is returned (wrapped) by Put for data over MaxSize.
	ErrTooLarge = errors.New("chunk too large")
	// ErrInUse is returned (wrapped) by OpenLocal while another process,
	// or another Local in this process, has the directory open.
	ErrInUse = errors.New("store is in use by another process or store")

	// errClosed is returned by a store used after Close.
	errClosed = errors.New("chunk store closed")
)
