package webhook_test

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
	"github.com/keel-outreach/keel/internal/unipile"
	"github.com/keel-outreach/keel/internal/webhook"
)

func TestSecretIsRequired(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		a := e.newAccount(t, account.StatusConnected)
		body := statusBody(a.ProviderAccountID, "CREDENTIALS")
		for name, sec := range map[string]string{
			"missing":      "",
			"wrong":        "not-the-secret",
			"prefix":       secret[:10],
			"longer":       secret + "x",
			"case-changed": strings.ToUpper(secret),
		} {
			if got := e.post(t, body, sec); got != http.StatusUnauthorized {
				t.Errorf("%s secret: status %d, want 401", name, got)
			}
		}
		e.process(t)
		if n := e.inboxCount(t); n != 0 {
			t.Fatalf("unauthenticated deliveries stored %d rows", n)
		}
		if got := e.get(t, a.ID); got.Status != account.StatusConnected {
			t.Fatalf("unauthenticated delivery changed the account to %s", got.Status)
		}
		if st := e.rc.Stats(); st.Unauthorized != 5 {
			t.Fatalf("Unauthorized = %d, want 5", st.Unauthorized)
		}
	})
}

func TestNewReceiverRefusesEmptySecret(t *testing.T) {
	d := dbtest.Open(t, db.SQLite, dbtest.Options{})
	if _, err := webhook.NewReceiver(webhook.Options{DB: d, Accounts: account.NewService(d, nil)}); err == nil {
		t.Fatal("a receiver without a secret was built")
	}
}

func TestMalformedIsRefusedAndNothingStored(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d, func(o *webhook.Options) { o.MaxBodyBytes = 4096 })
		a := e.newAccount(t, account.StatusConnected)
		cases := map[string]struct {
			body string
			want int
		}{
			"not json":                   {"this is not json", 400},
			"truncated":                  {`{"AccountStatus":{"account_id":"x"`, 400},
			"array":                      {`[{"AccountStatus":{}}]`, 400},
			"null":                       {`null`, 400},
			"string":                     {`"CREDENTIALS"`, 400},
			"status without account":     {`{"AccountStatus":{"message":"CREDENTIALS"}}`, 400},
			"status without message":     {`{"AccountStatus":{"account_id":"` + a.ProviderAccountID + `"}}`, 400},
			"relation without member":    {`{"event":"new_relation","account_id":"` + a.ProviderAccountID + `"}`, 400},
			"message without chat":       {`{"event":"message_received","account_id":"` + a.ProviderAccountID + `"}`, 400},
			"account id with spaces":     {statusBody("a b", "CREDENTIALS"), 400},
			"account id too long":        {statusBody(strings.Repeat("a", 300), "CREDENTIALS"), 400},
			"invalid utf-8":              {"{\"event\":\"x\xff\"}", 400},
			"too deep":                   {strings.Repeat(`{"a":`, 100) + `1` + strings.Repeat(`}`, 100), 400},
			"trailing garbage":           {statusBody(a.ProviderAccountID, "CREDENTIALS") + "x", 400},
			"too large":                  {`{"event":"x","pad":"` + strings.Repeat("a", 5000) + `"}`, 413},
			"empty":                      {"", 400},
			"status account id is array": {`{"AccountStatus":{"account_id":[1],"message":"OK"}}`, 400},
		}
		for name, c := range cases {
			if got := e.post(t, c.body, secret); got != c.want {
				t.Errorf("%s: status %d, want %d", name, got, c.want)
			}
		}
		e.process(t)
		if n := e.inboxCount(t); n != 0 {
			t.Fatalf("malformed deliveries stored %d rows", n)
		}
		if got := e.get(t, a.ID); got.Status != account.StatusConnected {
			t.Fatalf("a malformed delivery changed the account to %s", got.Status)
		}
	})
}

func TestMethodNotAllowed(t *testing.T) {
	e := newEnv(t, dbtest.Open(t, db.SQLite, dbtest.Options{}))
	resp, err := http.Get(e.srv.URL + webhook.Path)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("GET answered %d", resp.StatusCode)
	}
}

func TestUnknownEventIsAcknowledgedIgnoredAndCounted(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		body := `{"event":"post_liked","account_id":"whatever","data":{"n":1}}`
		e.mustPost(t, body)
		e.mustPost(t, body) // Unipile's retry of the same delivery
		e.mustPost(t, `{"something":"else entirely"}`)
		e.process(t)
		es := e.entries(t)
		if len(es) != 2 {
			t.Fatalf("inbox rows = %d, want 2 (one per distinct body)", len(es))
		}
		if es[0].State != webhook.StateIgnored || es[0].Event != "post_liked" || es[0].Deliveries != 2 || es[0].ProcessedAt == nil {
			t.Fatalf("unknown event row = %+v", es[0])
		}
		if es[1].Event != "(none)" || es[1].State != webhook.StateIgnored {
			t.Fatalf("event-less row = %+v", es[1])
		}
		if st := e.rc.Stats(); st.Unknown != 2 || st.Duplicates != 1 {
			t.Fatalf("stats = %+v, want Unknown 2 and Duplicates 1", st)
		}
	})
}

