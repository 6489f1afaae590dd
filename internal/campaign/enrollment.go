package campaign

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"time"
)

// EnrollmentState is where a prospect stands in a campaign. The
// database's enrollments_state_chk holds the same list.
type EnrollmentState string

// Enrollment states (docs/campaigns.md#enrollments).
const (
	// EnrollmentPending: imported, the campaign has not started it yet.
	EnrollmentPending EnrollmentState = "pending"
	// EnrollmentActive: at a step, due at next_action_at.
	EnrollmentActive EnrollmentState = "active"
	// EnrollmentSoftPaused: at a step, waiting for its sender account to
	// be connected again.
	EnrollmentSoftPaused EnrollmentState = "soft_paused"
	// EnrollmentCompleted: went through the whole sequence.
	EnrollmentCompleted EnrollmentState = "completed"
	// EnrollmentReplied: replied, and the campaign stops on reply.
	EnrollmentReplied EnrollmentState = "replied"
	// EnrollmentEnded: stopped early, for the visible ended_reason.
	EnrollmentEnded EnrollmentState = "ended"
	// EnrollmentFailed: stopped by provider errors, last_error says which.
	EnrollmentFailed EnrollmentState = "failed"
)

// Live reports whether the state is one of a sequence not over (pending,
// active, soft-paused): a person has at most one such enrollment per
// workspace (docs/contacts.md#one-live-sequence).
func (s EnrollmentState) Live() bool {
	return s == EnrollmentPending || s == EnrollmentActive || s == EnrollmentSoftPaused
}

// Valid reports whether s is a known enrollment state.
func (s EnrollmentState) Valid() bool {
	switch s {
	case EnrollmentPending, EnrollmentActive, EnrollmentSoftPaused, EnrollmentCompleted,
		EnrollmentReplied, EnrollmentEnded, EnrollmentFailed:
		return true
	}
	return false
}

// MaxFailures is how many external failures end a prospect (failures
// never exceeds it: enrollments_failures_chk).
const MaxFailures = 3

// Enrollment is one prospect in one campaign, with the prospect fields
// the API shows beside it.
type Enrollment struct {
	ID           string
	WorkspaceID  string
	CampaignID   string
	ProspectID   string
	AccountID    string
	State        EnrollmentState
	StepID       string
	NextActionAt *time.Time
	EndedReason  string
	LastError    string
	Failures     int
	AcceptedAt   *time.Time
	RepliedAt    *time.Time
	CreatedAt    time.Time
	UpdatedAt    time.Time

	// The prospect's identity, for display: LinkedInURL is the /in/ URL or
	// else the Sales Navigator lead URL.
	LinkedInURL string
	ProviderID  string
	FirstName   string
	// UnknownSendID is the send of the current step whose outcome is
	// unknown, when the prospect waits for a person to settle it
	// (docs/sending.md#settling-by-hand); empty otherwise.
	UnknownSendID string
	// ParkedBy is the gate code that parked the prospect, if any;
	// HoldCode when it is held for an empty template variable.
	ParkedBy string
}

// HeldReason is the sentence saying why the prospect is held
// (docs/campaigns.md#holds), or "" when it is not held.
func (e Enrollment) HeldReason() string {
	if e.ParkedBy != HoldCode {
		return ""
	}
	return e.LastError
}

func nullStr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// MarshalJSON writes the enrollment JSON of docs/surfaces.md#json-shapes, with null for
// absent values.
func (e Enrollment) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		ID           string          `json:"id"`
		CampaignID   string          `json:"campaign_id"`
		ProspectID   string          `json:"prospect_id"`
		AccountID    string          `json:"account_id"`
		State        EnrollmentState `json:"state"`
		StepID       *string         `json:"step_id"`
		NextActionAt *time.Time      `json:"next_action_at"`
		EndedReason  *string         `json:"ended_reason"`
		LastError    *string         `json:"last_error"`
		Failures     int             `json:"failures"`
		AcceptedAt   *time.Time      `json:"accepted_at"`
		RepliedAt    *time.Time      `json:"replied_at"`
		LinkedInURL  *string         `json:"linkedin_url"`
		ProviderID   *string         `json:"provider_id"`
		FirstName    string          `json:"first_name"`
		CreatedAt    time.Time       `json:"created_at"`
		UpdatedAt    time.Time       `json:"updated_at"`
		// UnknownSendID names the send to settle, with the way to do it.
		UnknownSendID *string `json:"unknown_send_id"`
		Action        *string `json:"action,omitempty"`
		// HeldReason says why the prospect is held (docs/campaigns.md#holds).
		HeldReason *string `json:"held_reason"`
	}{e.ID, e.CampaignID, e.ProspectID, e.AccountID, e.State, nullStr(e.StepID), e.NextActionAt,
		nullStr(e.EndedReason), nullStr(e.LastError), e.Failures, e.AcceptedAt, e.RepliedAt,
		nullStr(e.LinkedInURL), nullStr(e.ProviderID), e.FirstName, e.CreatedAt, e.UpdatedAt,
		nullStr(e.UnknownSendID), settleAction(e.UnknownSendID), nullStr(e.HeldReason())})
}

