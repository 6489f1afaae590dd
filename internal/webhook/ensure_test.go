package webhook_test

import (
	"net/http"
	"testing"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
	"github.com/keel-outreach/keel/internal/unipile"
	"github.com/keel-outreach/keel/internal/unipile/fake"
	"github.com/keel-outreach/keel/internal/webhook"
)

// TestFakeDeliversThroughEnsuredWebhooks registers Keel's webhooks on the
// fake through EnsureWebhooks, pointing at the receiver on a loopback
// server, and lets the fake deliver a real status change.
func TestFakeDeliversThroughEnsuredWebhooks(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		f, client := startFake(t, e.clock)
		pid := f.AddAccount(fake.AccountSpec{Name: "Ada"})
		a := e.newAccount(t, account.StatusConnected, pid)

		// Someone else's webhook and an outdated one of ours (old secret).
		other, err := client.CreateWebhook(e.ctx, unipile.CreateWebhookRequest{
			RequestURL: "http://127.0.0.1:1/elsewhere", Source: unipile.SourceAccountStatus})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := client.CreateWebhook(e.ctx, unipile.CreateWebhookRequest{
			RequestURL: e.srv.URL + webhook.Path, Source: unipile.SourceAccountStatus, Name: "keel:account_status",
			Headers: []unipile.WebhookHeader{{Key: "Content-Type", Value: "application/json"}, {Key: webhook.HeaderSecret, Value: "old-secret"}},
		}); err != nil {
			t.Fatal(err)
		}

		for range 2 { // a restart must not add webhooks
			if err := webhook.EnsureWebhooks(e.ctx, client, e.srv.URL+"/", secret); err != nil {
				t.Fatalf("EnsureWebhooks: %v", err)
			}
		}
		hooks, err := client.AllWebhooks(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		ours := map[string]int{}
		otherKept := false
		for _, w := range hooks {
			if string(w.ID) == other {
				otherKept = true
				continue
			}
			if w.RequestURL != e.srv.URL+webhook.Path {
				t.Fatalf("unexpected webhook %+v", w)
			}
			ours[w.Source]++
			hdr := map[string]string{}
			for _, h := range w.Headers {
				hdr[h.Key] = h.Value
			}
			if hdr["Content-Type"] != "application/json" || hdr[webhook.HeaderSecret] != secret {
				t.Fatalf("webhook %s headers = %v", w.Source, hdr)
			}
		}
		if len(hooks) != 4 || !otherKept || ours["account_status"] != 1 || ours["users"] != 1 || ours["messaging"] != 1 {
			t.Fatalf("webhooks after two ensures: %d in all, ours %v, foreign kept %v", len(hooks), ours, otherKept)
		}

		if err := f.SetAccountStatus(pid, "CREDENTIALS"); err != nil {
			t.Fatal(err)
		}
		waitIdle(t, f)
		var got *fake.Delivery
		for _, dl := range f.Deliveries() {
			if dl.Kind == fake.DeliveryWebhook && dl.Event == "CREDENTIALS" && dl.URL == e.srv.URL+webhook.Path {
				if got != nil {
					t.Fatalf("CREDENTIALS delivered to more than one webhook")
				}
				got = &dl
			}
		}
		if got == nil || !got.Delivered || got.Attempts != 1 || got.Status != http.StatusOK || got.Headers[webhook.HeaderSecret] != secret {
			t.Fatalf("delivery = %+v", got)
		}
		e.process(t)
		acct := e.get(t, a.ID)
		if acct.Status != account.StatusDisconnected || acct.DisconnectedBy != string(account.SourceWebhook) {
			t.Fatalf("account after delivered CREDENTIALS = %+v", acct)
		}
	})
}

// TestFakeRetriesAWrongSecretAndNothingIsStored checks the refusal from the
// sender's side: every attempt, retries included, gets 401.
func TestFakeRetriesAWrongSecretAndNothingIsStored(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		f, client := startFake(t, e.clock)
		pid := f.AddAccount(fake.AccountSpec{})
		a := e.newAccount(t, account.StatusConnected, pid)
		if _, err := client.CreateWebhook(e.ctx, unipile.CreateWebhookRequest{
			RequestURL: e.srv.URL + webhook.Path, Source: unipile.SourceAccountStatus,
			Headers: []unipile.WebhookHeader{{Key: webhook.HeaderSecret, Value: "guessed"}},
		}); err != nil {
			t.Fatal(err)
		}
		if err := f.SetAccountStatus(pid, "CREDENTIALS"); err != nil {
			t.Fatal(err)
		}
		waitIdle(t, f)
		ds := f.Deliveries()
		if len(ds) != 1 || ds[0].Delivered || ds[0].Attempts != 1+fake.DefaultWebhookRetries || ds[0].Status != http.StatusUnauthorized {
			t.Fatalf("deliveries = %+v", ds)
		}
		e.process(t)
		if n := e.inboxCount(t); n != 0 {
			t.Fatalf("%d rows stored from unauthenticated deliveries", n)
		}
		if st := e.get(t, a.ID).Status; st != account.StatusConnected {
			t.Fatalf("account is %s", st)
		}
	})
}

func TestEnsureWebhooksRefusesBadInput(t *testing.T) {
	_, client := startFake(t, nil)
	ctx := t.Context()
	for _, c := range []struct{ url, secret string }{
		{"", secret},
		{"ftp://example.com", secret},
		{"http://example.com/?q=1", secret},
		{"http://example.com", ""},
	} {
		if err := webhook.EnsureWebhooks(ctx, client, c.url, c.secret); err == nil {
			t.Errorf("EnsureWebhooks(%q, secret %v) succeeded", c.url, c.secret != "")
		}
	}
}
