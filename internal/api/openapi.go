package api

import (
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/role"
)

// operation documents one route. The OpenAPI document is built from this
// table, and a test keeps the table equal to the routes actually registered.
type operation struct {
	Summary string
	// Body names the request body media types, if any.
	Body []string
	// Query lists query parameters.
	Query []string
	// BodySchema and Response name schemas of components.schemas for the
	// JSON request body and the 200 answer ("" leaves them open).
	BodySchema, Response string
}

// schemas are the documented JSON shapes, by name.
var schemas = map[string]any{
	"Pacing": map[string]any{"type": "object",
		"description": "How an account's actions are spaced (docs/sending.md, Pacing).",
		"properties": map[string]any{
			"spread_over_window": map[string]any{"type": "boolean", "default": true,
				"description": "Spread the day's remaining sends over what is left of the sending window."},
			"min_gap_seconds": map[string]any{"type": "integer", "default": 60, "maximum": 3600,
				"description": "Shortest gap between two actions; never below the installation's KEEL_MIN_SPACING."},
			"max_gap_seconds": map[string]any{"type": "integer", "default": 180, "maximum": 3600,
				"description": "Longest gap between two actions; at least min_gap_seconds (after merging with the stored values)."},
		}},
	"Caps": capsSchema(),
	"AccountSettings": map[string]any{"type": "object",
		"description": "Every field is optional; a field left out keeps its value. Out-of-range values: 422 naming each field, nothing changed.",
		"properties": map[string]any{
			"tier":     map[string]any{"type": "string", "enum": []any{"free", "premium", "sales_navigator", "recruiter"}},
			"timezone": map[string]any{"type": "string", "description": "An IANA zone such as Europe/Paris."},
			"window": map[string]any{"type": "object", "properties": map[string]any{
				"days":  map[string]any{"type": "array", "items": map[string]any{"type": "string", "enum": []any{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}}},
				"start": map[string]any{"type": "string", "description": "HH:MM"},
				"end":   map[string]any{"type": "string", "description": "HH:MM, exclusive; 24:00 is the end of the day"}}},
			"caps":                map[string]any{"$ref": "#/components/schemas/Caps"},
			"pacing":              map[string]any{"$ref": "#/components/schemas/Pacing"},
			"withdraw_after_days": withdrawAfterDays,
		}},
	"Account": map[string]any{"type": "object",
		"properties": map[string]any{
			"id": map[string]any{"type": "string"}, "status": map[string]any{"type": "string"},
			"tier": map[string]any{"type": "string"}, "timezone": map[string]any{"type": "string"},
			"window": map[string]any{"type": "object"}, "caps": map[string]any{"$ref": "#/components/schemas/Caps"},
			"pacing":              map[string]any{"$ref": "#/components/schemas/Pacing"},
			"withdraw_after_days": withdrawAfterDays,
			"settings_updated_by": map[string]any{"type": "string", "description": "who last saved the settings (user:<email>, token:<id>, cli); empty if never"},
		}},
}

// capsSchema documents an account's caps with the account package's own
// defaults and ceilings, so the document cannot drift from what the
// settings code enforces (docs/sending.md#caps-and-ceilings).
func capsSchema() map[string]any {
	def, free, paid := account.DefaultCaps, account.Ceilings(account.TierFree), account.Ceilings(account.TierPremium)
	flat := func(d, ceiling int, what string) map[string]any {
		return map[string]any{"type": "integer", "minimum": 0, "default": d, "maximum": ceiling,
			"description": fmt.Sprintf("%s (hard ceiling on every tier: %d).", what, ceiling)}
	}
	tiered := func(d, freeMax, paidMax int, what string) map[string]any {
		if freeMax == paidMax {
			return flat(d, freeMax, what)
		}
		return map[string]any{"type": "integer", "minimum": 0, "default": d, "maximum": max(freeMax, paidMax),
			"description": fmt.Sprintf("%s (hard ceiling: %d on free, %d on paid tiers).", what, freeMax, paidMax)}
	}
	return map[string]any{"type": "object",
		"description": "An account's configured caps (docs/sending.md, Caps and ceilings); a cap above its ceiling is refused naming the ceiling.",
		"properties": map[string]any{
			"invite_daily":       tiered(def.InviteDaily, free.InviteDaily, paid.InviteDaily, "Invitations per UTC day"),
			"invite_weekly":      tiered(def.InviteWeekly, free.InviteWeekly, paid.InviteWeekly, "Invitations per rolling 7 days"),
			"message_daily":      tiered(def.MessageDaily, free.MessageDaily, paid.MessageDaily, "Messages per UTC day"),
			"inmail_daily":       tiered(def.InMailDaily, free.InMailDaily, paid.InMailDaily, "InMails per UTC day"),
			"view_profile_daily": tiered(def.ViewProfileDaily, free.ViewProfileDaily, paid.ViewProfileDaily, "Profile views per UTC day"),
			"invite_pending": flat(def.InvitePending, account.PendingCeiling,
				"The most pending invitations (sent, neither accepted nor withdrawn) the account may have; further invitations wait (docs/sending.md, Pending invitations)"),
			"withdraw_daily": flat(def.WithdrawDaily, account.WithdrawCeiling,
				"Withdrawals of stale invitations per UTC day (docs/sending.md, Withdrawals)"),
		}}
}

