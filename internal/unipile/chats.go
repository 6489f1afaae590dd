package unipile

import (
	"bytes"
	"context"
	"fmt"
	"mime/multipart"
	"net/textproto"
	"net/url"
	"strings"
)

// LinkedIn API flavours for linkedin[api].
const (
	// LinkedInClassic is the default LinkedIn API.
	LinkedInClassic = "classic"
	// LinkedInRecruiter uses a Recruiter seat.
	LinkedInRecruiter = "recruiter"
	// LinkedInSalesNavigator uses a Sales Navigator seat.
	LinkedInSalesNavigator = "sales_navigator"
)

// File is an attachment to upload.
type File struct {
	Name        string
	ContentType string
	Data        []byte
}

// LinkedInChatOptions are the linkedin[...] form fields of a new chat.
type LinkedInChatOptions struct {
	// API is linkedin[api]; empty means classic.
	API string
	// InMail is linkedin[inmail]: start the conversation as an InMail,
	// which needs a paid seat and credits (or an open profile).
	InMail bool
	// Signature, HiringProjectID and EmailAddress are Recruiter-only.
	Signature, HiringProjectID, EmailAddress string
}

// StartChatRequest starts a chat (first message or InMail) with attendees.
type StartChatRequest struct {
	AccountID string
	// AttendeeIDs are provider ids (ACo… classic, ACw… Sales Navigator,
	// AE… Recruiter); the field is repeated once per attendee.
	AttendeeIDs []string
	Text        string
	Subject     string
	LinkedIn    LinkedInChatOptions
	Attachments []File
}

// ChatStarted is the answer to StartChat. Either id may be empty: LinkedIn
// sometimes does not return the message id.
type ChatStarted struct {
	Object    string     `json:"object"`
	ChatID    FlexString `json:"chat_id"`
	MessageID FlexString `json:"message_id"`
}

// formWriter builds a multipart body, remembering the first error.
type formWriter struct {
	buf bytes.Buffer
	mw  *multipart.Writer
	err error
}

func newFormWriter() *formWriter {
	f := &formWriter{}
	f.mw = multipart.NewWriter(&f.buf)
	return f
}

func (f *formWriter) field(name, value string) {
	if f.err == nil {
		f.err = f.mw.WriteField(name, value)
	}
}

