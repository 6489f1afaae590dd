package send_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
	"github.com/keel-outreach/keel/internal/logging/logtest"
	"github.com/keel-outreach/keel/internal/send"
)

// TestSendLogsOneInfoLine: an invitation sent through the fake provider
// logs exactly one info line, after the ledger confirmed it, naming the
// send, account, campaign, action and outcome, and neither the note nor
// the provider's API key (docs/operations.md#logs).
func TestSendLogsOneInfoLine(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		s := newSim(t, d, 1)
		rec, logger := logtest.New(slog.LevelDebug)
		eng, err := send.New(send.Options{DB: d, Accounts: s.accounts, Campaigns: s.camps, Client: s.client, Clock: s.clock,
			Seed: 1, Logger: logger})
		if err != nil {
			t.Fatal(err)
		}
		const note = "Hello {{first_name}}, a private note"
		sa := s.addAccount(t, "Logged", account.TierPremium, "UTC", 5)
		camp := s.addCampaign(t, "logged", []campaign.Step{{ID: "i1", Type: campaign.StepInvite, Note: note}}, 1, []string{sa.acc.ID})
		s.clock.Set(simStart.Add(9 * time.Hour))
		// Passes until the one invitation is out (pacing may hold it a while).
		for i := 0; i < 120 && len(rec.Records(slog.LevelInfo)) == 0; i++ {
			if _, err := eng.RunPass(context.Background()); err != nil {
				t.Fatal(err)
			}
			s.clock.Advance(time.Minute)
		}
		infos := rec.Records(slog.LevelInfo)
		if len(infos) != 1 {
			t.Fatalf("info lines for one invitation: %+v", infos)
		}
		line := infos[0]
		if line.Msg != "send confirmed" {
			t.Fatalf("the send's line: %+v", line)
		}
		want := map[string]string{"account_id": sa.acc.ID, "campaign_id": camp.ID, "action": "invite", "outcome": "confirmed"}
		for k, v := range want {
			if line.Attrs[k] != v {
				t.Errorf("%s = %q, want %q (line %+v)", k, line.Attrs[k], v, line)
			}
		}
		var state string
		if err := d.SQL.QueryRowContext(context.Background(), `SELECT state FROM sends WHERE id = $1`, line.Attrs["send_id"]).Scan(&state); err != nil || state != "confirmed" {
			t.Fatalf("send_id %q names no confirmed send: %q %v", line.Attrs["send_id"], state, err)
		}
		if leak := rec.Containing("a private note", "P0, a private", s.fake.APIKey()); leak != "" {
			t.Fatalf("a secret in the log: %s", leak)
		}
		// More passes with nothing left to send log nothing more at info.
		for i := 0; i < 5; i++ {
			if _, err := eng.RunPass(context.Background()); err != nil {
				t.Fatal(err)
			}
			s.clock.Advance(time.Minute)
		}
		if n := len(rec.Records(slog.LevelInfo)); n != 1 {
			t.Fatalf("idle passes logged at info: %+v", rec.Records(slog.LevelInfo))
		}
	})
}
