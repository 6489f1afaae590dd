// Package campaign owns campaigns (their sender accounts and step graph),
// prospects, and enrollments — one prospect's progress through one
// campaign. It validates what users author before it is stored, moves
// campaigns between draft, running, paused, completed and archived, and
// carries out the campaign side of an account status flip (PauseForAccount,
// ResumeAccountCaused) inside the flip's own transaction.
//
// The database holds every rule it can (migrations 00006_campaigns.sql):
// a paused campaign always has a reason, an active enrollment always has a
// due time, an ended one a reason, a failed one an error, a prospect is
// enrolled once per campaign, and nothing links objects of two workspaces.
package campaign

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/clock"
	"github.com/keel-outreach/keel/internal/db"
)

// Status is a campaign's state. The database's campaigns_status_chk holds
// the same list.
type Status string

// Campaign statuses (docs/campaigns.md#campaign-states-and-pause-reasons).
const (
	StatusDraft     Status = "draft"
	StatusRunning   Status = "running"
	StatusPaused    Status = "paused"
	StatusCompleted Status = "completed"
	StatusArchived  Status = "archived"
)

// Valid reports whether s is a known status.
func (s Status) Valid() bool {
	switch s {
	case StatusDraft, StatusRunning, StatusPaused, StatusCompleted, StatusArchived:
		return true
	}
	return false
}

// PausedReason says why a paused campaign is paused. Every paused campaign
// has one (database CHECK campaigns_paused_iff_reason_chk).
type PausedReason string

// Pause reasons.
const (
	// ReasonManual: a person paused it.
	ReasonManual PausedReason = "manual"
	// ReasonAccountDisconnected and the three after it: none of the
	// campaign's senders is connected. They clear by themselves when a
	// sender is connected again (ResumeAccountCaused).
	ReasonAccountDisconnected PausedReason = "account_disconnected"
	ReasonAccountRestricted   PausedReason = "account_restricted"
	ReasonAccountError        PausedReason = "account_error"
	ReasonNeedsVerification   PausedReason = "needs_verification"
	// ReasonHighFailureRate: too many sends failed; a person must look.
	ReasonHighFailureRate PausedReason = "high_failure_rate"
	// ReasonTemplateError: a template could not be rendered for a
	// prospect; a person must fix the template or the data.
	ReasonTemplateError PausedReason = "template_error"
)

// PausedReasons lists every pause reason.
var PausedReasons = []PausedReason{
	ReasonManual, ReasonAccountDisconnected, ReasonAccountRestricted, ReasonAccountError,
	ReasonNeedsVerification, ReasonHighFailureRate, ReasonTemplateError,
}

// Valid reports whether r is a known reason.
func (r PausedReason) Valid() bool {
	for _, v := range PausedReasons {
		if r == v {
			return true
		}
	}
	return false
}

// AccountCaused reports whether the pause comes from the state of the
// sender accounts, and so clears when a sender is connected again.
func (r PausedReason) AccountCaused() bool {
	switch r {
	case ReasonAccountDisconnected, ReasonAccountRestricted, ReasonAccountError, ReasonNeedsVerification:
		return true
	}
	return false
}

// ReasonForAccountStatus maps a sender's non-connected status to the reason
// a campaign pauses with when none of its senders is connected. connecting
// counts as disconnected: nothing can be sent through it yet.
func ReasonForAccountStatus(s account.Status) PausedReason {
	switch s {
	case account.StatusRestricted:
		return ReasonAccountRestricted
	case account.StatusError:
		return ReasonAccountError
	case account.StatusNeedsVerification:
		return ReasonNeedsVerification
	default:
		return ReasonAccountDisconnected
	}
}

// LateAcceptPolicy says what happens when an invitation is accepted after
// its if_accepted step already timed out.
type LateAcceptPolicy string

// Late-accept policies.
const (
	// LateAcceptFollowUp resumes the prospect on the condition's then-branch.
	LateAcceptFollowUp LateAcceptPolicy = "follow_up"
	// LateAcceptRecordOnly records the accept and sends nothing more.
	LateAcceptRecordOnly LateAcceptPolicy = "record_only"
)

// Valid reports whether p is a known policy.
func (p LateAcceptPolicy) Valid() bool {
	return p == LateAcceptFollowUp || p == LateAcceptRecordOnly
}

// DailyCaps is the campaign's share of each sender's daily capacity per
// action type: at most this many actions of the type per sender account
// per UTC day for this campaign. The account's own caps, ramp and hard
// ceilings still apply; the lowest binds.
type DailyCaps struct {
	Invite      int `json:"invite"`
	Message     int `json:"message"`
	InMail      int `json:"inmail"`
	ViewProfile int `json:"view_profile"`
}

