package fake

import (
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// HostedLink is a snapshot of a hosted-auth link.
type HostedLink struct {
	Token            string    `json:"token"`
	URL              string    `json:"url"`
	Type             string    `json:"type"`
	ReconnectAccount string    `json:"reconnect_account,omitempty"`
	Name             string    `json:"name,omitempty"`
	NotifyURL        string    `json:"notify_url,omitempty"`
	SuccessURL       string    `json:"success_redirect_url,omitempty"`
	FailureURL       string    `json:"failure_redirect_url,omitempty"`
	ExpiresOn        time.Time `json:"expires_on"`
	// Used is true once the login was approved; the link is then spent.
	Used bool `json:"used"`
	// Failures counts Fail decisions; a failed login may be tried again.
	Failures int `json:"failures"`
	// AccountID is the created or reconnected account, once approved.
	AccountID string `json:"account_id,omitempty"`
}

// hostedLink is the fake's link record.
type hostedLink struct {
	HostedLink
}

// expiresOnPattern is the only expiresOn format Unipile accepts: UTC with
// exactly three fractional digits.
var expiresOnPattern = regexp.MustCompile(`^[1-2]\d{3}-[0-1]\d-[0-3]\dT\d{2}:\d{2}:\d{2}\.\d{3}Z$`)

// HostedLinks returns snapshots of every link minted so far.
func (s *Server) HostedLinks() []HostedLink {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]HostedLink, 0, len(s.links))
	for _, l := range s.links {
		out = append(out, l.HostedLink)
	}
	return out
}

// TokenFromURL extracts the token from a hosted-auth URL handed out by the
// fake ("…/hosted/<token>").
func TokenFromURL(link string) string {
	u, err := url.Parse(link)
	if err != nil {
		return ""
	}
	i := strings.LastIndex(u.Path, "/hosted/")
	if i < 0 {
		return ""
	}
	return strings.Trim(u.Path[i+len("/hosted/"):], "/")
}

// CompleteHostedAuth plays the user's decision on the hosted page. Approve
// creates the account (type create) or restores reconnect_account to OK
// (type reconnect), spends the link, POSTs the notify_url callback
// {status: CREATION_SUCCESS|RECONNECTED, account_id, name} without custom
// headers, and sends account_status webhooks (CREATION_SUCCESS then OK, or
// RECONNECTED then OK). Failing calls nothing: Unipile documents no failure
// callback, and the link stays usable for another try.
func (s *Server) CompleteHostedAuth(token string, approve bool) error {
	_, err := s.completeHosted(token, approve, "")
	return err
}

// completeHosted implements CompleteHostedAuth and returns the link after.
func (s *Server) completeHosted(token string, approve bool, displayName string) (HostedLink, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.links[token]
	if !ok {
		return HostedLink{}, ErrNoLink
	}
	if l.Used {
		return l.HostedLink, ErrLinkUsed
	}
	if s.clock.Now().After(l.ExpiresOn) {
		return l.HostedLink, ErrLinkExpired
	}
	if !approve {
		l.Failures++
		return l.HostedLink, nil
	}
	switch l.Type {
	case "reconnect":
		a, ok := s.accounts[l.ReconnectAccount]
		if !ok {
			return l.HostedLink, fmt.Errorf("reconnecting %s: %w", l.ReconnectAccount, ErrNoAccount)
		}
		wasOK := a.status == "OK"
		a.status = "OK"
		l.Used, l.AccountID = true, a.id
		s.emitNotifyLocked(l.NotifyURL, "RECONNECTED", a.id, l.Name)
		if wasOK {
			s.emitAccountStatusLocked(a.id, "RECONNECTED")
		} else {
			s.emitAccountStatusLocked(a.id, "RECONNECTED", "OK")
		}
	default:
		a := s.addAccountLocked(AccountSpec{Name: strings.TrimSpace(displayName)})
		l.Used, l.AccountID = true, a.id
		s.emitNotifyLocked(l.NotifyURL, "CREATION_SUCCESS", a.id, l.Name)
		s.emitAccountStatusLocked(a.id, "CREATION_SUCCESS", "OK")
	}
	return l.HostedLink, nil
}

