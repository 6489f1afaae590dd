// Package inbox keeps every sender's conversations and their messages, so an
// operator reads and answers them in one place (docs/inbox.md). Messages
// arrive through the messaging webhooks (Record, inside the durable
// webhook inbox's transaction) and through a backfill of each account's
// chat and message lists (Backfill), which is resumable and gentle: at most
// one provider request per account per run. A message is stored once per
// conversation, whichever way it came.
package inbox

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/clock"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/unipile"
)

// ErrNotFound: no such conversation in the workspace.
var ErrNotFound = errors.New("conversation not found")

// Conversation is one chat of one sender account with one person.
type Conversation struct {
	ID          string `json:"id"`
	WorkspaceID string `json:"-"`
	AccountID   string `json:"account_id"`
	// ProviderChatID is the provider's chat id.
	ProviderChatID string `json:"provider_chat_id"`
	// AttendeeProviderID and AttendeeName are the other person.
	AttendeeProviderID string `json:"attendee_provider_id"`
	AttendeeName       string `json:"attendee_name"`
	// ProspectID and CampaignID link the person when they are a prospect
	// of the workspace (the campaign of their latest sequence).
	ProspectID      string     `json:"prospect_id,omitempty"`
	CampaignID      string     `json:"campaign_id,omitempty"`
	LastMessageAt   *time.Time `json:"last_message_at"`
	LastMessageText string     `json:"last_message_text"`
	// Unread counts the person's messages since the conversation was last
	// marked read in Keel.
	Unread    int       `json:"unread"`
	CreatedAt time.Time `json:"created_at"`
}

// Message is one message of a conversation.
type Message struct {
	ID                string    `json:"id"`
	ConversationID    string    `json:"conversation_id"`
	ProviderMessageID string    `json:"provider_message_id"`
	FromSelf          bool      `json:"from_self"`
	SenderProviderID  string    `json:"sender_provider_id,omitempty"`
	Text              string    `json:"text"`
	SentAt            time.Time `json:"sent_at"`
}

// Options configures the Service.
type Options struct {
	DB        *db.DB
	Campaigns *campaign.Service
	// Client reads chat and message lists for the backfill; nil disables
	// it (the installation runs without a provider).
	Client *unipile.Client
	Clock  clock.Clock
	Logger *slog.Logger
	// BackfillPerRun bounds the accounts one backfill run advances
	// (DefaultBackfillPerRun).
	BackfillPerRun int
	// BackfillPageSize is the page size of chat and message lists
	// (DefaultBackfillPageSize).
	BackfillPageSize int
}

// Defaults of the backfill.
const (
	DefaultBackfillPerRun   = 50
	DefaultBackfillPageSize = 50
	// BackfillSpacing is the least time between two backfill requests of
	// one account: a backfill never bursts at the provider.
	BackfillSpacing = 20 * time.Second
	// backfillRetry is the wait after a failed backfill request.
	backfillRetry = 10 * time.Minute
)

// Service reads and writes conversations.
type Service struct {
	opts Options
}

