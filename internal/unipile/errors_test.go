package unipile

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// slugCase is one documented error: its HTTP status, slug, and the Kind for
// a non-idempotent POST and for an idempotent GET.
type slugCase struct {
	status   int
	slug     string
	post     Kind
	get      Kind
	inferred bool // not in the official enum copy (third-party or status-only)
}

// documentedSlugs lists every error type the reference (§5.3, §4.2, §4.6)
// names, by status family.
var documentedSlugs = []slugCase{
	// 400
	{400, "invalid_parameters", KindInvalid, KindInvalid, false},
	{400, "malformed_request", KindInvalid, KindInvalid, false},
	{400, "content_too_large", KindInvalid, KindInvalid, false},
	{400, "invalid_url", KindInvalid, KindInvalid, false},
	{400, "too_many_characters", KindInvalid, KindInvalid, false},
	{400, "unescaped_characters", KindInvalid, KindInvalid, false},
	{400, "missing_parameters", KindInvalid, KindInvalid, false},
	// 401
	{401, "missing_credentials", KindUnauthorized, KindUnauthorized, false},
	{401, "multiple_sessions", KindReconnectNeeded, KindReconnectNeeded, false},
	{401, "invalid_checkpoint_solution", KindInvalid, KindInvalid, false},
	{401, "checkpoint_error", KindReconnectNeeded, KindReconnectNeeded, false},
	{401, "invalid_credentials", KindReconnectNeeded, KindReconnectNeeded, false},
	{401, "expired_credentials", KindReconnectNeeded, KindReconnectNeeded, false},
	{401, "insufficient_privileges", KindReconnectNeeded, KindReconnectNeeded, false},
	{401, "disconnected_account", KindReconnectNeeded, KindReconnectNeeded, false},
	{401, "disconnected_feature", KindReconnectNeeded, KindReconnectNeeded, false},
	{401, "invalid_credentials_but_valid_account_imap", KindReconnectNeeded, KindReconnectNeeded, false},
	{401, "expired_link", KindInvalid, KindInvalid, false},
	{401, "wrong_account", KindReconnectNeeded, KindReconnectNeeded, false},
	{401, "captcha_not_supported", KindReconnectNeeded, KindReconnectNeeded, false},
	{401, "invalid_proxy_credentials", KindReconnectNeeded, KindReconnectNeeded, false},
	{401, "invalid_imap_configuration", KindReconnectNeeded, KindReconnectNeeded, false},
	{401, "invalid_smtp_configuration", KindReconnectNeeded, KindReconnectNeeded, false},
	// 403
	{403, "account_restricted", KindRestricted, KindRestricted, false},
	{403, "account_mismatch", KindReconnectNeeded, KindReconnectNeeded, false},
	{403, "insufficient_permissions", KindInvalid, KindInvalid, false},
	{403, "session_mismatch", KindReconnectNeeded, KindReconnectNeeded, false},
	{403, "feature_not_subscribed", KindInvalid, KindInvalid, false},
	{403, "subscription_required", KindInvalid, KindInvalid, false},
	{403, "unknown_authentication_context", KindReconnectNeeded, KindReconnectNeeded, false},
	{403, "action_required", KindReconnectNeeded, KindReconnectNeeded, false},
	{403, "resource_access_restricted", KindPermanentRecipient, KindPermanentRecipient, false},
	// 404
	{404, "resource_not_found", KindNotFound, KindNotFound, false},
	{404, "invalid_resource_identifier", KindNotFound, KindNotFound, false},
	// 415 (no documented slug)
	{415, "", KindInvalid, KindInvalid, true},
	// 422
	{422, "invalid_account", KindInvalid, KindInvalid, false},
	{422, "invalid_recipient", KindPermanentRecipient, KindPermanentRecipient, false},
	{422, "no_connection_with_recipient", KindPermanentRecipient, KindPermanentRecipient, false},
	{422, "blocked_recipient", KindPermanentRecipient, KindPermanentRecipient, false},
	{422, "user_unreachable", KindPermanentRecipient, KindPermanentRecipient, false},
	{422, "unprocessable_entity", KindInvalid, KindInvalid, false},
	{422, "action_already_performed", KindAlreadyDone, KindAlreadyDone, false},
	{422, "invalid_message", KindInvalid, KindInvalid, false},
	{422, "invalid_post", KindInvalid, KindInvalid, false},
	{422, "not_allowed_inmail", KindPermanentRecipient, KindPermanentRecipient, false},
	{422, "insufficient_credits", KindInsufficientCredits, KindInsufficientCredits, false},
	{422, "cannot_resend_yet", KindRateLimited, KindRateLimited, false},
	{422, "cannot_resend_within_24hrs", KindRateLimited, KindRateLimited, false},
	{422, "limit_exceeded", KindRateLimited, KindRateLimited, false},
	{422, "already_invited_recently", KindRecentlyInvited, KindRecentlyInvited, false},
	{422, "cannot_invite_attendee", KindPermanentRecipient, KindPermanentRecipient, false},
	{422, "parent_mail_not_found", KindInvalid, KindInvalid, false},
	{422, "invalid_reply_subject", KindInvalid, KindInvalid, false},
	{422, "invalid_headers", KindInvalid, KindInvalid, false},
	{422, "send_as_denied", KindInvalid, KindInvalid, false},
	{422, "invalid_folder", KindInvalid, KindInvalid, false},
	{422, "invalid_thread", KindInvalid, KindInvalid, false},
	{422, "limit_too_high", KindInvalid, KindInvalid, false},
	{422, "unauthorized", KindInvalid, KindInvalid, false},
	{422, "sender_rejected", KindInvalid, KindInvalid, false},
	{422, "recipient_rejected", KindPermanentRecipient, KindPermanentRecipient, false},
	{422, "ip_rejected_by_server", KindInvalid, KindInvalid, false},
	{422, "provider_unreachable", KindTransient, KindTransient, false},
	{422, "account_configuration_error", KindReconnectNeeded, KindReconnectNeeded, false},
	{422, "cant_send_message", KindPermanentRecipient, KindPermanentRecipient, false},
	{422, "realtime_client_not_initialized", KindTransient, KindTransient, false},
	{422, "payment_error", KindInsufficientCredits, KindInsufficientCredits, true},
	{422, "already_connected", KindAlreadyDone, KindAlreadyDone, true},
	{422, "comments_disabled", KindInvalid, KindInvalid, true},
	{422, "insufficient_job_slot", KindInvalid, KindInvalid, true},
	{422, "already_invited", KindAlreadyDone, KindAlreadyDone, true},
	{422, "connection_limit_reached", KindRateLimited, KindRateLimited, true},
	// 425
	{425, "auth_in_progress", KindTransient, KindTransient, true},
	// 429
	{429, "too_many_requests", KindRateLimited, KindRateLimited, false},
	// 500
	{500, "unexpected_error", KindUnknownOutcome, KindTransient, false},
	{500, "provider_error", KindUnknownOutcome, KindTransient, false},
	{500, "authentication_intent_error", KindTransient, KindTransient, false},
	// 501
	{501, "feature_not_implemented", KindInvalid, KindInvalid, true},
	// 503
	{503, "no_client_session", KindTransient, KindTransient, false},
	{503, "no_channel", KindTransient, KindTransient, false},
	{503, "no_handler", KindTransient, KindTransient, false},
	{503, "network_down", KindTransient, KindTransient, false},
	{503, "service_unavailable", KindTransient, KindTransient, false},
	// 504
	{504, "request_timeout", KindUnknownOutcome, KindTransient, false},
}

