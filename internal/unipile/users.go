package unipile

import (
	"context"
	"net/url"
	"strings"
	"unicode/utf8"
)

// MaxInvitationNote is the longest invitation note Unipile accepts, in
// characters.
const MaxInvitationNote = 300

// ProfileOptions tunes GetProfile.
type ProfileOptions struct {
	// LinkedInAPI is "", "recruiter" or "sales_navigator".
	LinkedInAPI string
	// Sections asks for extra sections ("*", "experience", "skills"…).
	Sections []string
	// Notify makes the visit visible to the viewee; off by default.
	Notify bool
}

// ProfileInvitation is a pending or past invitation between the account and
// the profile.
type ProfileInvitation struct {
	Type   string `json:"type"`   // SENT or RECEIVED
	Status string `json:"status"` // PENDING, IGNORED or WITHDRAWN
}

// UserProfile is a LinkedIn profile as seen by one account. ProviderID is
// viewer-scoped: resolve it with the account that will act.
type UserProfile struct {
	Object                 string             `json:"object"`
	Provider               string             `json:"provider"`
	ProviderID             FlexString         `json:"provider_id"`
	PublicIdentifier       string             `json:"public_identifier"`
	MemberURN              FlexString         `json:"member_urn"`
	FirstName              string             `json:"first_name"`
	LastName               string             `json:"last_name"`
	Headline               string             `json:"headline"`
	Location               string             `json:"location"`
	PublicProfileURL       string             `json:"public_profile_url"`
	IsRelationship         FlexBool           `json:"is_relationship"`
	IsSelf                 FlexBool           `json:"is_self"`
	IsPremium              FlexBool           `json:"is_premium"`
	IsOpenProfile          FlexBool           `json:"is_open_profile"`
	CanSendInMail          FlexBool           `json:"can_send_inmail"`
	NetworkDistance        string             `json:"network_distance"`
	Invitation             *ProfileInvitation `json:"invitation"`
	SharedConnectionsCount FlexInt            `json:"shared_connections_count"`
	ConnectionsCount       FlexInt            `json:"connections_count"`
	FollowerCount          FlexInt            `json:"follower_count"`
}

// Degree returns the network distance as 1, 2 or 3, accepting both the
// FIRST_DEGREE and the DISTANCE_1 vocabularies; 0 means out of network or
// unknown.
func (p UserProfile) Degree() int {
	return degreeOf(p.NetworkDistance)
}

// degreeOf maps either network-distance vocabulary to 1..3, else 0.
func degreeOf(s string) int {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "FIRST_DEGREE", "DISTANCE_1", "1":
		return 1
	case "SECOND_DEGREE", "DISTANCE_2", "2":
		return 2
	case "THIRD_DEGREE", "DISTANCE_3", "3":
		return 3
	default:
		return 0
	}
}

// GetProfile fetches a profile by public slug or provider id. Each call is a
// profile visit in LinkedIn's eyes and counts against the account's limits.
func (c *Client) GetProfile(ctx context.Context, accountID, identifier string, opts ProfileOptions) (UserProfile, error) {
	const op = "getting profile"
	var p UserProfile
	if err := requireAccount(op, accountID); err != nil {
		return p, err
	}
	if strings.TrimSpace(identifier) == "" {
		return p, invalidf(op, "identifier is empty")
	}
	q := url.Values{"account_id": {accountID}}
	if opts.LinkedInAPI != "" {
		q.Set("linkedin_api", opts.LinkedInAPI)
	}
	if len(opts.Sections) > 0 {
		q.Set("linkedin_sections", strings.Join(opts.Sections, ","))
	}
	if opts.Notify {
		q.Set("notify", "true")
	}
	err := c.do(ctx, request{op: op, method: "GET", path: "users/" + url.PathEscape(identifier), query: q, idempotent: true}, &p)
	return p, err
}

// InvitationRequest sends a connection invitation.
type InvitationRequest struct {
	AccountID string `json:"account_id"`
	// ProviderID is the invitee's provider id as resolved by this account.
	ProviderID string `json:"provider_id"`
	// Message is the optional note, at most MaxInvitationNote characters.
	Message string `json:"message,omitempty"`
	// UserEmail is needed only when LinkedIn asks for the invitee's email.
	UserEmail string `json:"user_email,omitempty"`
}

// InvitationSent is the answer to a sent invitation.
type InvitationSent struct {
	Object       string     `json:"object"`
	InvitationID FlexString `json:"invitation_id"`
	// Usage, when present, is the percentage of the provider limit used
	// (only reported at 50, 75, 90, 95); slow down from 90.
	Usage *FlexInt `json:"usage"`
}

