package unipile

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Kind is the one classification of a failed Unipile call. It is decided
// once, at the client edge, so every caller (health checker, dispatcher,
// reconciler) reacts to the same failure the same way.
//
// How callers branch, in short:
//
//	KindTransient            retry later with backoff; nothing was applied.
//	KindUnknownOutcome       never retry blindly; reconcile against the provider.
//	KindRateLimited          cool down this action type on this account.
//	KindInsufficientCredits  stop InMails on this account until a top-up.
//	KindAlreadyDone          record the outcome as reached; do not resend.
//	KindRecentlyInvited      an invitation to this person is pending or was
//	                         withdrawn lately; wait weeks before inviting.
//	KindPermanentRecipient   fail this action for this recipient only.
//	KindReconnectNeeded      pause the account; start the reconnect flow.
//	KindRestricted           pause the account; the provider restricted it.
//	KindNotFound             the addressed object (often the account) is gone.
//	KindInvalid              our request is wrong; fail it and fix the caller.
//	KindUnauthorized         the tenant API key is wrong; stop all calls.
//	KindUnknown              unclassified; fail or park for a person.
type Kind int

// The zero Kind is KindUnknown so an unclassified error is never mistaken
// for a retryable one.
const (
	// KindUnknown is a failure this package could not classify (an
	// undocumented error type, a malformed response). Do not retry
	// automatically; fail the action or park it for a person.
	KindUnknown Kind = iota
	// KindTransient means the request did not take effect and can be retried
	// with backoff: 503s, network errors before the request was fully sent,
	// and 5xx answers to idempotent requests (GET, DELETE, restart, link).
	// For the health checker these are never 404 strikes.
	KindTransient
	// KindUnknownOutcome means the request may have been applied: a timeout,
	// a dropped connection or a 500/502/504 after a non-idempotent POST
	// (invite, start chat, send message, create webhook) was sent. Never
	// retry it blindly; mark the send unknown and reconcile it against the
	// provider (sent invitations, chat messages) first.
	KindUnknownOutcome
	// KindRateLimited is a provider limit signal: HTTP 429,
	// errors/limit_exceeded, errors/cannot_resend_yet and relatives. Pause
	// this action type on this account (Keel: 5 hours); do not retry now.
	KindRateLimited
	// KindInsufficientCredits means the account has no InMail credits left.
	// Stop InMails on that account until credits are topped up; other
	// action types continue.
	KindInsufficientCredits
	// KindPermanentRecipient means this recipient cannot be reached or
	// invited (invalid, blocked, not a first-degree connection without
	// InMail, InMail refused). Fail the step for this prospect only; the
	// account is fine.
	KindPermanentRecipient
	// KindAlreadyDone means the outcome already exists (already connected,
	// action already performed). Record it as reached and do not send again.
	KindAlreadyDone
	// KindReconnectNeeded means the account's LinkedIn session is unusable
	// (401 errors/disconnected_account, expired credentials, checkpoint…).
	// Pause the account and ask its owner to reconnect through hosted auth.
	KindReconnectNeeded
	// KindRestricted is 403 errors/account_restricted: LinkedIn restricted
	// the account. Pause it (Keel status "restricted"); do not retry.
	KindRestricted
	// KindNotFound is a 404: the account (or invitation, chat…) is unknown
	// to this DSN and key. On account routes it usually means the account
	// was deleted; the health checker counts it as a strike, not a flip.
	KindNotFound
	// KindInvalid means Unipile refused our request as malformed or not
	// allowed for this account (bad parameters, note too long, feature not
	// subscribed, unsupported media). Retrying the same request cannot help.
	KindInvalid
	// KindUnauthorized means the tenant API key was missing or wrong
	// (401 errors/missing_credentials). It concerns the whole installation,
	// not one account: stop calling and alert the operator.
	KindUnauthorized
	// KindRecentlyInvited is errors/already_invited_recently: LinkedIn
	// refuses an invitation to this person for now (one is pending, or was
	// withdrawn in the last weeks). Not a failure of the recipient: wait
	// about three weeks before inviting them again.
	KindRecentlyInvited
)

