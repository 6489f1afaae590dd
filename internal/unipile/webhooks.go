package unipile

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// Webhook sources.
const (
	// SourceMessaging delivers message events (received, and own sends).
	SourceMessaging = "messaging"
	// SourceAccountStatus delivers account status changes.
	SourceAccountStatus = "account_status"
	// SourceUsers delivers new_relation (accepted invitations).
	SourceUsers = "users"
)

// Webhook event names.
const (
	// EventAccountStatus is the name ParseWebhook gives account_status
	// payloads, which have no event field of their own.
	EventAccountStatus = "account_status"
	// EventNewRelation is an accepted invitation.
	EventNewRelation = "new_relation"
	// EventMessageReceived is a new message, received or sent.
	EventMessageReceived = "message_received"
	// EventMessageRead is a read receipt.
	EventMessageRead = "message_read"
	// EventMessageReaction is a reaction.
	EventMessageReaction = "message_reaction"
)

// WebhookHeader is a custom header Unipile adds to every delivery. It is the
// only way to authenticate deliveries (no signature exists).
type WebhookHeader struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// CreateWebhookRequest registers a webhook. Webhooks created by API get no
// Content-Type header unless one is listed in Headers.
type CreateWebhookRequest struct {
	RequestURL string          `json:"request_url"`
	Source     string          `json:"source"`
	Name       string          `json:"name,omitempty"`
	Format     string          `json:"format,omitempty"`
	AccountIDs []string        `json:"account_ids,omitempty"`
	Enabled    *bool           `json:"enabled,omitempty"`
	Headers    []WebhookHeader `json:"headers,omitempty"`
	// Events applies to SourceMessaging only.
	Events []string `json:"events,omitempty"`
}

// Webhook is a registered webhook as listed by Unipile.
type Webhook struct {
	Object     string          `json:"object"`
	ID         FlexString      `json:"id"`
	Name       string          `json:"name"`
	Source     string          `json:"source"`
	RequestURL string          `json:"request_url"`
	Format     string          `json:"format"`
	Enabled    FlexBool        `json:"enabled"`
	AccountIDs []FlexString    `json:"account_ids"`
	Headers    []WebhookHeader `json:"headers"`
	Events     []string        `json:"events"`
}

// CreateWebhook registers a webhook and returns its id. Creating twice makes
// two webhooks, so it is not idempotent: list before creating.
func (c *Client) CreateWebhook(ctx context.Context, req CreateWebhookRequest) (string, error) {
	const op = "creating webhook"
	if strings.TrimSpace(req.RequestURL) == "" {
		return "", invalidf(op, "request_url is empty")
	}
	if strings.TrimSpace(req.Source) == "" {
		return "", invalidf(op, "source is empty")
	}
	b, err := jsonBody(op, req)
	if err != nil {
		return "", err
	}
	var out struct {
		WebhookID FlexString `json:"webhook_id"`
	}
	if err := c.do(ctx, request{op: op, method: "POST", path: "webhooks", body: b, contentType: "application/json"}, &out); err != nil {
		return "", err
	}
	return string(out.WebhookID), nil
}

// ListWebhooks returns one page of registered webhooks.
func (c *Client) ListWebhooks(ctx context.Context, opts PageOptions) (Page[Webhook], error) {
	var page Page[Webhook]
	err := c.do(ctx, request{op: "listing webhooks", method: "GET", path: "webhooks", query: opts.values(nil), idempotent: true}, &page)
	return page, err
}

// AllWebhooks walks every page of registered webhooks.
func (c *Client) AllWebhooks(ctx context.Context) ([]Webhook, error) {
	return collect(ctx, "listing webhooks", 250, c.ListWebhooks)
}

// DeleteWebhook removes a webhook.
func (c *Client) DeleteWebhook(ctx context.Context, webhookID string) error {
	const op = "deleting webhook"
	if strings.TrimSpace(webhookID) == "" {
		return invalidf(op, "webhook id is empty")
	}
	return c.do(ctx, request{op: op, method: "DELETE", path: "webhooks/" + url.PathEscape(webhookID), idempotent: true}, nil)
}