func TestSameDeliveryFiveTimesHasOneEffect(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		a := e.newAccount(t, account.StatusConnected)
		body := statusBody(a.ProviderAccountID, "CREDENTIALS")
		for i := range 5 {
			e.mustPost(t, body)
			if i == 1 {
				e.process(t) // later retries arrive after the first was applied
			}
		}
		e.process(t)
		es := e.entries(t)
		if len(es) != 1 || es[0].Deliveries != 5 || es[0].State != webhook.StateProcessed || es[0].Attempts != 1 {
			t.Fatalf("inbox = %+v, want one processed row with 5 deliveries and 1 attempt", es)
		}
		if n := e.flipsTo(t, a.ID, account.StatusDisconnected); n != 1 {
			t.Fatalf("%d audit rows to disconnected, want 1", n)
		}
		got := e.get(t, a.ID)
		if got.Status != account.StatusDisconnected || got.LastError != account.TerminalCredentials().Text ||
			got.DisconnectedBy != string(account.SourceWebhook) || !got.ReconnectNeeded() {
			t.Fatalf("account after CREDENTIALS = %+v", got)
		}
		if st := e.rc.Stats(); st.Stored != 1 || st.Duplicates != 4 {
			t.Fatalf("stats = %+v", st)
		}
		// Past the dedupe window the same message is a new event: stored,
		// and a no-op because the account is already disconnected.
		e.clock.Advance(webhook.DefaultDedupeWindow + time.Minute)
		e.mustPost(t, body)
		e.process(t)
		es = e.entries(t)
		if len(es) != 2 || es[1].State != webhook.StateProcessed || !strings.Contains(es[1].Note, "already disconnected") {
			t.Fatalf("inbox after the window = %+v", es)
		}
		if n := e.flipsTo(t, a.ID, account.StatusDisconnected); n != 1 {
			t.Fatalf("%d audit rows to disconnected after the window, want 1", n)
		}
	})
}

func TestReconnectedClearsMarkersAndStrikes(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		a := e.newAccount(t, account.StatusConnected)
		soft := account.Soft404(2)
		if err := e.db.InTx(e.ctx, func(tx *sql.Tx) error {
			_, err := e.accounts.UpdateSoft(e.ctx, tx, account.SoftUpdate{AccountID: a.ID, Copy: &soft, Strikes: 2})
			return err
		}); err != nil {
			t.Fatal(err)
		}
		e.mustPost(t, statusBody(a.ProviderAccountID, "CREDENTIALS"))
		e.process(t)
		if got := e.get(t, a.ID); got.Status != account.StatusDisconnected || got.Strikes != 2 {
			t.Fatalf("after CREDENTIALS: %+v", got)
		}
		e.clock.Advance(10 * time.Minute)
		e.mustPost(t, statusBody(a.ProviderAccountID, "RECONNECTED"))
		e.process(t)
		got := e.get(t, a.ID)
		if got.Status != account.StatusConnected || got.LastError != "" || got.DisconnectedAt != nil ||
			got.DisconnectedBy != "" || got.Strikes != 0 {
			t.Fatalf("after RECONNECTED: %+v", got)
		}
		audit, _ := e.accounts.Audit(e.ctx, e.db.SQL, a.ID)
		last := audit[len(audit)-1]
		if last.From != account.StatusDisconnected || last.To != account.StatusConnected || last.Source != string(account.SourceWebhook) {
			t.Fatalf("last audit row = %+v", last)
		}
		// The OK that follows a RECONNECTED is a no-op, not an error.
		e.mustPost(t, statusBody(a.ProviderAccountID, "OK"))
		e.process(t)
		if n := e.flipsTo(t, a.ID, account.StatusConnected); n != 1 {
			t.Fatalf("%d flips to connected, want 1", n)
		}
		es := e.entries(t)
		if es[len(es)-1].State != webhook.StateProcessed || !strings.Contains(es[len(es)-1].Note, "already connected") {
			t.Fatalf("OK row = %+v", es[len(es)-1])
		}
	})
}

