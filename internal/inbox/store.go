package inbox

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/id"
)

// This file is the inbox's one door to SQL: conversations,
// conversation_messages and the backfill's progress.

const conversationColumns = `id, workspace_id, account_id, provider_chat_id, COALESCE(attendee_provider_id, ''), attendee_name,
	COALESCE(prospect_id, ''), COALESCE(campaign_id, ''), last_message_at, last_message_text, unread, created_at`

func scanConversation(row interface{ Scan(...any) error }) (Conversation, error) {
	var (
		c    Conversation
		last db.NullTime
	)
	err := row.Scan(&c.ID, &c.WorkspaceID, &c.AccountID, &c.ProviderChatID, &c.AttendeeProviderID, &c.AttendeeName,
		&c.ProspectID, &c.CampaignID, &last, &c.LastMessageText, &c.Unread, &c.CreatedAt)
	if last.Valid {
		t := last.Time.UTC()
		c.LastMessageAt = &t
	}
	c.CreatedAt = c.CreatedAt.UTC()
	return c, err
}

// upsertConversation finds an account's conversation for a chat, creating
// it, and fills the person's id and name when they were unknown.
func upsertConversation(ctx context.Context, tx *sql.Tx, acc account.Account, chatID, attendee, name string, now time.Time) (Conversation, error) {
	if _, err := tx.ExecContext(ctx, `INSERT INTO conversations (id, workspace_id, account_id, provider_chat_id, attendee_provider_id,
		attendee_name, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) ON CONFLICT (account_id, provider_chat_id) DO NOTHING`,
		id.New("cnv"), acc.WorkspaceID, acc.ID, chatID, db.NullIfEmpty(attendee), name, now); err != nil {
		return Conversation{}, errf("recording conversation", err)
	}
	if attendee != "" || name != "" {
		if _, err := tx.ExecContext(ctx, `UPDATE conversations SET attendee_provider_id = COALESCE(attendee_provider_id, $3),
			attendee_name = CASE WHEN attendee_name = '' THEN $4 ELSE attendee_name END
			WHERE account_id = $1 AND provider_chat_id = $2 AND (attendee_provider_id IS NULL OR attendee_name = '')`,
			acc.ID, chatID, db.NullIfEmpty(attendee), name); err != nil {
			return Conversation{}, errf("naming conversation", err)
		}
	}
	c, err := scanConversation(tx.QueryRowContext(ctx, `SELECT `+conversationColumns+` FROM conversations
		WHERE account_id = $1 AND provider_chat_id = $2`, acc.ID, chatID))
	if err != nil {
		return c, errf("reading conversation", err)
	}
	return c, nil
}

// linkConversation records the prospect and campaign of a conversation.
func linkConversation(ctx context.Context, tx *sql.Tx, conversationID, prospectID, campaignID string, now time.Time) error {
	if _, err := tx.ExecContext(ctx, `UPDATE conversations SET prospect_id = $2, campaign_id = $3, updated_at = $4 WHERE id = $1`,
		conversationID, prospectID, db.NullIfEmpty(campaignID), now); err != nil {
		return errf("linking conversation to its prospect", err)
	}
	return nil
}

