package send_test

import (
	"context"
	"database/sql"
	"sync"
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
	"github.com/keel-outreach/keel/internal/send"
	"github.com/keel-outreach/keel/internal/unipile"
	"github.com/keel-outreach/keel/internal/unipile/fake"
	"github.com/keel-outreach/keel/internal/workspace"
)

// TestReplyToAnySenderStopsEverything: a person whose sequence runs on
// sender Y writes to sender X of the same workspace (which contacted them
// in an earlier, finished campaign). The live sequence on Y stops as
// replied although its campaign does not stop on reply, in the
// transaction of the message, with its reply event; Y sends nothing more
// (docs/contacts.md#reply-stops-everything).
func TestReplyToAnySenderStopsEverything(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		s := newSim(t, d, 11)
		var (
			mu     sync.Mutex
			events []send.EventData
		)
		var err error
		s.engine, err = send.New(send.Options{DB: d, Accounts: s.accounts, Campaigns: s.camps, Client: s.client, Clock: s.clock, Seed: 11,
			Emit: func(_ context.Context, _ *sql.Tx, _ string, eventType string, data any) error {
				if eventType == "linkedin.reply_received" {
					mu.Lock()
					events = append(events, data.(send.EventData))
					mu.Unlock()
				}
				return nil
			}})
		if err != nil {
			t.Fatal(err)
		}
		x := s.addAccount(t, "X", account.TierPremium, "UTC", 5)
		y := s.addAccount(t, "Y", account.TierPremium, "UTC", 5)
		steps := []campaign.Step{{ID: "i1", Type: campaign.StepInvite},
			{ID: "w1", Type: campaign.StepWait, Duration: "24h"}, {ID: "m1", Type: campaign.StepMessage, Text: "Hi"}}
		first := s.addCampaign(t, "first", steps, 1, []string{x.acc.ID})
		s.clock.Set(simStart.Add(9 * time.Hour))
		s.runFor(t, 10*time.Minute)
		if _, err := s.camps.Pause(s.ctx, s.ws.ID, first.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.camps.Archive(s.ctx, s.ws.ID, first.ID); err != nil {
			t.Fatal(err)
		}
		if err := workspace.SetRecontact(s.ctx, d.SQL, s.ws.ID, workspace.Recontact{CooloffDays: 0}); err != nil {
			t.Fatal(err)
		}
		var pid string
		if err := d.SQL.QueryRow(`SELECT provider_id FROM prospects`).Scan(&pid); err != nil {
			t.Fatal(err)
		}
		name, noStop := "second", false
		second, err := s.camps.Create(s.ctx, s.ws.ID, campaign.Input{Name: &name, AccountIDs: []string{y.acc.ID}, Steps: steps, StopOnReply: &noStop})
		if err != nil {
			t.Fatal(err)
		}
		if res, err := s.camps.Import(s.ctx, second.ID, s.ws.ID, []campaign.ProspectRow{{Row: 1, ProviderID: pid}}); err != nil || res.Imported != 1 {
			t.Fatalf("re-enrolling after the cool-off: %+v %v", res, err)
		}
		if _, err := s.camps.Start(s.ctx, s.ws.ID, second.ID); err != nil {
			t.Fatal(err)
		}
		s.runFor(t, 10*time.Minute)
		if n := countCalls(s.fake, y.provider, fake.ActionInvite, simStart); n != 1 {
			t.Fatalf("Y invited %d times", n)
		}

		// The message reaches X, as its webhook feeds it.
		ev := unipile.MessageEvent{Event: "message_received", AccountID: unipile.FlexString(x.provider),
			Sender: &unipile.Attendee{AttendeeProviderID: unipile.FlexString(pid)}}
		if err := d.InTx(s.ctx, func(tx *sql.Tx) error { return s.engine.MessageEvent(s.ctx, tx, s.ws.ID, x.acc.ID, "", ev) }); err != nil {
			t.Fatal(err)
		}
		list, err := s.camps.ListEnrollments(s.ctx, d.SQL, s.ws.ID, second.ID, campaign.EnrollmentListOptions{})
		if err != nil || len(list) != 1 {
			t.Fatalf("%v %v", list, err)
		}
		if e := list[0]; e.State != campaign.EnrollmentReplied || e.RepliedAt == nil {
			t.Fatalf("the sequence on Y after a reply to X: %+v", e)
		}
		mu.Lock()
		got := append([]send.EventData(nil), events...)
		mu.Unlock()
		found := false
		for _, e := range got {
			if e.EnrollmentID == list[0].ID && e.CampaignID == second.ID {
				found = true
			}
		}
		if !found {
			t.Fatalf("no reply event for the stopped enrollment: %+v", got)
		}
		s.runFor(t, 48*time.Hour)
		if n := countCalls(s.fake, y.provider, fake.ActionStartChat, simStart); n != 0 {
			t.Fatalf("Y sent %d messages after the person replied to X", n)
		}
		// The person is never enrolled again by an import.
		third, err := s.camps.Create(s.ctx, s.ws.ID, campaign.Input{Name: &name, AccountIDs: []string{x.acc.ID}, Steps: steps})
		if err != nil {
			t.Fatal(err)
		}
		if res, err := s.camps.Import(s.ctx, third.ID, s.ws.ID, []campaign.ProspectRow{{Row: 1, ProviderID: pid}}); err != nil ||
			res.Rows[0].Status != campaign.RowReplied {
			t.Fatalf("%+v %v", res, err)
		}
	})
}

