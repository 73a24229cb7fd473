package dashboard

import (
	"errors"
	"net/http"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// apiMessage is what a user reads of an API error: the status message,
// which the daemon words for people.
func apiMessage(err error) string {
	if s, ok := status.FromError(err); ok {
		return s.Message()
	}
	return err.Error()
}

// httpStatus is the one mapping of API errors to HTTP statuses.
func httpStatus(err error) int {
	var s interface{ GRPCStatus() *status.Status }
	if !errors.As(err, &s) {
		return http.StatusInternalServerError
	}
	switch s.GRPCStatus().Code() {
	case codes.NotFound:
		return http.StatusNotFound
	case codes.InvalidArgument, codes.OutOfRange:
		return http.StatusBadRequest
	case codes.AlreadyExists, codes.FailedPrecondition, codes.Aborted:
		return http.StatusConflict
	case codes.PermissionDenied, codes.Unauthenticated:
		return http.StatusForbidden
	case codes.Unavailable, codes.DeadlineExceeded:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// failPage shows an API error as a page with its HTTP status.
func (s *Server) failPage(w http.ResponseWriter, r *http.Request, sess *session, what string, err error) {
	s.renderStatus(w, r, sess, httpStatus(err), "error", what,
		map[string]any{"Error": what + ": " + apiMessage(err)})
}

// done ends an action: the outcome as a message on the page it returns
// to (post, redirect, get: a reload does not repeat the action).
func (s *Server) done(w http.ResponseWriter, r *http.Request, sess *session, to string, err error, ok string) {
	if err != nil {
		s.sessions.addFlash(sess, "error", apiMessage(err))
	} else if ok != "" {
		s.sessions.addFlash(sess, "ok", ok)
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// finish ends an action that leaves its page when it succeeds: back to
// failTo with the error, or on to okTo with the message.
func (s *Server) finish(w http.ResponseWriter, r *http.Request, sess *session, err error, failTo, okTo, ok string) {
	if err != nil {
		s.done(w, r, sess, failTo, err, "")
		return
	}
	s.done(w, r, sess, okTo, nil, ok)
}
