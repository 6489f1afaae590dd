package send_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
	"github.com/keel-outreach/keel/internal/inbox"
	"github.com/keel-outreach/keel/internal/policy"
	"github.com/keel-outreach/keel/internal/send"
	"github.com/keel-outreach/keel/internal/unipile"
	"github.com/keel-outreach/keel/internal/unipile/fake"
)

// A reply typed in the inbox is one provider call, also when the worker
// dies between the call and its record: the restarted dispatch reconciles
// it from the chat's messages and never sends it again. It counts as a
// message; it is refused, with nothing stored, while the account is not
// connected; an empty reply is refused before anything else.
func TestReplyIsSentOnceAcrossACrash(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		s := newSim(t, d, 41)
		sa := s.addAccount(t, "Replier", account.TierPremium, "UTC", 5)
		s.fake.AddPerson(fake.Person{ProviderID: "ACoAAjane", FirstName: "Jane"})
		s.clock.Set(simStart.Add(22 * time.Hour)) // outside the window: a reply does not wait for it
		chatID, msgID, err := s.fake.IncomingMessage(sa.provider, "ACoAAjane", "Happy to talk")
		if err != nil {
			t.Fatal(err)
		}
		in, err := inbox.New(inbox.Options{DB: d, Campaigns: s.camps, Client: s.client, Clock: s.clock})
		if err != nil {
			t.Fatal(err)
		}
		var conv string
		if err := d.InTx(s.ctx, func(tx *sql.Tx) error {
			conv, err = in.Record(s.ctx, tx, sa.acc, unipile.MessageEvent{Event: "message_received", ChatID: unipile.FlexString(chatID),
				MessageID: unipile.FlexString(msgID), Message: "Happy to talk", Sender: &unipile.Attendee{AttendeeProviderID: "ACoAAjane"}})
			return err
		}); err != nil {
			t.Fatal(err)
		}
		var claimed []string
		queued, err := send.New(send.Options{DB: d, Accounts: s.accounts, Campaigns: s.camps, Client: s.client, Clock: s.clock, Seed: 1,
			Enqueue: func(_ context.Context, _ *sql.Tx, id string) error { claimed = append(claimed, id); return nil }})
		if err != nil {
			t.Fatal(err)
		}
		req := send.ReplyRequest{WorkspaceID: s.ws.ID, AccountID: sa.acc.ID, ConversationID: conv, ChatID: chatID, Text: "  "}
		if _, err := queued.Reply(s.ctx, req); !errors.Is(err, send.ErrReplyText) {
			t.Fatalf("an empty reply: %v", err)
		}
		req.Text = "Great — Tuesday 10:00?"
		info, err := queued.Reply(s.ctx, req)
		if err != nil || info.State != "intent" || len(claimed) != 1 || info.ConversationID != conv {
			t.Fatalf("reply claimed: %+v %v %v", info, claimed, err)
		}
		// The provider applies it, the answer is lost, the worker dies.
		s.fake.LoseResponses(fake.ActionSendMessage, 1)
		if _, err := d.SQL.Exec(`UPDATE sends SET state = 'dispatched', dispatched_at = $2 WHERE id = $1`, claimed[0], s.clock.Now()); err != nil {
			t.Fatal(err)
		}
		if _, err := s.client.SendMessage(s.ctx, chatID, unipile.SendMessageRequest{Text: req.Text}); unipile.KindOf(err) != unipile.KindUnknownOutcome {
			t.Fatalf("a lost answer must be an unknown outcome: %v", err)
		}
		s.clock.Advance(5 * time.Minute)
		if err := queued.Dispatch(s.ctx, claimed[0]); err != nil {
			t.Fatal(err)
		}
		if _, err := queued.ReconcileUnknown(s.ctx); err != nil {
			t.Fatal(err)
		}
		var state string
		if err := d.SQL.QueryRow(`SELECT state FROM sends WHERE id = $1`, claimed[0]).Scan(&state); err != nil || state != "confirmed" {
			t.Fatalf("reply after reconciliation: %s %v", state, err)
		}
		if n := countCalls(s.fake, sa.provider, fake.ActionSendMessage, simStart); n != 1 {
			t.Fatalf("the reply was sent %d times", n)
		}
		used, err := send.Used(s.ctx, d.SQL, sa.acc.ID, policy.ActionMessage, policy.UTCDayStart(s.clock.Now()))
		if err != nil || used != 1 {
			t.Fatalf("message usage counts the reply: %d %v", used, err)
		}
		// Disconnected: refused with the policy's sentence, nothing stored.
		c := account.TerminalCredentials()
		if _, err := s.accounts.Flip(s.ctx, account.FlipRequest{AccountID: sa.acc.ID, To: account.StatusDisconnected, Copy: &c,
			Reason: "test", Source: account.SourceWebhook, Actor: "test"}); err != nil {
			t.Fatal(err)
		}
		var refused *send.RefusedError
		if _, err := queued.Reply(s.ctx, req); !errors.As(err, &refused) || refused.Verdict.Code != policy.CodeNotConnected {
			t.Fatalf("a reply from a disconnected account: %v", err)
		}
		var rows int
		if err := d.SQL.QueryRow(`SELECT count(*) FROM sends WHERE action = 'reply'`).Scan(&rows); err != nil || rows != 1 {
			t.Fatalf("reply rows: %d %v", rows, err)
		}
	})
}
