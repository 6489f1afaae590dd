package unipile_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/unipile"
)

const testKey = "sk_live_0123456789abcdefSECRET"

// newClient returns a client for srv with the test key.
func newClient(t *testing.T, srv *httptest.Server, timeout time.Duration) *unipile.Client {
	t.Helper()
	c, err := unipile.New(unipile.Options{BaseURL: srv.URL, APIKey: testKey, Timeout: timeout})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

// jsonHandler answers every request with status and body.
func jsonHandler(status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

func TestNewValidatesOptions(t *testing.T) {
	t.Parallel()
	good := []struct{ in, want string }{
		{"api8.unipile.com:13443", "https://api8.unipile.com:13443"},
		{"https://api8.unipile.com:13443/", "https://api8.unipile.com:13443"},
		{"https://api8.unipile.com:13443/api/v1", "https://api8.unipile.com:13443"},
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080"},
		{"  https://api1.unipile.com:13111?port=13111 ", "https://api1.unipile.com:13111"},
	}
	for _, g := range good {
		c, err := unipile.New(unipile.Options{BaseURL: g.in, APIKey: "k"})
		if err != nil {
			t.Errorf("New(%q): %v", g.in, err)
			continue
		}
		if c.BaseURL() != g.want {
			t.Errorf("BaseURL(%q) = %q, want %q", g.in, c.BaseURL(), g.want)
		}
	}
	bad := []unipile.Options{
		{BaseURL: "", APIKey: "k"},
		{BaseURL: "ftp://x.example:21", APIKey: "k"},
		{BaseURL: "https://", APIKey: "k"},
		{BaseURL: "https://user:pw@x.example", APIKey: "k"},
		{BaseURL: "x.example:99999", APIKey: "k"},
		{BaseURL: "x.example:443", APIKey: ""},
		{BaseURL: "x.example:443", APIKey: "bad\nkey"},
		{BaseURL: "x.example:443", APIKey: "k", Timeout: -time.Second},
	}
	for _, o := range bad {
		_, err := unipile.New(o)
		if unipile.KindOf(err) != unipile.KindInvalid {
			t.Errorf("New(%+v) = %v, want KindInvalid", o, err)
		}
		if err != nil && strings.Contains(err.Error(), "bad\nkey") {
			t.Errorf("error echoes the key: %v", err)
		}
	}
}

func TestEveryRequestCarriesKeyAndAccept(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Method+" "+r.URL.Path+" key="+r.Header.Get("X-API-KEY")+" accept="+r.Header.Get("Accept"))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"object":"X","items":[],"cursor":null,"url":"https://x/y","webhook_id":"w"}`)
	}))
	t.Cleanup(srv.Close)
	c := newClient(t, srv, 0)
	ctx := context.Background()
	calls := []func() error{
		func() error { _, err := c.ListAccounts(ctx, unipile.PageOptions{}); return err },
		func() error { _, err := c.GetAccount(ctx, "a1"); return err },
		func() error { return c.RestartAccount(ctx, "a1") },
		func() error { return c.DeleteAccount(ctx, "a1") },
		func() error {
			_, err := c.CreateHostedAuthLink(ctx, unipile.HostedAuthRequest{Type: "create", ExpiresOn: time.Now().Add(time.Hour)})
			return err
		},
		func() error {
			_, err := c.CreateWebhook(ctx, unipile.CreateWebhookRequest{RequestURL: "https://k/wh", Source: "users"})
			return err
		},
		func() error { _, err := c.ListWebhooks(ctx, unipile.PageOptions{}); return err },
		func() error { return c.DeleteWebhook(ctx, "w") },
		func() error { _, err := c.GetProfile(ctx, "a1", "jane", unipile.ProfileOptions{}); return err },
		func() error {
			_, err := c.SendInvitation(ctx, unipile.InvitationRequest{AccountID: "a1", ProviderID: "ACoAAx"})
			return err
		},
		func() error { _, err := c.ListSentInvitations(ctx, "a1", unipile.PageOptions{}); return err },
		func() error { return c.CancelInvitation(ctx, "a1", "i1") },
		func() error { _, err := c.ListRelations(ctx, "a1", unipile.PageOptions{}); return err },
		func() error {
			_, err := c.StartChat(ctx, unipile.StartChatRequest{AccountID: "a1", AttendeeIDs: []string{"ACoAAx"}, Text: "hi"})
			return err
		},
		func() error { _, err := c.SendMessage(ctx, "c1", unipile.SendMessageRequest{Text: "hi"}); return err },
		func() error { _, err := c.ListChats(ctx, "a1", unipile.PageOptions{}); return err },
		func() error { _, err := c.ListChatMessages(ctx, "c1", unipile.PageOptions{}); return err },
		func() error { _, err := c.GetInMailBalance(ctx, "a1"); return err },
	}
	for i, call := range calls {
		if err := call(); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != len(calls) {
		t.Fatalf("server saw %d requests, want %d", len(seen), len(calls))
	}
	for _, s := range seen {
		if !strings.Contains(s, "key="+testKey+" ") || !strings.HasSuffix(s, "accept=application/json") {
			t.Errorf("request without key or accept: %s", s)
		}
		if !strings.Contains(s, " /api/v1/") {
			t.Errorf("request outside /api/v1: %s", s)
		}
	}
}

func TestAPIKeyNeverInErrors(t *testing.T) {
	t.Parallel()
	// A server that echoes the key back in its error body.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
		_ = json.NewEncoder(w).Encode(map[string]any{
			"status": 401, "type": "errors/missing_credentials",
			"title": "bad key " + r.Header.Get("X-API-KEY"), "detail": "you sent " + r.Header.Get("X-API-KEY"),
		})
	}))
	t.Cleanup(srv.Close)
	c := newClient(t, srv, 0)
	_, err := c.GetAccount(context.Background(), "a1")
	if unipile.KindOf(err) != unipile.KindUnauthorized {
		t.Fatalf("kind = %v, want unauthorized (%v)", unipile.KindOf(err), err)
	}
	var e *unipile.Error
	errors.As(err, &e)
	for _, s := range []string{err.Error(), e.Title, e.Detail} {
		if strings.Contains(s, testKey) {
			t.Errorf("key leaked: %q", s)
		}
	}

	// A transport error whose text would carry the key (the key is in the
	// base URL's query, which net/http errors quote).
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c2, err := unipile.New(unipile.Options{BaseURL: "http://" + addr + "/?port=" + testKey, APIKey: testKey})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c2.GetAccount(context.Background(), "a1")
	if err == nil || strings.Contains(err.Error(), testKey) {
		t.Errorf("transport error leaked the key or did not fail: %v", err)
	}
	if unipile.KindOf(err) != unipile.KindTransient {
		t.Errorf("refused connection kind = %v, want transient", unipile.KindOf(err))
	}
}

func TestTimeouts(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		_, _ = io.Copy(io.Discard, r.Body)
		<-r.Context().Done() // hang until the client gives up
	}))
	t.Cleanup(srv.Close)
	c := newClient(t, srv, 50*time.Millisecond)
	ctx := context.Background()

	_, err := c.SendInvitation(ctx, unipile.InvitationRequest{AccountID: "a1", ProviderID: "ACoAAx"})
	if k := unipile.KindOf(err); k != unipile.KindUnknownOutcome {
		t.Errorf("POST invite timeout kind = %v, want unknown_outcome (%v)", k, err)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("timeout should unwrap to DeadlineExceeded: %v", err)
	}
	_, err = c.StartChat(ctx, unipile.StartChatRequest{AccountID: "a1", AttendeeIDs: []string{"x"}, Text: "hi"})
	if k := unipile.KindOf(err); k != unipile.KindUnknownOutcome {
		t.Errorf("POST chat timeout kind = %v, want unknown_outcome", k)
	}
	_, err = c.GetAccount(ctx, "a1")
	if k := unipile.KindOf(err); k != unipile.KindTransient {
		t.Errorf("GET timeout kind = %v, want transient", k)
	}
	// The caller's own deadline counts the same way.
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	_, err = c.SendMessage(short, "c1", unipile.SendMessageRequest{Text: "hi"})
	if k := unipile.KindOf(err); k != unipile.KindUnknownOutcome {
		t.Errorf("caller deadline on POST kind = %v, want unknown_outcome", k)
	}
	if hits.Load() < 4 {
		t.Errorf("server saw %d requests, want at least 4", hits.Load())
	}
}

func TestDroppedConnectionAfterSendIsUnknownOutcome(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
	}))
	t.Cleanup(srv.Close)
	c := newClient(t, srv, 0)
	_, err := c.SendInvitation(context.Background(), unipile.InvitationRequest{AccountID: "a1", ProviderID: "ACoAAx"})
	if k := unipile.KindOf(err); k != unipile.KindUnknownOutcome {
		t.Errorf("dropped POST kind = %v, want unknown_outcome (%v)", k, err)
	}
}

func TestTruncatedSuccessBodyOnPostIsUnknownOutcome(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100")
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, `{"object":"ChatSta`)
		w.(http.Flusher).Flush()
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
	}))
	t.Cleanup(srv.Close)
	c := newClient(t, srv, 0)
	_, err := c.StartChat(context.Background(), unipile.StartChatRequest{AccountID: "a1", AttendeeIDs: []string{"x"}, Text: "hi"})
	if k := unipile.KindOf(err); k != unipile.KindUnknownOutcome {
		t.Errorf("truncated 201 kind = %v, want unknown_outcome (%v)", k, err)
	}
}

