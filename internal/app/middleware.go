package app

import (
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/keel-outreach/keel/internal/web"
)

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// routeClass groups paths for metrics without their ids.
func routeClass(path string) string {
	switch {
	case strings.HasPrefix(path, "/api/"):
		return "api"
	case path == "/webhooks/unipile":
		return "webhook"
	case strings.HasPrefix(path, "/webhooks/"):
		return "hosted_auth"
	case strings.HasPrefix(path, SandboxPrefix):
		return "sandbox"
	}
	return "other"
}

// routine says whether a request is routine traffic: static files, health
// and readiness probes, metrics scrapes, and the queue UI (which reads its
// API every few seconds while open).
func routine(path string) bool {
	return strings.HasPrefix(path, "/static/") || path == "/healthz" || path == "/readyz" || path == "/metrics" || path == "/favicon.ico" ||
		strings.HasPrefix(path, web.QueueUIPath)
}

// observe gives every request an id (X-Request-Id), logs one structured
// line per request — path only, never the query string, which carries
// hosted-auth tokens — and counts it.
func (a *App) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rid := r.Header.Get("X-Request-Id")
		if len(rid) == 0 || len(rid) > 64 || strings.ContainsAny(rid, " \t\r\n\"") {
			var b [8]byte
			_, _ = rand.Read(b[:])
			rid = hex.EncodeToString(b[:])
		}
		w.Header().Set("X-Request-Id", rid)
		sw := &statusWriter{ResponseWriter: w}
		start := time.Now()
		next.ServeHTTP(sw, r)
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		elapsed := time.Since(start)
		class := routeClass(r.URL.Path)
		a.Metrics.HTTPRequests.WithLabelValues(class, strconv.Itoa(sw.status)).Inc()
		if class == "webhook" {
			a.Metrics.WebhookLatency.WithLabelValues(strconv.Itoa(sw.status)).Observe(elapsed.Seconds())
		}
		if class != "sandbox" {
			// Static files, probes and metrics scrapes are routine: below
			// the default level (docs/operations.md#logs). Failures are
			// always worth a line.
			level := slog.LevelInfo
			if routine(r.URL.Path) && sw.status < 400 {
				level = slog.LevelDebug
			}
			a.Logger.Log(r.Context(), level, "http request", "request_id", rid, "method", r.Method, "path", r.URL.Path,
				"status", sw.status, "duration_ms", float64(elapsed.Microseconds())/1000)
		}
	})
}

// Rate limits per API token (and per source address for requests that fail
// authentication); the API applies them after authenticating, by token id.
const (
	// APIRatePerSecond is the sustained request rate one token may use.
	APIRatePerSecond = 20
	// APIBurst is how many requests a token may make at once.
	APIBurst = 60
)
