package apibackend

import (
	"context"
	"errors"
	"maps"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cairn-storage/cairn/csi"
)

// TestAPIError maps each code of the daemon to the csi kind the
// controller decides by, keeping the daemon's message; codes without a
// kind stay the daemon's status.
func TestAPIError(t *testing.T) {
	for _, tc := range []struct {
		code codes.Code
		kind error
	}{
		{codes.NotFound, csi.ErrNotFound},
		{codes.AlreadyExists, csi.ErrExists},
		{codes.FailedPrecondition, csi.ErrBusy},
		{codes.InvalidArgument, csi.ErrInvalid},
		{codes.OutOfRange, csi.ErrInvalid},
		{codes.ResourceExhausted, csi.ErrNoSpace},
		{codes.DeadlineExceeded, context.DeadlineExceeded},
		{codes.Canceled, context.Canceled},
	} {
		err := apiError(status.Error(tc.code, "volume v: the daemon's words"))
		if !errors.Is(err, tc.kind) {
			t.Errorf("%v: %v is not %v", tc.code, err, tc.kind)
		}
		if _, isStatus := status.FromError(err); isStatus {
			t.Errorf("%v: %v is still a status: the csi mapping would not see its kind", tc.code, err)
		}
		if got := err.Error(); got != "volume v: the daemon's words" && got != "volume v: the daemon's words: "+tc.kind.Error() {
			t.Errorf("%v: message %q", tc.code, got)
		}
	}
	for _, code := range []codes.Code{codes.Unavailable, codes.Unauthenticated, codes.Internal} {
		if err := apiError(status.Error(code, "x")); status.Code(err) != code {
			t.Errorf("%v became %v", code, err)
		}
	}
	if apiError(nil) != nil {
		t.Error("nil became an error")
	}
}

// TestLabelChanges: SetOptions merges labels, so turning one set into
// another sends the changed labels and the removed ones empty.
func TestLabelChanges(t *testing.T) {
	got := labelChanges(map[string]string{"keep": "1", "change": "a", "drop": "x"}, map[string]string{"keep": "1", "change": "b", "add": "y"})
	want := map[string]string{"change": "b", "drop": "", "add": "y"}
	if !maps.Equal(got, want) {
		t.Errorf("changes %v, want %v", got, want)
	}
}
