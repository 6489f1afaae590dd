package api

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/keel-outreach/keel/internal/inbox"
	"github.com/keel-outreach/keel/internal/send"
)

// registerInboxRoutes serves the workspace's conversations
// (docs/inbox.md): newest first, filtered by sender, campaign and unread.
func (s *Server) registerInboxRoutes() {
	s.handle("GET /api/v1/conversations", s.withInbox(s.listConversations))
	s.handle("GET /api/v1/conversations/{id}/messages", s.withInbox(s.listConversationMessages))
	s.handle("POST /api/v1/conversations/{id}/messages", s.withInbox(s.replyInConversation))
}

// withInbox answers 503 when the installation runs without the inbox.
func (s *Server) withInbox(h func(w http.ResponseWriter, r *http.Request, p principal)) func(w http.ResponseWriter, r *http.Request, p principal) {
	return func(w http.ResponseWriter, r *http.Request, p principal) {
		if s.opts.Inbox == nil {
			Problem(w, http.StatusServiceUnavailable, "unavailable", "the inbox is not configured")
			return
		}
		h(w, r, p)
	}
}

func (s *Server) listConversations(w http.ResponseWriter, r *http.Request, p principal) {
	limit, cursor, err := page(r)
	if err != nil {
		Problem(w, http.StatusBadRequest, "bad request", err.Error())
		return
	}
	q := r.URL.Query()
	f := inbox.Filter{AccountID: q.Get("account_id"), CampaignID: q.Get("campaign_id"), Search: q.Get("q"), After: cursor, Limit: limit}
	if v := q.Get("unread"); v != "" {
		unread, err := strconv.ParseBool(v)
		if err != nil {
			Problem(w, http.StatusBadRequest, "bad request", "unread must be true or false")
			return
		}
		f.Unread = unread
	}
	list, next, err := s.opts.Inbox.List(r.Context(), s.opts.DB.SQL, p.WorkspaceID, f)
	if errors.Is(err, inbox.ErrBadCursor) {
		Problem(w, http.StatusBadRequest, "bad request", err.Error())
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	if list == nil {
		list = []inbox.Conversation{}
	}
	writeJSON(w, http.StatusOK, listResponse[inbox.Conversation]{Items: list, NextCursor: next})
}

func (s *Server) listConversationMessages(w http.ResponseWriter, r *http.Request, p principal) {
	limit, cursor, err := page(r)
	if err != nil {
		Problem(w, http.StatusBadRequest, "bad request", err.Error())
		return
	}
	list, next, err := s.opts.Inbox.Messages(r.Context(), s.opts.DB.SQL, p.WorkspaceID, r.PathValue("id"), cursor, limit)
	switch {
	case errors.Is(err, inbox.ErrNotFound):
		Problem(w, http.StatusNotFound, "not found", "no such conversation")
		return
	case errors.Is(err, inbox.ErrBadCursor):
		Problem(w, http.StatusBadRequest, "bad request", err.Error())
		return
	case err != nil:
		s.internal(w, r, err)
		return
	}
	if list == nil {
		list = []inbox.Message{}
	}
	writeJSON(w, http.StatusOK, listResponse[inbox.Message]{Items: list, NextCursor: next})
}

// replyInConversation sends a reply through the ledger
// (docs/inbox.md#replying): 202 with the ledger row; 422 naming text when
// it is empty or too long; 409 with the policy's sentence while the
// account may not send (nothing is stored: the text stays with the
// caller).
func (s *Server) replyInConversation(w http.ResponseWriter, r *http.Request, p principal) {
	var body replyRequest
	if !decodeBody(w, r, &body) {
		return
	}
	c, err := s.opts.Inbox.Get(r.Context(), s.opts.DB.SQL, p.WorkspaceID, r.PathValue("id"))
	if errors.Is(err, inbox.ErrNotFound) {
		Problem(w, http.StatusNotFound, "not found", "no such conversation")
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	if s.opts.Sender == nil {
		Problem(w, http.StatusServiceUnavailable, "unavailable", "sending is not configured")
		return
	}
	info, err := s.opts.Sender.Reply(r.Context(), send.ReplyRequest{WorkspaceID: p.WorkspaceID, AccountID: c.AccountID,
		ConversationID: c.ID, ChatID: c.ProviderChatID, ProspectID: c.ProspectID, Text: body.Text})
	var refused *send.RefusedError
	switch {
	case errors.Is(err, send.ErrReplyText):
		invalid(w, "invalid reply", "text: "+err.Error(), []fieldError{{Field: "text", Message: err.Error()}})
	case errors.As(err, &refused):
		Problem(w, http.StatusConflict, refused.Verdict.Code, refused.Verdict.Message)
	case err != nil:
		s.internal(w, r, err)
	default:
		writeJSON(w, http.StatusAccepted, info)
	}
}
