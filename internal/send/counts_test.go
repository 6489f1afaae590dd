package send_test

import (
	"context"
	"database/sql"
	"fmt"
	"reflect"
	"strings"
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

// ledgerStats counts a campaign's stats and responses from its ledger
// joined with its enrollments, as they were read before the counts were
// kept (docs/storage.md#campaign-send-counts): the truth the counts must
// equal.
func ledgerStats(t *testing.T, q *sql.DB, campaignID string) (send.Stats, send.Responses) {
	t.Helper()
	st := send.Stats{Steps: []send.StepStats{}, Senders: []send.SenderStats{}, Days: []send.DayStats{}}
	const from = ` FROM sends s JOIN enrollments en ON en.id = s.enrollment_id
		WHERE s.campaign_id = $1 AND s.state = 'confirmed' AND s.action <> 'withdraw' `
	const after = `en.replied_at IS NOT NULL AND en.replied_at >= s.dispatched_at`
	rows, err := q.Query(`SELECT s.step_id, s.action, COUNT(*),
		SUM(CASE WHEN s.action = 'invite' AND en.accepted_at IS NOT NULL THEN 1 ELSE 0 END),
		SUM(CASE WHEN `+after+` THEN 1 ELSE 0 END)`+from+`GROUP BY s.step_id, s.action ORDER BY s.step_id, s.action`, campaignID)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var r send.StepStats
		if err := rows.Scan(&r.StepID, &r.Action, &r.Sent, &r.Accepted, &r.Replied); err != nil {
			t.Fatal(err)
		}
		st.Steps = append(st.Steps, r)
	}
	rows.Close()
	rows, err = q.Query(`SELECT s.account_id, COUNT(*),
		COUNT(DISTINCT CASE WHEN s.action = 'invite' AND en.accepted_at IS NOT NULL THEN en.id END),
		COUNT(DISTINCT CASE WHEN `+after+` THEN en.id END)`+from+`GROUP BY s.account_id ORDER BY s.account_id`, campaignID)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var r send.SenderStats
		if err := rows.Scan(&r.AccountID, &r.Sent, &r.Accepted, &r.Replied); err != nil {
			t.Fatal(err)
		}
		st.Senders = append(st.Senders, r)
	}
	rows.Close()
	var r send.Responses
	if err := q.QueryRow(`SELECT
		COUNT(DISTINCT CASE WHEN s.action = 'invite' THEN en.id END),
		COUNT(DISTINCT CASE WHEN s.action = 'invite' AND en.accepted_at IS NOT NULL THEN en.id END),
		COUNT(DISTINCT CASE WHEN s.action IN ('message', 'inmail') THEN en.id END),
		COUNT(DISTINCT CASE WHEN s.action IN ('message', 'inmail') AND en.replied_at IS NOT NULL THEN en.id END)`+from, campaignID).
		Scan(&r.Invited, &r.Accepted, &r.Messaged, &r.Replied); err != nil {
		t.Fatal(err)
	}
	return st, r
}

// countsWorld is two campaigns of two senders and eight prospects each,
// with the helpers the counts tests write and compare with: exec runs raw
// SQL, insert adds sends in one multi-row statement, check compares the
// counts with the ledger.
type countsWorld struct {
	ctx    context.Context
	d      *db.DB
	ens    []countsEnrollment
	cps    []campaign.Campaign
	exec   func(q string, args ...any)
	insert func(state string, dispatched string, items ...string)
	check  func(step string)
	at     func(h int) string
}

type countsEnrollment struct{ id, prospect, account, campaign string }

