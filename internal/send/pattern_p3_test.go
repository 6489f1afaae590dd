package send_test

import (
	"database/sql"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
	"github.com/keel-outreach/keel/internal/diagnose"
	"github.com/keel-outreach/keel/internal/send"
	"github.com/keel-outreach/keel/internal/unipile"
	"github.com/keel-outreach/keel/internal/unipile/fake"
)

// sendOf reads the send of a prospect (by first name) and its state.
func sendOf(t *testing.T, s *sim, firstName string) (id, state string, chat sql.NullString) {
	t.Helper()
	if err := s.d.SQL.QueryRow(`SELECT s.id, s.state, s.chat_id FROM sends s JOIN prospects p ON p.id = s.prospect_id
		WHERE p.first_name = $1 ORDER BY s.claimed_at DESC LIMIT 1`, firstName).Scan(&id, &state, &chat); err != nil {
		t.Fatalf("send of %s: %v", firstName, err)
	}
	return id, state, chat
}

// TestPatternP3LostInMailIsReconciledOrSettled: two InMails to prospects
// imported by /in/ URL lose their answers. The one LinkedIn delivered is
// confirmed from the messaging webhook's chat id; the one that never left
// cannot be reconciled, is listed, shows in the diagnosis, and is settled
// by a person as not sent, after which it is sent again and the finding
// is gone.
func TestPatternP3LostInMailIsReconciledOrSettled(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		s := newSim(t, d, 3)
		sa := s.addAccount(t, "Mail", account.TierPremium, "UTC", 5)
		name := "p3"
		c, err := s.camps.Create(s.ctx, s.ws.ID, campaign.Input{Name: &name, AccountIDs: []string{sa.acc.ID},
			Steps: []campaign.Step{{ID: "m1", Type: campaign.StepInMail, Subject: "Hi", Text: "Hello {{first_name}}"}}})
		if err != nil {
			t.Fatal(err)
		}
		if res, err := s.camps.Import(s.ctx, c.ID, s.ws.ID, []campaign.ProspectRow{
			{Row: 1, LinkedInURL: "https://www.linkedin.com/in/ana-lost", FirstName: "Ana"},
			{Row: 2, LinkedInURL: "https://www.linkedin.com/in/bo-dropped", FirstName: "Bo"}}); err != nil || res.Imported != 2 {
			t.Fatalf("import: %+v %v", res, err)
		}
		if c, err = s.camps.Start(s.ctx, s.ws.ID, c.ID); err != nil {
			t.Fatal(err)
		}
		// The first InMail is delivered but its answer lost; the second is
		// dropped before LinkedIn sees it.
		s.fake.LoseResponses(fake.ActionInMail, 1)
		if _, err := s.fake.InjectFault(fake.Fault{Action: fake.ActionInMail, Effect: fake.EffectDrop, Times: 1}); err != nil {
			t.Fatal(err)
		}
		s.clock.Set(simStart.Add(9 * time.Hour))
		s.runFor(t, 8*time.Hour)
		_, anaState, _ := sendOf(t, s, "Ana")
		_, boState, _ := sendOf(t, s, "Bo")
		if anaState != "unknown" || boState != "unknown" {
			t.Fatalf("after lost answers: Ana %s, Bo %s", anaState, boState)
		}
		deps := diagnose.Deps{DB: d, Accounts: s.accounts, Campaigns: s.camps}
		r, err := diagnose.Campaign(s.ctx, deps, s.ws.ID, c.ID, s.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		if f, ok := finding(r, "unknown_outcomes"); !ok || f.ClearsAt != nil || f.Severity != diagnose.Limiting ||
			!strings.Contains(f.Message, "2 prospects") || !strings.Contains(f.Message, "keel sends settle") {
			t.Fatalf("the diagnosis must name the unknown outcomes, clearing only when a person acts: %+v", r.Findings)
		}

		// Keel's own message_received webhook for the delivered InMail.
		var own fake.Message
		for _, m := range s.fake.Messages(sa.provider) {
			if m.IsSender && m.InMail {
				own = m
			}
		}
		if own.ChatID == "" {
			t.Fatal("the lost InMail must exist at the provider")
		}
		// Which prospect was claimed first is the scheduler's business:
		// the delivered one is whoever the provider's chat is with.
		delivered, dropped := "Ana", "Bo"
		if own.Text != "Hello Ana" {
			delivered, dropped = "Bo", "Ana"
		}
		deliveredID, _, _ := sendOf(t, s, delivered)
		boID, _, _ := sendOf(t, s, dropped)
		ev := unipile.MessageEvent{Event: "message_received", ChatID: unipile.FlexString(own.ChatID), MessageID: unipile.FlexString(own.ID),
			Message: own.Text, IsSender: true,
			Sender:    &unipile.Attendee{AttendeeProviderID: unipile.FlexString(own.SenderID)},
			Attendees: []unipile.Attendee{{AttendeeProviderID: unipile.FlexString(memberOf(t, s, delivered))}}}
		if err := d.InTx(s.ctx, func(tx *sql.Tx) error { return s.engine.MessageEvent(s.ctx, tx, s.ws.ID, sa.acc.ID, "", ev) }); err != nil {
			t.Fatal(err)
		}
		if _, state, chat := sendOf(t, s, delivered); state != "confirmed" || chat.String != own.ChatID {
			t.Fatalf("%s's InMail after the webhook: %s chat %q", delivered, state, chat.String)
		}

		// Bo's cannot be reconciled: parked, listed, settled by a person.
		if _, err := s.engine.ReconcileUnknown(s.ctx); err != nil {
			t.Fatal(err)
		}
		list, err := send.ListUnknown(s.ctx, d.SQL, s.ws.ID, "", 10)
		if err != nil || len(list) != 1 || list[0].ID != boID || list[0].ParkedAt == nil {
			t.Fatalf("unknown sends listed: %+v %v", list, err)
		}
		ens, err := s.camps.ListEnrollments(s.ctx, d.SQL, s.ws.ID, c.ID, campaign.EnrollmentListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		flagged := 0
		for _, en := range ens {
			if en.UnknownSendID != "" {
				flagged++
				if en.UnknownSendID != boID {
					t.Fatalf("enrollment list names send %s, want %s", en.UnknownSendID, boID)
				}
			}
		}
		if flagged != 1 {
			t.Fatalf("the enrollment list must show the one parked prospect: %d", flagged)
		}
		if other, err := send.ListUnknown(s.ctx, d.SQL, "ws_other", "", 10); err != nil || len(other) != 0 {
			t.Fatalf("another workspace sees %d: %v", len(other), err)
		}
		if _, err := s.engine.Settle(s.ctx, "ws_other", boID, send.OutcomeNotSent, "mallory"); !errors.Is(err, send.ErrSendNotFound) {
			t.Fatalf("settling from another workspace: %v", err)
		}
		if _, err := s.engine.Settle(s.ctx, s.ws.ID, deliveredID, send.OutcomeSent, "ops@example.com"); !errors.Is(err, send.ErrNotSettleable) {
			t.Fatalf("settling a confirmed send: %v", err)
		}
		openAlerts := func() (n int) {
			t.Helper()
			if err := d.SQL.QueryRow(`SELECT count(*) FROM admin_alerts WHERE kind = 'send_outcome_unknown' AND acknowledged_at IS NULL`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		if n := openAlerts(); n != 1 {
			t.Fatalf("a parked send raises one alert: %d open", n)
		}
		info, err := s.engine.Settle(s.ctx, s.ws.ID, boID, send.OutcomeNotSent, "ops@example.com")
		if err != nil || info.State != "failed" || info.SettledBy != "ops@example.com" || info.SettledAt == nil {
			t.Fatalf("settled: %+v %v", info, err)
		}
		// Settling answers the alert that asked for it.
		if n := openAlerts(); n != 0 {
			t.Fatalf("%d send_outcome_unknown alerts still open after the settle", n)
		}
		mark := s.clock.Now()
		s.clock.Set(simStart.Add(33 * time.Hour))
		s.runFor(t, 8*time.Hour)
		if n := countCalls(s.fake, sa.provider, fake.ActionInMail, mark); n != 1 {
			t.Fatalf("InMails to %s after not_sent: %d", dropped, n)
		}
		if _, state, _ := sendOf(t, s, dropped); state != "confirmed" {
			t.Fatalf("%s's retried InMail: %s", dropped, state)
		}
		r, err = diagnose.Campaign(s.ctx, deps, s.ws.ID, c.ID, s.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		if hasFinding(r, "unknown_outcomes") {
			t.Fatalf("nothing is unknown any more: %+v", r.Findings)
		}
	})
}

// TestSettleSentConfirmsWithoutChat: a person's "sent" confirms a message
// with no chat id and moves the prospect on; the database refuses such a
// row when no person settled it.
func TestSettleSentConfirmsWithoutChat(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		s := newSim(t, d, 4)
		sa := s.addAccount(t, "Mail", account.TierPremium, "UTC", 5)
		c := s.addCampaign(t, "settle", []campaign.Step{{ID: "m1", Type: campaign.StepInMail, Subject: "Hi", Text: "Hello"}}, 1, []string{sa.acc.ID})
		if _, err := s.fake.InjectFault(fake.Fault{Action: fake.ActionInMail, Effect: fake.EffectDrop, Times: 1}); err != nil {
			t.Fatal(err)
		}
		s.clock.Set(simStart.Add(9 * time.Hour))
		s.runFor(t, 10*time.Minute)
		var id string
		if err := d.SQL.QueryRow(`SELECT id FROM sends WHERE campaign_id = $1 AND state = 'unknown'`, c.ID).Scan(&id); err != nil {
			t.Fatal(err)
		}
		if _, err := d.SQL.Exec(`UPDATE sends SET state = 'confirmed', finished_at = $2 WHERE id = $1`, id, s.clock.Now()); err == nil {
			t.Fatal("a confirmed InMail without a chat id and without a person's settlement must be refused")
		}
		if _, err := s.engine.Settle(s.ctx, s.ws.ID, id, "maybe", "ops"); err == nil {
			t.Fatal("an outcome other than sent/not_sent must be refused")
		}
		info, err := s.engine.Settle(s.ctx, s.ws.ID, id, send.OutcomeSent, "ops")
		if err != nil || info.State != "confirmed" {
			t.Fatalf("settled: %+v %v", info, err)
		}
		if state, _ := enrollmentState(t, s); state != "completed" {
			t.Fatalf("the prospect must move on: %s", state)
		}
		if _, err := d.SQL.Exec(`UPDATE sends SET settled_by = NULL WHERE id = $1`, id); err == nil {
			t.Fatal("settled_by and settled_at go together")
		}
	})
}

// memberOf is the member id kept for a prospect at send time.
func memberOf(t *testing.T, s *sim, firstName string) string {
	t.Helper()
	var m sql.NullString
	if err := s.d.SQL.QueryRow(`SELECT member_id FROM prospects WHERE first_name = $1`, firstName).Scan(&m); err != nil || !m.Valid {
		t.Fatalf("member id of %s: %v %v", firstName, m, err)
	}
	return m.String
}
