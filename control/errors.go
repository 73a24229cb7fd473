package control

import (
	"context"
	"errors"
	"fmt"
	"syscall"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cairn-storage/cairn/snapshots"
)

// statusError converts an error into a gRPC status: a status already made
// is kept; the core's errno values and the snapshot manager's errors map
// by kind; anything else is Internal. It is the only place errors become
// codes.
func statusError(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	return status.Error(codeOf(err), err.Error())
}

// codeOf is the gRPC code of an error of the core.
func codeOf(err error) codes.Code {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return codes.DeadlineExceeded
	case errors.Is(err, context.Canceled):
		return codes.Canceled
	case errors.Is(err, snapshots.ErrNotFound), errors.Is(err, syscall.ENOENT):
		return codes.NotFound
	case errors.Is(err, snapshots.ErrExists), errors.Is(err, syscall.EEXIST):
		return codes.AlreadyExists
	case errors.Is(err, snapshots.ErrInvalid), errors.Is(err, snapshots.ErrBadStream),
		errors.Is(err, syscall.EINVAL), errors.Is(err, syscall.ENAMETOOLONG), errors.Is(err, syscall.ENOTDIR):
		return codes.InvalidArgument
	case errors.Is(err, syscall.EBUSY), errors.Is(err, syscall.EROFS), errors.Is(err, syscall.ENOTEMPTY):
		return codes.FailedPrecondition
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT):
		return codes.ResourceExhausted
	case errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM):
		return codes.PermissionDenied
	case errors.Is(err, errors.ErrUnsupported):
		return codes.Unimplemented
	}
	return codes.Internal
}

// errorf returns a status error with code and a formatted message.
func errorf(code codes.Code, format string, args ...any) error {
	return status.Error(code, fmt.Sprintf(format, args...))
}

// required returns the InvalidArgument error of a required field left empty.
func required(field string) error {
	return errorf(codes.InvalidArgument, "%s is required", field)
}

func unaryErrors(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	resp, err := h(ctx, req)
	return resp, statusError(err)
}

func streamErrors(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, h grpc.StreamHandler) error {
	return statusError(h(srv, ss))
}
