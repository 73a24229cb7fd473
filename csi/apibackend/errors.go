package apibackend

import (
	"context"
	"fmt"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cairn-storage/cairn/csi"
)

// kindError is a daemon's error as the driver sees it: the daemon's
// message, and the csi error kind its code means.
type kindError struct {
	msg  string
	kind error
}

func (e *kindError) Error() string { return e.msg }
func (e *kindError) Unwrap() error { return e.kind }

// apiError maps a status of the daemon to the csi error kinds (the
// controller decides by kind, and maps kinds to CSI codes in one place).
// A code with no kind (Unavailable, Unauthenticated, Internal) is kept
// as the daemon's status: the CO sees it as it is.
func apiError(err error) error {
	s, ok := status.FromError(err)
	if err == nil || !ok {
		return err
	}
	var kind error
	switch s.Code() {
	case codes.NotFound:
		kind = csi.ErrNotFound
	case codes.AlreadyExists:
		kind = csi.ErrExists
	case codes.FailedPrecondition:
		kind = csi.ErrBusy
	case codes.InvalidArgument, codes.OutOfRange:
		kind = csi.ErrInvalid
	case codes.ResourceExhausted:
		kind = csi.ErrNoSpace
	case codes.DeadlineExceeded:
		return fmt.Errorf("%s: %w", s.Message(), context.DeadlineExceeded)
	case codes.Canceled:
		return fmt.Errorf("%s: %w", s.Message(), context.Canceled)
	default:
		return err
	}
	return &kindError{msg: s.Message(), kind: kind}
}
