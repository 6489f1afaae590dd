package connect_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/connect"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
	"github.com/keel-outreach/keel/internal/unipile/fake"
	"github.com/keel-outreach/keel/internal/workspace"
)

func TestReconnectEndToEnd(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		pid := e.fake.AddAccount(fake.AccountSpec{Name: "Ada", Status: "CREDENTIALS"})
		a := e.create(t, e.ws, pid, account.StatusConnected)
		three := 3
		terminal := account.TerminalNotRegistered()
		if _, err := e.accounts.Flip(e.ctx, account.FlipRequest{AccountID: a.ID, To: account.StatusDisconnected,
			Copy: &terminal, Strikes: &three, Reason: "third 404", Source: account.SourceHealthCheck}); err != nil {
			t.Fatal(err)
		}

		wizard, err := e.svc.ReconnectLink(e.ctx, e.ws.ID, a.ID)
		if err != nil {
			t.Fatalf("ReconnectLink: %v", err)
		}
		l := e.link(t, wizard)
		if l.Type != "reconnect" || l.ReconnectAccount != pid || l.Used {
			t.Fatalf("link as the fake recorded it: %+v", l)
		}
		prefix := e.srv.URL + connect.CallbackPath + "?token="
		if !strings.HasPrefix(l.NotifyURL, prefix) {
			t.Fatalf("notify_url %q does not start with %q", l.NotifyURL, prefix)
		}
		nu, _ := url.Parse(l.NotifyURL)
		token := nu.Query().Get("token")
		if len(token) < 40 {
			t.Fatalf("token %q is too short to be unguessable", token)
		}
		sum := sha256.Sum256([]byte(token))
		if n := e.count(t, `SELECT count(*) FROM hosted_auth_links WHERE token_hash = $1 AND link_type = 'reconnect'
			AND account_id = $2 AND used_at IS NULL`, hex.EncodeToString(sum[:]), a.ID); n != 1 {
			t.Fatalf("stored links matching the token's hash: %d", n)
		}
		if n := e.count(t, `SELECT count(*) FROM hosted_auth_links WHERE token_hash = $1 OR id = $1`, token); n != 0 {
			t.Fatal("the token itself is stored")
		}
		if e.calls(fake.ActionHostedLink, pid) != 1 {
			t.Fatalf("hosted link calls = %d", e.calls(fake.ActionHostedLink, pid))
		}

		if err := e.fake.CompleteHostedAuth(l.Token, true); err != nil {
			t.Fatal(err)
		}
		e.waitIdle(t)
		var notify *fake.Delivery
		for _, dl := range e.fake.Deliveries() {
			if dl.Kind == fake.DeliveryNotify {
				notify = &dl
			}
		}
		if notify == nil || !notify.Delivered || notify.Event != "RECONNECTED" || notify.URL != l.NotifyURL {
			t.Fatalf("notify delivery = %+v", notify)
		}
		got := e.get(t, a.ID)
		if got.Status != account.StatusConnected || got.LastError != "" || got.DisconnectedAt != nil ||
			got.DisconnectedBy != "" || got.Strikes != 0 {
			t.Fatalf("account after reconnect = %+v", got)
		}
		audit, _ := e.accounts.Audit(e.ctx, e.db.SQL, a.ID)
		last := audit[len(audit)-1]
		if last.From != account.StatusDisconnected || last.To != account.StatusConnected || last.Source != string(account.SourceHostedAuth) {
			t.Fatalf("last audit row = %+v", last)
		}
		if n := e.count(t, `SELECT count(*) FROM hosted_auth_links WHERE account_id = $1 AND used_at IS NOT NULL AND result_status = 'RECONNECTED'`, a.ID); n != 1 {
			t.Fatal("link not marked used")
		}

		// The same token again, with the same body: refused, nothing changes.
		if code := e.postCallback(t, l.NotifyURL, string(notify.Body)); code != http.StatusUnauthorized {
			t.Fatalf("replayed token answered %d", code)
		}
		if again, _ := e.accounts.Audit(e.ctx, e.db.SQL, a.ID); len(again) != len(audit) {
			t.Fatal("a replayed callback wrote an audit row")
		}
		// The database itself refuses to spend a link twice.
		e.clock.Advance(time.Minute)
		_, err = e.db.SQL.ExecContext(e.ctx, `UPDATE hosted_auth_links SET used_at = $2 WHERE account_id = $1`, a.ID, e.clock.Now())
		if !db.ViolatesConstraint(err, "hosted_auth_links_guard") {
			t.Fatalf("re-spending a used link: %v", err)
		}
	})
}

