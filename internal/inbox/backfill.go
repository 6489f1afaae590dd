package inbox

import (
	"context"
	"database/sql"

	"github.com/keel-outreach/keel/internal/unipile"
)

// Backfill advances the backfill of the accounts whose turn it is by one
// provider request each: the next page of the chat list, else the next
// page of one chat's messages. Each page is stored with the cursor that
// follows it in one transaction, so a run killed at any point resumes
// where it stopped and stores nothing twice (docs/inbox.md#backfill). An
// account's requests are at least BackfillSpacing apart. It returns how
// many requests it made.
func (s *Service) Backfill(ctx context.Context) (int, error) {
	if s.opts.Client == nil {
		return 0, nil
	}
	due, err := dueBackfills(ctx, s.opts.DB.SQL, s.opts.Clock.Now(), s.opts.BackfillPerRun)
	if err != nil {
		return 0, err
	}
	requests := 0
	for _, r := range due {
		if err := ctx.Err(); err != nil {
			return requests, err
		}
		made, err := s.backfillStep(ctx, r)
		if err != nil {
			return requests, err
		}
		if made {
			requests++
		}
	}
	return requests, nil
}

// backfillStep makes one account's next request and stores its page.
func (s *Service) backfillStep(ctx context.Context, r backfillRow) (bool, error) {
	acc := r.acc
	page := unipile.PageOptions{Limit: s.opts.BackfillPageSize}
	// The spacing is reserved before the request goes: a process that dies
	// between the request and storing its page leaves the account resting,
	// so the next process cannot ask it again at once (docs/inbox.md#backfill).
	if err := reserveRequest(ctx, s.opts.DB.SQL, acc.ID, s.opts.Clock.Now().Add(BackfillSpacing)); err != nil {
		return false, err
	}
	if !r.chatsDone {
		page.Cursor = r.chatsCursor
		chats, err := s.opts.Client.ListChats(ctx, acc.ProviderAccountID, page)
		if err != nil {
			return true, s.failed(ctx, acc.ID, err)
		}
		return true, s.opts.DB.InTx(ctx, func(tx *sql.Tx) error {
			now := s.opts.Clock.Now()
			ids := make([]string, 0, len(chats.Items))
			for _, c := range chats.Items {
				if c.ID.String() == "" {
					continue
				}
				ids = append(ids, c.ID.String())
				if _, err := upsertConversation(ctx, tx, acc, c.ID.String(), c.AttendeeProviderID.String(), truncate(c.Name, 300), now); err != nil {
					return err
				}
			}
			next := chats.Cursor.String()
			return saveChatsPage(ctx, tx, acc.ID, ids, next, next == "" || len(chats.Items) == 0, now.Add(BackfillSpacing), now)
		})
	}
	chatID, cursor, ok, err := nextChatToFill(ctx, s.opts.DB.SQL, acc.ID)
	if err != nil {
		return false, err
	}
	if !ok {
		return false, finishBackfill(ctx, s.opts.DB.SQL, acc.ID, s.opts.Clock.Now())
	}
	page.Cursor = cursor
	msgs, err := s.opts.Client.ListChatMessages(ctx, chatID, page)
	if err != nil {
		return true, s.failed(ctx, acc.ID, err)
	}
	return true, s.opts.DB.InTx(ctx, func(tx *sql.Tx) error {
		now := s.opts.Clock.Now()
		for _, m := range msgs.Items {
			if m.ID.String() == "" {
				continue
			}
			in := incoming{chatID: chatID, messageID: m.ID.String(), fromSelf: bool(m.IsSender), sender: m.SenderID.String(),
				text: m.Text, sentAt: m.Timestamp.Time}
			if !in.fromSelf {
				in.attendee = in.sender
			}
			if _, err := s.store(ctx, tx, acc, in); err != nil {
				return err
			}
		}
		next := msgs.Cursor.String()
		return saveMessagesPage(ctx, tx, acc.ID, chatID, next, next == "" || len(msgs.Items) == 0, now.Add(BackfillSpacing))
	})
}

// failed records a failed request: the account is tried again later.
func (s *Service) failed(ctx context.Context, accountID string, err error) error {
	s.opts.Logger.Warn("inbox backfill request failed", "account", accountID, "error", err)
	return backfillFailed(ctx, s.opts.DB.SQL, accountID, err.Error(), s.opts.Clock.Now().Add(backfillRetry))
}