func (f *formWriter) file(field string, file File) {
	if f.err != nil {
		return
	}
	h := textproto.MIMEHeader{}
	name := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\r", "", "\n", "").Replace(file.Name)
	if name == "" {
		name = "attachment"
	}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q; filename="%s"`, field, name))
	ct := file.ContentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	h.Set("Content-Type", ct)
	w, err := f.mw.CreatePart(h)
	if err != nil {
		f.err = err
		return
	}
	_, f.err = w.Write(file.Data)
}

func (f *formWriter) finish() ([]byte, string, error) {
	if f.err == nil {
		f.err = f.mw.Close()
	}
	if f.err != nil {
		return nil, "", fmt.Errorf("encoding form: %w", f.err)
	}
	return f.buf.Bytes(), f.mw.FormDataContentType(), nil
}

// StartChat sends a first message (or an InMail with LinkedIn.InMail) as
// multipart/form-data. Not idempotent: a timeout or 5xx after sending is
// KindUnknownOutcome. A 422 because the recipient is not a first-degree
// connection is KindPermanentRecipient; no credits is
// KindInsufficientCredits.
func (c *Client) StartChat(ctx context.Context, req StartChatRequest) (ChatStarted, error) {
	const op = "starting chat"
	var out ChatStarted
	if err := requireAccount(op, req.AccountID); err != nil {
		return out, err
	}
	if len(req.AttendeeIDs) == 0 {
		return out, invalidf(op, "no attendees")
	}
	if req.Text == "" && len(req.Attachments) == 0 {
		return out, invalidf(op, "neither text nor attachments")
	}
	f := newFormWriter()
	f.field("account_id", req.AccountID)
	for _, id := range req.AttendeeIDs {
		if strings.TrimSpace(id) == "" {
			return out, invalidf(op, "empty attendee id")
		}
		f.field("attendees_ids", id)
	}
	if req.Text != "" {
		f.field("text", req.Text)
	}
	if req.Subject != "" {
		f.field("subject", req.Subject)
	}
	li := req.LinkedIn
	if li.API != "" {
		f.field("linkedin[api]", li.API)
	}
	if li.InMail {
		f.field("linkedin[inmail]", "true")
	}
	if li.Signature != "" {
		f.field("linkedin[signature]", li.Signature)
	}
	if li.HiringProjectID != "" {
		f.field("linkedin[hiring_project_id]", li.HiringProjectID)
	}
	if li.EmailAddress != "" {
		f.field("linkedin[email_address]", li.EmailAddress)
	}
	for _, a := range req.Attachments {
		f.file("attachments", a)
	}
	body, ct, err := f.finish()
	if err != nil {
		return out, &Error{Kind: KindInvalid, Op: op, Err: err}
	}
	err = c.do(ctx, request{op: op, method: "POST", path: "chats", body: body, contentType: ct}, &out)
	return out, err
}

// SendMessageRequest is a message into an existing chat.
type SendMessageRequest struct {
	Text        string
	Attachments []File
}

// MessageSent is the answer to SendMessage; MessageID may be empty.
type MessageSent struct {
	Object    string     `json:"object"`
	MessageID FlexString `json:"message_id"`
}

// SendMessage posts a message into an existing chat (multipart/form-data).
// Not idempotent, like StartChat.
func (c *Client) SendMessage(ctx context.Context, chatID string, req SendMessageRequest) (MessageSent, error) {
	const op = "sending message"
	var out MessageSent
	if strings.TrimSpace(chatID) == "" {
		return out, invalidf(op, "chat id is empty")
	}
	if req.Text == "" && len(req.Attachments) == 0 {
		return out, invalidf(op, "neither text nor attachments")
	}
	f := newFormWriter()
	if req.Text != "" {
		f.field("text", req.Text)
	}
	for _, a := range req.Attachments {
		f.file("attachments", a)
	}
	body, ct, err := f.finish()
	if err != nil {
		return out, &Error{Kind: KindInvalid, Op: op, Err: err}
	}
	err = c.do(ctx, request{op: op, method: "POST", path: "chats/" + url.PathEscape(chatID) + "/messages", body: body, contentType: ct}, &out)
	return out, err
}

// Chat is a conversation as listed over REST.
type Chat struct {
	Object             string     `json:"object"`
	ID                 FlexString `json:"id"`
	AccountID          FlexString `json:"account_id"`
	AccountType        string     `json:"account_type"`
	ProviderID         FlexString `json:"provider_id"`
	AttendeeProviderID FlexString `json:"attendee_provider_id"`
	Name               string     `json:"name"`
	Timestamp          FlexTime   `json:"timestamp"`
	UnreadCount        FlexInt    `json:"unread_count"`
	ContentType        string     `json:"content_type"`
}

// ListChats returns one page of the account's chats, most recent first.
func (c *Client) ListChats(ctx context.Context, accountID string, opts PageOptions) (Page[Chat], error) {
	const op = "listing chats"
	var page Page[Chat]
	if err := requireAccount(op, accountID); err != nil {
		return page, err
	}
	q := opts.values(url.Values{"account_id": {accountID}, "account_type": {"LINKEDIN"}})
	err := c.do(ctx, request{op: op, method: "GET", path: "chats", query: q, idempotent: true}, &page)
	return page, err
}

// Message is a chat message as listed over REST (is_sender is 0/1 here).
type Message struct {
	Object      string     `json:"object"`
	ID          FlexString `json:"id"`
	ChatID      FlexString `json:"chat_id"`
	ProviderID  FlexString `json:"provider_id"`
	SenderID    FlexString `json:"sender_id"`
	Text        string     `json:"text"`
	Subject     string     `json:"subject"`
	Timestamp   FlexTime   `json:"timestamp"`
	IsSender    FlexBool   `json:"is_sender"`
	MessageType string     `json:"message_type"`
}

// ListChatMessages returns one page of a chat's messages, most recent first.
// It is the way to reconcile a message send whose outcome is unknown.
func (c *Client) ListChatMessages(ctx context.Context, chatID string, opts PageOptions) (Page[Message], error) {
	const op = "listing chat messages"
	var page Page[Message]
	if strings.TrimSpace(chatID) == "" {
		return page, invalidf(op, "chat id is empty")
	}
	err := c.do(ctx, request{op: op, method: "GET", path: "chats/" + url.PathEscape(chatID) + "/messages", query: opts.values(nil), idempotent: true}, &page)
	return page, err
}

// InMailBalance is the account's InMail credits per seat; a nil field means
// the account has no such seat.
type InMailBalance struct {
	Premium        *FlexInt `json:"premium"`
	Recruiter      *FlexInt `json:"recruiter"`
	SalesNavigator *FlexInt `json:"sales_navigator"`
}

// Total returns the sum of all credits the account has.
func (b InMailBalance) Total() int64 {
	var n int64
	for _, p := range []*FlexInt{b.Premium, b.Recruiter, b.SalesNavigator} {
		if p != nil && *p > 0 {
			n += int64(*p)
		}
	}
	return n
}

// GetInMailBalance returns the account's InMail credits
// (GET /linkedin/inmail_balance; the response shape is third-party knowledge).
func (c *Client) GetInMailBalance(ctx context.Context, accountID string) (InMailBalance, error) {
	const op = "getting InMail balance"
	var out InMailBalance
	if err := requireAccount(op, accountID); err != nil {
		return out, err
	}
	q := url.Values{"account_id": {accountID}}
	err := c.do(ctx, request{op: op, method: "GET", path: "linkedin/inmail_balance", query: q, idempotent: true}, &out)
	return out, err
}
