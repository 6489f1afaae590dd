package role

import "strings"

// routeActions classifies every mutating API route and web form by the
// action it performs (docs/teams.md#roles). The keys are the patterns the
// routers register ("METHOD /path"); tests in internal/api and
// internal/web check that every registered mutating route is listed.
var routeActions = map[string]Action{
	// API: accounts and their settings.
	"PATCH /api/v1/accounts/{id}":              Configure,
	"POST /api/v1/accounts/connect":            Configure,
	"POST /api/v1/accounts/{id}/reconnect":     Configure,
	"POST /api/v1/accounts/sync":               Configure,
	"PUT /api/v1/accounts/{id}/tags":           Configure,
	"POST /api/v1/accounts/{id}/inmail/top-up": Configure,
	"PATCH /api/v1/workspace":                  Configure,
	"POST /api/v1/do-not-contact":              Configure,
	"DELETE /api/v1/do-not-contact/{id}":       Configure,
	"POST /api/v1/webhooks":                    Configure,
	"DELETE /api/v1/webhooks/{id}":             Configure,
	"POST /api/v1/campaigns":                   Operate,
	"PATCH /api/v1/campaigns/{id}":             Operate,
	"POST /api/v1/campaigns/{id}/start":        Operate,
	"POST /api/v1/campaigns/{id}/pause":        Operate,
	"POST /api/v1/campaigns/{id}/resume":       Operate,
	"POST /api/v1/campaigns/{id}/prospects":    Operate,
	"POST /api/v1/conversations/{id}/messages": Operate,
	"POST /api/v1/alerts/{id}/ack":             Operate,
	"POST /api/v1/sends/{id}/settle":           Operate,

	// Web forms. Signing in and out and switching workspace change
	// nothing in a workspace: every role may.
	"POST /login":                               Read,
	"POST /logout":                              Read,
	"POST /workspace":                           Read,
	"POST /accounts/connect":                    Configure,
	"POST /accounts/{id}":                       Configure,
	"POST /accounts/{id}/reconnect":             Configure,
	"POST /accounts/{id}/inmail/top-up":         Configure,
	"POST /accounts/{id}/tags":                  Configure,
	"POST /accounts/{id}/tags/remove":           Configure,
	"POST /campaigns/new":                       Operate,
	"POST /campaigns/{id}/edit":                 Operate,
	"POST /campaigns/{id}/{op}":                 Operate,
	"POST /campaigns/{id}/import":               Operate,
	"POST /campaigns/{id}/prospects/{eid}/{op}": Operate,
	"POST /sends/{id}/settle":                   Operate,
	"POST /alerts/{id}/ack":                     Operate,
	"POST /inbox/{id}/reply":                    Operate,
	"POST /inbox/{id}/read":                     Operate,
	"POST /inbox/{id}/unread":                   Operate,
	"POST /do-not-contact":                      Configure,
	"POST /do-not-contact/{id}/remove":          Configure,
	"POST /do-not-contact/recontact":            Configure,
	"POST /tokens/{id}/revoke":                  Configure,
}

// ForRoute is the action a request to a registered pattern performs: GET
// and HEAD read; a mutating pattern missing from the table is taken to
// configure, so a new route forgotten here is closed to members and
// viewers rather than open to them.
func ForRoute(pattern string) Action {
	method, _, _ := strings.Cut(pattern, " ")
	if method == "GET" || method == "HEAD" {
		return Read
	}
	if a, ok := routeActions[pattern]; ok {
		return a
	}
	return Configure
}

// Classified reports whether a mutating pattern is listed explicitly (for
// the tests that check every route is).
func Classified(pattern string) bool {
	_, ok := routeActions[pattern]
	return ok
}

// MayRoute reports whether role r may make a request to pattern.
func MayRoute(r Role, pattern string) bool { return Allows(r, ForRoute(pattern)) }

// Needed names the least trusted role that may make a request to pattern,
// for messages that say what would be needed.
func Needed(pattern string) Role { return minimum[ForRoute(pattern)] }