func TestValidationHappensBeforeSending(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	t.Cleanup(srv.Close)
	c := newClient(t, srv, 0)
	ctx := context.Background()
	errs := []error{
		func() error {
			_, err := c.SendInvitation(ctx, unipile.InvitationRequest{AccountID: "a", ProviderID: "p", Message: strings.Repeat("é", 301)})
			return err
		}(),
		func() error {
			_, err := c.SendInvitation(ctx, unipile.InvitationRequest{AccountID: "", ProviderID: "p"})
			return err
		}(),
		func() error {
			_, err := c.StartChat(ctx, unipile.StartChatRequest{AccountID: "a", Text: "hi"})
			return err
		}(),
		func() error {
			_, err := c.CreateHostedAuthLink(ctx, unipile.HostedAuthRequest{Type: "reconnect", ExpiresOn: time.Now()})
			return err
		}(),
		func() error {
			_, err := c.CreateHostedAuthLink(ctx, unipile.HostedAuthRequest{Type: "create"})
			return err
		}(),
		func() error { _, err := c.GetAccount(ctx, " "); return err }(),
	}
	for i, err := range errs {
		if unipile.KindOf(err) != unipile.KindInvalid {
			t.Errorf("case %d: %v, want KindInvalid", i, err)
		}
	}
	if hits.Load() != 0 {
		t.Errorf("invalid requests reached the server %d times", hits.Load())
	}
	// Exactly 300 characters is allowed.
	if _, err := c.SendInvitation(ctx, unipile.InvitationRequest{AccountID: "a", ProviderID: "p", Message: strings.Repeat("é", 300)}); err != nil {
		t.Errorf("300-character note refused: %v", err)
	}
}