// AccountStatusEvent is the account_status webhook:
// {"AccountStatus":{"account_id","account_type","message"}}.
type AccountStatusEvent struct {
	AccountID   FlexString `json:"account_id"`
	AccountType string     `json:"account_type"`
	// Message is a webhook status: a source status (StatusOK,
	// StatusCredentials…) or a webhook-only one (StatusDeleted,
	// StatusCreationSuccess, StatusReconnected, StatusSyncSuccess).
	Message string `json:"message"`
}

// NewRelationEvent is the users webhook for an accepted invitation. It can
// arrive hours after the acceptance.
type NewRelationEvent struct {
	Event                string     `json:"event"`
	AccountID            FlexString `json:"account_id"`
	AccountType          string     `json:"account_type"`
	WebhookName          string     `json:"webhook_name"`
	UserFullName         string     `json:"user_full_name"`
	UserProviderID       FlexString `json:"user_provider_id"`
	UserPublicIdentifier string     `json:"user_public_identifier"`
	UserProfileURL       string     `json:"user_profile_url"`
	UserPictureURL       string     `json:"user_picture_url"`
}

// AttendeeSpecifics holds LinkedIn details of a chat attendee.
type AttendeeSpecifics struct {
	Provider        string   `json:"provider"`
	MemberURN       string   `json:"member_urn"`
	Occupation      string   `json:"occupation"`
	IsCompany       FlexBool `json:"is_company"`
	NetworkDistance string   `json:"network_distance"`
}

// Attendee is a chat participant as the message webhook describes it.
type Attendee struct {
	AttendeeID               FlexString         `json:"attendee_id"`
	AttendeeName             string             `json:"attendee_name"`
	AttendeeProviderID       FlexString         `json:"attendee_provider_id"`
	AttendeeProfileURL       string             `json:"attendee_profile_url"`
	AttendeePublicIdentifier string             `json:"attendee_public_identifier"`
	AttendeeSpecifics        *AttendeeSpecifics `json:"attendee_specifics"`
}

// Attachment is a message attachment. Sizes arrive as strings in webhooks.
type Attachment struct {
	ID          FlexString `json:"id"`
	Type        string     `json:"type"`
	MimeType    string     `json:"mimetype"`
	URL         string     `json:"url"`
	Sticker     FlexBool   `json:"sticker"`
	Unavailable FlexBool   `json:"unavailable"`
	Size        *struct {
		Height FlexInt `json:"height"`
		Width  FlexInt `json:"width"`
	} `json:"size"`
}

// AccountInfo is the message webhook's description of the receiving account.
type AccountInfo struct {
	Type    string `json:"type"`
	Feature string `json:"feature"`
	// UserID is the account's own member id (equal to Account.MemberID).
	UserID FlexString `json:"user_id"`
}

// MessageEvent is the messaging webhook. Own sends echo back with IsSender
// set; IsSender and IsGroup are booleans here but 0/1 over REST, which
// FlexBool absorbs.
type MessageEvent struct {
	Event             string                `json:"event"`
	AccountID         FlexString            `json:"account_id"`
	AccountType       string                `json:"account_type"`
	AccountInfo       *AccountInfo          `json:"account_info"`
	WebhookName       string                `json:"webhook_name"`
	ChatID            FlexString            `json:"chat_id"`
	MessageID         FlexString            `json:"message_id"`
	Message           string                `json:"message"`
	Subject           string                `json:"subject"`
	Timestamp         FlexTime              `json:"timestamp"`
	Sender            *Attendee             `json:"sender"`
	Attendees         []Attendee            `json:"attendees"`
	Attachments       OneOrMany[Attachment] `json:"attachments"`
	IsSender          FlexBool              `json:"is_sender"`
	IsGroup           FlexBool              `json:"is_group"`
	MessageType       string                `json:"message_type"`
	ProviderChatID    FlexString            `json:"provider_chat_id"`
	ProviderMessageID FlexString            `json:"provider_message_id"`
	Reaction          string                `json:"reaction"`
	ReactionSender    *Attendee             `json:"reaction_sender"`
	Folder            OneOrMany[string]     `json:"folder"`
}