func newCountsWorld(t *testing.T, d *db.DB) *countsWorld {
	t.Helper()
	ctx := context.Background()
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	c := clock.NewFake(now)
	accounts, camps := account.NewService(d, c), campaign.NewService(d, c)
	ws, err := workspace.Create(ctx, d.SQL, "counts", "", now)
	if err != nil {
		t.Fatal(err)
	}
	var senders []string
	for i := 0; i < 2; i++ {
		a, err := accounts.Create(ctx, d.SQL, account.NewAccount{WorkspaceID: ws.ID, ProviderAccountID: fmt.Sprintf("p-counts-%d", i),
			Status: account.StatusConnected, Tier: account.TierPremium})
		if err != nil {
			t.Fatal(err)
		}
		senders = append(senders, a.ID)
	}
	steps := []campaign.Step{
		{ID: "view", Type: campaign.StepViewProfile},
		{ID: "inv", Type: campaign.StepInvite},
		{ID: "acc", Type: campaign.StepIfAccepted, Within: "72h", Then: "msg", Else: "mail"},
		{ID: "msg", Type: campaign.StepMessage, Text: "Hello"},
		{ID: "msg2", Type: campaign.StepMessage, Text: "Again"},
		{ID: "mail", Type: campaign.StepInMail, Subject: "Hi", Text: "Hello"},
	}
	var cps []campaign.Campaign
	for i := 0; i < 2; i++ {
		name := fmt.Sprintf("Counts %d", i)
		cp, err := camps.Create(ctx, ws.ID, campaign.Input{Name: &name, AccountIDs: senders, Steps: steps})
		if err != nil {
			t.Fatal(err)
		}
		var rows []campaign.ProspectRow
		for j := 0; j < 8; j++ {
			rows = append(rows, campaign.ProspectRow{Row: j + 1, ProviderID: fmt.Sprintf("ACoAAcounts%d%d", i, j)})
		}
		if _, err := camps.Import(ctx, cp.ID, ws.ID, rows); err != nil {
			t.Fatal(err)
		}
		cps = append(cps, cp)
	}
	var ens []countsEnrollment
	rows, err := d.SQL.QueryContext(ctx, `SELECT id, prospect_id, account_id, campaign_id FROM enrollments ORDER BY campaign_id, id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var e countsEnrollment
		if err := rows.Scan(&e.id, &e.prospect, &e.account, &e.campaign); err != nil {
			t.Fatal(err)
		}
		ens = append(ens, e)
	}
	rows.Close()
	if len(ens) != 16 {
		t.Fatalf("%d enrollments", len(ens))
	}
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := d.SQL.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	check := func(step string) {
		t.Helper()
		for _, cp := range cps {
			wantStats, wantResp := ledgerStats(t, d.SQL, cp.ID)
			got, err := send.CampaignStats(ctx, d.SQL, cp.ID, now, 0)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := send.CampaignResponses(ctx, d.SQL, cp.ID)
			if err != nil {
				t.Fatal(err)
			}
			for i := range got.Steps {
				got.Steps[i].AcceptanceRate, got.Steps[i].ReplyRate = nil, nil
			}
			if !reflect.DeepEqual(got, wantStats) || resp != wantResp {
				t.Fatalf("after %s, campaign %s counts\n%+v %+v\nthe ledger says\n%+v %+v", step, cp.ID, got, resp, wantStats, wantResp)
			}
		}
	}
	// sends lists one multi-row insert: (enrollment, step, action,
	// state, sender) with the enrollment's own sender unless given.
	at := func(h int) string { return now.Add(time.Duration(h) * time.Hour).Format(time.RFC3339) }
	insert := func(state string, dispatched string, items ...string) {
		t.Helper()
		var vals []string
		var args []any
		for _, it := range items {
			f := strings.Split(it, ":") // enrollment index, step, action[, sender index]
			var i int
			fmt.Sscan(f[0], &i)
			e := ens[i]
			acct := e.account
			if len(f) > 3 {
				var k int
				fmt.Sscan(f[3], &k)
				acct = senders[k]
			}
			n := len(args)
			vals = append(vals, fmt.Sprintf("($%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d, 'chat')",
				n+1, n+2, n+3, n+4, n+5, n+6, n+7, n+8, n+9, n+10, n+11, n+12))
			var disp, finished any
			if dispatched != "" {
				disp = dispatched
			}
			if state == "confirmed" {
				finished = dispatched
			}
			args = append(args, "snd_"+e.id+"_"+f[1]+"_"+f[2], ws.ID, acct, e.campaign, e.id, e.prospect, f[1], f[2], state, at(-100), disp, finished)
		}
		exec(`INSERT INTO sends (id, workspace_id, account_id, campaign_id, enrollment_id, prospect_id, step_id, action, state,
			claimed_at, dispatched_at, finished_at, chat_id) VALUES `+strings.Join(vals, ", "), args...)
	}
	return &countsWorld{ctx: ctx, d: d, ens: ens, cps: cps, exec: exec, insert: insert, check: check, at: at}
}

// TestSendCountsFollowEveryWrite writes around Keel with raw SQL —
// multi-row inserts of sends in every state, statements confirming
// several sends of one prospect at once, accept and reply stamps set,
// moved and cleared (one prospect at a time and many at once), folds —
// and compares the stats and responses read from campaign_send_counts
// with the ledger's after each; then tries to break the table's rules.
func TestSendCountsFollowEveryWrite(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		w := newCountsWorld(t, d)
		ctx, ens, cps, exec, insert, check, at := w.ctx, w.ens, w.cps, w.exec, w.insert, w.check, w.at
		check("nothing sent")
		insert("confirmed", at(-50), "0:view:view_profile", "0:inv:invite", "1:inv:invite", "2:inv:invite:1", "8:inv:invite")
		check("a multi-row insert of confirmed sends")
		insert("intent", "", "0:msg:message", "0:msg2:message", "1:msg:message", "1:mail:inmail", "3:inv:invite", "9:inv:invite")
		check("sends not yet confirmed")
		exec(`UPDATE sends SET state = 'dispatched', dispatched_at = $1 WHERE state = 'intent'`, at(-40))
		check("dispatching them")
		exec(`UPDATE sends SET state = 'confirmed', finished_at = $2 WHERE enrollment_id = $1 AND state = 'dispatched'`, ens[0].id, at(-39))
		check("confirming two messages of one prospect in one statement")
		exec(`UPDATE enrollments SET accepted_at = $1 WHERE id IN ($2, $3, $4)`, at(-45), ens[0].id, ens[1].id, ens[8].id)
		check("three accepts in one statement")
		exec(`UPDATE enrollments SET replied_at = $1 WHERE id = $2`, at(-30), ens[0].id)
		check("a reply after every send")
		exec(`UPDATE enrollments SET replied_at = $1 WHERE id = $2`, at(-45), ens[0].id)
		check("the reply moved between the sends")
		exec(`UPDATE enrollments SET replied_at = $1 WHERE id IN ($2, $3)`, at(-60), ens[1].id, ens[2].id)
		check("replies before any send")
		exec(`UPDATE sends SET state = 'unknown' WHERE enrollment_id = $1 AND step_id = 'mail'`, ens[1].id)
		exec(`UPDATE sends SET state = 'confirmed', finished_at = $1 WHERE state IN ('dispatched', 'unknown')`, at(-39))
		check("confirming the rest, some from unknown, across campaigns")
		exec(`UPDATE enrollments SET replied_at = $1 WHERE id = $2`, at(-35), ens[1].id)
		check("a reply after the messages")
		for _, id := range []string{cps[0].ID, ""} {
			if err := d.InTx(ctx, func(tx *sql.Tx) error {
				_, err := send.FoldSendCounts(ctx, tx, id)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			check("a fold")
		}
		insert("confirmed", at(-20), "1:view:view_profile:1", "4:inv:invite:1")
		check("sends by the other sender")
		exec(`UPDATE enrollments SET accepted_at = NULL, replied_at = NULL WHERE campaign_id = $1`, cps[0].ID)
		check("every stamp cleared at once")
		exec(`UPDATE enrollments SET accepted_at = $1, replied_at = $2 WHERE campaign_id = $3`, at(-10), at(-25), cps[0].ID)
		check("every stamp set at once")
		insert("confirmed", at(-5), "1:inv:withdraw")
		check("a withdrawal")
		insert("confirmed", at(-4), "2:msg:message", "8:msg:message", "8:msg2:message")
		check("more messages to prospects messaged already and not")
		insert("confirmed", at(-30), "0:mail:inmail", "3:msg:message")
		check("sends before the reply to prospects who replied after an earlier one")
		exec(`UPDATE enrollments SET updated_at = updated_at`)
		check("an update that stamps nothing")
		// A prospect invited twice by one sender (a second invitation step,
		// after a withdrawal) is one acceptance of that sender's.
		insert("confirmed", at(-3), "4:inv2:invite:1")
		check("a second invitation of a prospect by the same sender")
		exec(`UPDATE enrollments SET accepted_at = NULL WHERE id = $1`, ens[4].id)
		check("the prospect invited twice not accepted")
		exec(`UPDATE enrollments SET accepted_at = $1 WHERE id = $2`, at(-2), ens[4].id)
		check("the prospect invited twice accepted")
		insert("confirmed", at(-1), "4:inv3:invite:1")
		check("a third invitation of a prospect who accepted")

		// The rules the counts rely on hold against raw SQL.
		for _, bad := range []string{
			`UPDATE campaign_send_counts SET n = n + 1`,
			`INSERT INTO campaign_send_counts (campaign_id, scope, key, action, measure, n) VALUES ('c', 'step', 'inv', 'invite', 'sent', 0)`,
			`INSERT INTO campaign_send_counts (campaign_id, scope, key, action, measure, n) VALUES ('c', 'sender', 'a', '', 'invited', 1)`,
			`INSERT INTO campaign_send_counts (campaign_id, scope, key, action, measure, n) VALUES ('c', 'step', 'inv', '', 'sent', 1)`,
			`INSERT INTO campaign_send_counts (campaign_id, scope, key, action, measure, n) VALUES ('c', 'campaign', 'x', '', 'invited', 1)`,
			`INSERT INTO campaign_send_counts (campaign_id, scope, key, action, measure, n) VALUES ('c', 'prospect', 'x', '', 'sent', 1)`,
			`UPDATE sends SET dispatched_at = '2026-01-01T00:00:00Z' WHERE state = 'confirmed'`,
			`UPDATE sends SET state = 'failed' WHERE state = 'confirmed'`,
			`DELETE FROM sends`,
		} {
			if _, err := d.SQL.ExecContext(ctx, bad); err == nil {
				t.Errorf("%s: allowed", bad)
			}
		}
		check("the refused writes")
	})
}

// TestMigrationCountsTheLedger: migration 33 counts the sends a database
// already holds — confirmed and not, withdrawals, a prospect invited twice
// by one sender, accepts and replies before and after the sends — as the
// ledger says. (It adds no column the services write, so they build the
// data on the schema before.)
func TestMigrationCountsTheLedger(t *testing.T) {
	t.Parallel()
	for _, e := range dbtest.Engines {
		t.Run(string(e), func(t *testing.T) {
			t.Parallel()
			d := dbtest.Open(t, e, dbtest.Options{MigrateTo: 32})
			w := newCountsWorld(t, d)
			w.insert("confirmed", w.at(-50), "0:view:view_profile", "0:inv:invite", "1:inv:invite", "2:inv:invite:1", "8:inv:invite",
				"4:inv:invite:1", "4:inv2:invite:1", "1:inv:withdraw")
			w.insert("confirmed", w.at(-40), "0:msg:message", "0:msg2:message", "1:mail:inmail", "9:msg:message")
			w.insert("dispatched", w.at(-30), "3:inv:invite", "10:inv:invite")
			w.insert("intent", "", "5:inv:invite")
			w.exec(`UPDATE enrollments SET accepted_at = $1 WHERE id IN ($2, $3, $4, $5)`, w.at(-45), w.ens[0].id, w.ens[1].id, w.ens[4].id, w.ens[8].id)
			w.exec(`UPDATE enrollments SET replied_at = $1 WHERE id IN ($2, $3)`, w.at(-45), w.ens[0].id, w.ens[9].id)
			w.exec(`UPDATE enrollments SET replied_at = $1 WHERE id = $2`, w.at(-35), w.ens[1].id)
			var rows int
			if err := d.SQL.QueryRowContext(w.ctx, `SELECT count(*) FROM sends WHERE state = 'confirmed'`).Scan(&rows); err != nil || rows != 12 {
				t.Fatalf("%d confirmed sends before the migration (%v), want 12", rows, err)
			}
			if _, err := d.Migrate(w.ctx); err != nil {
				t.Fatal(err)
			}
			w.check("the migration")
		})
	}
}