func TestPagination(t *testing.T) {
	t.Parallel()
	pages := map[string]string{
		"":   `{"object":"AccountList","items":[{"id":"a1"},{"id":"a2"}],"cursor":"c2"}`,
		"c2": `{"object":"AccountList","items":[{"id":"a3"}],"cursor":"c3"}`,
		"c3": `{"object":"AccountList","items":[{"id":"a4"}],"cursor":null}`,
	}
	var mu sync.Mutex
	var limits []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		limits = append(limits, r.URL.Query().Get("limit"))
		mu.Unlock()
		body, ok := pages[r.URL.Query().Get("cursor")]
		if !ok {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	c := newClient(t, srv, 0)
	ctx := context.Background()

	p, err := c.ListAccounts(ctx, unipile.PageOptions{Limit: 2})
	if err != nil || len(p.Items) != 2 || p.Cursor != "c2" || p.Object != "AccountList" {
		t.Fatalf("first page = %+v, %v", p, err)
	}
	p, err = c.ListAccounts(ctx, unipile.PageOptions{Cursor: string(p.Cursor)})
	if err != nil || len(p.Items) != 1 || p.Items[0].ID != "a3" {
		t.Fatalf("second page = %+v, %v", p, err)
	}
	all, err := c.AllAccounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, a := range all {
		ids = append(ids, string(a.ID))
	}
	if strings.Join(ids, ",") != "a1,a2,a3,a4" {
		t.Errorf("AllAccounts = %v", ids)
	}
	mu.Lock()
	if limits[0] != "2" || limits[len(limits)-1] != "250" {
		t.Errorf("limits sent = %v", limits)
	}
	mu.Unlock()

	// A server that keeps returning the same cursor must not loop forever.
	loop := httptest.NewServer(jsonHandler(200, `{"object":"AccountList","items":[{"id":"x"}],"cursor":"same"}`))
	t.Cleanup(loop.Close)
	_, err = newClient(t, loop, 0).AllAccounts(ctx)
	if err == nil || !strings.Contains(err.Error(), "cursor repeated") {
		t.Errorf("repeated cursor: %v", err)
	}
}

func TestStartChatMultipartShape(t *testing.T) {
	t.Parallel()
	type seen struct {
		contentType string
		values      map[string][]string
		fileName    string
		fileType    string
		fileBody    string
	}
	got := make(chan seen, 2)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseMultipartForm(1 << 20); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		s := seen{contentType: r.Header.Get("Content-Type"), values: r.MultipartForm.Value}
		if fhs := r.MultipartForm.File["attachments"]; len(fhs) == 1 {
			f, _ := fhs[0].Open()
			b, _ := io.ReadAll(f)
			f.Close()
			s.fileName, s.fileType, s.fileBody = fhs[0].Filename, fhs[0].Header.Get("Content-Type"), string(b)
		}
		got <- s
		w.WriteHeader(http.StatusCreated)
		if strings.HasSuffix(r.URL.Path, "/messages") {
			_, _ = io.WriteString(w, `{"object":"MessageSent","message_id":null}`)
			return
		}
		_, _ = io.WriteString(w, `{"object":"ChatStarted","chat_id":"chat1","message_id":12345678901234567890}`)
	}))
	t.Cleanup(srv.Close)
	c := newClient(t, srv, 0)
	res, err := c.StartChat(context.Background(), unipile.StartChatRequest{
		AccountID:   "acc1",
		AttendeeIDs: []string{"ACoAAone", "ACoAAtwo"},
		Text:        "Hello",
		Subject:     "Quick question",
		LinkedIn:    unipile.LinkedInChatOptions{API: unipile.LinkedInClassic, InMail: true},
		Attachments: []unipile.File{{Name: "a.txt", ContentType: "text/plain", Data: []byte("file")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.ChatID != "chat1" || res.MessageID != "12345678901234567890" {
		t.Errorf("result = %+v", res)
	}
	s := <-got
	if !strings.HasPrefix(s.contentType, "multipart/form-data; boundary=") {
		t.Errorf("content type = %q", s.contentType)
	}
	want := map[string][]string{
		"account_id":       {"acc1"},
		"attendees_ids":    {"ACoAAone", "ACoAAtwo"},
		"text":             {"Hello"},
		"subject":          {"Quick question"},
		"linkedin[api]":    {"classic"},
		"linkedin[inmail]": {"true"},
	}
	for k, v := range want {
		if strings.Join(s.values[k], "|") != strings.Join(v, "|") {
			t.Errorf("field %s = %q, want %q", k, s.values[k], v)
		}
	}
	if len(s.values) != len(want) {
		t.Errorf("unexpected fields: %v", s.values)
	}
	if s.fileName != "a.txt" || s.fileType != "text/plain" || s.fileBody != "file" {
		t.Errorf("attachment = %q %q %q", s.fileName, s.fileType, s.fileBody)
	}

	// Without InMail the linkedin[inmail] field is absent.
	sent, err := c.SendMessage(context.Background(), "chat1", unipile.SendMessageRequest{Text: "again"})
	if err != nil || sent.MessageID != "" {
		t.Fatalf("SendMessage = %+v, %v", sent, err)
	}
	s = <-got
	if strings.Join(s.values["text"], "") != "again" || len(s.values) != 1 {
		t.Errorf("send message fields = %v", s.values)
	}
}

func TestHostedAuthLinkBody(t *testing.T) {
	t.Parallel()
	bodies := make(chan map[string]any, 2)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m map[string]any
		_ = json.NewDecoder(r.Body).Decode(&m)
		bodies <- m
		if r.Header.Get("Content-Type") != "application/json" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, `{"object":"HostedAuthUrl","url":"https://account.unipile.com/tok"}`)
	}))
	t.Cleanup(srv.Close)
	c := newClient(t, srv, 0)
	exp := time.Date(2026, 7, 1, 12, 0, 0, 0, time.FixedZone("CEST", 2*3600))
	link, err := c.CreateHostedAuthLink(context.Background(), unipile.HostedAuthRequest{
		Type: unipile.HostedAuthCreate, ExpiresOn: exp, Name: "link-token", NotifyURL: "https://keel/notify?token=t",
	})
	if err != nil || link != "https://account.unipile.com/tok" {
		t.Fatalf("link = %q, %v", link, err)
	}
	m := <-bodies
	if m["expiresOn"] != "2026-07-01T10:00:00.000Z" || m["type"] != "create" || m["api_url"] != c.BaseURL() ||
		m["name"] != "link-token" || m["notify_url"] != "https://keel/notify?token=t" {
		t.Errorf("create body = %v", m)
	}
	if p, _ := m["providers"].([]any); len(p) != 1 || p[0] != "LINKEDIN" {
		t.Errorf("providers = %v", m["providers"])
	}
	_, err = c.CreateHostedAuthLink(context.Background(), unipile.HostedAuthRequest{
		Type: unipile.HostedAuthReconnect, ReconnectAccount: "acc1", ExpiresOn: exp,
	})
	if err != nil {
		t.Fatal(err)
	}
	m = <-bodies
	if m["type"] != "reconnect" || m["reconnect_account"] != "acc1" || m["providers"] != nil {
		t.Errorf("reconnect body = %v", m)
	}
}

