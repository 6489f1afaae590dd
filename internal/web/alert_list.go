package web

import (
	"net/http"

	"github.com/keel-outreach/keel/internal/alert"
)

// MaxAlerts is how many alerts the alerts page shows (newest first).
const MaxAlerts = 200

type alertsData struct {
	Alerts []alert.Alert
}

// alertsPage lists the workspace's alerts, newest first, MaxAlerts at most.
func (s *Server) alertsPage(w http.ResponseWriter, r *http.Request) {
	sess := sessionFrom(r)
	as, err := alert.List(r.Context(), s.opts.DB.SQL, alert.Filter{WorkspaceID: sess.WorkspaceID, Limit: MaxAlerts})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "alerts", page{Title: "Alerts", Nav: "alerts", Data: alertsData{Alerts: as}})
}
