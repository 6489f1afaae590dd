package fake_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/unipile"
	"github.com/keel-outreach/keel/internal/unipile/fake"
)

func TestAPIKeyIsChecked(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	bad, err := unipile.New(unipile.Options{BaseURL: e.fake.URL(), APIKey: "wrong-key-000000"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = bad.ListAccounts(context.Background(), unipile.PageOptions{})
	var ue *unipile.Error
	if !errors.As(err, &ue) || ue.Kind != unipile.KindUnauthorized || ue.Status != 401 || ue.Type != "errors/missing_credentials" {
		t.Fatalf("wrong key: %v", err)
	}
	if _, err := e.client.ListAccounts(context.Background(), unipile.PageOptions{}); err != nil {
		t.Fatalf("right key: %v", err)
	}
	// Admin routes need the key too.
	resp, err := http.Get(e.fake.URL() + "/_fake/calls")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("admin without key = %d", resp.StatusCode)
	}
	calls := e.fake.Calls()
	if len(calls) != 2 || calls[0].Status != 401 || calls[1].Status != 200 || calls[0].Action != fake.ActionListAccounts {
		t.Errorf("calls = %+v", calls)
	}
}

func TestAccountsListGetAndPagination(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	var ids []string
	for i := 0; i < 5; i++ {
		ids = append(ids, e.fake.AddAccount(fake.AccountSpec{}))
	}
	page, err := e.client.ListAccounts(ctx, unipile.PageOptions{Limit: 2})
	if err != nil || len(page.Items) != 2 || page.Cursor == "" || page.Object != "AccountList" {
		t.Fatalf("page 1 = %+v, %v", page, err)
	}
	all, err := e.client.AllAccounts(ctx)
	if err != nil || len(all) != 5 {
		t.Fatalf("all = %d, %v", len(all), err)
	}
	for i, a := range all {
		if string(a.ID) != ids[i] || a.SourceStatus() != unipile.StatusOK || a.MemberID() == "" || a.Type != "LINKEDIN" {
			t.Errorf("account %d = %+v", i, a)
		}
		if len(a.Sources) != 1 || string(a.Sources[0].ID) != ids[i]+"_MESSAGING" {
			t.Errorf("sources = %+v", a.Sources)
		}
	}
	a, err := e.client.GetAccount(ctx, ids[2])
	if err != nil || string(a.ID) != ids[2] {
		t.Fatalf("get = %+v, %v", a, err)
	}
	_, err = e.client.GetAccount(ctx, "nope")
	if unipile.KindOf(err) != unipile.KindNotFound {
		t.Errorf("unknown account: %v", err)
	}
	_, err = e.client.ListAccounts(ctx, unipile.PageOptions{Limit: 251})
	if unipile.KindOf(err) != unipile.KindInvalid {
		t.Errorf("limit 251: %v", err)
	}
	_, err = e.client.ListAccounts(ctx, unipile.PageOptions{Cursor: "garbage!"})
	if unipile.KindOf(err) != unipile.KindInvalid {
		t.Errorf("bad cursor: %v", err)
	}
}

func TestHostedAuthEndToEnd(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	keel := newReceiver(t, nil)

	// Keel registers its account_status webhook with custom headers.
	enabled := true
	whID, err := e.client.CreateWebhook(ctx, unipile.CreateWebhookRequest{
		RequestURL: keel.srv.URL + "/webhooks/unipile",
		Source:     unipile.SourceAccountStatus,
		Name:       "keel-account_status",
		Enabled:    &enabled,
		Headers: []unipile.WebhookHeader{
			{Key: "Content-Type", Value: "application/json"},
			{Key: "X-Keel-Webhook-Secret", Value: "s3cret"},
		},
	})
	if err != nil || whID == "" {
		t.Fatalf("create webhook: %q, %v", whID, err)
	}
	hooks, err := e.client.AllWebhooks(ctx)
	if err != nil || len(hooks) != 1 || string(hooks[0].ID) != whID || hooks[0].Source != "account_status" || len(hooks[0].Headers) != 2 || !bool(hooks[0].Enabled) {
		t.Fatalf("webhooks = %+v, %v", hooks, err)
	}

	// Connect: mint a create link.
	link, err := e.client.CreateHostedAuthLink(ctx, unipile.HostedAuthRequest{
		Type:      unipile.HostedAuthCreate,
		ExpiresOn: t0.Add(time.Hour),
		Name:      "keel-link-1",
		NotifyURL: keel.srv.URL + "/webhooks/unipile/hosted-auth?token=tok1",
	})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(link, e.fake.URL()+"/hosted/") {
		t.Fatalf("link %q does not point at the fake", link)
	}

	// The page is a plain HTML form with a labelled name field and both
	// buttons, each saying what it does.
	resp, err := http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	html := string(page)
	for _, want := range []string{`<form method="post" class="card">`, `<label for="display_name">`,
		`value="approve">Approve: log in successfully</button>`, `value="fail">Fail: simulate a failed login</button>`} {
		if !strings.Contains(html, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if resp.StatusCode != 200 || strings.Contains(html, "<script") {
		t.Errorf("page status %d or uses JS", resp.StatusCode)
	}

	// Fail first: nothing is called and the link stays usable.
	resp, err = http.PostForm(link, url.Values{"decision": {"fail"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	e.waitIdle(t)
	if n := len(keel.requests()); n != 0 || len(e.fake.Accounts()) != 0 {
		t.Fatalf("fail produced %d requests, %d accounts", n, len(e.fake.Accounts()))
	}

	// Approve through the HTML form.
	resp, err = http.PostForm(link, url.Values{"decision": {"approve"}, "display_name": {"Ada Lovelace"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("approve status %d", resp.StatusCode)
	}
	e.waitIdle(t)

	notes := keel.onPath("/webhooks/unipile/hosted-auth")
	if len(notes) != 1 {
		t.Fatalf("notify calls = %d", len(notes))
	}
	n, err := unipile.ParseHostedAuthNotification(notes[0].Body)
	if err != nil || n.Status != unipile.StatusCreationSuccess || n.Name != "keel-link-1" || n.AccountID == "" {
		t.Fatalf("notify = %+v, %v", n, err)
	}
	if notes[0].Query != "token=tok1" || notes[0].Header.Get("X-Keel-Webhook-Secret") != "" {
		t.Errorf("notify query %q / carried the webhook secret", notes[0].Query)
	}
	hooksGot := keel.onPath("/webhooks/unipile")
	var msgs []string
	for _, h := range hooksGot {
		if h.Header.Get("X-Keel-Webhook-Secret") != "s3cret" || h.Header.Get("Content-Type") != "application/json" {
			t.Errorf("webhook headers = %v", h.Header)
		}
		ev, err := unipile.ParseWebhook(h.Body)
		if err != nil || ev.AccountStatus == nil || string(ev.AccountStatus.AccountID) != string(n.AccountID) {
			t.Fatalf("webhook %s: %v", h.Body, err)
		}
		msgs = append(msgs, ev.AccountStatus.Message)
	}
	if strings.Join(msgs, ",") != "CREATION_SUCCESS,OK" {
		t.Errorf("account_status messages = %v", msgs)
	}
	acc, err := e.client.GetAccount(ctx, string(n.AccountID))
	if err != nil || acc.Name != "Ada Lovelace" || acc.SourceStatus() != unipile.StatusOK {
		t.Fatalf("new account = %+v, %v", acc, err)
	}

	// The link is spent.
	resp, err = http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusGone {
		t.Errorf("used link page = %d", resp.StatusCode)
	}
	if err := e.fake.CompleteHostedAuth(fake.TokenFromURL(link), true); !errors.Is(err, fake.ErrLinkUsed) {
		t.Errorf("second approval: %v", err)
	}

	// Reconnect: credentials expire, Keel mints a reconnect link, the user
	// approves it.
	accountID := string(n.AccountID)
	if err := e.fake.SetAccountStatus(accountID, "CREDENTIALS"); err != nil {
		t.Fatal(err)
	}
	_, err = e.client.SendInvitation(ctx, unipile.InvitationRequest{AccountID: accountID, ProviderID: "someone"})
	if unipile.KindOf(err) != unipile.KindReconnectNeeded {
		t.Errorf("invite on CREDENTIALS account: %v", err)
	}
	link2, err := e.client.CreateHostedAuthLink(ctx, unipile.HostedAuthRequest{
		Type: unipile.HostedAuthReconnect, ReconnectAccount: accountID, ExpiresOn: t0.Add(time.Hour),
		Name: "keel-link-2", NotifyURL: keel.srv.URL + "/webhooks/unipile/hosted-auth?token=tok2",
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.fake.CompleteHostedAuth(fake.TokenFromURL(link2), true); err != nil {
		t.Fatal(err)
	}
	e.waitIdle(t)
	notes = keel.onPath("/webhooks/unipile/hosted-auth")
	if len(notes) != 2 {
		t.Fatalf("notify calls = %d", len(notes))
	}
	n2, _ := unipile.ParseHostedAuthNotification(notes[1].Body)
	if n2.Status != unipile.StatusReconnected || string(n2.AccountID) != accountID || n2.Name != "keel-link-2" {
		t.Errorf("reconnect notify = %+v", n2)
	}
	msgs = nil
	for _, h := range keel.onPath("/webhooks/unipile") {
		ev, _ := unipile.ParseWebhook(h.Body)
		msgs = append(msgs, ev.AccountStatus.Message)
	}
	if strings.Join(msgs, ",") != "CREATION_SUCCESS,OK,CREDENTIALS,RECONNECTED,OK" {
		t.Errorf("account_status messages = %v", msgs)
	}
	if st, _ := e.fake.Account(accountID); st.Status != "OK" {
		t.Errorf("status after reconnect = %q", st.Status)
	}
}

func TestHostedLinkValidation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	post := func(body string) int {
		req, _ := http.NewRequest("POST", e.fake.URL()+"/api/v1/hosted/accounts/link", strings.NewReader(body))
		req.Header.Set("X-API-KEY", e.fake.APIKey())
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	cases := map[string]int{
		`{"type":"create","providers":"*","api_url":"https://x","expiresOn":"2026-03-02T10:00:00.000Z"}`: 201,
		`{"type":"create","providers":"*","api_url":"https://x","expiresOn":"2026-03-02T10:00:00Z"}`:     400, // no milliseconds
		`{"type":"create","api_url":"https://x","expiresOn":"2026-03-02T10:00:00.000Z"}`:                 400, // no providers
		`{"type":"reconnect","api_url":"https://x","expiresOn":"2026-03-02T10:00:00.000Z"}`:              400, // no account
		`{"type":"create","providers":["LINKEDIN"],"expiresOn":"2026-03-02T10:00:00.000Z"}`:              400, // no api_url
		`{"type":"delete","providers":"*","api_url":"https://x","expiresOn":"2026-03-02T10:00:00.000Z"}`: 400,
	}
	for body, want := range cases {
		if got := post(body); got != want {
			t.Errorf("%s → %d, want %d", body, got, want)
		}
	}
	// Expired links refuse approval.
	link, err := e.client.CreateHostedAuthLink(context.Background(), unipile.HostedAuthRequest{Type: "create", ExpiresOn: t0.Add(time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(2 * time.Minute)
	if err := e.fake.CompleteHostedAuth(fake.TokenFromURL(link), true); !errors.Is(err, fake.ErrLinkExpired) {
		t.Errorf("expired link: %v", err)
	}
	if err := e.fake.CompleteHostedAuth("nope", true); !errors.Is(err, fake.ErrNoLink) {
		t.Errorf("unknown link: %v", err)
	}
}

func TestWebhookRetriedFiveTimesThenStops(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	down := newReceiver(t, func(int) int { return http.StatusInternalServerError })
	flaky := newReceiver(t, func(n int) int {
		if n <= 2 {
			return http.StatusNoContent // anything but 200 counts as failure
		}
		return http.StatusOK
	})
	ctx := context.Background()
	for _, r := range []*receiver{down, flaky} {
		if _, err := e.client.CreateWebhook(ctx, unipile.CreateWebhookRequest{RequestURL: r.srv.URL, Source: "account_status"}); err != nil {
			t.Fatal(err)
		}
	}
	id := e.fake.AddAccount(fake.AccountSpec{})
	if err := e.fake.SetAccountStatus(id, "ERROR"); err != nil {
		t.Fatal(err)
	}
	e.waitIdle(t)
	if got := len(down.requests()); got != 6 {
		t.Errorf("failing receiver got %d attempts, want 1 + 5 retries", got)
	}
	if got := len(flaky.requests()); got != 3 {
		t.Errorf("flaky receiver got %d attempts, want 3", got)
	}
	for _, r := range down.requests() {
		if !bytes.Equal(r.Body, down.requests()[0].Body) {
			t.Error("retries must resend the same event")
		}
		// No custom Content-Type configured: labelled form-encoded, as live.
		if r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
			t.Errorf("content type = %q", r.Header.Get("Content-Type"))
		}
	}
	var delivered, failed int
	for _, d := range e.fake.Deliveries() {
		if !d.Done {
			t.Errorf("delivery %d not done", d.ID)
		}
		if d.Delivered {
			delivered++
		} else {
			failed++
			if d.Attempts != 6 || d.Status != 500 {
				t.Errorf("failed delivery = %+v", d)
			}
		}
	}
	if delivered != 1 || failed != 1 {
		t.Errorf("delivered %d, failed %d", delivered, failed)
	}
}

func TestWebhookRetryCountIsConfigurable(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *fake.Options) { o.WebhookRetries = -1 })
	down := newReceiver(t, func(int) int { return http.StatusBadGateway })
	if _, err := e.client.CreateWebhook(context.Background(), unipile.CreateWebhookRequest{RequestURL: down.srv.URL, Source: "account_status"}); err != nil {
		t.Fatal(err)
	}
	id := e.fake.AddAccount(fake.AccountSpec{})
	_ = e.fake.DeleteAccount(id)
	e.waitIdle(t)
	if got := len(down.requests()); got != 1 {
		t.Errorf("attempts = %d, want 1", got)
	}
	ev, err := unipile.ParseWebhook(down.requests()[0].Body)
	if err != nil || ev.AccountStatus.Message != unipile.StatusDeleted {
		t.Errorf("delete webhook = %+v, %v", ev, err)
	}
}

func TestWebhookFilters(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	a1 := e.fake.AddAccount(fake.AccountSpec{})
	a2 := e.fake.AddAccount(fake.AccountSpec{})
	onlyA1 := newReceiver(t, nil)
	disabled := newReceiver(t, nil)
	off := false
	if _, err := e.client.CreateWebhook(ctx, unipile.CreateWebhookRequest{RequestURL: onlyA1.srv.URL, Source: "account_status", AccountIDs: []string{a1}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.CreateWebhook(ctx, unipile.CreateWebhookRequest{RequestURL: disabled.srv.URL, Source: "account_status", Enabled: &off}); err != nil {
		t.Fatal(err)
	}
	_ = e.fake.SetAccountStatus(a1, "STOPPED")
	_ = e.fake.SetAccountStatus(a2, "STOPPED")
	_ = e.fake.SetAccountStatus(a2, "STOPPED") // no transition, no webhook
	e.waitIdle(t)
	if len(onlyA1.requests()) != 1 || len(disabled.requests()) != 0 {
		t.Errorf("filtered deliveries: %d / %d", len(onlyA1.requests()), len(disabled.requests()))
	}
	// Restart brings STOPPED back to OK with a webhook; restarting an OK
	// account sends none.
	if err := e.client.RestartAccount(ctx, a1); err != nil {
		t.Fatal(err)
	}
	if err := e.client.RestartAccount(ctx, a1); err != nil {
		t.Fatal(err)
	}
	e.waitIdle(t)
	if got := len(onlyA1.requests()); got != 2 {
		t.Errorf("after restarts: %d deliveries, want 2", got)
	}
	// Deleting the webhook stops deliveries.
	hooks, _ := e.client.AllWebhooks(ctx)
	for _, h := range hooks {
		if err := e.client.DeleteWebhook(ctx, string(h.ID)); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.client.DeleteWebhook(ctx, "gone"); unipile.KindOf(err) != unipile.KindNotFound {
		t.Errorf("delete unknown webhook: %v", err)
	}
	_ = e.fake.SetAccountStatus(a1, "ERROR")
	e.waitIdle(t)
	if got := len(onlyA1.requests()); got != 2 {
		t.Errorf("deleted webhook still delivered: %d", got)
	}
}

func TestAccount404InjectionCounts(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	a := e.fake.AddAccount(fake.AccountSpec{})
	b := e.fake.AddAccount(fake.AccountSpec{})
	e.fake.FailAccount404(a, 2)
	var kinds []unipile.Kind
	for i := 0; i < 3; i++ {
		_, err := e.client.GetAccount(ctx, a)
		kinds = append(kinds, unipile.KindOf(err))
		if err == nil {
			kinds[i] = -1 // success marker
		}
	}
	if kinds[0] != unipile.KindNotFound || kinds[1] != unipile.KindNotFound || kinds[2] != -1 {
		t.Errorf("kinds = %v", kinds)
	}
	if _, err := e.client.GetAccount(ctx, b); err != nil {
		t.Errorf("other account affected: %v", err)
	}
	var faulted int
	for _, c := range e.fake.Calls() {
		if c.Fault != "" {
			faulted++
			if c.AccountID != a || c.Status != 404 {
				t.Errorf("faulted call = %+v", c)
			}
		}
	}
	if faulted != 2 || len(e.fake.Faults()) != 0 {
		t.Errorf("faulted %d calls, %d faults left", faulted, len(e.fake.Faults()))
	}
}

func TestBurst404OnOff(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	var ids []string
	for i := 0; i < 4; i++ {
		ids = append(ids, e.fake.AddAccount(fake.AccountSpec{}))
	}
	e.fake.SetBurst404(true)
	for _, id := range ids {
		_, err := e.client.GetAccount(ctx, id)
		var ue *unipile.Error
		if !errors.As(err, &ue) || ue.Kind != unipile.KindNotFound || ue.Type != "errors/resource_not_found" {
			t.Errorf("burst GET %s: %v", id, err)
		}
	}
	_, err := e.client.SendInvitation(ctx, unipile.InvitationRequest{AccountID: ids[0], ProviderID: "jane-doe"})
	if unipile.KindOf(err) != unipile.KindNotFound {
		t.Errorf("burst invite: %v", err)
	}
	if len(e.fake.Invitations("")) != 0 {
		t.Error("burst applied an invitation")
	}
	if all, err := e.client.AllAccounts(ctx); err != nil || len(all) != 4 {
		t.Errorf("list during burst = %d, %v", len(all), err)
	}

	// Off again, this time over the admin route.
	admin(t, e, "POST", "/_fake/burst404", `{"on":false}`, http.StatusOK)
	for _, id := range ids {
		if _, err := e.client.GetAccount(ctx, id); err != nil {
			t.Errorf("after burst GET %s: %v", id, err)
		}
	}
	if e.fake.Burst404() {
		t.Error("burst still on")
	}
}

func TestAppliedButLostLeavesInvitationInSentList(t *testing.T) {
	t.Parallel()
	for _, status := range []int{0, http.StatusGatewayTimeout} {
		e := newEnv(t)
		ctx := context.Background()
		acc := e.fake.AddAccount(fake.AccountSpec{})
		if _, err := e.fake.InjectFault(fake.Fault{Action: fake.ActionInvite, Effect: fake.EffectLost, Status: status, Times: 1}); err != nil {
			t.Fatal(err)
		}
		_, err := e.client.SendInvitation(ctx, unipile.InvitationRequest{AccountID: acc, ProviderID: "grace-hopper", Message: "Hi Grace"})
		if unipile.KindOf(err) != unipile.KindUnknownOutcome {
			t.Fatalf("lost (status %d): %v, want unknown outcome", status, err)
		}
		sent, err := e.client.ListSentInvitations(ctx, acc, unipile.PageOptions{})
		if err != nil || len(sent.Items) != 1 || sent.Items[0].InvitedUserPublicID != "grace-hopper" || sent.Items[0].InvitationText != "Hi Grace" {
			t.Fatalf("sent list = %+v, %v", sent, err)
		}
		calls := e.fake.Calls()
		c := calls[0]
		if c.Action != fake.ActionInvite || !c.Applied || c.Status != status || c.AccountID != acc || c.Fault == "" {
			t.Errorf("call = %+v", c)
		}
		// Resending reveals the truth instead of duplicating.
		_, err = e.client.SendInvitation(ctx, unipile.InvitationRequest{AccountID: acc, ProviderID: "grace-hopper"})
		if unipile.KindOf(err) != unipile.KindRecentlyInvited {
			t.Errorf("resend: %v", err)
		}
	}
}

func TestHeldAnswerAppliesFirstAndAnswersOnRelease(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	acc := e.fake.AddAccount(fake.AccountSpec{})
	release := e.fake.HoldAnswers(fake.ActionInvite, 1)
	done := make(chan error, 1)
	go func() {
		_, err := e.client.SendInvitation(context.Background(), unipile.InvitationRequest{AccountID: acc, ProviderID: "ada-lovelace"})
		done <- err
	}()
	// Applied while its answer is held: the sent list shows it already.
	for deadline := time.Now().Add(10 * time.Second); len(e.fake.Invitations(acc)) == 0; {
		if time.Now().After(deadline) {
			t.Fatal("the held invitation was never applied")
		}
		time.Sleep(5 * time.Millisecond)
	}
	select {
	case err := <-done:
		t.Fatalf("the answer came before its release: %v", err)
	default:
	}
	release()
	release() // a second release is harmless
	if err := <-done; err != nil {
		t.Fatalf("the released answer: %v", err)
	}
	// The hold was for one call: the next answers at once.
	if _, err := e.client.SendInvitation(context.Background(), unipile.InvitationRequest{AccountID: acc, ProviderID: "alan-turing"}); err != nil {
		t.Fatalf("the next call: %v", err)
	}
	if n := len(e.fake.Invitations(acc)); n != 2 {
		t.Fatalf("%d invitations, want 2", n)
	}
}

func TestHangBecomesUnknownOutcomeAndAppliesNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	acc := e.fake.AddAccount(fake.AccountSpec{})
	c, err := unipile.New(unipile.Options{BaseURL: e.fake.URL(), APIKey: e.fake.APIKey(), Timeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	e.fake.HangNext(fake.ActionInvite, 1)
	_, err = c.SendInvitation(context.Background(), unipile.InvitationRequest{AccountID: acc, ProviderID: "alan-turing"})
	if unipile.KindOf(err) != unipile.KindUnknownOutcome {
		t.Fatalf("hung POST: %v", err)
	}
	e.fake.HangNext(fake.ActionGetAccount, 1)
	_, err = c.GetAccount(context.Background(), acc)
	if unipile.KindOf(err) != unipile.KindTransient {
		t.Errorf("hung GET: %v", err)
	}
	if len(e.fake.Invitations(acc)) != 0 {
		t.Error("a hung invite was applied")
	}
}

func TestErrorFaults(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	acc := e.fake.AddAccount(fake.AccountSpec{})

	e.fake.Fail5xx(2)
	_, err := e.client.GetAccount(ctx, acc)
	if unipile.KindOf(err) != unipile.KindTransient {
		t.Errorf("503 GET: %v", err)
	}
	_, err = e.client.SendInvitation(ctx, unipile.InvitationRequest{AccountID: acc, ProviderID: "p1"})
	if unipile.KindOf(err) != unipile.KindTransient {
		t.Errorf("503 POST: %v", err)
	}
	e.fake.Fail429(1)
	_, err = e.client.SendInvitation(ctx, unipile.InvitationRequest{AccountID: acc, ProviderID: "p1"})
	if unipile.KindOf(err) != unipile.KindRateLimited {
		t.Errorf("429: %v", err)
	}
	if _, err := e.fake.InjectFault(fake.Fault{Action: fake.ActionInvite, Status: 422, Type: "cannot_resend_yet", Times: 1}); err != nil {
		t.Fatal(err)
	}
	_, err = e.client.SendInvitation(ctx, unipile.InvitationRequest{AccountID: acc, ProviderID: "p1"})
	if unipile.KindOf(err) != unipile.KindRateLimited {
		t.Errorf("cannot_resend_yet: %v", err)
	}
	if _, err := e.fake.InjectFault(fake.Fault{Recipient: "blocked-person", Status: 422, Type: "errors/invalid_recipient"}); err != nil {
		t.Fatal(err)
	}
	_, err = e.client.SendInvitation(ctx, unipile.InvitationRequest{AccountID: acc, ProviderID: "blocked-person"})
	if unipile.KindOf(err) != unipile.KindPermanentRecipient {
		t.Errorf("recipient fault: %v", err)
	}
	if len(e.fake.Invitations(acc)) != 0 {
		t.Error("an error fault applied an invitation")
	}
	// Errors carry Unipile's shape: a 500 after a POST is unknown outcome.
	e.fake.InjectFault(fake.Fault{Action: fake.ActionStartChat, Status: 500, Times: 1})
	_, _ = e.fake.AddRelation(acc, "friend")
	_, err = e.client.StartChat(ctx, unipile.StartChatRequest{AccountID: acc, AttendeeIDs: []string{"friend"}, Text: "hi"})
	var ue *unipile.Error
	if !errors.As(err, &ue) || ue.Kind != unipile.KindUnknownOutcome || ue.Type != "errors/unexpected_error" || ue.Title == "" {
		t.Errorf("500 chat: %v", err)
	}
	// Restricted and status-based refusals.
	_ = e.fake.SetRestricted(acc, true)
	_, err = e.client.GetProfile(ctx, acc, "someone", unipile.ProfileOptions{})
	if unipile.KindOf(err) != unipile.KindRestricted {
		t.Errorf("restricted: %v", err)
	}
	_ = e.fake.SetRestricted(acc, false)
	_ = e.fake.SetAccountStatus(acc, "CONNECTING")
	_, err = e.client.GetProfile(ctx, acc, "someone", unipile.ProfileOptions{})
	if unipile.KindOf(err) != unipile.KindTransient {
		t.Errorf("connecting: %v", err)
	}
	if _, err := e.fake.InjectFault(fake.Fault{Effect: "explode"}); err == nil {
		t.Error("invalid fault accepted")
	}
}

func TestLatency(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	acc := e.fake.AddAccount(fake.AccountSpec{})
	short, err := unipile.New(unipile.Options{BaseURL: e.fake.URL(), APIKey: e.fake.APIKey(), Timeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	e.fake.SetLatency(10 * time.Second)
	_, err = short.GetAccount(context.Background(), acc)
	if unipile.KindOf(err) != unipile.KindTransient || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("slow GET: %v", err)
	}
	e.fake.SetLatency(0)
	e.fake.InjectFault(fake.Fault{Effect: fake.EffectLatency, Latency: fake.Duration(time.Millisecond), Times: 1})
	start := time.Now()
	if _, err := e.client.GetAccount(context.Background(), acc); err != nil {
		t.Errorf("with small latency: %v", err)
	}
	if time.Since(start) < time.Millisecond {
		t.Error("latency fault not applied")
	}
}

func TestLatencyJitterStaysInItsBand(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	acc := e.fake.AddAccount(fake.AccountSpec{})
	admin(t, e, "POST", "/_fake/latency", `{"latency":"30ms","jitter":"20ms"}`, 200)
	var lo, hi time.Duration = time.Hour, 0
	for range 8 {
		start := time.Now()
		if _, err := e.client.GetAccount(context.Background(), acc); err != nil {
			t.Fatal(err)
		}
		d := time.Since(start)
		lo, hi = min(lo, d), max(hi, d)
	}
	if lo < 10*time.Millisecond {
		t.Errorf("fastest call took %v, below latency-jitter (10ms)", lo)
	}
	if hi > 2*time.Second {
		t.Errorf("slowest call took %v, far above latency+jitter (50ms)", hi)
	}
}

func TestInvitationLifecycle(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *fake.Options) { o.InviteDailyLimit = 3 })
	ctx := context.Background()
	acc := e.fake.AddAccount(fake.AccountSpec{})
	users := newReceiver(t, nil)
	messaging := newReceiver(t, nil)
	if _, err := e.client.CreateWebhook(ctx, unipile.CreateWebhookRequest{RequestURL: users.srv.URL, Source: "users", Name: "keel-users"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.CreateWebhook(ctx, unipile.CreateWebhookRequest{RequestURL: messaging.srv.URL, Source: "messaging"}); err != nil {
		t.Fatal(err)
	}

	// Resolve a slug, then invite by provider id.
	p, err := e.client.GetProfile(ctx, acc, "jane-doe", unipile.ProfileOptions{})
	if err != nil || p.FirstName != "Jane" || p.Degree() != 2 || p.ProviderID == "" {
		t.Fatalf("profile = %+v, %v", p, err)
	}
	sent, err := e.client.SendInvitation(ctx, unipile.InvitationRequest{AccountID: acc, ProviderID: string(p.ProviderID), Message: "Hello Jane"})
	if err != nil || sent.InvitationID == "" || sent.Object != "UserInvitationSent" {
		t.Fatalf("invite = %+v, %v", sent, err)
	}
	p, _ = e.client.GetProfile(ctx, acc, string(p.ProviderID), unipile.ProfileOptions{})
	if p.Invitation == nil || p.Invitation.Status != "PENDING" {
		t.Errorf("profile invitation = %+v", p.Invitation)
	}
	_, err = e.client.SendInvitation(ctx, unipile.InvitationRequest{AccountID: acc, ProviderID: string(p.ProviderID)})
	if unipile.KindOf(err) != unipile.KindRecentlyInvited {
		t.Errorf("second invite: %v", err)
	}
	list, _ := e.client.ListSentInvitations(ctx, acc, unipile.PageOptions{})
	if len(list.Items) != 1 || list.Items[0].ID != sent.InvitationID || list.Items[0].InvitedUserID != p.ProviderID || list.Items[0].Date != "Sent today" {
		t.Fatalf("sent list = %+v", list.Items)
	}

	// Acceptance: relation, new_relation webhook, and the note's chat.
	e.clock.Advance(time.Hour)
	if err := e.fake.Accept(string(sent.InvitationID)); err != nil {
		t.Fatal(err)
	}
	e.waitIdle(t)
	list, _ = e.client.ListSentInvitations(ctx, acc, unipile.PageOptions{})
	if len(list.Items) != 0 {
		t.Errorf("accepted invitation still pending")
	}
	rels, err := e.client.ListRelations(ctx, acc, unipile.PageOptions{})
	if err != nil || len(rels.Items) != 1 || rels.Items[0].MemberID != p.ProviderID || !rels.Items[0].CreatedAt.Equal(t0.Add(time.Hour)) {
		t.Fatalf("relations = %+v, %v", rels, err)
	}
	if got := users.requests(); len(got) != 1 {
		t.Fatalf("users webhook deliveries = %d", len(got))
	} else {
		ev, err := unipile.ParseWebhook(got[0].Body)
		if err != nil || ev.NewRelation == nil || ev.NewRelation.UserProviderID != p.ProviderID || ev.NewRelation.WebhookName != "keel-users" || string(ev.NewRelation.AccountID) != acc {
			t.Errorf("new_relation = %+v, %v", ev.NewRelation, err)
		}
	}
	if got := messaging.requests(); len(got) != 1 {
		t.Errorf("note chat echo deliveries = %d", len(got))
	} else if ev, _ := unipile.ParseWebhook(got[0].Body); ev.Message == nil || !ev.Message.FromSelf() || ev.Message.Message != "Hello Jane" {
		t.Errorf("note echo = %+v", ev.Message)
	}
	_, err = e.client.SendInvitation(ctx, unipile.InvitationRequest{AccountID: acc, ProviderID: string(p.ProviderID)})
	if unipile.KindOf(err) != unipile.KindAlreadyDone {
		t.Errorf("invite a relation: %v", err)
	}
	if err := e.fake.Accept(string(sent.InvitationID)); !errors.Is(err, fake.ErrNotPending) {
		t.Errorf("double accept: %v", err)
	}

	// Withdrawal blocks re-inviting for weeks.
	s2, err := e.client.SendInvitation(ctx, unipile.InvitationRequest{AccountID: acc, ProviderID: "bob-smith"})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.client.CancelInvitation(ctx, acc, string(s2.InvitationID)); err != nil {
		t.Fatal(err)
	}
	if err := e.client.CancelInvitation(ctx, acc, string(s2.InvitationID)); unipile.KindOf(err) != unipile.KindNotFound {
		t.Errorf("double cancel: %v", err)
	}
	_, err = e.client.SendInvitation(ctx, unipile.InvitationRequest{AccountID: acc, ProviderID: "bob-smith"})
	if unipile.KindOf(err) != unipile.KindRecentlyInvited {
		t.Errorf("re-invite after withdraw: %v", err)
	}

	// Daily limit (3): two sent today, the third passes, the fourth fails.
	if _, err := e.client.SendInvitation(ctx, unipile.InvitationRequest{AccountID: acc, ProviderID: "carol"}); err != nil {
		t.Fatal(err)
	}
	_, err = e.client.SendInvitation(ctx, unipile.InvitationRequest{AccountID: acc, ProviderID: "dave"})
	if unipile.KindOf(err) != unipile.KindRateLimited {
		t.Errorf("over daily limit: %v", err)
	}
	e.clock.Advance(24 * time.Hour)
	if _, err := e.client.SendInvitation(ctx, unipile.InvitationRequest{AccountID: acc, ProviderID: "dave"}); err != nil {
		t.Errorf("next day: %v", err)
	}

	// Note too long is the provider's 400.
	req, _ := http.NewRequest("POST", e.fake.URL()+"/api/v1/users/invite",
		strings.NewReader(`{"account_id":"`+acc+`","provider_id":"erin","message":"`+strings.Repeat("x", 301)+`"}`))
	req.Header.Set("X-API-KEY", e.fake.APIKey())
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	if resp.StatusCode != 400 || body["type"] != "errors/too_many_characters" {
		t.Errorf("long note = %d %v", resp.StatusCode, body)
	}

	// The call log is enough to count sends per day and type.
	perDay := map[string]int{}
	for _, c := range e.fake.Calls() {
		if c.Action == fake.ActionInvite && c.Applied && c.AccountID == acc {
			perDay[c.Time.Format("2006-01-02")]++
		}
	}
	if perDay["2026-03-02"] != 3 || perDay["2026-03-03"] != 1 {
		t.Errorf("applied invites per day = %v", perDay)
	}
}

func TestChatsAndInMail(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	acc := e.fake.AddAccount(fake.AccountSpec{})
	messaging := newReceiver(t, nil)
	if _, err := e.client.CreateWebhook(ctx, unipile.CreateWebhookRequest{RequestURL: messaging.srv.URL, Source: "messaging",
		Headers: []unipile.WebhookHeader{{Key: "Content-Type", Value: "application/json"}}}); err != nil {
		t.Fatal(err)
	}

	// Not a relation, no InMail: recipient cannot be reached.
	_, err := e.client.StartChat(ctx, unipile.StartChatRequest{AccountID: acc, AttendeeIDs: []string{"stranger"}, Text: "hi"})
	if unipile.KindOf(err) != unipile.KindPermanentRecipient {
		t.Errorf("stranger chat: %v", err)
	}
	// InMail without a seat or credits.
	inmail := unipile.StartChatRequest{AccountID: acc, AttendeeIDs: []string{"stranger"}, Text: "hi", Subject: "Hello",
		LinkedIn: unipile.LinkedInChatOptions{InMail: true}}
	_, err = e.client.StartChat(ctx, inmail)
	if unipile.KindOf(err) != unipile.KindInsufficientCredits {
		t.Errorf("InMail without credits: %v", err)
	}
	_ = e.fake.SetInMailCredits(acc, 1)
	bal, err := e.client.GetInMailBalance(ctx, acc)
	if err != nil || bal.Premium == nil || *bal.Premium != 1 || bal.Recruiter != nil {
		t.Fatalf("balance = %+v, %v", bal, err)
	}
	started, err := e.client.StartChat(ctx, inmail)
	if err != nil || started.ChatID == "" || started.MessageID == "" {
		t.Fatalf("InMail = %+v, %v", started, err)
	}
	_, err = e.client.StartChat(ctx, inmail)
	if unipile.KindOf(err) != unipile.KindInsufficientCredits {
		t.Errorf("InMail after credits ran out: %v", err)
	}
	if n, _ := e.fake.InMailCredits(acc); n != 0 {
		t.Errorf("credits left = %d", n)
	}
	// Open profiles take InMails for free.
	open := e.fake.AddPerson(fake.Person{PublicIdentifier: "open-olga", OpenProfile: true})
	if _, err := e.client.StartChat(ctx, unipile.StartChatRequest{AccountID: acc, AttendeeIDs: []string{open}, Text: "hi", LinkedIn: unipile.LinkedInChatOptions{InMail: true}}); err != nil {
		t.Errorf("open profile InMail: %v", err)
	}

	// A relation: first message, then a follow-up into the same chat.
	friend, _ := e.fake.AddRelation(acc, "frank-friend")
	first, err := e.client.StartChat(ctx, unipile.StartChatRequest{AccountID: acc, AttendeeIDs: []string{friend}, Text: "Thanks for connecting"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.SendMessage(ctx, string(first.ChatID), unipile.SendMessageRequest{Text: "Follow-up"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.SendMessage(ctx, "no-such-chat", unipile.SendMessageRequest{Text: "x"}); unipile.KindOf(err) != unipile.KindNotFound {
		t.Errorf("unknown chat: %v", err)
	}
	msgs, err := e.client.ListChatMessages(ctx, string(first.ChatID), unipile.PageOptions{})
	if err != nil || len(msgs.Items) != 2 || msgs.Items[0].Text != "Follow-up" || !bool(msgs.Items[0].IsSender) {
		t.Fatalf("messages = %+v, %v", msgs, err)
	}
	// The reply arrives as a webhook with is_sender false.
	chatID, _, err := e.fake.IncomingMessage(acc, friend, "Sure, let's talk")
	if err != nil || chatID != string(first.ChatID) {
		t.Fatalf("incoming = %q, %v", chatID, err)
	}
	chats, err := e.client.ListChats(ctx, acc, unipile.PageOptions{})
	if err != nil || len(chats.Items) != 3 || string(chats.Items[0].ID) != chatID {
		t.Errorf("chats = %+v, %v", chats.Items, err)
	}
	e.waitIdle(t)
	var received []*unipile.MessageEvent
	for _, r := range messaging.requests() {
		ev, err := unipile.ParseWebhook(r.Body)
		if err != nil || ev.Message == nil {
			t.Fatalf("messaging webhook %s: %v", r.Body, err)
		}
		received = append(received, ev.Message)
	}
	// Echoes of 2 InMails + first message + follow-up, then the reply.
	if len(received) != 5 {
		t.Fatalf("messaging deliveries = %d", len(received))
	}
	acct, _ := e.client.GetAccount(ctx, acc)
	last := received[4]
	if last.FromSelf() || last.Message != "Sure, let's talk" || last.AccountInfo.UserID != acct.ConnectionParams.IM.ID || string(last.Sender.AttendeeProviderID) != friend {
		t.Errorf("reply webhook = %+v", last)
	}
	if received[0].MessageType != "INMAIL" || !received[0].FromSelf() || received[2].MessageType != "MESSAGE" {
		t.Errorf("echo types = %s %s", received[0].MessageType, received[2].MessageType)
	}

	// The call log tells sends apart.
	counts := map[string]int{}
	for _, c := range e.fake.Calls() {
		if c.Applied {
			counts[c.Action]++
		}
	}
	if counts[fake.ActionInMail] != 2 || counts[fake.ActionStartChat] != 1 || counts[fake.ActionSendMessage] != 1 {
		t.Errorf("applied counts = %v", counts)
	}
}

func TestStartChatNeedsMultipart(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	req, _ := http.NewRequest("POST", e.fake.URL()+"/api/v1/chats", strings.NewReader(`{"account_id":"a","attendees_ids":["x"],"text":"hi"}`))
	req.Header.Set("X-API-KEY", e.fake.APIKey())
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("JSON start chat = %d", resp.StatusCode)
	}
}

func TestCallLogUsesTheClock(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	acc := e.fake.AddAccount(fake.AccountSpec{})
	ctx := context.Background()
	_, _ = e.client.GetProfile(ctx, acc, "a-person", unipile.ProfileOptions{})
	e.clock.Advance(90 * time.Second)
	_, _ = e.client.GetProfile(ctx, acc, "b-person", unipile.ProfileOptions{})
	calls := e.fake.Calls()
	if len(calls) != 2 || calls[1].Time.Sub(calls[0].Time) != 90*time.Second || !calls[0].Time.Equal(t0) {
		t.Fatalf("calls = %+v", calls)
	}
	if calls[0].Action != fake.ActionViewProfile || !calls[0].Applied || calls[0].Recipient != "a-person" || calls[0].Seq >= calls[1].Seq {
		t.Errorf("call = %+v", calls[0])
	}
	e.fake.ResetCalls()
	if len(e.fake.Calls()) != 0 {
		t.Error("ResetCalls kept calls")
	}
}

// admin calls an admin route and checks the status; it returns the body.
func admin(t *testing.T, e *env, method, path, body string, want int) []byte {
	t.Helper()
	req, _ := http.NewRequest(method, e.fake.URL()+path, strings.NewReader(body))
	req.Header.Set("X-API-KEY", e.fake.APIKey())
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s = %d %s, want %d", method, path, resp.StatusCode, b, want)
	}
	return b
}

func TestAdminRoutes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	hook := newReceiver(t, nil)
	if _, err := e.client.CreateWebhook(ctx, unipile.CreateWebhookRequest{RequestURL: hook.srv.URL, Source: "account_status"}); err != nil {
		t.Fatal(err)
	}
	var created struct{ ID string }
	_ = json.Unmarshal(admin(t, e, "POST", "/_fake/accounts", `{"name":"Ops","inmail_credits":2}`, 200), &created)
	if created.ID == "" {
		t.Fatal("no id")
	}
	admin(t, e, "POST", "/_fake/accounts/"+created.ID+"/status", `{"status":"CREDENTIALS"}`, 200)
	admin(t, e, "POST", "/_fake/accounts/"+created.ID+"/status", `{"status":"BOGUS"}`, 400)
	admin(t, e, "POST", "/_fake/accounts/nope/status", `{"status":"OK"}`, 404)
	admin(t, e, "POST", "/_fake/wait_idle?timeout=5s", ``, 200)
	if got := len(hook.requests()); got != 1 {
		t.Errorf("status webhook deliveries = %d", got)
	}
	var deliveries []fake.Delivery
	_ = json.Unmarshal(admin(t, e, "GET", "/_fake/deliveries", ``, 200), &deliveries)
	if len(deliveries) != 1 || deliveries[0].Event != "CREDENTIALS" || !deliveries[0].Delivered {
		t.Errorf("deliveries = %+v", deliveries)
	}
	admin(t, e, "POST", "/_fake/accounts/"+created.ID+"/status", `{"status":"OK"}`, 200)

	// Faults over HTTP.
	var f struct{ ID string }
	_ = json.Unmarshal(admin(t, e, "POST", "/_fake/faults", `{"action":"get_account","account_id":"`+created.ID+`","effect":"error","status":404,"times":1}`, 200), &f)
	admin(t, e, "POST", "/_fake/faults", `{"effect":"nonsense"}`, 400)
	if _, err := e.client.GetAccount(ctx, created.ID); unipile.KindOf(err) != unipile.KindNotFound {
		t.Errorf("injected 404: %v", err)
	}
	if _, err := e.client.GetAccount(ctx, created.ID); err != nil {
		t.Errorf("after fault: %v", err)
	}
	_ = json.Unmarshal(admin(t, e, "POST", "/_fake/faults", `{"effect":"error","status":429}`, 200), &f)
	var faults []fake.Fault
	_ = json.Unmarshal(admin(t, e, "GET", "/_fake/faults", ``, 200), &faults)
	if len(faults) != 1 || faults[0].ID != f.ID {
		t.Errorf("faults = %+v", faults)
	}
	admin(t, e, "DELETE", "/_fake/faults/"+f.ID, ``, 200)
	admin(t, e, "DELETE", "/_fake/faults/"+f.ID, ``, 404)
	admin(t, e, "POST", "/_fake/latency", `{"latency":"1ms"}`, 200)
	admin(t, e, "DELETE", "/_fake/faults", ``, 200)

	// Credits, relations, invitations, messages.
	admin(t, e, "POST", "/_fake/accounts/"+created.ID+"/inmail_credits", `{"credits":0}`, 200)
	if n, ok := e.fake.InMailCredits(created.ID); !ok || n != 0 {
		t.Errorf("credits = %d %v", n, ok)
	}
	admin(t, e, "POST", "/_fake/accounts/"+created.ID+"/relations", `{"provider_id":"pal"}`, 200)
	sent, err := e.client.SendInvitation(ctx, unipile.InvitationRequest{AccountID: created.ID, ProviderID: "newbie"})
	if err != nil {
		t.Fatal(err)
	}
	admin(t, e, "POST", "/_fake/invitations/"+string(sent.InvitationID)+"/accept", ``, 200)
	admin(t, e, "POST", "/_fake/invitations/"+string(sent.InvitationID)+"/accept", ``, 409)
	var invs []fake.Invitation
	_ = json.Unmarshal(admin(t, e, "GET", "/_fake/invitations?account_id="+created.ID, ``, 200), &invs)
	if len(invs) != 1 || invs[0].State != fake.InvitationAccepted {
		t.Errorf("invitations = %+v", invs)
	}
	admin(t, e, "POST", "/_fake/messages", `{"account_id":"`+created.ID+`","from":"pal","text":"yo"}`, 200)
	var msgs []fake.Message
	_ = json.Unmarshal(admin(t, e, "GET", "/_fake/messages?account_id="+created.ID, ``, 200), &msgs)
	if len(msgs) != 1 || msgs[0].Text != "yo" || msgs[0].IsSender {
		t.Errorf("messages = %+v", msgs)
	}
	var calls []fake.Call
	_ = json.Unmarshal(admin(t, e, "GET", "/_fake/calls?action=invite", ``, 200), &calls)
	if len(calls) != 1 || !calls[0].Applied || calls[0].AccountID != created.ID {
		t.Errorf("calls = %+v", calls)
	}

	// Hosted auth approval over HTTP.
	link, err := e.client.CreateHostedAuthLink(ctx, unipile.HostedAuthRequest{Type: "create", ExpiresOn: t0.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	var hl fake.HostedLink
	_ = json.Unmarshal(admin(t, e, "POST", "/_fake/hosted/"+fake.TokenFromURL(link), `{"approve":true,"name":"Via Admin"}`, 200), &hl)
	if !hl.Used || hl.AccountID == "" {
		t.Errorf("hosted = %+v", hl)
	}
	if st, ok := e.fake.Account(hl.AccountID); !ok || st.Name != "Via Admin" {
		t.Errorf("account = %+v", st)
	}
	admin(t, e, "DELETE", "/_fake/accounts/"+hl.AccountID, ``, 200)
	admin(t, e, "DELETE", "/_fake/calls", ``, 200)
	if len(e.fake.Calls()) != 0 {
		t.Error("calls not reset")
	}
}

func TestHandlerInProcess(t *testing.T) {
	t.Parallel()
	srv := fake.New(fake.Options{})
	t.Cleanup(func() { _ = srv.Close() })
	id := srv.AddAccount(fake.AccountSpec{ID: "fixed-id", Name: "In Process"})
	req, _ := http.NewRequest("GET", "/api/v1/accounts/"+id, nil)
	req.Header.Set("X-API-KEY", fake.DefaultAPIKey)
	rec := newRecorder()
	srv.Handler().ServeHTTP(rec, req)
	if rec.status != 200 || !strings.Contains(rec.body.String(), `"id":"fixed-id"`) {
		t.Errorf("in-process GET = %d %s", rec.status, rec.body.String())
	}
	if srv.URL() != "" {
		t.Error("URL before Start")
	}
}

// recorder is a minimal ResponseWriter (httptest.ResponseRecorder would do,
// this keeps the test free of its defaults).
type recorder struct {
	h      http.Header
	status int
	body   bytes.Buffer
}

func newRecorder() *recorder               { return &recorder{h: http.Header{}} }
func (r *recorder) Header() http.Header    { return r.h }
func (r *recorder) WriteHeader(status int) { r.status = status }
func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = 200
	}
	return r.body.Write(b)
}

func TestCloseAbortsHangingRequests(t *testing.T) {
	t.Parallel()
	srv := fake.New(fake.Options{})
	if err := srv.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(""); err == nil {
		t.Error("second Start succeeded")
	}
	c, _ := unipile.New(unipile.Options{BaseURL: srv.URL(), APIKey: srv.APIKey()})
	srv.HangNext("", 1)
	errc := make(chan error, 1)
	go func() {
		_, err := c.ListAccounts(context.Background(), unipile.PageOptions{})
		errc <- err
	}()
	// Wait until the request is in (and hanging) before closing.
	deadline := time.Now().Add(5 * time.Second)
	for len(srv.Calls()) == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; unipile.KindOf(err) != unipile.KindTransient {
		t.Errorf("request during Close: %v", err)
	}
	if err := srv.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestRelationWebhookDelay(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *fake.Options) { o.RelationWebhookDelay = 200 * time.Millisecond })
	users := newReceiver(t, nil)
	ctx := context.Background()
	if _, err := e.client.CreateWebhook(ctx, unipile.CreateWebhookRequest{RequestURL: users.srv.URL, Source: "users"}); err != nil {
		t.Fatal(err)
	}
	acc := e.fake.AddAccount(fake.AccountSpec{})
	if _, err := e.client.SendInvitation(ctx, unipile.InvitationRequest{AccountID: acc, ProviderID: "late-larry"}); err != nil {
		t.Fatal(err)
	}
	if err := e.fake.AcceptFrom(acc, "late-larry"); err != nil {
		t.Fatal(err)
	}
	if len(users.requests()) != 0 {
		t.Error("delayed webhook arrived at once")
	}
	e.waitIdle(t) // WaitIdle covers delayed deliveries too
	if len(users.requests()) != 1 {
		t.Errorf("delayed deliveries = %d", len(users.requests()))
	}
}
