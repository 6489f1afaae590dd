package web

// The campaign page: its diagnosis headline, funnel in people terms,
// senders, chart and prospect list (docs/surfaces.md#the-campaign-page).

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/diagnose"
	"github.com/keel-outreach/keel/internal/policy"
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

// funnelRow is one step of the funnel in people terms
// (docs/surfaces.md#the-campaign-page).
type funnelRow struct {
	StepID, Action            string
	Sent, Accepted, Replied   int
	AcceptanceRate, ReplyRate string
	IsInvite                  bool
}

// senderRow is one sender's line: what it sent today against what it can
// really send today (effective caps), its accepted and replied prospects
// in this campaign, and when its next prospect is due.
type senderRow struct {
	Account                 account.Account
	Today                   []capUse
	Sent, Accepted, Replied int
	Next                    string
}

// capUse is one action's use of today's effective cap.
type capUse struct {
	Action    string
	Used, Cap int
}

// prospectTotals counts the campaign's prospects.
type prospectTotals struct {
	Total, Live, Finished int
}

type campaignData struct {
	Campaign    campaign.Campaign
	Chip        string
	Explanation string
	Senders     []senderRow
	Funnel      []funnelRow
	Totals      prospectTotals
	Prospects   prospectList
	Chart       chart
	Report      diagnose.Report
	Panel       diagnosisPanel
	// Unknown are the sends whose outcome waits for a person, each with
	// its Settle buttons (docs/sending.md#settling-by-hand).
	Unknown   []send.SendInfo
	Import    *importFlash
	CanStart  bool
	CanPause  bool
	CanResume bool
}

// pct is a rate as a whole percentage, or an em dash when there is none.
func pct(r *float64) string {
	if r == nil {
		return "—"
	}
	return strconv.FormatFloat(*r*100, 'f', 0, 64) + "%"
}

func (s *Server) campaignPage(w http.ResponseWriter, r *http.Request) {
	c, ok := s.loadCampaign(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	now := s.opts.Clock.Now()
	d := campaignData{Campaign: c, Chip: reasonChips[c.PausedReason],
		CanStart: c.Status == campaign.StatusDraft, CanPause: c.Status == campaign.StatusRunning, CanResume: c.Status == campaign.StatusPaused}
	sess := sessionFrom(r)
	if f, ok := readImportFlash(sess.Flash, c.ID); ok {
		d.Import = &f
	}
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
	figs, err := s.figures(ctx, c, now)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	for _, st := range figs.stats.Steps {
		d.Funnel = append(d.Funnel, funnelRow{StepID: st.StepID, Action: st.Action, Sent: st.Sent, Accepted: st.Accepted, Replied: st.Replied,
			AcceptanceRate: pct(st.AcceptanceRate), ReplyRate: pct(st.ReplyRate), IsInvite: st.Action == "invite"})
	}
	if d.Senders, err = s.senderRows(ctx, c, d.Report.Senders, figs, now); err != nil {
		s.fail(w, r, err)
		return
	}
	counts, err := s.opts.Campaigns.EnrollmentStates(ctx, s.opts.DB.SQL, c.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	for st, n := range counts {
		d.Totals.Total += n
		if campaign.EnrollmentState(st).Live() {
			d.Totals.Live += n
		} else {
			d.Totals.Finished += n
		}
	}
	if d.Prospects, err = s.prospects(r, c, d.Report.Senders, now); err != nil {
		s.fail(w, r, err)
		return
	}
	d.Chart = s.sendsChart(figs, c, now)
	if d.Unknown, err = send.CampaignUnknown(ctx, s.opts.DB.SQL, c.ID); err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "campaign", page{Title: c.Name, Nav: "campaigns", Data: d})
}

// senderRows builds the per-sender table: today's use of each action the
// campaign takes against its effective daily cap (send.LimitsFor), the
// sender's results here, and its earliest due prospect.
func (s *Server) senderRows(ctx context.Context, c campaign.Campaign, accs []account.Account, f campaignFigures, now time.Time) ([]senderRow, error) {
	limits, err := send.LimitsFor(ctx, s.opts.DB.SQL, accs, now)
	if err != nil {
		return nil, err
	}
	st, due := f.stats, f.due
	actions := map[string]bool{}
	for _, step := range c.Steps {
		if a, ok := policy.StepAction(step.Type); ok {
			actions[string(a)] = true
		}
	}
	results := map[string]send.SenderStats{}
	for _, r := range st.Senders {
		results[r.AccountID] = r
	}
	var out []senderRow
	for _, a := range accs {
		row := senderRow{Account: a}
		for _, l := range limits[a.ID] {
			if l.Period == "day" && actions[string(l.Action)] {
				row.Today = append(row.Today, capUse{Action: string(l.Action), Used: l.Used, Cap: l.Cap})
			}
		}
		res := results[a.ID]
		row.Sent, row.Accepted, row.Replied = res.Sent, res.Accepted, res.Replied
		var next time.Time
		for _, t := range due[a.ID] {
			if next.IsZero() || t.Before(next) {
				next = t
			}
		}
		if !next.IsZero() {
			_, loc := policy.AccountWindow(a)
			row.Next = policy.When(next, loc, now) + " (" + loc.String() + ")"
		}
		out = append(out, row)
	}
	return out, nil
}
