package dashboard

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"

	cairnv1 "github.com/cairn-storage/cairn/api/cairn/v1"
)

// sendSnapshot downloads the snapshot as a send stream (what `cairn
// snapshot send` writes; `cairn snapshot receive` reads it), incremental
// against ?base= when given.
func (s *Server) sendSnapshot(w http.ResponseWriter, r *http.Request, sess *session) {
	ref, base := r.PathValue("ref"), r.URL.Query().Get("base")
	st, err := s.api.Snapshots.SendSnapshot(r.Context(), &cairnv1.SendSnapshotRequest{Snapshot: ref, Base: base})
	var first *cairnv1.SendSnapshotResponse
	if err == nil {
		first, err = st.Recv() // the first message tells whether the send can start
	}
	if err != nil && !errors.Is(err, io.EOF) {
		s.failPage(w, r, sess, "Send "+ref, err)
		return
	}
	name := strings.NewReplacer("@", "_", "/", "_").Replace(ref) + ".cairn"
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	for m := first; m != nil; {
		if _, err := w.Write(m.GetData()); err != nil {
			return // the browser went away
		}
		if m, err = st.Recv(); err != nil {
			if !errors.Is(err, io.EOF) {
				// Headers are out: all we can do is cut the download short,
				// so the browser reports it failed rather than complete.
				s.log.Error("dashboard: send stream failed", "snapshot", ref, "err", err)
				panic(http.ErrAbortHandler)
			}
			return
		}
	}
}