func TestRedirectsNeverLeaveTheHost(t *testing.T) {
	t.Parallel()
	var foreignHits atomic.Int32
	foreign := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		foreignHits.Add(1)
	}))
	t.Cleanup(foreign.Close)
	var home *httptest.Server
	home = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/v1/users/jane":
			http.Redirect(w, r, home.URL+"/api/v1/users/jane/", http.StatusMovedPermanently)
		case "/api/v1/users/jane/":
			_, _ = io.WriteString(w, `{"object":"UserProfile","provider_id":"ACoAAjane","network_distance":"DISTANCE_1"}`)
		default:
			http.Redirect(w, r, foreign.URL+"/steal", http.StatusTemporaryRedirect)
		}
	}))
	t.Cleanup(home.Close)
	c := newClient(t, home, 0)
	p, err := c.GetProfile(context.Background(), "acc", "jane", unipile.ProfileOptions{})
	if err != nil || p.ProviderID != "ACoAAjane" || p.Degree() != 1 {
		t.Fatalf("same-host redirect: %+v, %v", p, err)
	}
	_, err = c.GetAccount(context.Background(), "acc")
	if err == nil {
		t.Fatal("cross-host redirect followed")
	}
	if foreignHits.Load() != 0 {
		t.Error("the API key was sent to another host")
	}
}

