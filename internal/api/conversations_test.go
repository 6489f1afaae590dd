package api

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/clock"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
	"github.com/keel-outreach/keel/internal/inbox"
	"github.com/keel-outreach/keel/internal/send"
	"github.com/keel-outreach/keel/internal/token"
	"github.com/keel-outreach/keel/internal/unipile"
	"github.com/keel-outreach/keel/internal/workspace"
)

// TestReplyBadInputAndRefusal: an empty or oversize reply is a 422 naming
// text, a reply from a disconnected sender is a 409 with the policy's
// sentence; neither stores anything nor calls the provider (the client
// here points nowhere); once the sender is connected the reply is accepted
// (202) into the ledger. Conversations list with their messages.
func TestReplyBadInputAndRefusal(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		c := clock.NewFake(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
		accounts := account.NewService(d, c)
		camps := campaign.NewService(d, c)
		client, err := unipile.New(unipile.Options{BaseURL: "http://127.0.0.1:1", APIKey: "k"})
		if err != nil {
			t.Fatal(err)
		}
		sender, err := send.New(send.Options{DB: d, Accounts: accounts, Campaigns: camps, Client: client, Clock: c})
		if err != nil {
			t.Fatal(err)
		}
		ib, err := inbox.New(inbox.Options{DB: d, Campaigns: camps, Clock: c})
		if err != nil {
			t.Fatal(err)
		}
		ws, err := workspace.Create(ctx, d.SQL, "replies", "", c.Now())
		if err != nil {
			t.Fatal(err)
		}
		_, secret, err := token.Create(ctx, d.SQL, ws.ID, "test", c.Now())
		if err != nil {
			t.Fatal(err)
		}
		a, err := accounts.Create(ctx, d.SQL, account.NewAccount{WorkspaceID: ws.ID, ProviderAccountID: "p-replies", Status: account.StatusDisconnected, Tier: account.TierPremium})
		if err != nil {
			t.Fatal(err)
		}
		var conv string
		if err := d.InTx(ctx, func(tx *sql.Tx) error {
			conv, err = ib.Record(ctx, tx, a, unipile.MessageEvent{Event: "message_received", ChatID: "chat-1", MessageID: "m-1", Message: "Hello?",
				Sender: &unipile.Attendee{AttendeeProviderID: "ACoAAwriter", AttendeeName: "Writer"}})
			return err
		}); err != nil {
			t.Fatal(err)
		}
		srv := newValidatedServer(t, New(Options{DB: d, Accounts: accounts, Campaigns: camps, Sender: sender, Inbox: ib, Clock: c}))
		t.Cleanup(srv.Close)
		b := &campaignBundle{srv: srv}
		path := "/api/v1/conversations/" + conv + "/messages"
		for _, text := range []string{"", "   ", strings.Repeat("x", send.MaxReplyLength+1)} {
			status, body, _ := b.call(t, "POST", path, secret, "", map[string]any{"text": text})
			errs, _ := body["errors"].([]any)
			if status != 422 || len(errs) != 1 || errs[0].(map[string]any)["field"] != "text" {
				t.Fatalf("reply of %d characters: %d %v", len(text), status, body)
			}
		}
		status, body, _ := b.call(t, "POST", path, secret, "", map[string]any{"text": "Hi Writer"})
		if status != 409 || body["title"] != "account_not_connected" || !strings.Contains(body["detail"].(string), "disconnected") {
			t.Fatalf("a reply from a disconnected sender: %d %v", status, body)
		}
		var rows int
		if err := d.SQL.QueryRow(`SELECT count(*) FROM sends`).Scan(&rows); err != nil || rows != 0 {
			t.Fatalf("ledger rows after refusals: %d %v", rows, err)
		}
		// Once the sender is connected the reply is accepted into the
		// ledger: 202 with the row (sent later by the send engine).
		if _, err := accounts.Flip(ctx, account.FlipRequest{AccountID: a.ID, To: account.StatusConnected, Reason: "OK", Source: account.SourceWebhook}); err != nil {
			t.Fatal(err)
		}
		status, body, _ = b.call(t, "POST", path, secret, "", map[string]any{"text": "Hi Writer"})
		if status != 202 || body["id"] == nil {
			t.Fatalf("a reply from a connected sender: %d %v", status, body)
		}
		status, body, _ = b.call(t, "GET", "/api/v1/conversations?unread=true", secret, "", nil)
		if items, _ := body["items"].([]any); status != 200 || len(items) != 1 || items[0].(map[string]any)["attendee_name"] != "Writer" {
			t.Fatalf("unread conversations: %d %v", status, body)
		}
		status, body, _ = b.call(t, "GET", path, secret, "", nil)
		if items, _ := body["items"].([]any); status != 200 || len(items) != 1 || items[0].(map[string]any)["text"] != "Hello?" {
			t.Fatalf("messages: %d %v", status, body)
		}
		if status, _, _ := b.call(t, "GET", "/api/v1/conversations?unread=maybe", secret, "", nil); status != 400 {
			t.Fatalf("a bad unread filter: %d", status)
		}
	})
}