// handleHostedLink serves POST /api/v1/hosted/accounts/link.
func (s *Server) handleHostedLink(x *exchange) {
	var body struct {
		Type               string   `json:"type"`
		Providers          any      `json:"providers"`
		ReconnectAccount   string   `json:"reconnect_account"`
		APIURL             string   `json:"api_url"`
		ExpiresOn          string   `json:"expiresOn"`
		Name               string   `json:"name"`
		SuccessRedirectURL string   `json:"success_redirect_url"`
		FailureRedirectURL string   `json:"failure_redirect_url"`
		NotifyURL          string   `json:"notify_url"`
		DisabledFeatures   []string `json:"disabled_features"`
	}
	if !x.decodeJSON(&body) {
		return
	}
	if body.ReconnectAccount != "" {
		x.setAccount(body.ReconnectAccount)
	}
	if !x.admit() {
		return
	}
	bad := func(typ, detail string) {
		x.writeError(http.StatusBadRequest, typ, "", detail)
	}
	switch body.Type {
	case "create":
		if !providersGiven(body.Providers) {
			bad("errors/missing_parameters", "providers is required for a create link.")
			return
		}
	case "reconnect":
		if body.ReconnectAccount == "" {
			bad("errors/missing_parameters", "reconnect_account is required for a reconnect link.")
			return
		}
	case "":
		bad("errors/missing_parameters", "type is required.")
		return
	default:
		bad("errors/invalid_parameters", "type must be create or reconnect.")
		return
	}
	if body.APIURL == "" {
		bad("errors/missing_parameters", "api_url is required.")
		return
	}
	if body.ExpiresOn == "" {
		bad("errors/missing_parameters", "expiresOn is required.")
		return
	}
	expires, err := time.Parse(time.RFC3339Nano, body.ExpiresOn)
	if err != nil || !expiresOnPattern.MatchString(body.ExpiresOn) {
		bad("errors/invalid_parameters", "expiresOn must look like 2026-01-02T15:04:05.000Z.")
		return
	}
	for _, u := range []string{body.NotifyURL, body.SuccessRedirectURL, body.FailureRedirectURL} {
		if u != "" && !absoluteHTTPURL(u) {
			bad("errors/invalid_url", "URLs must be absolute http(s) URLs.")
			return
		}
	}
	base := s.publicBase(x.r)
	token := randomID() + randomID()[:10]
	l := &hostedLink{HostedLink{
		Token:            token,
		URL:              base + "/hosted/" + token,
		Type:             body.Type,
		ReconnectAccount: body.ReconnectAccount,
		Name:             body.Name,
		NotifyURL:        body.NotifyURL,
		SuccessURL:       body.SuccessRedirectURL,
		FailureURL:       body.FailureRedirectURL,
		ExpiresOn:        expires.UTC(),
	}}
	s.mu.Lock()
	s.links[token] = l
	x.markApplied()
	s.mu.Unlock()
	x.reply(http.StatusCreated, map[string]any{"object": "HostedAuthURL", "url": l.URL})
}

// providersGiven reports a non-empty providers value ("*" or a list).
func providersGiven(v any) bool {
	switch p := v.(type) {
	case string:
		return p != ""
	case []any:
		return len(p) > 0
	default:
		return false
	}
}