func TestBaseURLQueryIsKept(t *testing.T) {
	t.Parallel()
	got := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.URL.RawQuery
		_, _ = io.WriteString(w, `{}`)
	}))
	t.Cleanup(srv.Close)
	c, err := unipile.New(unipile.Options{BaseURL: srv.URL + "?port=13443", APIKey: "k"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetInMailBalance(context.Background(), "acc"); err != nil {
		t.Fatal(err)
	}
	if q := <-got; q != "account_id=acc&port=13443" {
		t.Errorf("query = %q", q)
	}
}

func TestRestartFailureObject(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(jsonHandler(200, `{"object":"AccountFailedToRestart"}`))
	t.Cleanup(srv.Close)
	err := newClient(t, srv, 0).RestartAccount(context.Background(), "acc")
	if unipile.KindOf(err) != unipile.KindTransient {
		t.Errorf("AccountFailedToRestart kind = %v", unipile.KindOf(err))
	}
}

func TestNonJSONErrorBody(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
		_, _ = io.WriteString(w, "<html>Bad gateway</html>")
	}))
	t.Cleanup(srv.Close)
	c := newClient(t, srv, 0)
	_, err := c.GetAccount(context.Background(), "acc")
	var e *unipile.Error
	if !errors.As(err, &e) || e.Kind != unipile.KindTransient || e.Status != 502 || !strings.Contains(e.Detail, "Bad gateway") {
		t.Errorf("502 GET = %#v", err)
	}
	_, err = c.SendInvitation(context.Background(), unipile.InvitationRequest{AccountID: "a", ProviderID: "p"})
	if unipile.KindOf(err) != unipile.KindUnknownOutcome {
		t.Errorf("502 POST kind = %v", unipile.KindOf(err))
	}
}
