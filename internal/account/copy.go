package account

import (
	"fmt"
	"strings"
)

// Copy is a last_error message. Keel writes only copy made by the
// constructors below, so the vocabulary lives here in one place.
// Whether copy is terminal (the user must act) is decided by its wording
// alone, with the same phrase list as the database's
// linkedin_accounts_no_split_state_chk, so Go and the database cannot
// disagree about it.
type Copy struct {
	// Code is a stable machine name for the message.
	Code string
	// Text is what is stored in last_error and shown to people.
	Text string
}

// Terminal reports whether the copy tells the user to act (reconnect-type
// wording). Terminal copy can never stand beside status connected.
func (c Copy) Terminal() bool { return IsTerminal(c.Text) }

// MaxStrikes is how many consecutive 404 answers disconnect an account.
const MaxStrikes = 3

// TerminalPatterns are the SQL LIKE patterns (matched against the
// lower-cased text) that make wording terminal. The CHECK constraint
// linkedin_accounts_no_split_state_chk holds the same list on both engines
// (on PostgreSQL as one regular expression since migration 11); a
// conformance test proves they agree.
var TerminalPatterns = []string{
	"%no longer registered%",
	"%please reconnect%",
	"%account not found%reconnect%",
	"%reconnect needed%",
	"%reconnect required%",
	"%must be connected again%",
	"%credentials expired%",
}

// IsTerminal reports whether text carries terminal, reconnect-type wording,
// exactly as the database's split-state CHECK judges it.
func IsTerminal(text string) bool {
	lower := asciiLower(text)
	for _, p := range TerminalPatterns {
		if likeMatch(lower, p) {
			return true
		}
	}
	return false
}

// asciiLower mirrors SQLite's lower(), which folds ASCII letters only.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + ('a' - 'A')
		}
	}
	return string(b)
}

// likeMatch implements SQL LIKE for patterns that use only '%'.
func likeMatch(s, pattern string) bool {
	parts := strings.Split(pattern, "%")
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	last := len(parts) - 1
	for i := 1; i < last; i++ {
		j := strings.Index(s, parts[i])
		if j < 0 {
			return false
		}
		s = s[j+len(parts[i]):]
	}
	return strings.HasSuffix(s, parts[last]) && len(s) >= len(parts[last])
}

// Soft404 is written while an account answers 404 but has strikes left.
func Soft404(strike int) Copy {
	return Copy{Code: "soft_404", Text: fmt.Sprintf(
		"Unipile temporarily unreachable (HTTP 404, strike %d/%d). Auto-retry; account remains connected.", strike, MaxStrikes)}
}

// SoftUnreachable is written when Unipile has not answered for longer than
// the tolerance window (timeouts, 5xx, 429): the account goes to error
// without anything for the user to do yet.
func SoftUnreachable(window string) Copy {
	return Copy{Code: "soft_unreachable", Text: fmt.Sprintf(
		"Unipile has not answered account checks for more than %s (timeouts or server errors). Auto-retry; sending waits until a check succeeds.", window)}
}

// SoftProviderError is written when Unipile reports the account's source as
// ERROR or STOPPED; Keel restarts it and keeps checking.
func SoftProviderError(sourceStatus string) Copy {
	return Copy{Code: "soft_provider_error", Text: fmt.Sprintf(
		"Unipile reports the account's connection as %s. Keel asked Unipile to restart it and keeps checking.", sourceStatus)}
}

// SoftConnecting is written while Unipile is still establishing the account.
func SoftConnecting() Copy {
	return Copy{Code: "soft_connecting", Text: "Unipile is still connecting this account. Keel keeps checking."}
}

// TerminalNotRegistered is written on the third consecutive 404.
func TerminalNotRegistered() Copy {
	return Copy{Code: "terminal_not_registered", Text: fmt.Sprintf(
		"Account no longer registered with Unipile (HTTP 404 on %d consecutive checks) — please reconnect.", MaxStrikes)}
}

// TerminalCredentials is written when Unipile reports CREDENTIALS.
func TerminalCredentials() Copy {
	return Copy{Code: "terminal_credentials", Text: "LinkedIn credentials expired or were changed — reconnect needed."}
}

// TerminalDeleted is written when Unipile reports the account DELETED.
func TerminalDeleted() Copy {
	return Copy{Code: "terminal_deleted", Text: "The account was removed from Unipile; it must be connected again."}
}

// TerminalRestricted is written when LinkedIn restricts the account.
func TerminalRestricted() Copy {
	return Copy{Code: "terminal_restricted", Text: "LinkedIn restricted this account. Resolve it on LinkedIn, then please reconnect."}
}

// TerminalVerification is written when LinkedIn asks for a checkpoint.
func TerminalVerification() Copy {
	return Copy{Code: "terminal_verification", Text: "LinkedIn asks for a verification (checkpoint). Complete it, then please reconnect."}
}

// TerminalOperator is written when an operator disconnects an account.
func TerminalOperator() Copy {
	return Copy{Code: "terminal_operator", Text: "Disconnected by an operator — reconnect needed to send again."}
}

// TerminalRepaired is written by `keel repair split-state` on rows found in
// an impossible state.
func TerminalRepaired() Copy {
	return Copy{Code: "terminal_repaired", Text: "Found in an inconsistent state and disconnected by the repair — please reconnect."}
}

// VocabularyEntry is one message of the vocabulary with the class it is
// meant to have; tests hold every entry against the database CHECK.
type VocabularyEntry struct {
	Copy         Copy
	WantTerminal bool
}

// Vocabulary lists every message Keel writes, with examples for the
// parameterised ones.
func Vocabulary() []VocabularyEntry {
	return []VocabularyEntry{
		{Soft404(1), false},
		{Soft404(2), false},
		{SoftUnreachable("2h0m0s"), false},
		{SoftProviderError("ERROR"), false},
		{SoftProviderError("STOPPED"), false},
		{SoftConnecting(), false},
		{TerminalNotRegistered(), true},
		{TerminalCredentials(), true},
		{TerminalDeleted(), true},
		{TerminalRestricted(), true},
		{TerminalVerification(), true},
		{TerminalOperator(), true},
		{TerminalRepaired(), true},
		{SoftProviderReported("ERROR"), false},
		{SoftProviderReported("STOPPED"), false},
		{SoftProviderReported("PERMISSIONS"), false},
	}
}

// SoftProviderReported is written when a Unipile account_status webhook
// reports ERROR, STOPPED or PERMISSIONS. Unlike SoftProviderError it makes
// no claim that Keel restarted anything: the webhook path only records what
// Unipile said, and the health checker decides about restarts.
func SoftProviderReported(sourceStatus string) Copy {
	return Copy{Code: "soft_provider_reported", Text: fmt.Sprintf(
		"Unipile reports the account's connection as %s. Sending waits; Keel keeps checking and resumes when Unipile reports it healthy.", sourceStatus)}
}