// absoluteHTTPURL reports an absolute http or https URL with a host.
func absoluteHTTPURL(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// hostedPage is the sandbox login page: plain HTML that works without
// JavaScript, styled like Keel's own pages (its stylesheet is inline
// because the fake also runs on its own, away from Keel's static files).
// The form has no action, so it posts back to the page's own URL wherever
// the fake is mounted. With a return URL it always offers "Back to Keel".
var hostedPage = template.Must(template.New("hosted").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sandbox LinkedIn login · Keel</title>
<style>
:root{--fg:#1a1a1a;--muted:#555;--line:#ccc;--accent:#0b57d0;--bad-bg:#fde2e1;--bad-fg:#8c1d18;--ok-bg:#d7f5dd;--ok-fg:#0b5d1e;--info-bg:#e3ecfd;--info-fg:#0b3d91}
*{box-sizing:border-box}body{margin:0;font:16px/1.5 system-ui,sans-serif;color:var(--fg);background:#fff}
.sandbox{background:#5c4300;color:#fff;padding:.4rem 1.5rem;font-weight:600}
.top{display:flex;gap:1.5rem;align-items:center;padding:.6rem 1.5rem;border-bottom:1px solid var(--line)}
.brand{font-weight:800}main{padding:1rem 1.5rem;max-width:40rem}a{color:var(--accent)}
.card{border:1px solid var(--line);border-radius:.5rem;padding:1rem;margin:1rem 0}
label{display:block;margin-top:.6rem;font-weight:600}
input{font:inherit;width:100%;padding:.35rem;border:1px solid #767676;border-radius:.25rem}
button{font:inherit;margin-top:.6rem;margin-right:.5rem;padding:.4rem .9rem;background:var(--accent);color:#fff;border:0;border-radius:.3rem;cursor:pointer}
button.secondary{background:#fff;color:var(--bad-fg);border:1px solid var(--bad-fg)}
:focus-visible{outline:3px solid #f0a500;outline-offset:2px}
.status{padding:.5rem .8rem;border-radius:.3rem;background:var(--info-bg);color:var(--info-fg)}
.status.ok{background:var(--ok-bg);color:var(--ok-fg)}.status.bad{background:var(--bad-bg);color:var(--bad-fg)}
.back{display:inline-block;margin-top:1rem;font-weight:600}.muted{color:var(--muted);font-size:.9rem}
</style>
</head>
<body>
<div class="sandbox" role="note">Sandbox mode: no real LinkedIn traffic</div>
<header class="top"><span class="brand">Keel</span><span class="muted">Sandbox LinkedIn login (stands in for Unipile's hosted page)</span></header>
<main>
<h1>{{if eq .Link.Type "reconnect"}}Reconnect a LinkedIn account{{else}}Connect a LinkedIn account{{end}}</h1>
<p class="muted">This page is served by Keel's built-in fake Unipile. No real LinkedIn account is involved.</p>
{{if .Message}}<p role="status" class="status {{.Tone}}"><strong>{{.Message}}</strong></p>{{end}}
{{if .Open}}
<form method="post" class="card">
<p>{{if eq .Link.Type "reconnect"}}Reconnect account <code>{{.Link.ReconnectAccount}}</code>.{{else}}Connect a new LinkedIn account.{{end}}</p>
{{if ne .Link.Type "reconnect"}}<label for="display_name">Display name</label>
<input id="display_name" name="display_name" type="text" value="{{.DisplayName}}">{{end}}
<p><button id="approve" type="submit" name="decision" value="approve">Approve: log in successfully</button>
<button id="fail" class="secondary" type="submit" name="decision" value="fail">Fail: simulate a failed login</button></p>
</form>
{{end}}
{{if .Back}}<a class="back" id="back-to-keel" href="{{.Back}}">← Back to Keel</a>{{end}}
</main>
</body>
</html>
`))

// pageData feeds hostedPage.
type pageData struct {
	Link        HostedLink
	Open        bool
	Message     string
	Tone        string // "", "ok" or "bad": the message's colour
	DisplayName string
	Back        string
}

// renderHosted writes the page with the given status.
func (s *Server) renderHosted(w http.ResponseWriter, status int, d pageData) {
	if s.opts.ReturnURL != "" {
		d.Back = s.opts.ReturnURL
		if d.Link.Name != "" {
			d.Back += "?link=" + url.QueryEscape(d.Link.Name)
		}
	}
	if d.Tone == "" && status >= 400 {
		d.Tone = "bad"
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = hostedPage.Execute(w, d)
}

// handleHostedPage serves GET /hosted/{token}.
func (s *Server) handleHostedPage(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	s.mu.Lock()
	l, ok := s.links[token]
	var snap HostedLink
	if ok {
		snap = l.HostedLink
	}
	now := s.clock.Now()
	s.mu.Unlock()
	switch {
	case !ok:
		s.renderHosted(w, http.StatusNotFound, pageData{Message: "This link does not exist."})
	case snap.Used:
		s.renderHosted(w, http.StatusGone, pageData{Link: snap, Message: "This link has already been used."})
	case now.After(snap.ExpiresOn):
		s.renderHosted(w, http.StatusGone, pageData{Link: snap, Message: "This link has expired."})
	default:
		s.renderHosted(w, http.StatusOK, pageData{Link: snap, Open: true, DisplayName: "Sandbox User"})
	}
}

// handleHostedDecision serves POST /hosted/{token}: the Approve or Fail
// button.
func (s *Server) handleHostedDecision(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	if err := r.ParseForm(); err != nil {
		s.renderHosted(w, http.StatusBadRequest, pageData{Message: "The form could not be read."})
		return
	}
	var approve bool
	switch r.PostForm.Get("decision") {
	case "approve":
		approve = true
	case "fail":
	default:
		s.renderHosted(w, http.StatusBadRequest, pageData{Message: "Choose Approve or Fail."})
		return
	}
	l, err := s.completeHosted(token, approve, r.PostForm.Get("display_name"))
	switch {
	case errors.Is(err, ErrNoLink):
		s.renderHosted(w, http.StatusNotFound, pageData{Message: "This link does not exist."})
	case errors.Is(err, ErrLinkUsed):
		s.renderHosted(w, http.StatusGone, pageData{Link: l, Message: "This link has already been used."})
	case errors.Is(err, ErrLinkExpired):
		s.renderHosted(w, http.StatusGone, pageData{Link: l, Message: "This link has expired."})
	case err != nil:
		s.renderHosted(w, http.StatusUnprocessableEntity, pageData{Link: l, Message: "The account to reconnect no longer exists."})
	case approve && l.SuccessURL != "":
		http.Redirect(w, r, l.SuccessURL, http.StatusSeeOther)
	case approve:
		s.renderHosted(w, http.StatusOK, pageData{Link: l, Tone: "ok", Message: "Login approved. Go back to Keel to see the account."})
	case l.FailureURL != "":
		http.Redirect(w, r, l.FailureURL, http.StatusSeeOther)
	default:
		s.renderHosted(w, http.StatusOK, pageData{Link: l, Open: true, Tone: "bad", DisplayName: "Sandbox User", Message: "Login failed. You may try again, or go back to Keel."})
	}
}
