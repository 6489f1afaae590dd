package api

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/alert"
	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/connect"
	"github.com/keel-outreach/keel/internal/diagnose"
	"github.com/keel-outreach/keel/internal/forecast"
	"github.com/keel-outreach/keel/internal/inbox"
	"github.com/keel-outreach/keel/internal/outbound"
	"github.com/keel-outreach/keel/internal/send"
	"github.com/keel-outreach/keel/internal/workspace"
)

// operation documents one route. The OpenAPI document is generated from
// this table (schema.go), and a test keeps the table equal to the routes
// actually registered.
type operation struct {
	Summary string
	// Body names the request body media types, if any.
	Body []string
	// Query lists query parameters.
	Query []string
	// Request is a value of the type the JSON request body decodes into;
	// its schema is generated from the type.
	Request any
	// Status is the success status (0 means 200).
	Status int
	// Response is a value of the type the success answer encodes (nil:
	// no body, as for 204).
	Response any
}

// notes are hand-written documentation (descriptions, defaults, bounds,
// enums) laid over the generated schemas of the same name; they add no
// field (see annotate).
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
			"tags":                map[string]any{"type": "array", "items": map[string]any{"type": "string"}, "description": "The account's tags, alphabetically."},
			"settings_updated_by": map[string]any{"type": "string", "description": "who last saved the settings (user:<email>, token:<id>, cli); empty if never"},
		}},
	"AccountTags": map[string]any{"type": "object", "required": []any{"tags"},
		"description": "The whole tag set (docs/accounts.md, Tags): each 1-32 characters of a-z, 0-9, '-' and '_' after trimming, lowercasing and inner spaces as '-'.",
		"properties":  map[string]any{"tags": map[string]any{"type": "array", "maxItems": account.MaxTagsPerAccount, "items": map[string]any{"type": "string"}}}},
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
	"GET /api/v1/accounts": {Summary: "List the workspace's LinkedIn accounts (tag: only those carrying it)", Query: []string{"limit", "cursor", "tag"},
		Response: listResponse[account.Account]{}},
	"PUT /api/v1/accounts/{id}/tags": {Summary: "Replace the account's tags with {\"tags\": [...]} (at most 10; each normalized); a bad tag: 422 naming every tags[i], nothing changed",
		Body: []string{"application/json"}, Request: accountTagsBody{}, Response: account.Account{}},
	"GET /api/v1/accounts/{id}": {Summary: "Get one account", Response: account.Account{}},
	"PATCH /api/v1/accounts/{id}": {Summary: "Change an account's tier, timezone, sending window, caps (including pending invitations and withdrawals per day), pacing or withdraw-after days",
		Body: []string{"application/json"}, Request: account.SettingsPatch{}, Response: account.Account{}},
	"GET /api/v1/accounts/{id}/audit":          {Summary: "The account's status-flip history, newest first", Response: listResponse[account.AuditEntry]{}},
	"POST /api/v1/accounts/connect":            {Summary: "Start connecting a LinkedIn account; returns the hosted-auth link", Response: linkResponse{}},
	"POST /api/v1/accounts/{id}/reconnect":     {Summary: "Start reconnecting an account; returns the hosted-auth link", Response: linkResponse{}},
	"POST /api/v1/accounts/{id}/inmail/top-up": {Summary: "Clear the account's InMail credits breaker after a top-up (recorded with the token); parked prospects are looked at again", Response: send.TopUp{}},
	"POST /api/v1/accounts/sync":               {Summary: "Import the accounts Unipile lists", Response: connect.SyncReport{}},
	"GET /api/v1/accounts/{id}/limits":         {Summary: "Per action: effective cap, what binds it, used, remaining, reset time", Response: limitsResponse[send.Limit]{}},
	"GET /api/v1/accounts/{id}/diagnosis":      {Summary: "Why isn't this account sending?", Response: diagnose.Report{}},
	"GET /api/v1/alerts":                       {Summary: "The workspace's and the installation's admin alerts", Query: []string{"open", "limit", "cursor"}, Response: listResponse[alert.Alert]{}},
	"POST /api/v1/alerts/{id}/ack":             {Summary: "Acknowledge one of the workspace's alerts (installation-wide alerts answer 403: operators acknowledge them)", Response: alert.Alert{}},
	"POST /api/v1/campaigns":                   {Summary: "Create a campaign (draft)", Body: []string{"application/json"}, Request: campaign.Input{}, Status: http.StatusCreated, Response: campaign.Campaign{}},
	"GET /api/v1/campaigns":                    {Summary: "List campaigns", Query: []string{"limit", "cursor", "status"}, Response: listResponse[campaign.Campaign]{}},
	"GET /api/v1/campaigns/{id}":               {Summary: "Get one campaign", Response: campaign.Campaign{}},
	"PATCH /api/v1/campaigns/{id}": {Summary: "Change a draft or paused campaign; of a running one only the name, daily shares, new senders and texts of steps no prospect reached (else 409 naming what needs a pause)",
		Body: []string{"application/json"}, Request: campaign.Input{}, Response: campaign.Campaign{}},
	"POST /api/v1/campaigns/{id}/start":  {Summary: "Start a campaign", Response: campaign.Campaign{}},
	"POST /api/v1/campaigns/{id}/pause":  {Summary: "Pause a campaign (manual)", Response: campaign.Campaign{}},
	"POST /api/v1/campaigns/{id}/resume": {Summary: "Resume a paused campaign", Response: campaign.Campaign{}},
	"POST /api/v1/campaigns/{id}/prospects": {Summary: "Import prospects (CSV or JSON); per-row results", Body: []string{"text/csv", "application/json"},
		Request: prospectsRequest{}, Response: campaign.ImportResult{}},
	"GET /api/v1/campaigns/{id}/enrollments": {Summary: "List a campaign's enrollments", Query: []string{"limit", "cursor", "state"}, Response: listResponse[campaign.Enrollment]{}},
	"GET /api/v1/campaigns/{id}/diagnosis":   {Summary: "Why isn't this campaign sending?", Response: diagnose.Report{}},
	"GET /api/v1/campaigns/{id}/forecast":    {Summary: "Expected actions per day, what limits them, and the finish date (days: 1-90, default 30)", Query: []string{"days"}, Response: forecast.Forecast{}},
	"GET /api/v1/campaigns/{id}/stats":       {Summary: statsSummary, Query: []string{"days"}, Response: send.Stats{}},
	"GET /api/v1/sends":                      {Summary: "List the workspace's sends whose outcome is unknown (state=unknown is required)", Query: []string{"state", "limit", "cursor"}, Response: listResponse[send.SendInfo]{}},
	"POST /api/v1/sends/{id}/settle": {Summary: "Settle an unknown send by hand: {\"outcome\": \"sent\"|\"not_sent\"}", Body: []string{"application/json"},
		Request: settleRequest{}, Response: send.SendInfo{}},
	"POST /api/v1/webhooks": {Summary: "Create an outbound webhook endpoint; the secret is shown once", Body: []string{"application/json"},
		Request: createWebhookRequest{}, Status: http.StatusCreated, Response: createdWebhook{}},
	"GET /api/v1/webhooks":       {Summary: "List outbound webhook endpoints", Response: listResponse[outbound.Endpoint]{}},
	"GET /api/v1/do-not-contact": {Summary: "List the workspace's do-not-contact list", Query: []string{"limit", "cursor"}, Response: listResponse[campaign.DNCEntry]{}},
	"POST /api/v1/do-not-contact": {Summary: "Add do-not-contact entries (JSON {\"entries\": [...]} or CSV); per-row results; ends the listed people's live enrollments",
		Body: []string{"text/csv", "application/json"}, Request: dncRequest{}, Response: campaign.DNCResult{}},
	"DELETE /api/v1/do-not-contact/{id}": {Summary: "Remove a do-not-contact entry", Status: http.StatusNoContent},
	"GET /api/v1/do-not-contact/removals": {Summary: "Entries taken off the do-not-contact list, newest removal first, with who removed each; a cursor this list did not return: 400",
		Query: []string{"limit", "cursor"}, Response: listResponse[campaign.DNCRemoval]{}},
	"GET /api/v1/conversations": {Summary: "The workspace's conversations, newest message first (filters: account_id, campaign_id, unread, q)",
		Query: []string{"limit", "cursor", "account_id", "campaign_id", "unread", "q"}, Response: listResponse[inbox.Conversation]{}},
	"GET /api/v1/conversations/{id}/messages": {Summary: "A conversation's messages, oldest first", Query: []string{"limit", "cursor"}, Response: listResponse[inbox.Message]{}},
	"POST /api/v1/conversations/{id}/messages": {Summary: "Reply in a conversation through the send ledger: 202 with the ledger row, 409 while the account may not send, 422 for empty or oversize text",
		Body: []string{"application/json"}, Request: replyRequest{}, Status: http.StatusAccepted, Response: send.SendInfo{}},
	"GET /api/v1/workspace": {Summary: "The token's workspace and its settings (recontact_cooloff_days: days, or \"never\")", Response: workspace.Settings{}},
	"PATCH /api/v1/workspace": {Summary: "Change the workspace's settings: {\"recontact_cooloff_days\": 0-3650 | \"never\"}", Body: []string{"application/json"},
		Request: workspacePatch{}, Response: workspace.Settings{}},
	"DELETE /api/v1/webhooks/{id}":    {Summary: "Delete an outbound webhook endpoint", Status: http.StatusNoContent},
	"GET /api/v1/webhooks/deliveries": {Summary: "Recent outbound webhook deliveries", Query: []string{"limit"}, Response: listResponse[outbound.Delivery]{}},
}