// withdrawAfterDays documents the account setting of that name, in the
// PATCH body and in the account (docs/sending.md#withdrawals).
var withdrawAfterDays = map[string]any{"type": "integer", "minimum": 0, "maximum": account.MaxWithdrawAfterDays,
	"default": account.DefaultWithdrawAfterDays, "description": fmt.Sprintf(
		"Pending invitations older than this many days are withdrawn; 0 = never, otherwise %d–%d.",
		account.MinWithdrawAfterDays, account.MaxWithdrawAfterDays)}

var operations = map[string]operation{
	"GET /api/v1/accounts":      {Summary: "List the workspace's LinkedIn accounts", Query: []string{"limit", "cursor"}},
	"GET /api/v1/accounts/{id}": {Summary: "Get one account", Response: "Account"},
	"PATCH /api/v1/accounts/{id}": {Summary: "Change an account's tier, timezone, sending window, caps (including pending invitations and withdrawals per day), pacing or withdraw-after days",
		Body: []string{"application/json"}, BodySchema: "AccountSettings", Response: "Account"},
	"GET /api/v1/accounts/{id}/audit":          {Summary: "The account's status-flip history, newest first"},
	"POST /api/v1/accounts/connect":            {Summary: "Start connecting a LinkedIn account; returns the hosted-auth link"},
	"POST /api/v1/accounts/{id}/reconnect":     {Summary: "Start reconnecting an account; returns the hosted-auth link"},
	"POST /api/v1/accounts/{id}/inmail/top-up": {Summary: "Clear the account's InMail credits breaker after a top-up (recorded with the token); parked prospects are looked at again"},
	"POST /api/v1/accounts/sync":               {Summary: "Import the accounts Unipile lists"},
	"GET /api/v1/accounts/{id}/limits":         {Summary: "Per action: effective cap, what binds it, used, remaining, reset time", Response: "Limits"},
	"GET /api/v1/accounts/{id}/diagnosis":      {Summary: "Why isn't this account sending?", Response: "Diagnosis"},
	"GET /api/v1/alerts":                       {Summary: "The workspace's and the installation's admin alerts", Query: []string{"open", "limit", "cursor"}},
	"POST /api/v1/alerts/{id}/ack":             {Summary: "Acknowledge one of the workspace's alerts (installation-wide alerts answer 403: operators acknowledge them)"},
	"POST /api/v1/campaigns":                   {Summary: "Create a campaign (draft)", Body: []string{"application/json"}},
	"GET /api/v1/campaigns":                    {Summary: "List campaigns", Query: []string{"limit", "cursor", "status"}},
	"GET /api/v1/campaigns/{id}":               {Summary: "Get one campaign"},
	"PATCH /api/v1/campaigns/{id}":             {Summary: "Change a draft or paused campaign; of a running one only the name, daily shares, new senders and texts of steps no prospect reached (else 409 naming what needs a pause)", Body: []string{"application/json"}},
	"POST /api/v1/campaigns/{id}/start":        {Summary: "Start a campaign"},
	"POST /api/v1/campaigns/{id}/pause":        {Summary: "Pause a campaign (manual)"},
	"POST /api/v1/campaigns/{id}/resume":       {Summary: "Resume a paused campaign"},
	"POST /api/v1/campaigns/{id}/prospects":    {Summary: "Import prospects (CSV or JSON); per-row results", Body: []string{"text/csv", "application/json"}},
	"GET /api/v1/campaigns/{id}/enrollments":   {Summary: "List a campaign's enrollments", Query: []string{"limit", "cursor", "state"}},
	"GET /api/v1/campaigns/{id}/diagnosis":     {Summary: "Why isn't this campaign sending?", Response: "Diagnosis"},
	"GET /api/v1/campaigns/{id}/forecast":      {Summary: "Expected actions per day, what limits them, and the finish date (days: 1-90, default 30)", Query: []string{"days"}},
	"GET /api/v1/campaigns/{id}/stats":         {Summary: statsSummary, Query: []string{"days"}, Response: "CampaignStats"},
	"GET /api/v1/sends":                        {Summary: "List the workspace's sends whose outcome is unknown (state=unknown is required)", Query: []string{"state", "limit", "cursor"}},
	"POST /api/v1/sends/{id}/settle":           {Summary: "Settle an unknown send by hand: {\"outcome\": \"sent\"|\"not_sent\"}", Body: []string{"application/json"}},
	"POST /api/v1/webhooks":                    {Summary: "Create an outbound webhook endpoint; the secret is shown once", Body: []string{"application/json"}},
	"GET /api/v1/webhooks":                     {Summary: "List outbound webhook endpoints"},
	"GET /api/v1/do-not-contact":               {Summary: "List the workspace's do-not-contact list", Query: []string{"limit", "cursor"}},
	"POST /api/v1/do-not-contact":              {Summary: "Add do-not-contact entries (JSON {\"entries\": [...]} or CSV); per-row results; ends the listed people's live enrollments", Body: []string{"text/csv", "application/json"}},
	"DELETE /api/v1/do-not-contact/{id}":       {Summary: "Remove a do-not-contact entry"},
	"GET /api/v1/conversations":                {Summary: "The workspace's conversations, newest message first (filters: account_id, campaign_id, unread, q)", Query: []string{"limit", "cursor", "account_id", "campaign_id", "unread", "q"}},
	"GET /api/v1/conversations/{id}/messages":  {Summary: "A conversation's messages, oldest first", Query: []string{"limit", "cursor"}},
	"POST /api/v1/conversations/{id}/messages": {Summary: "Reply in a conversation through the send ledger: 202 with the ledger row, 409 while the account may not send, 422 for empty or oversize text", Body: []string{"application/json"}},
	"GET /api/v1/workspace":                    {Summary: "The token's workspace and its settings (recontact_cooloff_days: days, or \"never\")"},
	"PATCH /api/v1/workspace":                  {Summary: "Change the workspace's settings: {\"recontact_cooloff_days\": 0-3650 | \"never\"}", Body: []string{"application/json"}},
	"DELETE /api/v1/webhooks/{id}":             {Summary: "Delete an outbound webhook endpoint"},
	"GET /api/v1/webhooks/deliveries":          {Summary: "Recent outbound webhook deliveries"},
}