// New builds a Service.
func New(opts Options) (*Service, error) {
	if opts.DB == nil || opts.Campaigns == nil {
		return nil, errors.New("inbox: DB and Campaigns are required")
	}
	if opts.Clock == nil {
		opts.Clock = clock.Real{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.BackfillPerRun <= 0 {
		opts.BackfillPerRun = DefaultBackfillPerRun
	}
	if opts.BackfillPageSize <= 0 {
		opts.BackfillPageSize = DefaultBackfillPageSize
	}
	return &Service{opts: opts}, nil
}

// incoming is one message to store, from a webhook or the backfill.
type incoming struct {
	chatID, messageID  string
	fromSelf           bool
	sender             string
	attendee, name     string
	text               string
	sentAt             time.Time
	countUnreadIfFresh bool
}

// Record stores the message of a messaging webhook in tx (the webhook
// inbox's transaction) and returns its conversation's id; "" when the event
// names no chat or message (a reaction, a read receipt). Delivering the
// same message again changes nothing.
func (s *Service) Record(ctx context.Context, tx *sql.Tx, acc account.Account, ev unipile.MessageEvent) (string, error) {
	in := incoming{chatID: ev.ChatID.String(), messageID: ev.MessageID.String(), fromSelf: ev.FromSelf(), text: ev.Message,
		sentAt: ev.Timestamp.Time, countUnreadIfFresh: true}
	if in.chatID == "" || in.messageID == "" || ev.Event != "" && ev.Event != "message_received" {
		return "", nil
	}
	if ev.Sender != nil {
		in.sender = ev.Sender.AttendeeProviderID.String()
	}
	if !in.fromSelf && ev.Sender != nil {
		in.attendee, in.name = in.sender, ev.Sender.AttendeeName
	} else {
		for _, at := range ev.Attendees {
			if id := at.AttendeeProviderID.String(); id != "" && id != in.sender {
				in.attendee, in.name = id, at.AttendeeName
				break
			}
		}
	}
	return s.store(ctx, tx, acc, in)
}

// store writes one message and its conversation.
func (s *Service) store(ctx context.Context, tx *sql.Tx, acc account.Account, in incoming) (string, error) {
	now := s.opts.Clock.Now()
	if in.sentAt.IsZero() {
		in.sentAt = now
	}
	conv, err := upsertConversation(ctx, tx, acc, in.chatID, in.attendee, truncate(in.name, 300), now)
	if err != nil {
		return "", err
	}
	if conv.ProspectID == "" && in.attendee != "" {
		if err := s.link(ctx, tx, acc.WorkspaceID, &conv, in.attendee, now); err != nil {
			return "", err
		}
	}
	added, err := insertMessage(ctx, tx, conv.ID, in, truncate(in.text, 20000), now)
	if err != nil || !added {
		return conv.ID, err
	}
	return conv.ID, touchConversation(ctx, tx, conv.ID, in.sentAt, preview(in.text), !in.fromSelf && in.countUnreadIfFresh, now)
}

// link ties a conversation to the workspace's prospect with that member id,
// and to the campaign of their latest sequence.
func (s *Service) link(ctx context.Context, tx *sql.Tx, workspaceID string, conv *Conversation, memberID string, now time.Time) error {
	ids, err := s.opts.Campaigns.ProspectsMatching(ctx, tx, workspaceID, memberID, "")
	if err != nil || len(ids) != 1 {
		return err
	}
	campaignID, err := s.opts.Campaigns.LatestCampaignOf(ctx, tx, ids[0])
	if err != nil {
		return err
	}
	conv.ProspectID, conv.CampaignID = ids[0], campaignID
	return linkConversation(ctx, tx, conv.ID, ids[0], campaignID, now)
}

// preview is a message's first line, short, for the conversation list.
func preview(text string) string {
	text = strings.TrimSpace(text)
	if i := strings.IndexByte(text, '\n'); i >= 0 {
		text = text[:i]
	}
	return truncate(text, 200)
}

// truncate cuts s to at most n runes.
func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}

// Filter narrows a conversation list.
type Filter struct {
	AccountID  string
	CampaignID string
	Unread     bool
	// Search matches the person's name (case-insensitive substring).
	Search string
	// After is the cursor of the previous page.
	After string
	Limit int
}

// List returns a workspace's conversations, newest message first, and the
// cursor of the next page ("" at the end).
func (s *Service) List(ctx context.Context, q db.Querier, workspaceID string, f Filter) ([]Conversation, string, error) {
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	return listConversations(ctx, q, workspaceID, f)
}

// Get reads one conversation of a workspace (ErrNotFound otherwise).
func (s *Service) Get(ctx context.Context, q db.Querier, workspaceID, id string) (Conversation, error) {
	return getConversation(ctx, q, workspaceID, id)
}

// Messages lists a conversation's messages, oldest first, after the
// cursor (a message id), at most limit.
func (s *Service) Messages(ctx context.Context, q db.Querier, workspaceID, conversationID, after string, limit int) ([]Message, string, error) {
	if _, err := getConversation(ctx, q, workspaceID, conversationID); err != nil {
		return nil, "", err
	}
	if limit <= 0 || limit > 500 {
		limit = 200
	}
	return listMessages(ctx, q, conversationID, after, limit)
}

// MarkRead marks a conversation read (unread false: unread count 0) or
// unread (at least 1), in Keel only.
func (s *Service) MarkRead(ctx context.Context, workspaceID, id string, read bool) error {
	return s.opts.DB.InTx(ctx, func(tx *sql.Tx) error {
		if _, err := getConversation(ctx, tx, workspaceID, id); err != nil {
			return err
		}
		return setUnread(ctx, tx, id, read, s.opts.Clock.Now())
	})
}

// errf wraps an error with what was being done.
func errf(what string, err error) error { return fmt.Errorf("%s: %w", what, err) }