func TestStatusMessagesMapThroughFlip(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		a := e.newAccount(t, account.StatusConnected)
		steps := []struct {
			msg      string
			want     account.Status
			terminal bool
		}{
			{"ERROR", account.StatusError, false},
			{"OK", account.StatusConnected, false},
			{"STOPPED", account.StatusError, false},
			{"SYNC_SUCCESS", account.StatusConnected, false},
			{"CONNECTING", account.StatusConnecting, false},
			{"CREATION_SUCCESS", account.StatusConnected, false},
			{"CHECKPOINT_REQUIRED", account.StatusNeedsVerification, true},
			{"ok", account.StatusConnected, false}, // messages are matched case-insensitively
			{"DELETED", account.StatusDisconnected, true},
			{"SOMETHING_NEW", account.StatusDisconnected, true}, // unknown: ignored
		}
		for _, s := range steps {
			e.clock.Advance(time.Minute)
			e.mustPost(t, statusBody(a.ProviderAccountID, s.msg))
			e.process(t)
			got := e.get(t, a.ID)
			if got.Status != s.want || got.LastErrorTerminal() != s.terminal {
				t.Fatalf("after %s: status %s (copy %q), want %s terminal=%v", s.msg, got.Status, got.LastError, s.want, s.terminal)
			}
		}
		if got := e.get(t, a.ID); got.LastError != account.TerminalDeleted().Text {
			t.Fatalf("DELETED copy = %q", got.LastError)
		}
		es := e.entries(t)
		if last := es[len(es)-1]; last.State != webhook.StateIgnored || last.StatusMessage != "SOMETHING_NEW" {
			t.Fatalf("unknown message row = %+v", last)
		}
		// Identical messages after different ones are new events, not retries.
		if len(es) != len(steps) {
			t.Fatalf("%d inbox rows for %d distinct deliveries", len(es), len(steps))
		}
	})
}

func TestUnknownProviderAccountIsRecordedAndIgnored(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		e.mustPost(t, statusBody("nobody-knows-me", "CREDENTIALS"))
		e.mustPost(t, `{"event":"new_relation","account_id":"nobody-knows-me","user_provider_id":"ACoAAx"}`)
		e.process(t)
		es := e.entries(t)
		if len(es) != 2 {
			t.Fatalf("inbox rows = %d, want 2", len(es))
		}
		for _, en := range es {
			if en.State != webhook.StateIgnored || !strings.Contains(en.Note, "unknown provider account") {
				t.Fatalf("row = %+v", en)
			}
		}
	})
}

func TestDisconnectGoesThroughTheInjectedFunc(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		var calls atomic.Int64
		var got account.FlipRequest
		e := newEnv(t, d, func(o *webhook.Options) {
			o.Disconnect = func(_ context.Context, req account.FlipRequest) (bool, error) {
				calls.Add(1)
				got = req
				return true, nil // held by the limiter
			}
		})
		a := e.newAccount(t, account.StatusConnected)
		b := e.newAccount(t, account.StatusDisconnected)
		body := statusBody(a.ProviderAccountID, "DELETED")
		e.mustPost(t, body)
		e.mustPost(t, body)
		// Connected flips do not go through the limiter.
		e.mustPost(t, statusBody(b.ProviderAccountID, "OK"))
		e.process(t)
		if calls.Load() != 1 {
			t.Fatalf("disconnect func called %d times, want 1", calls.Load())
		}
		if got.AccountID != a.ID || got.To != account.StatusDisconnected || got.Source != account.SourceWebhook ||
			got.Copy == nil || got.Copy.Text != account.TerminalDeleted().Text {
			t.Fatalf("disconnect request = %+v", got)
		}
		if st := e.get(t, a.ID).Status; st != account.StatusConnected {
			t.Fatalf("held disconnect flipped the account to %s", st)
		}
		if st := e.get(t, b.ID).Status; st != account.StatusConnected {
			t.Fatalf("OK left account b %s", st)
		}
		es := e.entries(t)
		if !strings.Contains(es[0].Note, "held") || es[0].State != webhook.StateProcessed {
			t.Fatalf("held row = %+v", es[0])
		}
	})
}

