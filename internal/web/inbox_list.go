package web

import (
	"net/http"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/inbox"
)

// InboxPageSize is how many conversations the inbox shows a page.
const InboxPageSize = 50

type inboxData struct {
	Conversations []inbox.Conversation
	Next          string
	Filter        inbox.Filter
	Senders       []account.Account
	Campaigns     []campaign.Campaign
	// Names label senders and campaigns by id.
	SenderNames, CampaignNames map[string]string
	// RefreshMS is how often the page's script reads the list again.
	RefreshMS int
}

// inboxPage lists the workspace's conversations, newest message first,
// filtered by sender, campaign, unread and name (docs/inbox.md).
func (s *Server) inboxPage(w http.ResponseWriter, r *http.Request) {
	if s.opts.Inbox == nil {
		http.Error(w, "The inbox is not configured.", http.StatusServiceUnavailable)
		return
	}
	sess := sessionFrom(r)
	q := r.URL.Query()
	f := inbox.Filter{AccountID: q.Get("account_id"), CampaignID: q.Get("campaign_id"), Unread: q.Get("unread") == "1",
		Search: q.Get("q"), After: q.Get("after"), Limit: InboxPageSize}
	list, next, err := s.opts.Inbox.List(r.Context(), s.opts.DB.SQL, sess.WorkspaceID, f)
	if err == inbox.ErrBadCursor {
		http.Redirect(w, r, "/inbox", http.StatusSeeOther)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := inboxData{Conversations: list, Next: next, Filter: f, SenderNames: map[string]string{}, CampaignNames: map[string]string{},
		RefreshMS: s.inboxRefreshMS()}
	if d.Senders, err = s.opts.Accounts.List(r.Context(), s.opts.DB.SQL, account.ListOptions{WorkspaceID: sess.WorkspaceID, Limit: 1000}); err != nil {
		s.fail(w, r, err)
		return
	}
	for _, a := range d.Senders {
		d.SenderNames[a.ID] = a.Name
	}
	if d.Campaigns, err = s.opts.Campaigns.List(r.Context(), s.opts.DB.SQL, campaign.ListOptions{WorkspaceID: sess.WorkspaceID, Limit: 1000}); err != nil {
		s.fail(w, r, err)
		return
	}
	for _, c := range d.Campaigns {
		d.CampaignNames[c.ID] = c.Name
	}
	s.render(w, r, http.StatusOK, "inbox", page{Title: "Inbox", Nav: "inbox", Data: d})
}