// insertMessage stores a message once; it reports whether it was new.
func insertMessage(ctx context.Context, tx *sql.Tx, conversationID string, in incoming, text string, now time.Time) (bool, error) {
	res, err := tx.ExecContext(ctx, `INSERT INTO conversation_messages (id, conversation_id, provider_message_id, from_self,
		sender_provider_id, text, sent_at, stored_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (conversation_id, provider_message_id) DO NOTHING`,
		id.New("msg"), conversationID, in.messageID, in.fromSelf, db.NullIfEmpty(in.sender), text, in.sentAt.UTC(), now)
	if err != nil {
		return false, errf("recording message", err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// touchConversation moves a conversation's last message forward (never
// back: the backfill stores older messages after newer ones) and counts an
// unread one.
func touchConversation(ctx context.Context, tx *sql.Tx, conversationID string, sentAt time.Time, text string, unread bool, now time.Time) error {
	add := 0
	if unread {
		add = 1
	}
	if _, err := tx.ExecContext(ctx, `UPDATE conversations SET unread = unread + $5, updated_at = $4,
		last_message_text = CASE WHEN last_message_at IS NULL OR last_message_at <= $2 THEN $3 ELSE last_message_text END,
		last_message_at = CASE WHEN last_message_at IS NULL OR last_message_at <= $2 THEN $2 ELSE last_message_at END
		WHERE id = $1`, conversationID, sentAt.UTC(), text, now, add); err != nil {
		return errf("updating conversation", err)
	}
	return nil
}

// setUnread marks a conversation read (0) or unread (at least 1).
func setUnread(ctx context.Context, tx *sql.Tx, conversationID string, read bool, now time.Time) error {
	q := `UPDATE conversations SET unread = 0, updated_at = $2 WHERE id = $1`
	if !read {
		q = `UPDATE conversations SET unread = CASE WHEN unread = 0 THEN 1 ELSE unread END, updated_at = $2 WHERE id = $1`
	}
	if _, err := tx.ExecContext(ctx, q, conversationID, now); err != nil {
		return errf("marking conversation", err)
	}
	return nil
}

// getConversation reads one conversation of a workspace.
func getConversation(ctx context.Context, q db.Querier, workspaceID, id string) (Conversation, error) {
	c, err := scanConversation(q.QueryRowContext(ctx, `SELECT `+conversationColumns+` FROM conversations WHERE id = $1 AND workspace_id = $2`,
		id, workspaceID))
	if db.IsNoRows(err) {
		return c, ErrNotFound
	}
	if err != nil {
		return c, errf("reading conversation "+id, err)
	}
	return c, nil
}

// listConversations is List's query: newest last message first, then id;
// the cursor is the last row's "<unix nanos of last_message_at>/<id>".
func listConversations(ctx context.Context, q db.Querier, workspaceID string, f Filter) ([]Conversation, string, error) {
	where := []string{`workspace_id = $1`, `last_message_at IS NOT NULL`}
	args := []any{workspaceID}
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, strings.ReplaceAll(cond, "?", fmt.Sprintf("$%d", len(args))))
	}
	if f.AccountID != "" {
		add(`account_id = ?`, f.AccountID)
	}
	if f.CampaignID != "" {
		add(`campaign_id = ?`, f.CampaignID)
	}
	if f.Unread {
		where = append(where, `unread > 0`)
	}
	if s := strings.TrimSpace(f.Search); s != "" {
		add(`lower(attendee_name) LIKE ?`, "%"+strings.ToLower(strings.NewReplacer("%", "", "_", "").Replace(s))+"%")
	}
	if f.After != "" {
		at, id, ok := parseCursor(f.After)
		if !ok {
			return nil, "", ErrBadCursor
		}
		args = append(args, at, id)
		n := len(args)
		where = append(where, fmt.Sprintf(`(last_message_at < $%d OR (last_message_at = $%d AND id < $%d))`, n-1, n-1, n))
	}
	args = append(args, f.Limit+1)
	rows, err := q.QueryContext(ctx, `SELECT `+conversationColumns+` FROM conversations WHERE `+strings.Join(where, " AND ")+
		fmt.Sprintf(` ORDER BY last_message_at DESC, id DESC LIMIT $%d`, len(args)), args...)
	if err != nil {
		return nil, "", errf("listing conversations", err)
	}
	defer rows.Close()
	var out []Conversation
	for rows.Next() {
		c, err := scanConversation(rows)
		if err != nil {
			return nil, "", errf("listing conversations", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, "", errf("listing conversations", err)
	}
	next := ""
	if len(out) > f.Limit {
		out = out[:f.Limit]
		last := out[len(out)-1]
		next = fmt.Sprintf("%d/%s", last.LastMessageAt.UnixNano(), last.ID)
	}
	return out, next, nil
}

// ErrBadCursor: a list cursor this package did not make.
var ErrBadCursor = fmt.Errorf("the cursor is not one this list returned")

func parseCursor(c string) (time.Time, string, bool) {
	nanos, id, ok := strings.Cut(c, "/")
	if !ok || id == "" {
		return time.Time{}, "", false
	}
	var n int64
	if _, err := fmt.Sscanf(nanos, "%d", &n); err != nil {
		return time.Time{}, "", false
	}
	return time.Unix(0, n).UTC(), id, true
}

// listMessages lists a conversation's messages oldest first after a
// message id cursor ("<unix nanos>/<id>").
func listMessages(ctx context.Context, q db.Querier, conversationID, after string, limit int) ([]Message, string, error) {
	where, args := `conversation_id = $1`, []any{conversationID}
	if after != "" {
		at, id, ok := parseCursor(after)
		if !ok {
			return nil, "", ErrBadCursor
		}
		args = append(args, at, id)
		where += ` AND (sent_at > $2 OR (sent_at = $2 AND id > $3))`
	}
	args = append(args, limit+1)
	rows, err := q.QueryContext(ctx, `SELECT id, conversation_id, provider_message_id, from_self, COALESCE(sender_provider_id, ''), text, sent_at
		FROM conversation_messages WHERE `+where+fmt.Sprintf(` ORDER BY sent_at, id LIMIT $%d`, len(args)), args...)
	if err != nil {
		return nil, "", errf("listing messages", err)
	}
	defer rows.Close()
	var out []Message
	for rows.Next() {
		var m Message
		if err := rows.Scan(&m.ID, &m.ConversationID, &m.ProviderMessageID, &m.FromSelf, &m.SenderProviderID, &m.Text, &m.SentAt); err != nil {
			return nil, "", errf("listing messages", err)
		}
		m.SentAt = m.SentAt.UTC()
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, "", errf("listing messages", err)
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		last := out[len(out)-1]
		next = fmt.Sprintf("%d/%s", last.SentAt.UnixNano(), last.ID)
	}
	return out, next, nil
}

// --- the backfill ---

// backfillRow is an account whose backfill advances this run.
type backfillRow struct {
	acc         account.Account
	chatsCursor string
	chatsDone   bool
	started     bool
}

// dueBackfills lists connected accounts whose backfill is not done and is
// due at now, at most limit, never-started ones first.
func dueBackfills(ctx context.Context, q db.Querier, now time.Time, limit int) ([]backfillRow, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+account.Columns("a")+`, COALESCE(b.chats_cursor, ''), COALESCE(b.chats_done, $3), b.account_id IS NOT NULL
		FROM linkedin_accounts a LEFT JOIN inbox_backfills b ON b.account_id = a.id
		WHERE a.status = 'connected' AND (b.account_id IS NULL OR (b.done_at IS NULL AND b.next_at <= $1))
		ORDER BY b.next_at IS NOT NULL, b.next_at, a.id LIMIT $2`, now, limit, false)
	if err != nil {
		return nil, errf("listing due backfills", err)
	}
	defer rows.Close()
	var out []backfillRow
	for rows.Next() {
		var r backfillRow
		if r.acc, err = account.ScanWith(rows, &r.chatsCursor, &r.chatsDone, &r.started); err != nil {
			return nil, errf("listing due backfills", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// nextChatToFill is one of the account's backfilled chats whose messages
// are not all read yet, with its cursor.
func nextChatToFill(ctx context.Context, q db.Querier, accountID string) (chatID, cursor string, ok bool, err error) {
	err = q.QueryRowContext(ctx, `SELECT provider_chat_id, COALESCE(messages_cursor, '') FROM inbox_backfill_chats
		WHERE account_id = $1 AND done = $2 ORDER BY provider_chat_id LIMIT 1`, accountID, false).Scan(&chatID, &cursor)
	if db.IsNoRows(err) {
		return "", "", false, nil
	}
	if err != nil {
		return "", "", false, errf("reading the backfill of account "+accountID, err)
	}
	return chatID, cursor, true, nil
}

// saveChatsPage records a page of the chat list: the chats to fill, and
// where the list continues (done when it ended).
func saveChatsPage(ctx context.Context, tx *sql.Tx, accountID string, chatIDs []string, cursor string, done bool, next, now time.Time) error {
	for _, c := range chatIDs {
		if _, err := tx.ExecContext(ctx, `INSERT INTO inbox_backfill_chats (account_id, provider_chat_id) VALUES ($1, $2)
			ON CONFLICT (account_id, provider_chat_id) DO NOTHING`, accountID, c); err != nil {
			return errf("recording a chat to backfill", err)
		}
	}
	return saveProgress(ctx, tx, accountID, cursor, done, next)
}

// reserveRequest records, before a backfill request goes, that the
// account's next request may not go before next.
func reserveRequest(ctx context.Context, q db.Querier, accountID string, next time.Time) error {
	if _, err := q.ExecContext(ctx, `INSERT INTO inbox_backfills (account_id, next_at) VALUES ($1, $2)
		ON CONFLICT (account_id) DO UPDATE SET next_at = excluded.next_at`, accountID, next); err != nil {
		return errf("reserving the backfill request of account "+accountID, err)
	}
	return nil
}

// saveProgress records where an account's chat list continues and when
// the next request may go.
func saveProgress(ctx context.Context, q db.Querier, accountID, cursor string, chatsDone bool, next time.Time) error {
	if _, err := q.ExecContext(ctx, `INSERT INTO inbox_backfills (account_id, chats_cursor, chats_done, next_at, requests) VALUES ($1, $2, $3, $4, 1)
		ON CONFLICT (account_id) DO UPDATE SET chats_cursor = excluded.chats_cursor, chats_done = excluded.chats_done,
		next_at = excluded.next_at, requests = inbox_backfills.requests + 1, last_error = NULL`,
		accountID, db.NullIfEmpty(cursor), chatsDone, next); err != nil {
		return errf("recording the backfill of account "+accountID, err)
	}
	return nil
}

// saveMessagesPage records where a chat's message list continues (done
// when it ended) and when the account's next request may go.
func saveMessagesPage(ctx context.Context, tx *sql.Tx, accountID, chatID, cursor string, done bool, next time.Time) error {
	if _, err := tx.ExecContext(ctx, `UPDATE inbox_backfill_chats SET messages_cursor = $3, done = $4 WHERE account_id = $1 AND provider_chat_id = $2`,
		accountID, chatID, db.NullIfEmpty(cursor), done); err != nil {
		return errf("recording the backfill of a chat", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE inbox_backfills SET next_at = $2, requests = requests + 1, last_error = NULL WHERE account_id = $1`,
		accountID, next); err != nil {
		return errf("recording the backfill of account "+accountID, err)
	}
	return nil
}

// finishBackfill marks an account's backfill done.
func finishBackfill(ctx context.Context, q db.Querier, accountID string, now time.Time) error {
	if _, err := q.ExecContext(ctx, `UPDATE inbox_backfills SET done_at = $2 WHERE account_id = $1`, accountID, now); err != nil {
		return errf("finishing the backfill of account "+accountID, err)
	}
	return nil
}

// backfillFailed records a failed request and when to try again.
func backfillFailed(ctx context.Context, q db.Querier, accountID, msg string, next time.Time) error {
	if _, err := q.ExecContext(ctx, `INSERT INTO inbox_backfills (account_id, next_at, last_error) VALUES ($1, $2, $3)
		ON CONFLICT (account_id) DO UPDATE SET next_at = excluded.next_at, last_error = excluded.last_error`, accountID, next, msg); err != nil {
		return errf("recording a failed backfill of account "+accountID, err)
	}
	return nil
}
