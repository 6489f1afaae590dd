package app

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// logLines decodes the JSON log lines captured so far.
func logLines(t *testing.T, logs *syncBuffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("a log line is not JSON: %q", l)
		}
		out = append(out, m)
	}
	return out
}

// TestStartUpLineAndRoutineRequests: the start-up banner is one structured
// log line saying where to sign in and how to reset a password, with no
// plain-text copy on standard output; routine requests (probes, metrics,
// static files, the queue UI) log nothing at info.
func TestStartUpLineAndRoutineRequests(t *testing.T) {
	t.Parallel()
	_, base, out, logs := startSandboxLogs(t)
	t.Run("BannerIsOneStructuredLine", func(t *testing.T) {
		var banners []map[string]any
		for _, l := range logLines(t, logs) {
			if l["msg"] == "Keel is listening" {
				banners = append(banners, l)
			}
		}
		if len(banners) != 1 {
			t.Fatalf("start-up lines: %+v", banners)
		}
		b := banners[0]
		if b["level"] != "INFO" || b["sign_in"] != base+"/login" || b["reset_password"] != ResetPasswordCommand || b["engine"] != "sqlite" {
			t.Fatalf("start-up line: %+v", b)
		}
		if strings.Contains(out.String(), "listening") {
			t.Fatalf("plain-text banner on standard output: %s", out.String())
		}
	})
	t.Run("RoutineRequestsLogNothingAtInfo", func(t *testing.T) {
		before := len(logLines(t, logs))
		noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		for _, p := range []string{"/healthz", "/readyz", "/metrics", "/static/style.css", "/riverui/"} {
			resp, err := noFollow.Get(base + p)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
		}
		for _, l := range logLines(t, logs)[before:] {
			if l["msg"] == "http request" && l["level"] != "DEBUG" {
				t.Errorf("a routine request logged above debug: %+v", l)
			}
		}
	})
}
