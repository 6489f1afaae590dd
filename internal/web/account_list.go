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

// accountsPage is the accounts overview (docs/surfaces.md#accounts-overview).
// The summary is grouped queries over every account of the workspace
// (statuses; the ledger's cooldowns and pending caps); filtering, sorting
// and paging are one SQL query for the page's rows — sorting by today's
// usage joins the ledger's counts of today with each account's effective
// caps in SQL (send.UsageJoin) — and the page's rows then read their
// limits, tags, last check and next action.
func (s *Server) accountsPage(w http.ResponseWriter, r *http.Request) {
	sess := sessionFrom(r)
	ctx, q := r.Context(), parseOverviewQuery(r.URL.Query())
	now := s.opts.Clock.Now()
	ov, err := send.WorkspaceOverview(ctx, s.opts.DB.SQL, sess.WorkspaceID, now)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	counts, err := account.CountStatuses(ctx, s.opts.DB.SQL, sess.WorkspaceID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	data := accountsData{Q: q, Statuses: statusFilters, Sorts: sortOptions}
	data.Attention, data.Total = summarise(counts, ov)
	if data.Tags, err = account.TagNames(ctx, s.opts.DB.SQL, sess.WorkspaceID); err != nil {
		s.fail(w, r, err)
		return
	}
	// A page past the end (a bookmark after accounts went away) shows the
	// last one: the count comes first, then the page.
	var pageAccs []account.Account
	for {
		offset := (q.Page - 1) * PageSize
		f := pageFilter(sess.WorkspaceID, q, ov, offset)
		if q.Sort == "usage" {
			f.ByUsage = send.UsageJoin(sess.WorkspaceID, now)
		}
		pageAccs, data.Matching, err = s.opts.Accounts.Page(ctx, s.opts.DB.SQL, f)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if len(pageAccs) > 0 || data.Matching == 0 || q.Page == 1 {
			break
		}
		q.Page = (data.Matching-1)/PageSize + 1
	}
	data.Q = q
	start := (q.Page - 1) * PageSize
	if len(pageAccs) > 0 {
		data.From, data.To = start+1, start+len(pageAccs)
	}
	if q.Page > 1 {
		data.Prev = q.URL("page", strconv.Itoa(q.Page-1))
	}
	if start+len(pageAccs) < data.Matching {
		data.Next = q.URL("page", strconv.Itoa(q.Page+1))
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
	tags, err := account.TagsFor(ctx, s.opts.DB.SQL, ids)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	next, err := s.opts.Campaigns.NextActions(ctx, s.opts.DB.SQL, ids)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	for i := range rows {
		id := rows[i].Account.ID
		rows[i].Tags, rows[i].CoolingUntil, rows[i].AtPendingCap = tags[id], ov.Blocked[id], ov.AtPendingCap[id]
		n, ok := next[id]
		rows[i].Next, rows[i].NextTitle = nextActionWords(rows[i].Account, n, ok, now)
		if c, ok := checks[id]; ok {
			rows[i].LastCheck = &c
		}
	}
	data.Rows = rows
	s.render(w, r, http.StatusOK, "accounts", page{Title: "LinkedIn accounts", Nav: "accounts", Data: data})
}

// pageFilter maps the overview's parameters to account.Page.
func pageFilter(workspaceID string, q overviewQuery, ov send.Overview, offset int) account.PageFilter {
	f := account.PageFilter{WorkspaceID: workspaceID, Tag: q.Tag, Search: q.Search, ByAttention: q.Sort == "status",
		Offset: offset, Limit: PageSize}
	cooling, capped := make([]string, 0, len(ov.Blocked)), make([]string, 0, len(ov.AtPendingCap))
	for id := range ov.Blocked {
		cooling = append(cooling, id)
	}
	for id := range ov.AtPendingCap {
		capped = append(capped, id)
	}
	slices.Sort(cooling)
	slices.Sort(capped)
	switch q.Status {
	case "":
	case filterNeedsReconnect:
		f.NeedsReconnect = true
	case filterCoolingDown:
		f.Only = cooling
	case filterPendingCap:
		f.Only = capped
	default:
		f.Status = account.Status(q.Status)
	}
	if f.ByAttention {
		f.Cooling, f.Capped = cooling, capped
	}
	return f
}