// DefaultDailyCaps are used for the types a new campaign leaves out. They
// equal a new account's default caps, so by default the campaign share is
// never the tighter limit.
var DefaultDailyCaps = DailyCaps{Invite: 20, Message: 50, InMail: 10, ViewProfile: 40}

// CapCeilings are the highest hard ceilings of any tier per type. A
// campaign cap above them could never bind and would suggest sending more
// than LinkedIn tolerates, so it is refused.
var CapCeilings = DailyCaps{Invite: 100, Message: 150, InMail: 50, ViewProfile: 100}

// Campaign is one campaign as stored.
type Campaign struct {
	ID          string `json:"id"`
	WorkspaceID string `json:"workspace_id"`
	Name        string `json:"name"`
	Status      Status `json:"status"`
	// PausedReason is empty unless Status is paused (JSON null then).
	PausedReason PausedReason `json:"paused_reason"`
	// AccountIDs are the current senders, in the order they were listed.
	AccountIDs       []string         `json:"account_ids"`
	Steps            []Step           `json:"steps"`
	DailyCaps        DailyCaps        `json:"daily_caps"`
	StopOnReply      bool             `json:"stop_on_reply"`
	LateAcceptPolicy LateAcceptPolicy `json:"late_accept_policy"`
	CreatedAt        time.Time        `json:"created_at"`
	UpdatedAt        time.Time        `json:"updated_at"`
	// UpdatedBy is who made the last create, edit, start, pause, resume
	// or archive: "user:<email>", "token:<id>", or "keel" for Keel itself
	// (docs/teams.md#who-changed-what).
	UpdatedBy string `json:"updated_by"`
}

// MarshalJSON writes paused_reason as null when the campaign is not paused,
// so clients never mistake "" for a reason.
func (c Campaign) MarshalJSON() ([]byte, error) {
	type plain Campaign
	out := struct {
		plain
		PausedReason *PausedReason `json:"paused_reason"`
	}{plain: plain(c)}
	if c.PausedReason != "" {
		r := c.PausedReason
		out.PausedReason = &r
	}
	if out.AccountIDs == nil {
		out.AccountIDs = []string{}
	}
	return json.Marshal(out)
}

// CapsInput sets some or all daily caps; a nil field keeps the current (or
// default) value.
type CapsInput struct {
	Invite      *int `json:"invite,omitempty"`
	Message     *int `json:"message,omitempty"`
	InMail      *int `json:"inmail,omitempty"`
	ViewProfile *int `json:"view_profile,omitempty"`
}

// Input is the campaign body of docs/surfaces.md#json-shapes. On
// Update a nil field keeps the stored value; on Create name, account_ids
// and steps are required and the rest default.
type Input struct {
	Name             *string           `json:"name,omitempty"`
	AccountIDs       []string          `json:"account_ids,omitempty"`
	Steps            []Step            `json:"steps,omitempty"`
	DailyCaps        *CapsInput        `json:"daily_caps,omitempty"`
	StopOnReply      *bool             `json:"stop_on_reply,omitempty"`
	LateAcceptPolicy *LateAcceptPolicy `json:"late_accept_policy,omitempty"`
}

// Service stores campaigns, prospects and enrollments.
type Service struct {
	db    *db.DB
	clock clock.Clock
}

// NewService returns a Service on database d; times come from c.
func NewService(d *db.DB, c clock.Clock) *Service {
	if c == nil {
		c = clock.Real{}
	}
	return &Service{db: d, clock: c}
}

// ErrNotFound: no such campaign in that workspace. Another workspace's
// campaign is not found either, so its existence is never revealed.
var ErrNotFound = errors.New("campaign not found")

// ErrConflict is what every StateError wraps: the campaign's status does
// not allow the operation (the API answers 409).
var ErrConflict = errors.New("campaign state does not allow this")

// StateError is an operation refused because of where the campaign (or its
// senders) stand. Message is the sentence shown to the user.
type StateError struct {
	CampaignID string
	Op         string
	Status     Status
	Message    string
}

// Error describes the refusal.
func (e *StateError) Error() string {
	return fmt.Sprintf("campaign %s: cannot %s: %s", e.CampaignID, e.Op, e.Message)
}

// Unwrap returns ErrConflict.
func (e *StateError) Unwrap() error { return ErrConflict }

// FieldError is one problem with one field of what the user sent, with a
// path such as "steps[1].note" so a form can show it inline.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// ValidationError lists everything wrong with a campaign body, an import or
// a start request (the API answers 422 with the list).
type ValidationError struct {
	Errors []FieldError
}

// Error joins the field errors into one line.
func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Errors))
	for i, fe := range e.Errors {
		parts[i] = fe.Field + ": " + fe.Message
	}
	return "invalid campaign: " + strings.Join(parts, "; ")
}