func TestCreateEndToEnd(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		wizard, err := e.svc.CreateLink(e.ctx, e.ws.ID)
		if err != nil {
			t.Fatalf("CreateLink: %v", err)
		}
		l := e.link(t, wizard)
		if l.Type != "create" || l.ReconnectAccount != "" {
			t.Fatalf("link = %+v", l)
		}
		// A failed login calls nothing and leaves the link usable.
		if err := e.fake.CompleteHostedAuth(l.Token, false); err != nil {
			t.Fatal(err)
		}
		e.waitIdle(t)
		if n := e.count(t, `SELECT count(*) FROM linkedin_accounts`); n != 0 {
			t.Fatalf("%d accounts after a failed login", n)
		}
		if err := e.fake.CompleteHostedAuth(l.Token, true); err != nil {
			t.Fatal(err)
		}
		e.waitIdle(t)
		l = e.link(t, wizard)
		a, err := e.accounts.GetByProviderID(e.ctx, e.db.SQL, l.AccountID)
		if err != nil {
			t.Fatalf("created account not found: %v", err)
		}
		if a.WorkspaceID != e.ws.ID || a.Status != account.StatusConnected || a.Name == "" {
			t.Fatalf("created account = %+v", a)
		}
		audit, _ := e.accounts.Audit(e.ctx, e.db.SQL, a.ID)
		if len(audit) != 2 || audit[0].To != account.StatusConnecting ||
			audit[1].To != account.StatusConnected || audit[1].Source != string(account.SourceHostedAuth) {
			t.Fatalf("audit = %+v", audit)
		}
		if e.calls(fake.ActionGetAccount, l.AccountID) != 1 {
			t.Fatal("the provider status was not checked before connecting")
		}
		body := fmt.Sprintf(`{"status":"CREATION_SUCCESS","account_id":%q,"name":%q}`, l.AccountID, l.Name)
		if code := e.postCallback(t, l.NotifyURL, body); code != http.StatusUnauthorized {
			t.Fatalf("reused create token answered %d", code)
		}
	})
}

func TestCallbackRefusesBadTokens(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		pid := e.fake.AddAccount(fake.AccountSpec{})
		body := fmt.Sprintf(`{"status":"CREATION_SUCCESS","account_id":%q,"name":"x"}`, pid)
		base := e.srv.URL + connect.CallbackPath
		wizard, err := e.svc.CreateLink(e.ctx, e.ws.ID)
		if err != nil {
			t.Fatal(err)
		}
		l := e.link(t, wizard)
		real, _ := url.Parse(l.NotifyURL)
		token := real.Query().Get("token")
		for name, u := range map[string]string{
			"missing":      base,
			"empty":        base + "?token=",
			"forged":       base + "?token=" + strings.Repeat("A", len(token)),
			"short":        base + "?token=abc",
			"other param":  base + "?tok=" + token,
			"altered":      base + "?token=" + token[:len(token)-1] + "x",
			"hash as auth": base + "?token=" + hashOf(token),
		} {
			if code := e.postCallback(t, u, body); code != http.StatusUnauthorized {
				t.Errorf("%s token answered %d", name, code)
			}
		}
		if n := e.count(t, `SELECT count(*) FROM linkedin_accounts`); n != 0 {
			t.Fatalf("forged callbacks created %d accounts", n)
		}
		// A valid token with a malformed body: 400, and the link survives.
		if code := e.postCallback(t, l.NotifyURL, `{"status":"CREATION_SUCCESS"}`); code != http.StatusBadRequest {
			t.Fatalf("malformed body answered %d", code)
		}
		// A status that does not complete the link: acknowledged, no change.
		if code := e.postCallback(t, l.NotifyURL, fmt.Sprintf(`{"status":"FAILED","account_id":%q}`, pid)); code != http.StatusOK {
			t.Fatalf("unknown status answered %d", code)
		}
		if n := e.count(t, `SELECT count(*) FROM linkedin_accounts`); n != 0 {
			t.Fatal("a non-completing status created an account")
		}
		// Expired: past the link's life and the grace period.
		e.clock.Advance(connect.DefaultLinkTTL + connect.DefaultCallbackGrace + time.Second)
		if code := e.postCallback(t, l.NotifyURL, body); code != http.StatusUnauthorized {
			t.Fatalf("expired token answered %d", code)
		}
		if n := e.count(t, `SELECT count(*) FROM linkedin_accounts`); n != 0 {
			t.Fatal("an expired token created an account")
		}
		resp, err := http.Get(l.NotifyURL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Fatalf("GET answered %d", resp.StatusCode)
		}
	})
}