// OpenAPI builds the OpenAPI 3.1 document of the routes this server has
// registered (documented operations of routes not registered are left out,
// and a test fails on registered routes without documentation).
func (s *Server) OpenAPI() map[string]any {
	paths := map[string]any{}
	registered := s.Routes()
	sort.Strings(registered)
	for _, pattern := range registered {
		method, path, _ := strings.Cut(pattern, " ")
		op, ok := operations[pattern]
		if !ok {
			op = operation{Summary: "(undocumented)"}
		}
		item, _ := paths[path].(map[string]any)
		if item == nil {
			item = map[string]any{}
			paths[path] = item
		}
		params := []any{}
		if strings.Contains(path, "{id}") {
			params = append(params, map[string]any{"name": "id", "in": "path", "required": true, "schema": map[string]any{"type": "string"}})
		}
		for _, q := range op.Query {
			params = append(params, map[string]any{"name": q, "in": "query", "required": false, "schema": map[string]any{"type": "string"}})
		}
		body := map[string]any{}
		o := map[string]any{
			"summary":     op.Summary,
			"operationId": strings.ToLower(method) + strings.NewReplacer("/api/v1", "", "/", "_", "{", "", "}", "").Replace(path),
			"parameters":  params,
			"responses": map[string]any{
				"200":     map[string]any{"description": "OK", "content": map[string]any{"application/json": body}},
				"default": map[string]any{"$ref": "#/components/responses/Problem"},
			},
		}
		// The least role a token needs (docs/teams.md#roles); a weaker one
		// is refused with 403.
		o["x-keel-min-role"] = string(role.Needed(method + " " + path))
		if method != "GET" {
			o["responses"].(map[string]any)["403"] = map[string]any{"$ref": "#/components/responses/Problem"}
		}
		if op.Response != "" {
			o["responses"].(map[string]any)["200"] = map[string]any{"description": "OK", "content": map[string]any{
				"application/json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/" + op.Response}}}}
		}
		if len(op.Body) > 0 {
			content := map[string]any{}
			for _, mt := range op.Body {
				content[mt] = map[string]any{}
				if op.BodySchema != "" && mt == "application/json" {
					content[mt] = map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/" + op.BodySchema}}
				}
			}
			o["requestBody"] = map[string]any{"required": true, "content": content}
		}
		item[strings.ToLower(method)] = o
	}
	return map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{"title": "Keel API", "version": "1",
			"description": "Workspace-scoped JSON API. Another workspace's object answers 404. Errors are application/problem+json."},
		"paths":    paths,
		"security": []any{map[string]any{"bearer": []any{}}},
		"components": map[string]any{
			"securitySchemes": map[string]any{"bearer": map[string]any{"type": "http", "scheme": "bearer"}},
			"schemas":         allSchemas(),
			"responses": map[string]any{"Problem": map[string]any{"description": "An error",
				"content": map[string]any{"application/problem+json": map[string]any{"schema": map[string]any{
					"type": "object", "required": []any{"type", "title", "status", "detail"},
					"properties": map[string]any{"type": map[string]any{"type": "string"}, "title": map[string]any{"type": "string"},
						"status": map[string]any{"type": "integer"}, "detail": map[string]any{"type": "string"}}}}}}},
		},
	}
}

