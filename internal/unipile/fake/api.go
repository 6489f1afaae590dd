package fake

import (
	"cmp"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// maxInviteNote is Unipile's limit on invitation notes, in characters.
const maxInviteNote = 300

// withdrawCooldown is how long LinkedIn refuses to re-invite someone after an
// invitation was withdrawn (operators report two to three weeks).
const withdrawCooldown = 21 * 24 * time.Hour

// decodeJSON reads a JSON request body into v, answering 400 itself when the
// body is not JSON.
func (x *exchange) decodeJSON(v any) bool {
	mt, _, _ := mime.ParseMediaType(x.r.Header.Get("Content-Type"))
	if mt != "application/json" {
		x.writeError(http.StatusBadRequest, "errors/malformed_request", "", "Expected an application/json body.")
		return false
	}
	b, err := io.ReadAll(io.LimitReader(x.r.Body, 1<<20))
	if err == nil {
		err = json.Unmarshal(b, v)
	}
	if err != nil {
		x.writeError(http.StatusBadRequest, "errors/malformed_request", "", "The JSON body could not be parsed.")
		return false
	}
	return true
}

// parseMultipart reads a multipart/form-data body, answering 400 itself
// otherwise. POST /chats and POST /chats/{id}/messages take only this form.
func (x *exchange) parseMultipart() bool {
	mt, _, _ := mime.ParseMediaType(x.r.Header.Get("Content-Type"))
	if mt != "multipart/form-data" {
		x.writeError(http.StatusBadRequest, "errors/malformed_request", "", "Expected a multipart/form-data body.")
		return false
	}
	if err := x.r.ParseMultipartForm(32 << 20); err != nil {
		x.writeError(http.StatusBadRequest, "errors/malformed_request", "", "The multipart body could not be parsed.")
		return false
	}
	return true
}

// formValue returns the first value of a multipart field.
func (x *exchange) formValue(name string) string {
	if x.r.MultipartForm == nil {
		return ""
	}
	if v := x.r.MultipartForm.Value[name]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// page cuts n items into the page the request asks for (limit, cursor).
// Cursors are opaque offsets.
func (x *exchange) page(n, defLimit, maxLimit int) (start, end int, cursor any, ok bool) {
	q := x.r.URL.Query()
	limit := defLimit
	if v := q.Get("limit"); v != "" {
		l, err := strconv.Atoi(v)
		if err != nil || l < 1 || l > maxLimit {
			x.writeError(http.StatusBadRequest, "errors/invalid_parameters", "", fmt.Sprintf("limit must be between 1 and %d.", maxLimit))
			return 0, 0, nil, false
		}
		limit = l
	}
	if c := q.Get("cursor"); c != "" {
		raw, err := base64.RawURLEncoding.DecodeString(c)
		off, perr := strconv.Atoi(strings.TrimPrefix(string(raw), "o:"))
		if err != nil || perr != nil || !strings.HasPrefix(string(raw), "o:") || off < 0 {
			x.writeError(http.StatusBadRequest, "errors/invalid_parameters", "", "cursor is invalid.")
			return 0, 0, nil, false
		}
		start = min(off, n)
	}
	end = min(start+limit, n)
	if end < n {
		cursor = base64.RawURLEncoding.EncodeToString([]byte("o:" + strconv.Itoa(end)))
	}
	return start, end, cursor, true
}

// listReply writes a {"object","items","cursor"} page of items.
func (x *exchange) listReply(object string, items []any, defLimit, maxLimit int) {
	start, end, cursor, ok := x.page(len(items), defLimit, maxLimit)
	if !ok {
		return
	}
	page := items[start:end]
	if page == nil {
		page = []any{}
	}
	x.reply(http.StatusOK, map[string]any{"object": object, "items": page, "cursor": cursor})
}

// accountLocked finds the account a request names. With usable set, it also
// refuses accounts that cannot act, the way Unipile does. Callers hold s.mu.
func (s *Server) accountLocked(id string, usable bool) (*account, *apiErr) {
	if id == "" {
		return nil, &apiErr{status: http.StatusBadRequest, typ: "errors/missing_parameters", detail: "account_id is required."}
	}
	a, ok := s.accounts[id]
	if !ok {
		return nil, &apiErr{status: http.StatusNotFound, typ: "errors/resource_not_found"}
	}
	if !usable {
		return a, nil
	}
	switch {
	case a.restricted:
		return nil, &apiErr{status: http.StatusForbidden, typ: "errors/account_restricted"}
	case a.status == "CREDENTIALS":
		return nil, &apiErr{status: http.StatusUnauthorized, typ: "errors/disconnected_account"}
	case a.status == "PERMISSIONS":
		return nil, &apiErr{status: http.StatusForbidden, typ: "errors/insufficient_permissions"}
	case a.status != "OK":
		return nil, &apiErr{status: http.StatusServiceUnavailable, typ: "errors/no_client_session"}
	}
	return a, nil
}

// accountJSON renders an account like GET /accounts/{id}.
func accountJSON(a *account) map[string]any {
	features := []string{}
	if a.credits != nil {
		features = append(features, "premium")
	}
	return map[string]any{
		"object":     "Account",
		"id":         a.id,
		"name":       a.name,
		"type":       "LINKEDIN",
		"created_at": isoMillis(a.createdAt),
		"connection_params": map[string]any{"im": map[string]any{
			"id":                a.memberID,
			"publicIdentifier":  a.publicID,
			"username":          a.name,
			"connection_method": "credentials",
			"premiumId":         nil,
			"premiumFeatures":   features,
			"premiumContractId": nil,
			"organizations":     []any{},
			"proxy":             map[string]any{"country": "FR"},
		}},
		"sources": []any{map[string]any{"id": a.id + "_MESSAGING", "status": a.status}},
		"groups":  []any{},
	}
}

func (s *Server) handleListAccounts(x *exchange) {
	if !x.admit() {
		return
	}
	s.mu.Lock()
	items := make([]any, 0, len(s.acctOrder))
	for _, id := range s.acctOrder {
		items = append(items, accountJSON(s.accounts[id]))
	}
	s.mu.Unlock()
	x.listReply("AccountList", items, 100, 250)
}

func (s *Server) handleGetAccount(x *exchange) {
	x.setAccount(x.r.PathValue("id"))
	if !x.admit() {
		return
	}
	s.mu.Lock()
	a, e := s.accountLocked(x.r.PathValue("id"), false)
	var body map[string]any
	if e == nil {
		body = accountJSON(a)
	}
	s.mu.Unlock()
	if e != nil {
		x.fail(e)
		return
	}
	x.reply(http.StatusOK, body)
}

func (s *Server) handleDeleteAccount(x *exchange) {
	id := x.r.PathValue("id")
	x.setAccount(id)
	if !x.admit() {
		return
	}
	s.mu.Lock()
	ok := s.deleteAccountLocked(id)
	if ok {
		x.markApplied()
	}
	s.mu.Unlock()
	if !ok {
		x.writeError(http.StatusNotFound, "errors/resource_not_found", "", "")
		return
	}
	x.reply(http.StatusOK, map[string]any{"object": "AccountDeleted"})
}

// handleRestart restarts STOPPED, ERROR or CONNECTING accounts into OK (with
// an OK webhook, since that is a real transition). OK accounts emit nothing;
// CREDENTIALS and PERMISSIONS stay as they are, since a restart cannot fix
// them.
func (s *Server) handleRestart(x *exchange) {
	id := x.r.PathValue("id")
	x.setAccount(id)
	if !x.admit() {
		return
	}
	s.mu.Lock()
	a, e := s.accountLocked(id, false)
	if e == nil {
		switch a.status {
		case "STOPPED", "ERROR", "CONNECTING":
			a.status = "OK"
			s.emitAccountStatusLocked(a.id, "OK")
		}
		x.markApplied()
	}
	s.mu.Unlock()
	if e != nil {
		x.fail(e)
		return
	}
	x.reply(http.StatusOK, map[string]any{"object": "AccountRestarted"})
}

// webhookSources are the sources POST /webhooks accepts.
var webhookSources = map[string]bool{
	"messaging": true, "account_status": true, "users": true, "email": true, "email_tracking": true, "calendar_event": true,
}

func (s *Server) handleCreateWebhook(x *exchange) {
	var body struct {
		RequestURL string          `json:"request_url"`
		Source     string          `json:"source"`
		Name       string          `json:"name"`
		Format     string          `json:"format"`
		AccountIDs []string        `json:"account_ids"`
		Enabled    *bool           `json:"enabled"`
		Headers    []headerKV      `json:"headers"`
		Events     []string        `json:"events"`
		Data       json.RawMessage `json:"data"`
	}
	if !x.decodeJSON(&body) {
		return
	}
	if !x.admit() {
		return
	}
	switch {
	case body.RequestURL == "" || body.Source == "":
		x.writeError(http.StatusBadRequest, "errors/missing_parameters", "", "request_url and source are required.")
		return
	case !webhookSources[body.Source]:
		x.writeError(http.StatusBadRequest, "errors/invalid_parameters", "", "source is not a known webhook source.")
		return
	case !absoluteHTTPURL(body.RequestURL):
		x.writeError(http.StatusBadRequest, "errors/invalid_url", "", "")
		return
	case body.Format != "" && body.Format != "json" && body.Format != "form":
		x.writeError(http.StatusBadRequest, "errors/invalid_parameters", "", "format must be json or form.")
		return
	}
	w := &webhook{
		id:         randomID(),
		name:       body.Name,
		source:     body.Source,
		requestURL: body.RequestURL,
		format:     body.Format,
		accountIDs: body.AccountIDs,
		enabled:    body.Enabled == nil || *body.Enabled,
		headers:    body.Headers,
		events:     body.Events,
		data:       body.Data,
	}
	if w.format == "" {
		w.format = "json"
	}
	s.mu.Lock()
	s.webhooks = append(s.webhooks, w)
	x.markApplied()
	s.mu.Unlock()
	x.reply(http.StatusCreated, map[string]any{"object": "WebhookCreated", "webhook_id": w.id})
}

func (s *Server) handleListWebhooks(x *exchange) {
	if !x.admit() {
		return
	}
	s.mu.Lock()
	items := make([]any, 0, len(s.webhooks))
	for _, w := range s.webhooks {
		items = append(items, w.json())
	}
	s.mu.Unlock()
	x.listReply("WebhookList", items, 100, 250)
}

func (s *Server) handleDeleteWebhook(x *exchange) {
	if !x.admit() {
		return
	}
	id := x.r.PathValue("id")
	s.mu.Lock()
	i := slices.IndexFunc(s.webhooks, func(w *webhook) bool { return w.id == id })
	if i >= 0 {
		s.webhooks = slices.Delete(s.webhooks, i, i+1)
		x.markApplied()
	}
	s.mu.Unlock()
	if i < 0 {
		x.writeError(http.StatusNotFound, "errors/resource_not_found", "", "Webhook not found")
		return
	}
	x.reply(http.StatusOK, map[string]any{"object": "WebhookDeleted"})
}

func (s *Server) handleOwnProfile(x *exchange) {
	if !x.admit() {
		return
	}
	s.mu.Lock()
	a, e := s.accountLocked(x.call.AccountID, true)
	var body map[string]any
	if e == nil {
		first, last := namesFromSlug(strings.ReplaceAll(strings.ToLower(a.name), " ", "-"))
		body = map[string]any{
			"object":            "AccountOwnerProfile",
			"provider":          "LINKEDIN",
			"provider_id":       a.memberID,
			"public_identifier": a.publicID,
			"first_name":        first,
			"last_name":         last,
			"premium":           a.credits != nil,
			"open_profile":      false,
			"recruiter":         nil,
			"sales_navigator":   nil,
		}
	}
	s.mu.Unlock()
	if e != nil {
		x.fail(e)
		return
	}
	x.reply(http.StatusOK, body)
}

// handleProfile serves GET /users/{identifier}: a profile visit, logged as
// applied because LinkedIn counts it.
func (s *Server) handleProfile(x *exchange) {
	identifier := x.r.PathValue("identifier")
	x.setRecipient(identifier)
	if !x.admit() {
		return
	}
	s.mu.Lock()
	a, e := s.accountLocked(x.call.AccountID, true)
	var body map[string]any
	if e == nil {
		p := s.resolvePerson(identifier)
		related := s.isRelationLocked(a.id, p.ProviderID)
		distance := "SECOND_DEGREE"
		if related {
			distance = "FIRST_DEGREE"
		}
		body = map[string]any{
			"object":                   "UserProfile",
			"provider":                 "LINKEDIN",
			"provider_id":              p.ProviderID,
			"public_identifier":        p.PublicIdentifier,
			"member_urn":               strconv.Itoa(len(p.ProviderID) * 104729),
			"first_name":               p.FirstName,
			"last_name":                p.LastName,
			"headline":                 p.Headline,
			"location":                 "Sandbox",
			"is_relationship":          related,
			"is_self":                  p.ProviderID == a.memberID,
			"is_premium":               false,
			"is_open_profile":          p.OpenProfile,
			"can_send_inmail":          p.OpenProfile || (a.credits != nil && *a.credits > 0),
			"network_distance":         distance,
			"shared_connections_count": 0,
			"connections_count":        500,
			"follower_count":           500,
			"public_profile_url":       p.profileURL(),
		}
		for _, id := range s.invOrder {
			inv := s.invitations[id]
			if inv.AccountID == a.id && inv.ProviderID == p.ProviderID && inv.State == InvitationPending {
				body["invitation"] = map[string]any{"type": "SENT", "status": "PENDING"}
			}
		}
		x.markApplied()
	}
	s.mu.Unlock()
	if e != nil {
		x.fail(e)
		return
	}
	x.reply(http.StatusOK, body)
}

// handleInvite serves POST /users/invite. Refusals follow the reference:
// 400 too_many_characters, 422 already_connected, 422
// already_invited_recently (pending, or withdrawn within three weeks), 422
// limit_exceeded past Options.InviteDailyLimit.
func (s *Server) handleInvite(x *exchange) {
	var body struct {
		ProviderID string `json:"provider_id"`
		AccountID  string `json:"account_id"`
		Message    string `json:"message"`
		UserEmail  string `json:"user_email"`
	}
	if !x.decodeJSON(&body) {
		return
	}
	x.setAccount(body.AccountID)
	x.setRecipient(body.ProviderID)
	if !x.admit() {
		return
	}
	if body.ProviderID == "" {
		x.writeError(http.StatusBadRequest, "errors/missing_parameters", "", "provider_id is required.")
		return
	}
	s.mu.Lock()
	id, e := s.inviteLocked(x, body.AccountID, body.ProviderID, body.Message)
	s.mu.Unlock()
	if e != nil {
		x.fail(e)
		return
	}
	x.reply(http.StatusOK, map[string]any{"object": "UserInvitationSent", "invitation_id": id})
}

// inviteLocked applies an invitation. Callers hold s.mu.
func (s *Server) inviteLocked(x *exchange, accountID, providerID, note string) (string, *apiErr) {
	if _, e := s.accountLocked(accountID, false); e != nil {
		return "", e
	}
	if utf8.RuneCountInString(note) > maxInviteNote {
		return "", &apiErr{status: http.StatusBadRequest, typ: "errors/too_many_characters"}
	}
	if _, e := s.accountLocked(accountID, true); e != nil {
		return "", e
	}
	p := s.resolvePerson(providerID)
	if s.isRelationLocked(accountID, p.ProviderID) {
		return "", &apiErr{status: http.StatusUnprocessableEntity, typ: "errors/already_connected"}
	}
	now := s.clock.Now()
	today := 0
	for _, id := range s.invOrder {
		inv := s.invitations[id]
		if inv.AccountID != accountID {
			continue
		}
		if inv.ProviderID == p.ProviderID {
			if inv.State == InvitationPending || (inv.State == InvitationWithdrawn && now.Sub(inv.ChangedAt) < withdrawCooldown) {
				return "", &apiErr{status: http.StatusUnprocessableEntity, typ: "errors/already_invited_recently"}
			}
		}
		if sameUTCDay(inv.SentAt, now) {
			today++
		}
	}
	if lim := s.opts.InviteDailyLimit; lim > 0 && today >= lim {
		return "", &apiErr{status: http.StatusUnprocessableEntity, typ: "errors/limit_exceeded"}
	}
	s.seq++
	id := strconv.FormatInt(7_300_000_000_000_000_000+s.seq, 10)
	s.invitations[id] = &invitation{Invitation{
		ID: id, AccountID: accountID, ProviderID: p.ProviderID, Message: note, SentAt: now, State: InvitationPending,
	}}
	s.invOrder = append(s.invOrder, id)
	x.markApplied()
	return id, nil
}

// sameUTCDay compares calendar days in UTC.
func sameUTCDay(a, b time.Time) bool {
	ay, am, ad := a.UTC().Date()
	by, bm, bd := b.UTC().Date()
	return ay == by && am == bm && ad == bd
}

// sentAgo renders LinkedIn's relative "date" text.
func sentAgo(sent, now time.Time) string {
	d := now.Sub(sent)
	days := int(d.Hours() / 24)
	switch {
	case days < 1:
		return "Sent today"
	case days == 1:
		return "Sent 1 day ago"
	case days < 7:
		return fmt.Sprintf("Sent %d days ago", days)
	case days < 14:
		return "Sent 1 week ago"
	case days < 30:
		return fmt.Sprintf("Sent %d weeks ago", days/7)
	case days < 60:
		return "Sent 1 month ago"
	default:
		return fmt.Sprintf("Sent %d months ago", days/30)
	}
}

// handleListSent serves GET /users/invite/sent: pending invitations only,
// newest first. Data stays readable while the account is not OK.
func (s *Server) handleListSent(x *exchange) {
	if !x.admit() {
		return
	}
	s.mu.Lock()
	a, e := s.accountLocked(x.call.AccountID, false)
	var items []any
	if e == nil {
		now := s.clock.Now()
		for i := len(s.invOrder) - 1; i >= 0; i-- {
			inv := s.invitations[s.invOrder[i]]
			if inv.AccountID != a.id || inv.State != InvitationPending {
				continue
			}
			p := s.resolvePerson(inv.ProviderID)
			var text any
			if inv.Message != "" {
				text = inv.Message
			}
			items = append(items, map[string]any{
				"object":                           "InvitationSent",
				"id":                               inv.ID,
				"date":                             sentAgo(inv.SentAt, now),
				"parsed_datetime":                  isoMillis(inv.SentAt),
				"invitation_text":                  text,
				"invited_user":                     p.fullName(),
				"invited_user_id":                  p.ProviderID,
				"invited_user_public_id":           p.PublicIdentifier,
				"invited_user_profile_picture_url": "https://media.licdn.com/dms/image/sandbox/" + p.PublicIdentifier,
				"invited_user_description":         p.Headline,
			})
		}
	}
	s.mu.Unlock()
	if e != nil {
		x.fail(e)
		return
	}
	x.listReply("InvitationList", items, 10, 250)
}

// handleCancelInvitation serves DELETE /users/invite/sent/{id}?account_id=.
func (s *Server) handleCancelInvitation(x *exchange) {
	id := x.r.PathValue("id")
	if !x.admit() {
		return
	}
	s.mu.Lock()
	a, e := s.accountLocked(x.call.AccountID, false)
	if e == nil {
		inv, ok := s.invitations[id]
		if !ok || inv.AccountID != a.id || inv.State != InvitationPending {
			e = &apiErr{status: http.StatusNotFound, typ: "errors/resource_not_found", detail: "Invitation not found"}
		} else {
			inv.State = InvitationWithdrawn
			inv.ChangedAt = s.clock.Now()
			x.markApplied()
		}
	}
	s.mu.Unlock()
	if e != nil {
		x.fail(e)
		return
	}
	x.reply(http.StatusOK, map[string]any{"object": "InvitationCanceled"})
}

// handleListRelations serves GET /users/relations, most recent first, with
// created_at in epoch milliseconds.
func (s *Server) handleListRelations(x *exchange) {
	if !x.admit() {
		return
	}
	s.mu.Lock()
	a, e := s.accountLocked(x.call.AccountID, false)
	var items []any
	if e == nil {
		rels := s.relations[a.id]
		for i := len(rels) - 1; i >= 0; i-- {
			r := rels[i]
			p := s.resolvePerson(r.providerID)
			items = append(items, map[string]any{
				"object":              "UserRelation",
				"connection_urn":      r.connURN,
				"created_at":          r.createdAt.UnixMilli(),
				"first_name":          p.FirstName,
				"last_name":           p.LastName,
				"member_id":           p.ProviderID,
				"member_urn":          "urn:li:fsd_profile:" + p.ProviderID,
				"headline":            p.Headline,
				"public_identifier":   p.PublicIdentifier,
				"public_profile_url":  p.profileURL(),
				"profile_picture_url": "https://media.licdn.com/dms/image/sandbox/" + p.PublicIdentifier,
			})
		}
	}
	s.mu.Unlock()
	if e != nil {
		x.fail(e)
		return
	}
	x.listReply("UserRelationsList", items, 100, 1000)
}

// handleStartChat serves POST /chats (multipart/form-data). Without
// linkedin[inmail]=true every attendee must be a first-degree connection
// (else 422 no_connection_with_recipient); an InMail costs one credit unless
// every attendee has an open profile (else 422 insufficient_credits).
func (s *Server) handleStartChat(x *exchange) {
	if !x.parseMultipart() {
		return
	}
	accountID := x.formValue("account_id")
	attendees := x.r.MultipartForm.Value["attendees_ids"]
	text := x.formValue("text")
	subject := x.formValue("subject")
	api := x.formValue("linkedin[api]")
	inmail := strings.EqualFold(x.formValue("linkedin[inmail]"), "true")
	hasFiles := len(x.r.MultipartForm.File["attachments"]) > 0
	x.setAccount(accountID)
	if len(attendees) > 0 {
		x.setRecipient(attendees[0])
	}
	if inmail {
		x.setAction(ActionInMail)
	}
	if !x.admit() {
		return
	}
	switch {
	case len(attendees) == 0:
		x.writeError(http.StatusBadRequest, "errors/missing_parameters", "", "attendees_ids is required.")
		return
	case text == "" && !hasFiles:
		x.writeError(http.StatusBadRequest, "errors/missing_parameters", "", "text or attachments are required.")
		return
	case api != "" && api != "classic":
		x.writeError(http.StatusForbidden, "errors/feature_not_subscribed", "", "The account has no "+api+" seat.")
		return
	}
	s.mu.Lock()
	c, m, e := s.startChatLocked(x, accountID, attendees, text, subject, inmail)
	s.mu.Unlock()
	if e != nil {
		x.fail(e)
		return
	}
	x.reply(http.StatusCreated, map[string]any{"object": "ChatStarted", "chat_id": c, "message_id": m})
}

// startChatLocked applies a new chat or InMail. Callers hold s.mu.
func (s *Server) startChatLocked(x *exchange, accountID string, attendees []string, text, subject string, inmail bool) (string, string, *apiErr) {
	a, e := s.accountLocked(accountID, true)
	if e != nil {
		return "", "", e
	}
	ids := make([]string, 0, len(attendees))
	allOpen := true
	for _, raw := range attendees {
		p := s.resolvePerson(raw)
		ids = append(ids, p.ProviderID)
		allOpen = allOpen && p.OpenProfile
		if !inmail && !s.isRelationLocked(a.id, p.ProviderID) {
			return "", "", &apiErr{status: http.StatusUnprocessableEntity, typ: "errors/no_connection_with_recipient"}
		}
	}
	if inmail && !allOpen {
		if a.credits == nil || *a.credits <= 0 {
			return "", "", &apiErr{status: http.StatusUnprocessableEntity, typ: "errors/insufficient_credits"}
		}
		*a.credits--
	}
	c := s.chatWithLocked(a.id, ids, inmail)
	m := s.appendMessageLocked(c, a.memberID, text, subject, true)
	x.markApplied()
	s.emitMessageLocked(a, c, m)
	return c.id, m.ID, nil
}

// chatAccount returns the account of a chat, or "".
func (s *Server) chatAccount(chatID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.chats[chatID]; ok {
		return c.accountID
	}
	return ""
}

// handleSendMessage serves POST /chats/{id}/messages (multipart/form-data).
func (s *Server) handleSendMessage(x *exchange) {
	chatID := x.r.PathValue("id")
	x.setAccount(s.chatAccount(chatID))
	if !x.parseMultipart() {
		return
	}
	text := x.formValue("text")
	hasFiles := len(x.r.MultipartForm.File["attachments"]) > 0
	if !x.admit() {
		return
	}
	if text == "" && !hasFiles {
		x.writeError(http.StatusBadRequest, "errors/missing_parameters", "", "text or attachments are required.")
		return
	}
	s.mu.Lock()
	var msgID string
	c, ok := s.chats[chatID]
	var e *apiErr
	if !ok {
		e = &apiErr{status: http.StatusNotFound, typ: "errors/resource_not_found", detail: "Chat not found"}
	} else {
		var a *account
		if a, e = s.accountLocked(c.accountID, true); e == nil {
			m := s.appendMessageLocked(c, a.memberID, text, "", true)
			msgID = m.ID
			x.markApplied()
			s.emitMessageLocked(a, c, m)
		}
	}
	s.mu.Unlock()
	if e != nil {
		x.fail(e)
		return
	}
	x.reply(http.StatusCreated, map[string]any{"object": "MessageSent", "message_id": msgID})
}

// handleListChats serves GET /chats?account_id=, most recently active first.
func (s *Server) handleListChats(x *exchange) {
	if !x.admit() {
		return
	}
	s.mu.Lock()
	a, e := s.accountLocked(x.call.AccountID, false)
	var items []any
	if e == nil {
		var chats []*chat
		for _, id := range s.chatOrder {
			if c := s.chats[id]; c.accountID == a.id {
				chats = append(chats, c)
			}
		}
		slices.SortFunc(chats, func(p, q *chat) int {
			if c := q.updatedAt.Compare(p.updatedAt); c != 0 {
				return c
			}
			return cmp.Compare(q.activity, p.activity)
		})
		for _, c := range chats {
			var contentType any
			if c.inmail {
				contentType = "inmail"
			}
			name := ""
			if len(c.attendees) == 1 {
				name = s.resolvePerson(c.attendees[0]).fullName()
			}
			items = append(items, map[string]any{
				"object":               "Chat",
				"id":                   c.id,
				"account_id":           c.accountID,
				"account_type":         "LINKEDIN",
				"provider_id":          c.providerID,
				"attendee_provider_id": c.attendees[0],
				"name":                 name,
				"type":                 min(len(c.attendees)-1, 1),
				"timestamp":            isoMillis(c.updatedAt),
				"unread_count":         0,
				"content_type":         contentType,
			})
		}
	}
	s.mu.Unlock()
	if e != nil {
		x.fail(e)
		return
	}
	x.listReply("ChatList", items, 100, 250)
}

// handleListMessages serves GET /chats/{id}/messages, newest first, with the
// REST flavour of is_sender (0/1).
func (s *Server) handleListMessages(x *exchange) {
	chatID := x.r.PathValue("id")
	x.setAccount(s.chatAccount(chatID))
	if !x.admit() {
		return
	}
	s.mu.Lock()
	c, ok := s.chats[chatID]
	var items []any
	if ok {
		for i := len(c.messages) - 1; i >= 0; i-- {
			m := c.messages[i]
			msgType := "MESSAGE"
			if m.InMail {
				msgType = "INMAIL"
			}
			isSender := 0
			if m.IsSender {
				isSender = 1
			}
			var subject any
			if m.Subject != "" {
				subject = m.Subject
			}
			items = append(items, map[string]any{
				"object":       "Message",
				"id":           m.ID,
				"chat_id":      c.id,
				"account_id":   c.accountID,
				"provider_id":  "2-" + m.ID,
				"sender_id":    m.SenderID,
				"text":         m.Text,
				"subject":      subject,
				"timestamp":    isoMillis(m.Time),
				"is_sender":    isSender,
				"message_type": msgType,
				"attachments":  []any{},
			})
		}
	}
	s.mu.Unlock()
	if !ok {
		x.writeError(http.StatusNotFound, "errors/resource_not_found", "", "Chat not found")
		return
	}
	x.listReply("MessageList", items, 100, 250)
}

// handleInMailBalance serves GET /linkedin/inmail_balance. The shape
// ({premium, recruiter, sales_navigator}, numbers or null) comes from
// third-party clients; fake accounts only ever have a Premium seat.
func (s *Server) handleInMailBalance(x *exchange) {
	if !x.admit() {
		return
	}
	s.mu.Lock()
	a, e := s.accountLocked(x.call.AccountID, false)
	var premium any
	if e == nil && a.credits != nil {
		premium = *a.credits
	}
	s.mu.Unlock()
	if e != nil {
		x.fail(e)
		return
	}
	x.reply(http.StatusOK, map[string]any{"premium": premium, "recruiter": nil, "sales_navigator": nil})
}