// errorServer answers every request with the status and type named in its
// query (?s=422&t=errors/x), in Unipile's error shape.
func errorServer(t *testing.T) *Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		status, _ := strconv.Atoi(r.URL.Query().Get("s"))
		typ := r.URL.Query().Get("t")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]any{"status": status, "type": typ, "title": "T", "detail": "D"})
	}))
	t.Cleanup(srv.Close)
	c, err := New(Options{BaseURL: srv.URL, APIKey: "k"})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestEveryDocumentedSlugMapsToItsKind(t *testing.T) {
	t.Parallel()
	c := errorServer(t)
	for _, tc := range documentedSlugs {
		typ := ""
		if tc.slug != "" {
			typ = "errors/" + tc.slug
		}
		for _, method := range []string{"POST", "GET"} {
			want := tc.get
			if method == "POST" {
				want = tc.post
			}
			t.Run(fmt.Sprintf("%d_%s_%s", tc.status, tc.slug, method), func(t *testing.T) {
				t.Parallel()
				q := url.Values{"s": {strconv.Itoa(tc.status)}, "t": {typ}}
				err := c.do(context.Background(), request{op: "probing", method: method, path: "probe", query: q, idempotent: method == "GET"}, nil)
				var e *Error
				if !errors.As(err, &e) {
					t.Fatalf("error %v is not *Error", err)
				}
				if e.Kind != want {
					t.Errorf("kind = %v, want %v", e.Kind, want)
				}
				if e.Status != tc.status || e.Type != typ || e.Title != "T" || e.Detail != "D" {
					t.Errorf("error fields = %+v", e)
				}
				if KindOf(fmt.Errorf("wrapped: %w", err)) != want {
					t.Errorf("KindOf through wrapping lost the kind")
				}
			})
		}
	}
}