func (s *Server) serveOpenAPI(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.OpenAPI())
}

// Documented reports whether a route pattern has documentation.
func Documented(pattern string) bool {
	_, ok := operations[pattern]
	return ok
}

// str, num and boolean are schema fragments.
var (
	str     = map[string]any{"type": "string"}
	num     = map[string]any{"type": "integer"}
	boolean = map[string]any{"type": "boolean"}
)

// responseSchemas are more documented response bodies (docs/surfaces.md#why-isnt-it-sending).
var responseSchemas = map[string]any{
	"CampaignStats": campaignStatsSchema,
	"Diagnosis": map[string]any{
		"type":     "object",
		"required": []any{"sending", "next_action_at", "findings"},
		"properties": map[string]any{
			"sending": boolean,
			"next_action_at": map[string]any{"type": []any{"string", "null"}, "format": "date-time",
				"description": "UTC. The earliest time the campaign or account acts without anyone doing anything; null when nothing will."},
			"headline": map[string]any{"type": "string",
				"description": "The one line the UI leads with: \"Sending — next invitation from … at 14:32 (Europe/Paris)\" or \"Not sending: …\"; times in the sender's zone."},
			"findings": map[string]any{"type": "array", "items": map[string]any{
				"type":     "object",
				"required": []any{"code", "severity", "message", "clears_at"},
				"properties": map[string]any{
					"code":     str,
					"severity": map[string]any{"type": "string", "enum": []any{"blocking", "limiting", "info"}},
					"message":  map[string]any{"type": "string", "description": "A sentence for people; times in it are in the sender's zone."},
					"clears_at": map[string]any{"type": []any{"string", "null"}, "format": "date-time",
						"description": "UTC. When the finding clears; for pacing, when the sender may act next. Null when unknown."},
				}}},
		},
	},
	"Limits": map[string]any{
		"type":     "object",
		"required": []any{"items"},
		"properties": map[string]any{"items": map[string]any{"type": "array", "items": map[string]any{
			"type":     "object",
			"required": []any{"action", "period", "cap", "binding", "used", "remaining", "resets_at"},
			"properties": map[string]any{
				"action": str, "period": str, "cap": num, "binding": str, "used": num, "remaining": num,
				"resets_at": map[string]any{"type": []any{"string", "null"}, "format": "date-time",
					"description": "UTC. When usage next goes down; null while nothing of the window is used."},
			}}}},
	},
}

// allSchemas is every documented shape, for components.schemas.
func allSchemas() map[string]any {
	out := make(map[string]any, len(schemas)+len(responseSchemas))
	for _, m := range []map[string]any{schemas, responseSchemas} {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}
