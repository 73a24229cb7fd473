package csi

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// statusError converts an error into a gRPC status: a status already
// made is kept, the Backend's errors map by kind, context errors to
// their codes, and anything else is Internal. It is the only place
// errors are mapped to codes (besides the explicit checks of each RPC).
func statusError(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	code := codes.Internal
	switch {
	case errors.Is(err, ErrNotFound):
		code = codes.NotFound
	case errors.Is(err, ErrExists):
		code = codes.AlreadyExists
	case errors.Is(err, ErrBusy):
		code = codes.FailedPrecondition
	case errors.Is(err, ErrInvalid):
		code = codes.InvalidArgument
	case errors.Is(err, ErrNoSpace):
		code = codes.ResourceExhausted
	case errors.Is(err, context.DeadlineExceeded):
		code = codes.DeadlineExceeded
	case errors.Is(err, context.Canceled):
		code = codes.Canceled
	}
	return status.Error(code, err.Error())
}

// errorf returns a status error with code and a formatted message.
func errorf(code codes.Code, format string, args ...any) error {
	return status.Error(code, fmt.Sprintf(format, args...))
}

// missing returns the InvalidArgument error for a required field left empty.
func missing(field string) error {
	return errorf(codes.InvalidArgument, "%s is required", field)
}

// statusCode returns the gRPC code of a status error; false for nil or
// an error that is not a status.
func statusCode(err error) (codes.Code, bool) {
	if err == nil {
		return codes.OK, false
	}
	s, ok := status.FromError(err)
	return s.Code(), ok
}
