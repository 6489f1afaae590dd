package web

import (
	"errors"
	"net/http"

	"github.com/keel-outreach/keel/internal/inbox"
	"github.com/keel-outreach/keel/internal/send"
)

// replyInConversation sends a reply typed in the thread through the send
// ledger (docs/inbox.md#replying). A refused or invalid reply shows the
// thread again with the text still in the box.
func (s *Server) replyInConversation(w http.ResponseWriter, r *http.Request) {
	if s.opts.Inbox == nil || s.opts.Sender == nil {
		http.Error(w, "Replying is not configured.", http.StatusServiceUnavailable)
		return
	}
	sess := sessionFrom(r)
	text := r.PostFormValue("text")
	c, err := s.opts.Inbox.Get(r.Context(), s.opts.DB.SQL, sess.WorkspaceID, r.PathValue("id"))
	if errors.Is(err, inbox.ErrNotFound) {
		http.NotFound(w, r)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	_, err = s.opts.Sender.Reply(r.Context(), send.ReplyRequest{WorkspaceID: sess.WorkspaceID, AccountID: c.AccountID,
		ConversationID: c.ID, ChatID: c.ProviderChatID, ProspectID: c.ProspectID, Text: text})
	var refused *send.RefusedError
	switch {
	case errors.Is(err, send.ErrReplyText):
		s.showConversation(w, r, http.StatusUnprocessableEntity, threadData{Text: text, ReplyError: "Write a reply of at most 8,000 characters."}, false)
	case errors.As(err, &refused):
		s.showConversation(w, r, http.StatusConflict, threadData{Text: text, Refusal: "Not sent: " + refused.Verdict.Message}, false)
	case err != nil:
		s.fail(w, r, err)
	default:
		s.flashRedirect(w, r, "/inbox/"+c.ID, "Reply sent.")
	}
}

// markConversation marks a conversation read or unread (in Keel only).
func (s *Server) markConversation(read bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.opts.Inbox == nil {
			http.Error(w, "The inbox is not configured.", http.StatusServiceUnavailable)
			return
		}
		sess := sessionFrom(r)
		err := s.opts.Inbox.MarkRead(r.Context(), sess.WorkspaceID, r.PathValue("id"), read)
		if errors.Is(err, inbox.ErrNotFound) {
			http.NotFound(w, r)
			return
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
		msg := "Marked unread."
		if read {
			msg = "Marked read."
		}
		s.flashRedirect(w, r, "/inbox", msg)
	}
}
