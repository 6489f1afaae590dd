package app

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/keel-outreach/keel/internal/connect"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/logging"
	"github.com/keel-outreach/keel/internal/web"
	"github.com/keel-outreach/keel/internal/webhook"
)

// Handler is the process's HTTP surface.
func (a *App) Handler() http.Handler { return a.observe(a.mux) }

// routes mounts the paths the app itself serves: probes, the API, metrics,
// webhooks and the hosted-auth callback.
func (a *App) routes() {
	a.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	a.mux.HandleFunc("GET /readyz", a.readyz)
	a.mux.Handle("/api/", a.API)
	a.mux.Handle("GET /metrics", a.Metrics.Handler())
	a.mux.Handle("POST "+webhook.Path, a.Webhooks)
	a.mux.Handle("POST "+connect.CallbackPath, a.Connect.CallbackHandler())
}

// mountUI serves the web UI as the fallback route: every path routes does
// not claim.
func (a *App) mountUI() error {
	// River's own UI, on PostgreSQL only (docs/operations.md#job-queue);
	// the web UI guards it.
	var queueUI http.Handler
	if a.DB.Engine == db.Postgres {
		h, err := a.Queue.UI(logging.Routine(a.Logger))
		if err != nil {
			return err
		}
		a.queueUI, queueUI = h, h
	}
	ui, err := web.New(web.Options{QueueUI: queueUI, DB: a.DB, Accounts: a.Accounts, Campaigns: a.Campaigns, Connect: a.Connect, Sender: a.Sender, Inbox: a.Inbox,
		Clock: a.Clock, Logger: a.Logger, Sandbox: a.Sandbox != nil, MinSpacing: a.Config.MinSpacing,
		SecureCookies: strings.HasPrefix(a.Config.PublicURL, "https://"), FormActionOrigins: a.formActionOrigins()})
	if err != nil {
		return fmt.Errorf("building the web UI: %w", err)
	}
	a.mux.Handle("/", ui.Handler())
	return nil
}

// HostedAuthOrigin is where Unipile serves its hosted-auth wizard; the UI's
// Connect and Reconnect forms redirect there, so the Content-Security-Policy
// names it. A white-labelled wizard on another origin still works: the UI
// then shows a link instead of redirecting.
const HostedAuthOrigin = "https://account.unipile.com"

// formActionOrigins are the origins besides Keel's own that UI forms may
// lead to: none in sandbox mode (its wizard is served here).
func (a *App) formActionOrigins() []string {
	if a.Sandbox != nil {
		return nil
	}
	return []string{HostedAuthOrigin}
}

// writeJSON answers status with v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