var kindNames = [...]string{
	KindUnknown:             "unknown",
	KindTransient:           "transient",
	KindUnknownOutcome:      "unknown_outcome",
	KindRateLimited:         "rate_limited",
	KindInsufficientCredits: "insufficient_credits",
	KindPermanentRecipient:  "permanent_recipient",
	KindAlreadyDone:         "already_done",
	KindReconnectNeeded:     "reconnect_needed",
	KindRestricted:          "restricted",
	KindNotFound:            "not_found",
	KindInvalid:             "invalid",
	KindUnauthorized:        "unauthorized",
	KindRecentlyInvited:     "recently_invited",
}

// String returns a stable snake_case name, suitable for logs and metrics
// labels.
func (k Kind) String() string {
	if k >= 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// Retryable reports whether the same request may simply be sent again later.
// Only KindTransient qualifies; everything else needs a decision first.
func (k Kind) Retryable() bool { return k == KindTransient }

// Error is the only error type this package returns for failed calls.
type Error struct {
	// Kind is the classification callers branch on.
	Kind Kind
	// Status is the HTTP status, or 0 when no response was received.
	Status int
	// Type is Unipile's error type slug as sent, e.g.
	// "errors/already_invited_recently"; empty without an error body.
	Type string
	// Title and Detail are Unipile's human text. Show them, never branch
	// on them.
	Title, Detail string
	// Op names the operation, e.g. "sending invitation".
	Op string
	// Err is the underlying cause (network error, decode error), if any.
	Err error
}

// Error renders the failure without the API key: the key only ever travels
// in a request header, and any text that could echo it is scrubbed when the
// Error is built.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("unipile")
	if e.Op != "" {
		b.WriteString(": ")
		b.WriteString(e.Op)
	}
	if e.Status != 0 {
		fmt.Fprintf(&b, ": HTTP %d", e.Status)
	}
	if e.Type != "" {
		b.WriteString(" ")
		b.WriteString(e.Type)
	}
	if e.Title != "" {
		b.WriteString(": ")
		b.WriteString(e.Title)
	}
	if e.Detail != "" && e.Detail != e.Title {
		b.WriteString(": ")
		b.WriteString(e.Detail)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	b.WriteString(" [")
	b.WriteString(e.Kind.String())
	b.WriteString("]")
	return b.String()
}

// Unwrap returns the underlying cause so errors.Is(err,
// context.DeadlineExceeded) and friends keep working.
func (e *Error) Unwrap() error { return e.Err }

// KindOf returns the Kind of the first *Error in err's chain, or KindUnknown
// when there is none (including err == nil; check for nil first).
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindUnknown
}

// kindMaybeApplied marks failures whose meaning depends on whether the
// request was idempotent: a 500 or 504 after an idempotent call is simply
// transient, after a non-idempotent POST the action may have happened.
const kindMaybeApplied Kind = -1

