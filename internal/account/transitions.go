package account

import (
	"errors"
	"fmt"
)

// Sentinel errors a refused flip wraps; callers branch with errors.Is.
var (
	// ErrNotFound: no account with that id (in that workspace).
	ErrNotFound = errors.New("account not found")
	// ErrAlreadyInStatus: the account already has the target status.
	ErrAlreadyInStatus = errors.New("account already has that status")
	// ErrTransitionNotAllowed: the table below has no such edge.
	ErrTransitionNotAllowed = errors.New("status transition not allowed")
	// ErrSourceNotAllowed: that source may not cause that status.
	ErrSourceNotAllowed = errors.New("source may not cause that status")
	// ErrStale: the caller expected a different current status.
	ErrStale = errors.New("account status changed since it was read")
	// ErrCopyNotAllowed: terminal copy on a connected account, or a flip
	// away from connected without copy saying why.
	ErrCopyNotAllowed = errors.New("copy does not fit the status")
	// ErrInvalidRequest: the flip request itself is malformed.
	ErrInvalidRequest = errors.New("invalid flip request")
)

// TransitionError is a refused flip. Its Unwrap gives one of the sentinels.
type TransitionError struct {
	AccountID string
	From, To  Status
	Source    Source
	Err       error
	Detail    string
}

// Error describes the refusal.
func (e *TransitionError) Error() string {
	msg := fmt.Sprintf("account %s: flip %s -> %s by %s refused: %v", e.AccountID, e.From, e.To, e.Source, e.Err)
	if e.Detail != "" {
		msg += " (" + e.Detail + ")"
	}
	return msg
}

// Unwrap returns the sentinel.
func (e *TransitionError) Unwrap() error { return e.Err }

// transitions is the allowed-transition table. Every status may fall to
// error, disconnected, restricted or needs_verification when the provider
// says so; connected is reached only from states the provider can resolve;
// a restricted account goes through disconnected or connected, never back
// to connecting, because a restriction is lifted on LinkedIn, not by
// retrying a login.
var transitions = map[Status][]Status{
	StatusConnecting:        {StatusConnected, StatusNeedsVerification, StatusDisconnected, StatusRestricted, StatusError},
	StatusConnected:         {StatusConnecting, StatusNeedsVerification, StatusDisconnected, StatusRestricted, StatusError},
	StatusNeedsVerification: {StatusConnecting, StatusConnected, StatusDisconnected, StatusRestricted, StatusError},
	StatusDisconnected:      {StatusConnecting, StatusConnected, StatusNeedsVerification, StatusRestricted, StatusError},
	StatusRestricted:        {StatusConnected, StatusDisconnected, StatusNeedsVerification, StatusError},
	StatusError:             {StatusConnecting, StatusConnected, StatusNeedsVerification, StatusDisconnected, StatusRestricted},
}

// sourceTargets says which statuses each source may cause. Only provider
// evidence (a check, a webhook, a hosted-auth callback, a sync) can make an
// account connected: the state Keel shows must be the state Unipile has.
// An operator or the repair can only take an account out of service.
var sourceTargets = map[Source][]Status{
	SourceHealthCheck: Statuses,
	SourceWebhook:     Statuses,
	SourceHostedAuth:  Statuses,
	SourceSync:        Statuses,
	SourceSendError:   {StatusDisconnected, StatusRestricted, StatusNeedsVerification, StatusError},
	SourceOperator:    {StatusDisconnected},
	SourceRepair:      {StatusDisconnected},
}

func contains(list []Status, s Status) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// CanTransition reports whether from -> to is an edge of the table.
func CanTransition(from, to Status) bool { return contains(transitions[from], to) }

// CheckTransition returns nil if source may flip an account from -> to
// with copy c, and the refusal otherwise.
func CheckTransition(accountID string, from, to Status, source Source, c *Copy) error {
	refuse := func(err error, detail string) error {
		return &TransitionError{AccountID: accountID, From: from, To: to, Source: source, Err: err, Detail: detail}
	}
	switch {
	case !to.Valid():
		return refuse(ErrInvalidRequest, fmt.Sprintf("unknown status %q", to))
	case sourceTargets[source] == nil:
		return refuse(ErrInvalidRequest, fmt.Sprintf("unknown source %q", source))
	case from == to:
		return refuse(ErrAlreadyInStatus, "")
	case !CanTransition(from, to):
		return refuse(ErrTransitionNotAllowed, "")
	case !contains(sourceTargets[source], to):
		return refuse(ErrSourceNotAllowed, "")
	case to == StatusConnected && c != nil && c.Terminal():
		return refuse(ErrCopyNotAllowed, "terminal copy cannot stand beside status connected")
	case to != StatusConnected && from == StatusConnected && (c == nil || c.Text == ""):
		return refuse(ErrCopyNotAllowed, "a flip away from connected must say why")
	}
	return nil
}
