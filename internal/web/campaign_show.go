package web

// The campaign page: its diagnosis, funnel and chart.

import (
	"context"
	"errors"
	"net/http"
	"sort"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/diagnose"
	"github.com/keel-outreach/keel/internal/send"
)

func (s *Server) loadCampaign(w http.ResponseWriter, r *http.Request) (campaign.Campaign, bool) {
	sess := sessionFrom(r)
	c, err := s.opts.Campaigns.Get(r.Context(), s.opts.DB.SQL, sess.WorkspaceID, r.PathValue("id"))
	if errors.Is(err, campaign.ErrNotFound) {
		http.NotFound(w, r)
		return c, false
	}
	if err != nil {
		s.fail(w, r, err)
		return c, false
	}
	return c, true
}

type funnelRow struct {
	StepID string
	Type   string
	Counts map[string]int
	Total  int
}

type campaignData struct {
	Campaign    campaign.Campaign
	Chip        string
	Explanation string
	Senders     []account.Account
	Funnel      []funnelRow
	States      []string
	Chart       chart
	Report      diagnose.Report
	Panel       diagnosisPanel
	// Unknown are the sends whose outcome waits for a person, each with
	// its Settle buttons (docs/sending.md#settling-by-hand).
	Unknown     []send.SendInfo
	Import      *campaign.ImportResult
	ImportError string
	CanStart    bool
	CanPause    bool
	CanResume   bool
}

var ledgerStates = []string{string(send.StateIntent), string(send.StateDispatched), string(send.StateConfirmed),
	string(send.StateUnknown), string(send.StateFailed), string(send.StateCancelled)}

func (s *Server) campaignPage(w http.ResponseWriter, r *http.Request) {
	s.showCampaign(w, r, http.StatusOK, nil, "")
}

func (s *Server) showCampaign(w http.ResponseWriter, r *http.Request, status int, imp *campaign.ImportResult, impErr string) {
	c, ok := s.loadCampaign(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	now := s.opts.Clock.Now()
	d := campaignData{Campaign: c, Chip: reasonChips[c.PausedReason], States: ledgerStates, Import: imp, ImportError: impErr,
		CanStart: c.Status == campaign.StatusDraft, CanPause: c.Status == campaign.StatusRunning, CanResume: c.Status == campaign.StatusPaused}
	var err error
	if d.Report, err = diagnose.CampaignReport(ctx, diagnose.Deps{DB: s.opts.DB, Accounts: s.opts.Accounts, Campaigns: s.opts.Campaigns, MinSpacing: s.opts.MinSpacing},
		c, now); err != nil {
		s.fail(w, r, err)
		return
	}
	d.Panel = newDiagnosisPanel(d.Report, now)
	if c.Status == campaign.StatusPaused {
		for _, f := range d.Report.Findings {
			if f.Code == "campaign_paused_"+string(c.PausedReason) {
				d.Explanation = f.Message
			}
		}
	}
	if d.Funnel, err = s.funnel(ctx, c); err != nil {
		s.fail(w, r, err)
		return
	}
	if d.Chart, err = s.sendsChart(ctx, c, now); err != nil {
		s.fail(w, r, err)
		return
	}
	if d.Unknown, err = send.CampaignUnknown(ctx, s.opts.DB.SQL, c.ID); err != nil {
		s.fail(w, r, err)
		return
	}
	d.Senders = d.Report.Senders
	s.render(w, r, status, "campaign", page{Title: c.Name, Nav: "campaigns", Data: d})
}

// funnel counts the campaign's ledger rows by step and state, in step
// order.
func (s *Server) funnel(ctx context.Context, c campaign.Campaign) ([]funnelRow, error) {
	counts, err := send.CampaignStepStates(ctx, s.opts.DB.SQL, c.ID)
	if err != nil {
		return nil, err
	}
	var out []funnelRow
	seen := map[string]bool{}
	add := func(id, typ string) {
		fr := funnelRow{StepID: id, Type: typ, Counts: counts[id]}
		if fr.Counts == nil {
			fr.Counts = map[string]int{}
		}
		for _, n := range fr.Counts {
			fr.Total += n
		}
		out = append(out, fr)
		seen[id] = true
	}
	for _, st := range c.Steps {
		switch st.Type {
		case campaign.StepInvite, campaign.StepMessage, campaign.StepInMail, campaign.StepViewProfile:
			add(st.ID, string(st.Type))
		}
	}
	// Steps since removed from the campaign still have ledger rows.
	var gone []string
	for id := range counts {
		if !seen[id] {
			gone = append(gone, id)
		}
	}
	sort.Strings(gone)
	for _, id := range gone {
		add(id, "removed step")
	}
	return out, nil
}