// slugKinds maps v1 error type slugs (without the "errors/" prefix) to their
// Kind. Slugs not listed fall back to statusKind. The grouping follows the
// reference's §5.3 enums; comments mark the judgement calls.
var slugKinds = map[string]Kind{
	// 400: our request is malformed.
	"invalid_parameters":   KindInvalid,
	"malformed_request":    KindInvalid,
	"content_too_large":    KindInvalid,
	"invalid_url":          KindInvalid,
	"too_many_characters":  KindInvalid,
	"unescaped_characters": KindInvalid,
	"missing_parameters":   KindInvalid,

	// 401: the API key (missing_credentials) or the account's session.
	"missing_credentials":                        KindUnauthorized,
	"multiple_sessions":                          KindReconnectNeeded,
	"checkpoint_error":                           KindReconnectNeeded,
	"invalid_credentials":                        KindReconnectNeeded,
	"expired_credentials":                        KindReconnectNeeded,
	"insufficient_privileges":                    KindReconnectNeeded,
	"disconnected_account":                       KindReconnectNeeded,
	"disconnected_feature":                       KindReconnectNeeded,
	"invalid_credentials_but_valid_account_imap": KindReconnectNeeded,
	"wrong_account":                              KindReconnectNeeded,
	"captcha_not_supported":                      KindReconnectNeeded,
	"invalid_proxy_credentials":                  KindReconnectNeeded,
	"invalid_imap_configuration":                 KindReconnectNeeded,
	"invalid_smtp_configuration":                 KindReconnectNeeded,
	// A wrong checkpoint code or an expired hosted link is a bad input,
	// not a broken session.
	"invalid_checkpoint_solution": KindInvalid,
	"expired_link":                KindInvalid,

	// 403.
	"account_restricted":             KindRestricted,
	"account_mismatch":               KindReconnectNeeded,
	"session_mismatch":               KindReconnectNeeded,
	"unknown_authentication_context": KindReconnectNeeded,
	"action_required":                KindReconnectNeeded,
	// The account lacks the product for this action: no retry helps.
	"insufficient_permissions": KindInvalid,
	"feature_not_subscribed":   KindInvalid,
	"subscription_required":    KindInvalid,
	// The target profile/resource is closed to this account.
	"resource_access_restricted": KindPermanentRecipient,

	// 404.
	"resource_not_found":          KindNotFound,
	"invalid_resource_identifier": KindNotFound,

	// 422: recipient cannot be reached or invited.
	"invalid_recipient":            KindPermanentRecipient,
	"no_connection_with_recipient": KindPermanentRecipient,
	"blocked_recipient":            KindPermanentRecipient,
	"user_unreachable":             KindPermanentRecipient,
	"cannot_invite_attendee":       KindPermanentRecipient,
	"recipient_rejected":           KindPermanentRecipient,
	"cant_send_message":            KindPermanentRecipient,
	// Read as "this recipient does not accept InMail"; an account without
	// InMail entitlement is expected to get insufficient_credits or
	// feature_not_subscribed instead (UNCONFIRMED in the reference).
	"not_allowed_inmail": KindPermanentRecipient,
	// 422: outcome already reached.
	"action_already_performed": KindAlreadyDone,
	"already_invited_recently": KindRecentlyInvited,
	"already_connected":        KindAlreadyDone,
	"already_invited":          KindAlreadyDone, // third-party only
	// 422: credits and provider limits.
	"insufficient_credits":       KindInsufficientCredits,
	"payment_error":              KindInsufficientCredits,
	"cannot_resend_yet":          KindRateLimited,
	"cannot_resend_within_24hrs": KindRateLimited,
	"limit_exceeded":             KindRateLimited,
	"connection_limit_reached":   KindRateLimited, // third-party only
	// 422: the request itself cannot be processed.
	"invalid_account":         KindInvalid,
	"unprocessable_entity":    KindInvalid,
	"invalid_message":         KindInvalid,
	"invalid_post":            KindInvalid,
	"parent_mail_not_found":   KindInvalid,
	"invalid_reply_subject":   KindInvalid,
	"invalid_headers":         KindInvalid,
	"send_as_denied":          KindInvalid,
	"invalid_folder":          KindInvalid,
	"invalid_thread":          KindInvalid,
	"limit_too_high":          KindInvalid,
	"unauthorized":            KindInvalid,
	"sender_rejected":         KindInvalid,
	"ip_rejected_by_server":   KindInvalid,
	"comments_disabled":       KindInvalid,
	"insufficient_job_slot":   KindInvalid,
	"feature_not_implemented": KindInvalid,
	// 422: Unipile could not reach the provider, so nothing was applied.
	"provider_unreachable":            KindTransient,
	"realtime_client_not_initialized": KindTransient,
	// 422: the account's own setup is broken; its owner must act.
	"account_configuration_error": KindReconnectNeeded,

	// 425: an account connection is still in progress.
	"auth_in_progress": KindTransient,

	// 429.
	"too_many_requests": KindRateLimited,

	// 500: may or may not have been applied, depending on the request.
	"unexpected_error":            kindMaybeApplied,
	"provider_error":              kindMaybeApplied,
	"authentication_intent_error": KindTransient,

	// 503: the request never reached the provider.
	"no_client_session":   KindTransient,
	"no_channel":          KindTransient,
	"no_handler":          KindTransient,
	"network_down":        KindTransient,
	"service_unavailable": KindTransient,

	// 504: Unipile gave up waiting; the provider may have acted.
	"request_timeout": kindMaybeApplied,
}

