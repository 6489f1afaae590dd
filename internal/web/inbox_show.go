package web

import (
	"errors"
	"net/http"
	"time"

	"github.com/keel-outreach/keel/internal/inbox"
	"github.com/keel-outreach/keel/internal/send"
)

// MaxThreadShown is how many messages a thread page shows (the latest).
const MaxThreadShown = 500

type threadData struct {
	Conversation inbox.Conversation
	Messages     []inbox.Message
	// Replies are the replies typed in Keel; those not yet confirmed show
	// with their state.
	Replies []send.SendInfo
	// Steps are the campaign's sends to the person that led here.
	Steps                     []send.SendInfo
	SenderName, CampaignName  string
	Text, ReplyError, Refusal string
	// RefreshMS is how often the page's script reads the thread again.
	RefreshMS int
}

// conversationPage shows one conversation: its messages, the campaign steps
// that led to it, and a reply box. Opening it marks it read (in Keel).
func (s *Server) conversationPage(w http.ResponseWriter, r *http.Request) {
	s.showConversation(w, r, http.StatusOK, threadData{}, true)
}

func (s *Server) showConversation(w http.ResponseWriter, r *http.Request, status int, d threadData, markRead bool) {
	if s.opts.Inbox == nil {
		http.Error(w, "The inbox is not configured.", http.StatusServiceUnavailable)
		return
	}
	sess := sessionFrom(r)
	ctx := r.Context()
	c, err := s.opts.Inbox.Get(ctx, s.opts.DB.SQL, sess.WorkspaceID, r.PathValue("id"))
	if errors.Is(err, inbox.ErrNotFound) {
		http.NotFound(w, r)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if markRead && c.Unread > 0 {
		if err := s.opts.Inbox.MarkRead(ctx, sess.WorkspaceID, c.ID, true); err != nil {
			s.fail(w, r, err)
			return
		}
		c.Unread = 0
	}
	d.Conversation = c
	d.RefreshMS = s.inboxRefreshMS()
	if d.Messages, _, err = s.opts.Inbox.Messages(ctx, s.opts.DB.SQL, sess.WorkspaceID, c.ID, "", MaxThreadShown); err != nil {
		s.fail(w, r, err)
		return
	}
	if d.Replies, err = send.ConversationReplies(ctx, s.opts.DB.SQL, c.ID); err != nil {
		s.fail(w, r, err)
		return
	}
	if c.ProspectID != "" && c.CampaignID != "" {
		if d.Steps, err = send.ProspectSends(ctx, s.opts.DB.SQL, c.CampaignID, c.ProspectID); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	if a, err := s.opts.Accounts.Get(ctx, s.opts.DB.SQL, sess.WorkspaceID, c.AccountID); err == nil {
		d.SenderName = a.Name
	}
	if c.CampaignID != "" {
		if camp, err := s.opts.Campaigns.Get(ctx, s.opts.DB.SQL, sess.WorkspaceID, c.CampaignID); err == nil {
			d.CampaignName = camp.Name
		}
	}
	title := c.AttendeeName
	if title == "" {
		title = "Conversation"
	}
	s.render(w, r, status, "conversation", page{Title: title, Nav: "inbox", Data: d})
}

// DefaultInboxRefresh is how often an open inbox page reads itself again.
const DefaultInboxRefresh = 15 * time.Second

// inboxRefreshMS is the inbox pages' refresh period in milliseconds.
func (s *Server) inboxRefreshMS() int {
	if s.opts.InboxRefresh > 0 {
		return int(s.opts.InboxRefresh / time.Millisecond)
	}
	return int(DefaultInboxRefresh / time.Millisecond)
}