// TestDocumentedSlugsAreExplicit guards against a documented slug silently
// falling back to its status default.
func TestDocumentedSlugsAreExplicit(t *testing.T) {
	t.Parallel()
	for _, tc := range documentedSlugs {
		if tc.slug == "" {
			continue
		}
		if _, ok := slugKinds[tc.slug]; !ok {
			t.Errorf("slug %q has no explicit kind", tc.slug)
		}
	}
}

func TestStatusFallbacks(t *testing.T) {
	t.Parallel()
	cases := []struct {
		status     int
		typ        string
		idempotent bool
		want       Kind
	}{
		{401, "", false, KindUnauthorized},
		{401, "errors/something_new", false, KindUnknown},
		{403, "errors/something_new", false, KindUnknown},
		{404, "", true, KindNotFound},
		{422, "errors/something_new", false, KindUnknown},
		{429, "", false, KindRateLimited},
		{500, "", false, KindUnknownOutcome},
		{500, "", true, KindTransient},
		{502, "", false, KindUnknownOutcome},
		{503, "", false, KindTransient},
		{504, "", false, KindUnknownOutcome},
		{504, "", true, KindTransient},
		{408, "", false, KindUnknownOutcome},
		{409, "", false, KindInvalid},
		{302, "", true, KindUnknown},
		// Slug matching ignores case, spaces and a missing prefix.
		{422, " Errors/Already_Invited_Recently ", false, KindRecentlyInvited},
		{422, "limit_exceeded", false, KindRateLimited},
	}
	for _, tc := range cases {
		if got := classify(tc.status, tc.typ, tc.idempotent); got != tc.want {
			t.Errorf("classify(%d, %q, %v) = %v, want %v", tc.status, tc.typ, tc.idempotent, got, tc.want)
		}
	}
}

func TestKindNamesAndKindOf(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for k := KindUnknown; k <= KindRecentlyInvited; k++ {
		name := k.String()
		if name == "" || strings.HasPrefix(name, "kind(") || seen[name] {
			t.Errorf("kind %d has bad or duplicate name %q", int(k), name)
		}
		seen[name] = true
	}
	if Kind(99).String() != "kind(99)" {
		t.Errorf("out-of-range kind name = %q", Kind(99).String())
	}
	if KindOf(nil) != KindUnknown || KindOf(errors.New("x")) != KindUnknown {
		t.Error("KindOf of nil or foreign error should be KindUnknown")
	}
	if !KindTransient.Retryable() || KindUnknownOutcome.Retryable() {
		t.Error("only transient errors are retryable")
	}
	e := &Error{Kind: KindRateLimited, Status: 429, Type: "errors/too_many_requests", Title: "Too many", Detail: "slow down", Op: "sending invitation", Err: context.DeadlineExceeded}
	want := "unipile: sending invitation: HTTP 429 errors/too_many_requests: Too many: slow down: context deadline exceeded [rate_limited]"
	if e.Error() != want {
		t.Errorf("Error() = %q\nwant      %q", e.Error(), want)
	}
	if !errors.Is(e, context.DeadlineExceeded) {
		t.Error("Unwrap lost the cause")
	}
}
