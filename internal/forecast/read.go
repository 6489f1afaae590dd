package forecast

import (
	"context"
	"strings"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/policy"
	"github.com/keel-outreach/keel/internal/send"
)

// Deps are the services the forecast reads from.
type Deps struct {
	DB        *db.DB
	Accounts  *account.Service
	Campaigns *campaign.Service
	// MinSpacing is the installation's pacing floor (KEEL_MIN_SPACING);
	// zero means send.DefaultMinSpacing.
	MinSpacing time.Duration
	// Pacing, when set, replaces every account's pacing, as the engine's
	// option of the same name does.
	Pacing *policy.Pacing
	// PassInterval, when set, simulates the scheduler's passes at that
	// interval (Input.PassInterval).
	PassInterval time.Duration
}

// Campaign forecasts a campaign of the workspace for days days from now.
// It returns campaign.ErrNotFound for a campaign the workspace does not have.
func Campaign(ctx context.Context, deps Deps, workspaceID, campaignID string, now time.Time, days int) (Forecast, error) {
	c, err := deps.Campaigns.Get(ctx, deps.DB.SQL, workspaceID, campaignID)
	if err != nil {
		return Forecast{}, err
	}
	in, err := Read(ctx, deps, c, now, days)
	if err != nil {
		return Forecast{}, err
	}
	return Simulate(in), nil
}

// Read builds the simulation's input from the campaign's current state:
// its live enrollments, its senders with the snapshot the claim would read
// now for each action the campaign uses, and its observed answer rates.
func Read(ctx context.Context, deps Deps, c campaign.Campaign, now time.Time, days int) (Input, error) {
	q := deps.DB.SQL
	in := Input{Campaign: c, Now: now.UTC(), Days: days, PassInterval: deps.PassInterval}
	// The prospects the horizon cannot reach are only counted: the
	// simulation needs no more of them (docs/benchmarks.md#campaign-page).
	split := campaign.LiveSplit{DueFrom: HorizonEnd(in.Now, days), Replied: c.StopOnReply}
	for _, st := range c.Steps {
		if st.Type.IsCondition() {
			split.Conditions = append(split.Conditions, st.ID)
		} else {
			split.Steps = append(split.Steps, st.ID)
		}
	}
	var err error
	if in.Enrollments, in.Later, err = deps.Campaigns.LiveForForecast(ctx, q, c.ID, split); err != nil {
		return in, err
	}
	// A live prospect's sender is on the campaign (the database holds
	// it); one that were not would still be simulated, after them.
	ids := append([]string(nil), c.AccountIDs...)
	seen := map[string]bool{}
	for _, id := range ids {
		seen[id] = true
	}
	add := func(id string) {
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	for _, e := range in.Enrollments {
		add(e.AccountID)
	}
	for _, n := range in.Later {
		add(n.AccountID)
	}
	withNote := false
	for _, st := range c.Steps {
		withNote = withNote || (st.Type == campaign.StepInvite && strings.TrimSpace(st.Note) != "")
	}
	floor := deps.MinSpacing
	if floor <= 0 {
		floor = send.DefaultMinSpacing
	}
	for _, id := range ids {
		a, err := deps.Accounts.Get(ctx, q, c.WorkspaceID, id)
		if err != nil {
			return in, err
		}
		sn := Sender{Account: a, Pacing: policy.ForAccount(a.Pacing, floor), NextAllowed: in.Now, Usage: map[policy.Action]Usage{}}
		if deps.Pacing != nil {
			sn.Pacing = *deps.Pacing
		}
		for _, act := range policy.CampaignActions(c) {
			snap, err := send.ReadSnapshot(ctx, q, send.SnapshotRequest{Account: a, Campaign: &c, Action: act,
				WithNote: act == policy.ActionInvite && withNote, Pacing: sn.Pacing, Now: in.Now})
			if err != nil {
				return in, err
			}
			u := Usage{UsedToday: snap.UsedToday, Week: snap.Week, Notes: snap.Notes, Block: snap.Block, SpreadUntil: snap.SpreadUntil}
			if snap.Share != nil {
				u.ShareUsed = snap.Share.Used
			}
			sn.Usage[act] = u
			sn.NextAllowed, sn.IncidentUntil = snap.NextAllowed, snap.IncidentUntil
		}
		if sn.Pending, err = send.PendingOutstanding(ctx, q, a.ID); err != nil {
			return in, err
		}
		in.Senders = append(in.Senders, sn)
	}
	resp, err := send.CampaignResponses(ctx, q, c.ID)
	if err != nil {
		return in, err
	}
	in.Rates = Rates{Accept: DefaultAcceptance, AcceptAfter: DefaultAcceptAfter, Reply: DefaultReplyRate, ReplyAfter: DefaultReplyAfter}
	in.AcceptSamples, in.ReplySamples = resp.Invited, resp.Messaged
	if resp.Invited >= MinSamples {
		in.Rates.Accept, in.AcceptObserved = float64(resp.Accepted)/float64(resp.Invited), true
	}
	if resp.Messaged >= MinSamples {
		in.Rates.Reply, in.ReplyObserved = float64(resp.Replied)/float64(resp.Messaged), true
	}
	return in, nil
}
