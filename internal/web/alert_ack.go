package web

import (
	"errors"
	"net/http"

	"github.com/keel-outreach/keel/internal/alert"
)

// ackAlert acknowledges one of the workspace's alerts.
func (s *Server) ackAlert(w http.ResponseWriter, r *http.Request) {
	sess := sessionFrom(r)
	_, err := alert.Acknowledge(r.Context(), s.opts.DB.SQL, s.opts.Clock.Now(), r.PathValue("id"), sess.WorkspaceID, sess.Email)
	if errors.Is(err, alert.ErrNotFound) {
		http.NotFound(w, r)
		return
	}
	if errors.Is(err, alert.ErrInstallationWide) {
		// The page shows no button for these; only a forged form gets here.
		http.Error(w, "This alert is installation-wide: only an installation operator acknowledges it (keel alerts ack).", http.StatusForbidden)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.flashRedirect(w, r, "/alerts", "Alert acknowledged.")
}
