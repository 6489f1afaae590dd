package send_test

import (
	"context"
	"database/sql"
	"fmt"
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/clock"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
	"github.com/keel-outreach/keel/internal/send"
	"github.com/keel-outreach/keel/internal/workspace"
)

// confirmSend writes a confirmed ledger row through the ledger's own
// transitions (intent → dispatched → confirmed), dispatched at at.
func confirmSend(t *testing.T, q *sql.DB, wsID, accountID, campaignID, enrollmentID, prospectID, stepID, action string, at time.Time) {
	t.Helper()
	id := fmt.Sprintf("snd_%s_%s_%s", enrollmentID, stepID, action)
	if _, err := q.Exec(`INSERT INTO sends (id, workspace_id, account_id, campaign_id, enrollment_id, prospect_id, step_id, action, state, claimed_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'intent', $9)`, id, wsID, accountID, campaignID, enrollmentID, prospectID, stepID, action, at); err != nil {
		t.Fatal(err)
	}
	if _, err := q.Exec(`UPDATE sends SET state = 'dispatched', dispatched_at = $2 WHERE id = $1`, id, at); err != nil {
		t.Fatal(err)
	}
	if _, err := q.Exec(`UPDATE sends SET state = 'confirmed', finished_at = $2, chat_id = 'chat' WHERE id = $1`, id, at); err != nil {
		t.Fatal(err)
	}
}

// TestCampaignStatsPeopleTerms: per step, sent counts confirmed sends
// (withdrawals apart), accepted the invited prospects who accepted,
// replied those whose reply came after the step's send; per sender the
// same; per day each action (docs/surfaces.md#campaign-stats).
func TestCampaignStatsPeopleTerms(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
		c := clock.NewFake(now)
		accounts := account.NewService(d, c)
		camps := campaign.NewService(d, c)
		ws, err := workspace.Create(ctx, d.SQL, "stats", "", now)
		if err != nil {
			t.Fatal(err)
		}
		var senders []string
		for i := 0; i < 2; i++ {
			a, err := accounts.Create(ctx, d.SQL, account.NewAccount{WorkspaceID: ws.ID, ProviderAccountID: fmt.Sprintf("p-stats-%d", i),
				Status: account.StatusConnected, Tier: account.TierPremium})
			if err != nil {
				t.Fatal(err)
			}
			senders = append(senders, a.ID)
		}
		name := "Stats"
		cp, err := camps.Create(ctx, ws.ID, campaign.Input{Name: &name, AccountIDs: senders, Steps: []campaign.Step{
			{ID: "inv", Type: campaign.StepInvite},
			{ID: "acc", Type: campaign.StepIfAccepted, Within: "72h", Then: "msg", Else: campaign.End},
			{ID: "msg", Type: campaign.StepMessage, Text: "Hello"},
			{ID: "view", Type: campaign.StepViewProfile},
		}})
		if err != nil {
			t.Fatal(err)
		}
		var rows []campaign.ProspectRow
		for i := 0; i < 6; i++ {
			rows = append(rows, campaign.ProspectRow{Row: i + 1, ProviderID: fmt.Sprintf("ACoAAstats%d", i)})
		}
		if _, err := camps.Import(ctx, cp.ID, ws.ID, rows); err != nil {
			t.Fatal(err)
		}
		ens, err := camps.ListEnrollments(ctx, d.SQL, ws.ID, cp.ID, campaign.EnrollmentListOptions{})
		if err != nil || len(ens) != 6 {
			t.Fatalf("enrollments: %d %v", len(ens), err)
		}
		day1, day2 := now.Add(-48*time.Hour), now.Add(-24*time.Hour)
		// All six invited on day 1; four accept; three of those get the
		// message on day 2, two reply after it; one replied before any
		// message (counts for the invitation only).
		for _, en := range ens {
			confirmSend(t, d.SQL, ws.ID, en.AccountID, cp.ID, en.ID, en.ProspectID, "inv", "invite", day1)
		}
		mark := func(fn func(context.Context, *sql.Tx, string, time.Time) error, id string, at time.Time) {
			if err := d.InTx(ctx, func(tx *sql.Tx) error { return fn(ctx, tx, id, at) }); err != nil {
				t.Fatal(err)
			}
		}
		for _, en := range ens[:4] {
			mark(camps.MarkAccepted, en.ID, day1.Add(time.Hour))
		}
		for _, en := range ens[:3] {
			confirmSend(t, d.SQL, ws.ID, en.AccountID, cp.ID, en.ID, en.ProspectID, "msg", "message", day2)
		}
		mark(camps.MarkReplied, ens[0].ID, day2.Add(time.Hour))
		mark(camps.MarkReplied, ens[1].ID, day2.Add(2*time.Hour))
		mark(camps.MarkReplied, ens[3].ID, day1.Add(2*time.Hour))
		// A withdrawal is no send of its step.
		confirmSend(t, d.SQL, ws.ID, ens[5].AccountID, cp.ID, ens[5].ID, ens[5].ProspectID, "inv", "withdraw", now.Add(-time.Hour))

		st, err := send.CampaignStats(ctx, d.SQL, cp.ID, now, 3)
		if err != nil {
			t.Fatal(err)
		}
		st.Arrange(cp.Steps)
		if len(st.Steps) != 3 {
			t.Fatalf("steps: %+v", st.Steps)
		}
		inv, msg, view := st.Steps[0], st.Steps[1], st.Steps[2]
		if inv.StepID != "inv" || inv.Sent != 6 || inv.Accepted != 4 || inv.Replied != 3 || *inv.AcceptanceRate != 4.0/6 || *inv.ReplyRate != 0.5 {
			t.Errorf("invite step: %+v", inv)
		}
		if msg.StepID != "msg" || msg.Sent != 3 || msg.Accepted != 0 || msg.Replied != 2 || msg.AcceptanceRate != nil || *msg.ReplyRate != 2.0/3 {
			t.Errorf("message step: %+v", msg)
		}
		if view.StepID != "view" || view.Action != "view_profile" || view.Sent != 0 || view.ReplyRate != nil || view.AcceptanceRate != nil {
			t.Errorf("view step: %+v", view)
		}
		var sent, accepted, replied int
		for _, s := range st.Senders {
			sent, accepted, replied = sent+s.Sent, accepted+s.Accepted, replied+s.Replied
		}
		if len(st.Senders) != 2 || sent != 9 || accepted != 4 || replied != 3 {
			t.Errorf("senders: %+v", st.Senders)
		}
		want := []send.DayStats{{Date: "2026-03-08", Invite: 6}, {Date: "2026-03-09", Message: 3}, {Date: "2026-03-10", Withdraw: 1}}
		if fmt.Sprint(st.Days) != fmt.Sprint(want) {
			t.Errorf("days: %+v, want %+v", st.Days, want)
		}
	})
}
