package web

// The campaign list page.

import (
	"net/http"
	"strings"
	"sync"

	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/diagnose"
	"github.com/keel-outreach/keel/internal/send"
)

// reasonChips are the short labels of pause reasons; the explanation
// sentence comes from the diagnosis.
var reasonChips = map[campaign.PausedReason]string{
	campaign.ReasonManual:              "Paused by a person",
	campaign.ReasonAccountDisconnected: "Sender disconnected",
	campaign.ReasonAccountRestricted:   "Sender restricted",
	campaign.ReasonAccountError:        "Sender error",
	campaign.ReasonNeedsVerification:   "Sender needs verification",
	campaign.ReasonHighFailureRate:     "High failure rate",
	campaign.ReasonTemplateError:       "Template error",
}

// campaignListRow is one campaign as the list shows it: its true state
// (the diagnosis headline, not only its status), its prospects, its
// rates and its next action (docs/surfaces.md#the-campaign-list).
type campaignListRow struct {
	Campaign campaign.Campaign
	Chip     string
	// Headline is the diagnosis's one line; Reason its first finding.
	Headline, Reason string
	Sending          bool
	Total, Live      int
	Finished         int
	Acceptance       string
	Reply            string
	// Next is the next action in its sender's zone; empty when none.
	Next string
}

type campaignsData struct {
	Rows []campaignListRow
	Next string
	Prev bool
}

// campaignsPage lists a page of campaigns. Each row runs the campaign's
// diagnosis (no forecast); counts and rates are one grouped query each
// for the whole page.
func (s *Server) campaignsPage(w http.ResponseWriter, r *http.Request) {
	sess := sessionFrom(r)
	ctx := r.Context()
	now := s.opts.Clock.Now()
	after := r.URL.Query().Get("after")
	cs, err := s.opts.Campaigns.List(ctx, s.opts.DB.SQL, campaign.ListOptions{WorkspaceID: sess.WorkspaceID, After: after, Limit: PageSize + 1})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	data := campaignsData{Prev: after != ""}
	if len(cs) > PageSize {
		cs = cs[:PageSize]
		data.Next = cs[len(cs)-1].ID
	}
	ids := make([]string, len(cs))
	for i, c := range cs {
		ids[i] = c.ID
	}
	counts, err := s.opts.Campaigns.StateCounts(ctx, s.opts.DB.SQL, ids)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rates, err := send.CampaignRates(ctx, s.opts.DB.SQL, ids)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	deps := diagnose.Deps{DB: s.opts.DB, Accounts: s.opts.Accounts, Campaigns: s.opts.Campaigns, MinSpacing: s.opts.MinSpacing}
	data.Rows = make([]campaignListRow, len(cs))
	// The diagnoses are independent reads: four at a time, since on
	// PostgreSQL each is a series of round trips
	// (docs/benchmarks.md#campaign-list).
	errs := make([]error, len(cs))
	sem := make(chan struct{}, 4)
	var wg sync.WaitGroup
	for i, c := range cs {
		row := campaignListRow{Campaign: c, Chip: reasonChips[c.PausedReason]}
		for st, n := range counts[c.ID] {
			row.Total += n
			if st.Live() {
				row.Live += n
			} else {
				row.Finished += n
			}
		}
		rt := rates[c.ID]
		row.Acceptance, row.Reply = pct(rt.AcceptanceRate()), pct(rt.ReplyRate())
		data.Rows[i] = row
		if c.Status == campaign.StatusDraft || c.Status == campaign.StatusArchived {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func(i int, c campaign.Campaign) {
			defer func() { <-sem; wg.Done() }()
			rep, err := diagnose.CampaignReport(ctx, deps, c, now)
			if err != nil {
				errs[i] = err
				return
			}
			p := newDiagnosisPanel(rep, now)
			row := &data.Rows[i]
			row.Headline, row.Sending, row.Next = p.Headline, p.Sending, p.NextLocal
			if len(p.Findings) > 0 && !strings.Contains(p.Headline, p.Findings[0].Message) {
				row.Reason = p.Findings[0].Message
				if p.Findings[0].ClearsLocal != "" {
					row.Reason += " (until " + p.Findings[0].ClearsLocal + ")"
				}
			}
		}(i, c)
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			s.fail(w, r, err)
			return
		}
	}
	s.render(w, r, http.StatusOK, "campaigns", page{Title: "Campaigns", Nav: "campaigns", Data: data})
}