// settleAction is what a person does about a send whose outcome is
// unknown, for the enrollment list.
func settleAction(sendID string) *string {
	if sendID == "" {
		return nil
	}
	a := "check LinkedIn, then settle send " + sendID + ": POST /api/v1/sends/" + sendID + `/settle {"outcome": "sent"|"not_sent"}`
	return &a
}

const enrollmentColumns = `e.id, e.workspace_id, e.campaign_id, e.prospect_id, e.account_id, e.state, e.step_id,
	e.next_action_at, e.ended_reason, e.last_error, e.failures, e.accepted_at, e.replied_at, e.created_at, e.updated_at,
	e.parked_by, p.linkedin_url, p.sales_nav_id, p.provider_id, p.first_name`

func timePtr(t sql.NullTime) *time.Time {
	if !t.Valid {
		return nil
	}
	u := t.Time.UTC()
	return &u
}

func scanEnrollment(row scanner) (Enrollment, error) {
	var (
		e                                    Enrollment
		step, ended, lastErr, link, nav, pid sql.NullString
		unknown, parked                      sql.NullString
		next, accepted, replied              sql.NullTime
	)
	if err := row.Scan(&e.ID, &e.WorkspaceID, &e.CampaignID, &e.ProspectID, &e.AccountID, &e.State, &step,
		&next, &ended, &lastErr, &e.Failures, &accepted, &replied, &e.CreatedAt, &e.UpdatedAt,
		&parked, &link, &nav, &pid, &e.FirstName, &unknown); err != nil {
		return Enrollment{}, err
	}
	e.StepID, e.EndedReason, e.LastError, e.ProviderID = step.String, ended.String, lastErr.String, pid.String
	e.NextActionAt, e.AcceptedAt, e.RepliedAt = timePtr(next), timePtr(accepted), timePtr(replied)
	e.CreatedAt, e.UpdatedAt = e.CreatedAt.UTC(), e.UpdatedAt.UTC()
	e.LinkedInURL, e.UnknownSendID, e.ParkedBy = link.String, unknown.String, parked.String
	if e.LinkedInURL == "" && nav.String != "" {
		e.LinkedInURL = SalesNavURL(nav.String)
	}
	return e, nil
}

// EnrollmentListOptions filters and pages ListEnrollments.
type EnrollmentListOptions struct {
	// State, when set, keeps only enrollments in that state.
	State EnrollmentState
	// After is the last id of the previous page.
	After string
	// Limit caps the page; 0 means no cap.
	Limit int
}

const prospectColumns = `id, workspace_id, linkedin_url, public_slug, sales_nav_id, provider_id, first_name, last_name,
	company, custom_fields, created_at, updated_at, member_id, public_handle`

func scanProspect(row scanner) (Prospect, error) {
	var (
		p                    Prospect
		link, slug, nav, pid sql.NullString
		member, handle       sql.NullString
		custom               string
	)
	if err := row.Scan(&p.ID, &p.WorkspaceID, &link, &slug, &nav, &pid, &p.FirstName, &p.LastName,
		&p.Company, &custom, &p.CreatedAt, &p.UpdatedAt, &member, &handle); err != nil {
		return Prospect{}, err
	}
	p.LinkedInURL, p.PublicSlug, p.SalesNavID, p.ProviderID = link.String, slug.String, nav.String, pid.String
	p.MemberID, p.PublicHandle = member.String, handle.String
	if err := json.Unmarshal([]byte(custom), &p.Custom); err != nil {
		return Prospect{}, fmt.Errorf("decoding custom fields of prospect %s: %w", p.ID, err)
	}
	if p.Custom == nil {
		p.Custom = map[string]string{}
	}
	p.CreatedAt, p.UpdatedAt = p.CreatedAt.UTC(), p.UpdatedAt.UTC()
	return p, nil
}
