package app

import (
	"context"
	"net/http"
	"time"
)

// readyz answers 200 only when the database is reachable, its migrations are
// current, the job queue runs and no periodic task has stalled.
func (a *App) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	checks := map[string]string{"database": "ok", "migrations": "ok", "queue": "ok"}
	ready := true
	if err := a.DB.Ping(ctx); err != nil {
		checks["database"], ready = "unreachable", false
	}
	if pending, err := a.DB.Pending(ctx); err != nil || pending {
		checks["migrations"], ready = "pending", false
	}
	if !a.Queue.Running() {
		checks["queue"], ready = "stopped", false
	}
	body := map[string]any{"checks": checks}
	if checks["periodic_tasks"] = a.periodicReadiness(ctx, body); checks["periodic_tasks"] != "ok" {
		ready = false
	}
	body["ready"] = ready
	status := http.StatusOK
	if !ready {
		status = http.StatusServiceUnavailable
	}
	writeJSON(w, status, body)
}