func hashOf(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func TestCallbackConflicts(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		other, err := workspace.Create(e.ctx, e.db.SQL, "other", "Other", e.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		pidOther := e.fake.AddAccount(fake.AccountSpec{})
		theirs := e.create(t, other, pidOther, account.StatusConnected)

		// A create callback naming another workspace's account: refused,
		// the account stays where it is, the link stays unused.
		wizard, err := e.svc.CreateLink(e.ctx, e.ws.ID)
		if err != nil {
			t.Fatal(err)
		}
		l := e.link(t, wizard)
		body := fmt.Sprintf(`{"status":"CREATION_SUCCESS","account_id":%q}`, pidOther)
		if code := e.postCallback(t, l.NotifyURL, body); code != http.StatusConflict {
			t.Fatalf("stealing callback answered %d", code)
		}
		if got := e.get(t, theirs.ID); got.WorkspaceID != other.ID {
			t.Fatal("the account moved workspace")
		}
		if n := e.count(t, `SELECT count(*) FROM hosted_auth_links WHERE used_at IS NOT NULL`); n != 0 {
			t.Fatal("a refused callback spent the link")
		}

		// A reconnect callback naming another account than the link's.
		pid := e.fake.AddAccount(fake.AccountSpec{})
		mine := e.create(t, e.ws, pid, account.StatusDisconnected)
		wizard, err = e.svc.ReconnectLink(e.ctx, e.ws.ID, mine.ID)
		if err != nil {
			t.Fatal(err)
		}
		l = e.link(t, wizard)
		if code := e.postCallback(t, l.NotifyURL, fmt.Sprintf(`{"status":"RECONNECTED","account_id":%q}`, pidOther)); code != http.StatusConflict {
			t.Fatalf("mismatched reconnect answered %d", code)
		}
		if got := e.get(t, mine.ID); got.Status != account.StatusDisconnected {
			t.Fatalf("mismatched reconnect changed the account to %s", got.Status)
		}
		// A reconnect link for another workspace's account cannot be made.
		if _, err := e.svc.ReconnectLink(e.ctx, e.ws.ID, theirs.ID); !errors.Is(err, account.ErrNotFound) {
			t.Fatalf("ReconnectLink across workspaces: %v", err)
		}
		// The lenient decoder accepts a numeric id and lower-case status.
		if code := e.postCallback(t, l.NotifyURL, fmt.Sprintf(`{"status":"reconnected","account_id":%q,"extra":[1]}`, pid)); code != http.StatusOK {
			t.Fatalf("lenient reconnect answered %d", code)
		}
		if got := e.get(t, mine.ID); got.Status != account.StatusConnected {
			t.Fatalf("account after reconnect: %s", got.Status)
		}
	})
}

func TestLinkFailureLeavesNothing(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		if _, err := e.fake.InjectFault(fake.Fault{Action: fake.ActionHostedLink, Status: 503}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.CreateLink(e.ctx, e.ws.ID); err == nil {
			t.Fatal("CreateLink succeeded against a failing provider")
		}
		if n := e.count(t, `SELECT count(*) FROM hosted_auth_links`); n != 0 {
			t.Fatalf("%d links left after a failed mint", n)
		}
		if _, err := e.svc.CreateLink(e.ctx, "ws_missing"); err == nil {
			t.Fatal("CreateLink for an unknown workspace succeeded")
		}
	})
}

func TestLinkRulesLiveInTheDatabase(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		other, err := workspace.Create(e.ctx, e.db.SQL, "other", "Other", e.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		theirs := e.create(t, other, "prov-theirs", account.StatusDisconnected)
		now, later := e.clock.Now(), e.clock.Now().Add(time.Hour)
		insert := func(id, hash, linkType string, accountID, providerID any) error {
			_, err := e.db.SQL.ExecContext(e.ctx, `
				INSERT INTO hosted_auth_links (id, token_hash, workspace_id, link_type, account_id, provider_account_id, created_at, expires_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, id, hash, e.ws.ID, linkType, accountID, providerID, now, later)
			return err
		}
		for _, c := range []struct {
			name, constraint string
			err              error
		}{
			{"unknown type", "hosted_auth_links_type_chk", insert("l1", hashOf("a"), "steal", nil, nil)},
			{"plain token instead of a hash", "hosted_auth_links_token_hash_chk", insert("l2", "token", "create", nil, nil)},
			{"reconnect without account", "hosted_auth_links_reconnect_chk", insert("l3", hashOf("b"), "reconnect", nil, nil)},
			{"another workspace's account", "hosted_auth_links_guard", insert("l4", hashOf("c"), "reconnect", theirs.ID, "prov-theirs")},
		} {
			if !db.ViolatesConstraint(c.err, c.constraint) {
				t.Errorf("%s: %v, want a refusal naming %s", c.name, c.err, c.constraint)
			}
		}
		if err := insert("l5", hashOf("d"), "create", nil, nil); err != nil {
			t.Fatal(err)
		}
		if err := insert("l6", hashOf("d"), "create", nil, nil); !db.IsUniqueViolation(err) {
			t.Fatalf("duplicate token hash: %v", err)
		}
		_, err = e.db.SQL.ExecContext(e.ctx, `UPDATE hosted_auth_links SET used_at = $2, result_status = 'CREATION_SUCCESS' WHERE id = $1`, "l5", now)
		if !db.ViolatesConstraint(err, "hosted_auth_links_used_chk") {
			t.Fatalf("used without an account: %v", err)
		}
		_, err = e.db.SQL.ExecContext(e.ctx, `UPDATE hosted_auth_links SET used_at = $2, result_status = 'OK', account_id = $3 WHERE id = $1`,
			"l5", later.Add(time.Second), e.create(t, e.ws, "prov-mine", account.StatusConnecting).ID)
		if !db.ViolatesConstraint(err, "hosted_auth_links_used_chk") {
			t.Fatalf("used after expiry: %v", err)
		}
		_, err = e.db.SQL.ExecContext(e.ctx, `UPDATE hosted_auth_links SET link_type = 'reconnect' WHERE id = $1`, "l5")
		if err == nil {
			t.Fatal("a link's type changed")
		}
	})
}