// FromSelf reports whether the account itself sent the message: is_sender,
// or, when that is absent, the sender's member id equals the account's.
func (m MessageEvent) FromSelf() bool {
	if m.IsSender {
		return true
	}
	if m.AccountInfo != nil && m.Sender != nil && m.AccountInfo.UserID != "" {
		return m.Sender.AttendeeProviderID == m.AccountInfo.UserID
	}
	return false
}

// WebhookEvent is a parsed webhook delivery. Exactly one of the pointers is
// set for a recognised event; for anything else all are nil and Name holds
// the event field (possibly empty) so the receiver can count and ignore it.
type WebhookEvent struct {
	// Name is EventAccountStatus, EventNewRelation, a messaging event name,
	// or whatever unknown event the body named.
	Name          string
	AccountStatus *AccountStatusEvent
	NewRelation   *NewRelationEvent
	Message       *MessageEvent
	// Raw is the body as received, for durable storage and dedupe.
	Raw json.RawMessage
}

// ParseWebhook decodes a webhook body whatever its Content-Type header said
// (Unipile may label JSON as form-encoded). It fails only for bodies that are
// not a JSON object or whose known event does not decode; an unknown event is
// returned without error.
func ParseWebhook(body []byte) (WebhookEvent, error) {
	ev := WebhookEvent{Raw: json.RawMessage(bytes.Clone(body))}
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(body, &probe); err != nil {
		return ev, fmt.Errorf("parsing webhook: %w", err)
	}
	if probe == nil {
		return ev, errors.New("parsing webhook: body is not a JSON object")
	}
	if raw, ok := probe["AccountStatus"]; ok {
		var st AccountStatusEvent
		if err := json.Unmarshal(raw, &st); err != nil {
			return ev, fmt.Errorf("parsing account_status webhook: %w", err)
		}
		if st.AccountID == "" || st.Message == "" {
			return ev, errors.New("parsing account_status webhook: account_id or message missing")
		}
		ev.Name = EventAccountStatus
		ev.AccountStatus = &st
		return ev, nil
	}
	var name FlexString
	if raw, ok := probe["event"]; ok {
		if err := json.Unmarshal(raw, &name); err != nil {
			return ev, fmt.Errorf("parsing webhook event name: %w", err)
		}
	}
	ev.Name = string(name)
	switch ev.Name {
	case EventNewRelation:
		var nr NewRelationEvent
		if err := json.Unmarshal(body, &nr); err != nil {
			return ev, fmt.Errorf("parsing new_relation webhook: %w", err)
		}
		if nr.AccountID == "" || nr.UserProviderID == "" {
			return ev, errors.New("parsing new_relation webhook: account_id or user_provider_id missing")
		}
		ev.NewRelation = &nr
	case EventMessageReceived, EventMessageRead, EventMessageReaction:
		var m MessageEvent
		if err := json.Unmarshal(body, &m); err != nil {
			return ev, fmt.Errorf("parsing %s webhook: %w", ev.Name, err)
		}
		if m.AccountID == "" || m.ChatID == "" {
			return ev, fmt.Errorf("parsing %s webhook: account_id or chat_id missing", ev.Name)
		}
		ev.Message = &m
	}
	return ev, nil
}

// ParseHostedAuthNotification decodes a notify_url callback body.
func ParseHostedAuthNotification(body []byte) (HostedAuthNotification, error) {
	var n HostedAuthNotification
	if err := json.Unmarshal(body, &n); err != nil {
		return n, fmt.Errorf("parsing hosted-auth notification: %w", err)
	}
	if n.AccountID == "" || n.Status == "" {
		return n, errors.New("parsing hosted-auth notification: status or account_id missing")
	}
	return n, nil
}
