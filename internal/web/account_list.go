package web

import (
	"net/http"
	"slices"
	"strconv"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/health"
	"github.com/keel-outreach/keel/internal/send"
)

type accountsData struct {
	Q         overviewQuery
	Attention []attentionItem
	Total     int // accounts in the workspace
	Matching  int // accounts the filters keep
	From, To  int // 1-based range shown
	Rows      []accountRow
	Tags      []string
	Statuses  []capField
	Sorts     []capField
	Prev      string
	Next      string
}

// accountsPage is the accounts overview (docs/surfaces.md#accounts-overview):
// every account of the workspace is read once (one account query, three
// grouped ledger queries, one tag query) to summarise, filter and sort;
// only the page's PageSize rows get their limits and last health check.
func (s *Server) accountsPage(w http.ResponseWriter, r *http.Request) {
	sess := sessionFrom(r)
	ctx, q := r.Context(), parseOverviewQuery(r.URL.Query())
	now := s.opts.Clock.Now()
	accs, err := s.opts.Accounts.List(ctx, s.opts.DB.SQL, account.ListOptions{WorkspaceID: sess.WorkspaceID})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ov, err := send.WorkspaceOverview(ctx, s.opts.DB.SQL, sess.WorkspaceID, now)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	tags, err := account.WorkspaceTags(ctx, s.opts.DB.SQL, sess.WorkspaceID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	facts := buildFacts(accs, ov, tags, now)
	data := accountsData{Q: q, Attention: summarise(facts), Total: len(facts), Statuses: statusFilters, Sorts: sortOptions}
	seen := map[string]bool{}
	for _, ts := range tags {
		for _, t := range ts {
			if !seen[t] {
				seen[t] = true
				data.Tags = append(data.Tags, t)
			}
		}
	}
	slices.Sort(data.Tags)
	kept := facts[:0:0]
	for _, f := range facts {
		if f.matches(q) {
			kept = append(kept, f)
		}
	}
	sortFacts(kept, q.Sort)
	data.Matching = len(kept)
	start := (q.Page - 1) * PageSize
	if start >= len(kept) && len(kept) > 0 {
		// A page past the end (a bookmark after accounts went away) shows
		// the last one.
		q.Page = (len(kept)-1)/PageSize + 1
		data.Q, start = q, (q.Page-1)*PageSize
	}
	end := min(start+PageSize, len(kept))
	if q.Page > 1 {
		data.Prev = q.URL("page", strconv.Itoa(q.Page-1))
	}
	if end < len(kept) {
		data.Next = q.URL("page", strconv.Itoa(q.Page+1))
	}
	pageAccs := make([]account.Account, 0, end-start)
	for _, f := range kept[start:end] {
		pageAccs = append(pageAccs, f.Account)
	}
	if len(pageAccs) > 0 {
		data.From, data.To = start+1, end
	}
	rows, err := s.accountRows(ctx, pageAccs)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ids := make([]string, len(pageAccs))
	for i, a := range pageAccs {
		ids[i] = a.ID
	}
	checks, err := health.LastChecks(ctx, s.opts.DB.SQL, ids)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	for i := range rows {
		f := kept[start+i]
		rows[i].Tags, rows[i].CoolingUntil, rows[i].AtPendingCap = f.Tags, f.CoolingUntil, f.AtPendingCap
		if c, ok := checks[rows[i].Account.ID]; ok {
			rows[i].LastCheck = &c
		}
	}
	data.Rows = rows
	s.render(w, r, http.StatusOK, "accounts", page{Title: "LinkedIn accounts", Nav: "accounts", Data: data})
}