// normalizeSlug reduces "errors/Already_Invited_Recently " to
// "already_invited_recently".
func normalizeSlug(typ string) string {
	s := strings.ToLower(strings.TrimSpace(typ))
	return strings.TrimPrefix(s, "errors/")
}

// classify decides the Kind of an HTTP error answer. The slug wins over the
// status because Unipile reuses statuses across very different causes.
func classify(status int, typ string, idempotent bool) Kind {
	k, ok := slugKinds[normalizeSlug(typ)]
	if !ok {
		k = statusKind(status, strings.TrimSpace(typ) != "")
	}
	if k == kindMaybeApplied {
		if idempotent {
			return KindTransient
		}
		return KindUnknownOutcome
	}
	return k
}

// statusKind is the fallback when the slug is absent or undocumented.
func statusKind(status int, hasType bool) Kind {
	switch {
	case status == http.StatusUnauthorized:
		// A bare 401 (no Unipile body, e.g. from a gateway) is about the key;
		// an undocumented typed 401 is left for a person to read.
		if hasType {
			return KindUnknown
		}
		return KindUnauthorized
	case status == http.StatusPaymentRequired:
		return KindInsufficientCredits
	case status == http.StatusNotFound, status == http.StatusGone:
		return KindNotFound
	case status == http.StatusRequestTimeout:
		return kindMaybeApplied
	case status == http.StatusTooEarly:
		return KindTransient
	case status == http.StatusTooManyRequests:
		return KindRateLimited
	case status == http.StatusServiceUnavailable:
		return KindTransient
	case status == http.StatusNotImplemented:
		return KindInvalid
	case status >= 500:
		return kindMaybeApplied
	case status == http.StatusBadRequest,
		status == http.StatusMethodNotAllowed,
		status == http.StatusNotAcceptable,
		status == http.StatusConflict,
		status == http.StatusLengthRequired,
		status == http.StatusRequestEntityTooLarge,
		status == http.StatusRequestURITooLong,
		status == http.StatusUnsupportedMediaType:
		return KindInvalid
	default:
		// 403/422 with an unknown slug, 3xx we refused to follow, and any
		// other oddity.
		return KindUnknown
	}
}

// redacted keeps an error's identity for errors.Is/As while replacing its
// text, so a cause that happened to echo the API key cannot leak it.
type redacted struct {
	msg string
	err error
}

func (r *redacted) Error() string { return r.msg }
func (r *redacted) Unwrap() error { return r.err }

// minScrubLen is the shortest key scrub looks for: shorter strings cannot be
// real credentials, and replacing them would garble ordinary words.
const minScrubLen = 8

// scrub removes every occurrence of secret from s.
func scrub(s, secret string) string {
	if len(secret) < minScrubLen || !strings.Contains(s, secret) {
		return s
	}
	return strings.ReplaceAll(s, secret, "[REDACTED]")
}

// scrubErr returns err, or a redacted stand-in when its text contains secret.
func scrubErr(err error, secret string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if clean := scrub(msg, secret); clean != msg {
		return &redacted{msg: clean, err: err}
	}
	return err
}