func TestFailingProcessingIsRetriedThenMarkedFailed(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		var calls atomic.Int64
		e := newEnv(t, d, func(o *webhook.Options) {
			o.MaxAttempts = 3
			o.NoBackground = true
			o.Disconnect = func(context.Context, account.FlipRequest) (bool, error) {
				calls.Add(1)
				return false, errors.New("limiter unavailable")
			}
		})
		a := e.newAccount(t, account.StatusConnected)
		e.mustPost(t, statusBody(a.ProviderAccountID, "CREDENTIALS"))
		for i := 1; i <= 4; i++ {
			n, err := e.rc.ProcessPending(e.ctx)
			if i <= 3 && (err == nil || !strings.Contains(err.Error(), "limiter unavailable")) {
				t.Fatalf("pass %d: err = %v", i, err)
			}
			if i == 3 && n != 1 {
				t.Fatalf("pass 3 finished %d rows, want 1 (given up)", n)
			}
			if i == 4 && (err != nil || n != 0) {
				t.Fatalf("pass 4: %d, %v; a failed row must not be retried", n, err)
			}
		}
		es := e.entries(t)
		if es[0].State != webhook.StateFailed || es[0].Attempts != 3 || !strings.Contains(es[0].LastError, "limiter unavailable") {
			t.Fatalf("row = %+v", es[0])
		}
		if calls.Load() != 3 {
			t.Fatalf("disconnect called %d times", calls.Load())
		}
		// The database refuses to reopen a finished row.
		_, err := e.db.SQL.ExecContext(e.ctx, `UPDATE webhook_inbox SET state = 'pending', processed_at = NULL WHERE id = $1`, es[0].ID)
		if !db.ViolatesConstraint(err, "webhook_inbox_guard") {
			t.Fatalf("reopening a failed row: %v", err)
		}
	})
}

func TestRelationAndMessageEvents(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		var relations atomic.Int64
		e := newEnv(t, d, func(o *webhook.Options) {
			o.OnRelation = func(ctx context.Context, tx *sql.Tx, acct account.Account, ev unipile.NewRelationEvent) error {
				// Inside the processing transaction: the row is still pending.
				var state string
				if err := tx.QueryRowContext(ctx, `SELECT state FROM webhook_inbox WHERE source = 'users'`).Scan(&state); err != nil {
					return err
				}
				if state != webhook.StatePending || ev.UserProviderID != "ACoAAmember1" || acct.WorkspaceID == "" {
					return errors.New("unexpected hook call")
				}
				relations.Add(1)
				return nil
			}
		})
		a := e.newAccount(t, account.StatusConnected)
		rel := `{"event":"new_relation","account_id":"` + a.ProviderAccountID + `","account_type":"LINKEDIN","webhook_name":"",` +
			`"user_full_name":"Julien","user_provider_id":"ACoAAmember1","user_public_identifier":"julien",` +
			`"user_profile_url":"https://www.linkedin.com/in/julien/","user_picture_url":"https://x"}`
		e.mustPost(t, rel)
		// A later delivery of the same relation with another webhook name
		// is the same logical event.
		e.mustPost(t, strings.Replace(rel, `"webhook_name":""`, `"webhook_name":"second"`, 1))
		msg := `{"event":"message_received","account_id":"` + a.ProviderAccountID + `","chat_id":"c1","message_id":"m1",` +
			`"message":"hi","is_sender":false,"attachments":[],"sender":{"attendee_provider_id":"ACoAAmember1"}}`
		e.mustPost(t, msg)
		e.mustPost(t, msg)
		e.process(t)
		if relations.Load() != 1 {
			t.Fatalf("relation hook called %d times", relations.Load())
		}
		es := e.entries(t)
		if len(es) != 2 {
			t.Fatalf("inbox rows = %d, want 2", len(es))
		}
		if es[0].State != webhook.StateProcessed || es[0].Note != "delivered to the relation hook" || es[0].Deliveries != 2 {
			t.Fatalf("relation row = %+v", es[0])
		}
		if es[1].State != webhook.StateProcessed || !strings.Contains(es[1].Note, "campaign engine") || es[1].Deliveries != 2 {
			t.Fatalf("message row = %+v", es[1])
		}
	})
}

type panickyMetrics struct{}

func (panickyMetrics) Received(string, string)  { panic("metrics exploded: secret detail") }
func (panickyMetrics) Processed(string, string) {}

func TestPanicBecomes500WithoutDetails(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d, func(o *webhook.Options) { o.Metrics = panickyMetrics{} })
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+webhook.Path, strings.NewReader(`{"event":"x"}`))
		req.Header.Set(webhook.HeaderSecret, secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusInternalServerError || strings.Contains(string(b), "secret detail") {
			t.Fatalf("panic answered %d %q", resp.StatusCode, b)
		}
	})
}