// SendInvitation invites a person to connect. Not idempotent: a timeout or a
// 5xx after sending is KindUnknownOutcome; reconcile with
// ListSentInvitations before trying again.
func (c *Client) SendInvitation(ctx context.Context, req InvitationRequest) (InvitationSent, error) {
	const op = "sending invitation"
	var out InvitationSent
	if err := requireAccount(op, req.AccountID); err != nil {
		return out, err
	}
	if strings.TrimSpace(req.ProviderID) == "" {
		return out, invalidf(op, "provider id is empty")
	}
	if n := utf8.RuneCountInString(req.Message); n > MaxInvitationNote {
		return out, invalidf(op, "note has %d characters, more than %d", n, MaxInvitationNote)
	}
	b, err := jsonBody(op, req)
	if err != nil {
		return out, err
	}
	err = c.do(ctx, request{op: op, method: "POST", path: "users/invite", body: b, contentType: "application/json"}, &out)
	return out, err
}

// SentInvitation is a pending invitation (only pending ones are listed).
type SentInvitation struct {
	Object string     `json:"object"`
	ID     FlexString `json:"id"`
	// Date is LinkedIn's relative text ("Sent 2 months ago").
	Date                         string     `json:"date"`
	ParsedDatetime               FlexTime   `json:"parsed_datetime"`
	InvitationText               string     `json:"invitation_text"`
	InvitedUser                  string     `json:"invited_user"`
	InvitedUserID                FlexString `json:"invited_user_id"`
	InvitedUserPublicID          string     `json:"invited_user_public_id"`
	InvitedUserDescription       string     `json:"invited_user_description"`
	InvitedUserProfilePictureURL string     `json:"invited_user_profile_picture_url"`
}

// ListSentInvitations returns one page of the account's pending invitations.
func (c *Client) ListSentInvitations(ctx context.Context, accountID string, opts PageOptions) (Page[SentInvitation], error) {
	const op = "listing sent invitations"
	var page Page[SentInvitation]
	if err := requireAccount(op, accountID); err != nil {
		return page, err
	}
	q := opts.values(url.Values{"account_id": {accountID}})
	err := c.do(ctx, request{op: op, method: "GET", path: "users/invite/sent", query: q, idempotent: true}, &page)
	return page, err
}

// AllSentInvitations walks every page of pending invitations. Use it
// sparingly: deep polling looks like automation.
func (c *Client) AllSentInvitations(ctx context.Context, accountID string) ([]SentInvitation, error) {
	return collect(ctx, "listing sent invitations", 100, func(ctx context.Context, o PageOptions) (Page[SentInvitation], error) {
		return c.ListSentInvitations(ctx, accountID, o)
	})
}

// CancelInvitation withdraws a pending invitation. LinkedIn then blocks a new
// invitation to the same person for weeks.
func (c *Client) CancelInvitation(ctx context.Context, accountID, invitationID string) error {
	const op = "canceling invitation"
	if err := requireAccount(op, accountID); err != nil {
		return err
	}
	if strings.TrimSpace(invitationID) == "" {
		return invalidf(op, "invitation id is empty")
	}
	q := url.Values{"account_id": {accountID}}
	return c.do(ctx, request{op: op, method: "DELETE", path: "users/invite/sent/" + url.PathEscape(invitationID), query: q, idempotent: true}, nil)
}

// Relation is a first-degree connection.
type Relation struct {
	Object        string   `json:"object"`
	ConnectionURN string   `json:"connection_urn"`
	CreatedAt     FlexTime `json:"created_at"`
	FirstName     string   `json:"first_name"`
	LastName      string   `json:"last_name"`
	// MemberID matches InvitationSent's invitee and new_relation's
	// user_provider_id.
	MemberID          FlexString `json:"member_id"`
	MemberURN         string     `json:"member_urn"`
	Headline          string     `json:"headline"`
	PublicIdentifier  string     `json:"public_identifier"`
	PublicProfileURL  string     `json:"public_profile_url"`
	ProfilePictureURL string     `json:"profile_picture_url"`
}

// ListRelations returns one page of relations, most recent first. Taking the
// first page routinely is enough to spot new acceptances.
func (c *Client) ListRelations(ctx context.Context, accountID string, opts PageOptions) (Page[Relation], error) {
	const op = "listing relations"
	var page Page[Relation]
	if err := requireAccount(op, accountID); err != nil {
		return page, err
	}
	q := opts.values(url.Values{"account_id": {accountID}})
	err := c.do(ctx, request{op: op, method: "GET", path: "users/relations", query: q, idempotent: true}, &page)
	return page, err
}