// OpenAPIDocument generates the OpenAPI 3.1 document of the routes this
// server has registered from the operations table and the Go types it
// names (documented operations of routes not registered are left out,
// and a test fails on registered routes without documentation).
func (s *Server) OpenAPIDocument() (*openapi3.T, error) {
	return buildDocument(s.Routes())
}

// OpenAPI is the document as generic JSON, as /api/openapi.json serves it.
// It panics if the document cannot be generated, which the tests catch.
func (s *Server) OpenAPI() map[string]any {
	doc, err := s.OpenAPIDocument()
	if err != nil {
		panic(fmt.Sprintf("generating the OpenAPI document: %v", err))
	}
	raw, err := json.Marshal(doc)
	if err != nil {
		panic(fmt.Sprintf("encoding the OpenAPI document: %v", err))
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		panic(fmt.Sprintf("decoding the OpenAPI document: %v", err))
	}
	return out
}

func (s *Server) serveOpenAPI(w http.ResponseWriter, r *http.Request) {
	doc, err := s.OpenAPIDocument()
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, doc)
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

// notes are the hand-written notes by component name; a note for a
// patch shape documents the same fields as the stored shape.
var notes = func() map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, m := range []map[string]any{schemas, responseSchemas} {
		for k, v := range m {
			out[k] = v.(map[string]any)
		}
	}
	out["CapsPatch"] = out["Caps"]
	out["PacingPatch"] = out["Pacing"]
	// The first audit entry records the creation: no status before it.
	from := append(anys(account.Statuses), "")
	for i, v := range from {
		from[i] = fmt.Sprint(v)
	}
	out["AuditEntryList"] = map[string]any{"properties": map[string]any{"items": map[string]any{"items": map[string]any{
		"properties": map[string]any{"from": map[string]any{"enum": from,
			"description": "The status before the change; empty for the entry that records the account's creation."}}}}}}
	out["DNCRemovalList"] = map[string]any{
		"description": "Entries taken off the do-not-contact list, newest removal first (docs/teams.md, Who changed what).",
		"properties": map[string]any{"items": map[string]any{"items": map[string]any{"properties": map[string]any{
			"entry_id":   map[string]any{"description": "The id the entry had on the list."},
			"entry":      map[string]any{"description": "What the entry named: its profile URL, provider id or company page URL."},
			"created_by": map[string]any{"description": "Who had added the entry (user:<email>, token:<id>, cli)."},
			"removed_by": map[string]any{"description": "Who removed it (user:<email>, token:<id>, cli)."},
			"removed_at": map[string]any{"description": "UTC. When it was removed."},
		}}}}}
	out["Settle"] = map[string]any{"properties": map[string]any{"outcome": map[string]any{"enum": []any{"sent", "not_sent"}}}}
	return out
}()