func TestInboxRulesLiveInTheDatabase(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d, func(o *webhook.Options) { o.NoBackground = true })
		a := e.newAccount(t, account.StatusConnected)
		e.mustPost(t, statusBody(a.ProviderAccountID, "ERROR"))
		id := e.entries(t)[0].ID
		refused := func(what, name string, err error) {
			t.Helper()
			if err == nil {
				t.Fatalf("%s was accepted", what)
			}
			if name != "" && !db.ViolatesConstraint(err, name) {
				t.Fatalf("%s refused without naming %s: %v", what, name, err)
			}
		}
		_, err := e.db.SQL.ExecContext(e.ctx, `UPDATE webhook_inbox SET payload = '{"AccountStatus":{}}' WHERE id = $1`, id)
		refused("rewriting a payload", "webhook_inbox_guard", err)
		_, err = e.db.SQL.ExecContext(e.ctx, `DELETE FROM webhook_inbox WHERE id = $1`, id)
		refused("deleting a pending delivery", "webhook_inbox_guard", err)
		_, err = e.db.SQL.ExecContext(e.ctx, `UPDATE webhook_inbox SET state = 'done', processed_at = last_received_at, claimed_until = NULL WHERE id = $1`, id)
		refused("an unknown state", "webhook_inbox_state_chk", err)
		_, err = e.db.SQL.ExecContext(e.ctx, `UPDATE webhook_inbox SET state = 'processed' WHERE id = $1`, id)
		refused("processed without processed_at", "webhook_inbox_processed_chk", err)
		_, err = e.db.SQL.ExecContext(e.ctx, `
			INSERT INTO webhook_inbox (dedupe_key, source, event, provider_account_id, status_message, payload, received_at, last_received_at)
			SELECT dedupe_key, source, event, provider_account_id, status_message, payload, received_at, last_received_at
			  FROM webhook_inbox WHERE id = $1`, id)
		refused("a second row with the same dedupe key", "", err)
		if !db.IsUniqueViolation(err) {
			t.Fatalf("duplicate dedupe key: %v", err)
		}
		_, err = e.db.SQL.ExecContext(e.ctx, `
			INSERT INTO webhook_inbox (dedupe_key, source, event, payload, received_at, last_received_at)
			VALUES ('k1', 'unknown', 'x', 'not json', $1, $1)`, e.clock.Now())
		refused("a payload that is not a JSON object", "", err)
		_, err = e.db.SQL.ExecContext(e.ctx, `
			INSERT INTO webhook_inbox (dedupe_key, source, event, payload, received_at, last_received_at)
			VALUES ('k2', 'account_status', 'account_status', '{}', $1, $1)`, e.clock.Now())
		refused("a status row without account", "webhook_inbox_account_status_chk", err)
		_, err = e.db.SQL.ExecContext(e.ctx, `
			INSERT INTO webhook_inbox (dedupe_key, source, event, payload, received_at, last_received_at)
			VALUES ('k3', 'unknown', 'x', '{}', $1, $1)`, e.clock.Now())
		refused("an unknown event left pending", "webhook_inbox_unknown_ignored_chk", err)

		e.process(t)
		if _, err := e.db.SQL.ExecContext(e.ctx, `DELETE FROM webhook_inbox WHERE id = $1`, id); err != nil {
			t.Fatalf("deleting a processed delivery (retention): %v", err)
		}
	})
}

func TestDisconnectTxSharesTheProcessingTransaction(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		var calls atomic.Int64
		var e *env
		e = newEnv(t, d, func(o *webhook.Options) {
			o.Disconnect = func(context.Context, account.FlipRequest) (bool, error) {
				return false, errors.New("DisconnectTx must be preferred")
			}
			o.DisconnectTx = func(ctx context.Context, tx *sql.Tx, req account.FlipRequest) (bool, error) {
				calls.Add(1)
				var state string
				if err := tx.QueryRowContext(ctx, `SELECT state FROM webhook_inbox ORDER BY id DESC LIMIT 1`).Scan(&state); err != nil {
					return false, err
				}
				if state != webhook.StatePending {
					return false, errors.New("the marker was written before the flip")
				}
				_, err := e.accounts.FlipTx(ctx, tx, req)
				return false, err
			}
		})
		a := e.newAccount(t, account.StatusConnected)
		gone := e.newAccount(t, account.StatusDisconnected)
		e.mustPost(t, statusBody(a.ProviderAccountID, "CREDENTIALS"))
		e.mustPost(t, statusBody(gone.ProviderAccountID, "CREDENTIALS"))
		e.process(t)
		if calls.Load() != 1 {
			t.Fatalf("DisconnectTx called %d times, want 1 (the disconnected account needs no limiter)", calls.Load())
		}
		if got := e.get(t, a.ID); got.Status != account.StatusDisconnected {
			t.Fatalf("account is %s", got.Status)
		}
		for _, en := range e.entries(t) {
			if en.State != webhook.StateProcessed {
				t.Fatalf("row = %+v", en)
			}
		}
	})
}