// TestLateAcceptNeverRevivesAPersonLiveElsewhere: a late accept with
// follow_up brings a sequence back only while its person is live in no
// other sequence of the workspace (docs/contacts.md#one-live-sequence):
// here the person was enrolled in another campaign meanwhile, so the
// accept is recorded and the old sequence stays ended.
func TestLateAcceptNeverRevivesAPersonLiveElsewhere(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		s := newSim(t, d, 12)
		x := s.addAccount(t, "X", account.TierPremium, "UTC", 5)
		y := s.addAccount(t, "Y", account.TierPremium, "UTC", 5)
		first := s.addCampaign(t, "late", []campaign.Step{{ID: "i1", Type: campaign.StepInvite, Note: "Hi {{first_name}}"},
			{ID: "c1", Type: campaign.StepIfAccepted, Within: "1h", Then: "m1", Else: campaign.End},
			{ID: "m1", Type: campaign.StepMessage, Text: "Thanks"}}, 1, []string{x.acc.ID})
		s.clock.Set(simStart.Add(9 * time.Hour))
		s.runFor(t, 2*time.Hour)
		if err := workspace.SetRecontact(s.ctx, d.SQL, s.ws.ID, workspace.Recontact{CooloffDays: 0}); err != nil {
			t.Fatal(err)
		}
		var pid string
		if err := d.SQL.QueryRow(`SELECT provider_id FROM prospects`).Scan(&pid); err != nil {
			t.Fatal(err)
		}
		name := "meanwhile"
		second, err := s.camps.Create(s.ctx, s.ws.ID, campaign.Input{Name: &name, AccountIDs: []string{y.acc.ID},
			Steps: []campaign.Step{{ID: "v1", Type: campaign.StepViewProfile}}})
		if err != nil {
			t.Fatal(err)
		}
		if res, err := s.camps.Import(s.ctx, second.ID, s.ws.ID, []campaign.ProspectRow{{Row: 1, ProviderID: pid}}); err != nil || res.Imported != 1 {
			t.Fatalf("%+v %v", res, err)
		}
		invs := s.fake.Invitations(x.provider)
		if len(invs) != 1 {
			t.Fatalf("invitations: %+v", invs)
		}
		if err := s.fake.Accept(invs[0].ID); err != nil {
			t.Fatal(err)
		}
		if n := s.pollUntilStamped(t); n != 1 {
			t.Fatalf("polling stamped %d", n)
		}
		mark := s.clock.Now()
		s.runFor(t, 10*time.Minute)
		if n := countCalls(s.fake, x.provider, fake.ActionStartChat, mark); n != 0 {
			t.Fatalf("%d follow-ups from X to a person live in another campaign", n)
		}
		for c, want := range map[string]campaign.EnrollmentState{first.ID: campaign.EnrollmentEnded, second.ID: campaign.EnrollmentPending} {
			list, err := s.camps.ListEnrollments(s.ctx, d.SQL, s.ws.ID, c, campaign.EnrollmentListOptions{})
			if err != nil || len(list) != 1 || list[0].State != want {
				t.Fatalf("campaign %s: %+v %v, want %s", c, list, err, want)
			}
		}
	})
}
