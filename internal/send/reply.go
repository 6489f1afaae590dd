package send

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/alert"
	"github.com/keel-outreach/keel/internal/health"
	"github.com/keel-outreach/keel/internal/id"
	"github.com/keel-outreach/keel/internal/policy"
	"github.com/keel-outreach/keel/internal/unipile"
)

// Replies typed in the inbox (docs/inbox.md#replying) are ledger rows of
// action reply: claimed through the one policy, dispatched once, recorded
// or reconciled from the chat's messages like every send.

// MaxReplyLength is the longest reply Keel sends (sends_reply_text_chk).
const MaxReplyLength = 8000

// ReplyRequest is a reply to send in a conversation of the workspace.
type ReplyRequest struct {
	WorkspaceID    string
	AccountID      string
	ConversationID string
	// ChatID is the provider's chat the conversation is.
	ChatID string
	// ProspectID is the conversation's prospect, when it has one.
	ProspectID string
	Text       string
}

// ErrReplyText: a reply that is empty or longer than MaxReplyLength.
var ErrReplyText = errors.New("a reply needs text, at most 8000 characters")

// RefusedError is a reply the one policy holds: the account is not
// connected, cooling down, or Unipile has an incident. Nothing is stored;
// the text stays with whoever typed it.
type RefusedError struct {
	Verdict policy.Verdict
}

func (e *RefusedError) Error() string { return e.Verdict.Message }

// Reply claims a reply through the one policy and sends it (through the
// queue when there is one). It returns the ledger row.
func (e *Engine) Reply(ctx context.Context, r ReplyRequest) (SendInfo, error) {
	r.Text = strings.TrimSpace(r.Text)
	if r.Text == "" || len([]rune(r.Text)) > MaxReplyLength {
		return SendInfo{}, ErrReplyText
	}
	sendID := id.New("snd")
	var info SendInfo
	err := e.opts.DB.InTx(ctx, func(tx *sql.Tx) error {
		now := e.opts.Clock.Now()
		acc, err := e.opts.Accounts.Get(ctx, tx, r.WorkspaceID, r.AccountID)
		if err != nil {
			return err
		}
		// The pacing row's lock serialises the account's counts with its
		// claims; a reply keeps no spacing of its own.
		p, err := lockPacing(ctx, tx, acc.ID, policy.ActionReply, now)
		if err != nil {
			return err
		}
		snap, err := readSnapshot(ctx, tx, SnapshotRequest{Account: acc, Action: policy.ActionReply, Pacing: e.PacingOf(acc), Now: now}, p)
		if err != nil {
			return err
		}
		if v := policy.Decide(snap, now, e.draw()); !v.Allowed {
			return &RefusedError{Verdict: v}
		}
		if err := claimReply(ctx, tx, sendID, r, now); err != nil {
			return err
		}
		if err := e.enqueue(ctx, tx, sendID); err != nil {
			return err
		}
		return nil
	})
	if err != nil {
		return info, err
	}
	if e.opts.Enqueue == nil {
		if err := e.Dispatch(ctx, sendID); err != nil {
			return info, err
		}
	}
	return readSendInfo(ctx, e.opts.DB.SQL, sendID)
}

// prepareReply is Dispatch's transaction for a reply: the account still
// connected, no message cooldown, no incident; else it is not sent.
func (e *Engine) prepareReply(ctx context.Context, tx *sql.Tx, row sendRow, p *payload, proceed *bool, now time.Time) error {
	acc, err := e.shareLockAccount(ctx, tx, row.accountID)
	if err != nil {
		return err
	}
	p.acc = acc
	reason := ""
	switch {
	case acc.Status != account.StatusConnected:
		reason = "account is " + string(acc.Status)
	default:
		b, err := ActiveBlock(ctx, tx, row.accountID, policy.ActionMessage, now)
		if err != nil {
			return err
		}
		incident, err := health.IncidentUntil(ctx, tx, now)
		if err != nil {
			return err
		}
		switch {
		case b != nil:
			reason = b.Kind + " until " + b.Until.Format(time.RFC3339)
		case incident.After(now):
			reason = "provider incident until " + incident.Format(time.RFC3339)
		}
	}
	if reason != "" {
		return cancelSend(ctx, tx, row.id, "", "not sent: "+reason, now)
	}
	if err := markDispatched(ctx, tx, row.id, now); err != nil {
		return err
	}
	*proceed = true
	return nil
}

// recordReply writes a reply's outcome, classified once by Kind.
func (e *Engine) recordReply(ctx context.Context, row sendRow, res callResult, callErr error) error {
	return e.opts.DB.InTx(ctx, func(tx *sql.Tx) error {
		now := e.opts.Clock.Now()
		if ok, err := e.answerMayLand(ctx, tx, row, callErr, now); err != nil || !ok {
			return err
		}
		if callErr == nil {
			return confirmSend(ctx, tx, row.id, res.ref, row.chatID, now)
		}
		kind := unipile.KindOf(callErr)
		msg := callErr.Error()
		switch kind {
		case unipile.KindUnknownOutcome:
			return markUnknown(ctx, tx, row.id, kind.String(), msg)
		case unipile.KindRateLimited:
			if err := failSend(ctx, tx, row.id, kind.String(), msg, now); err != nil {
				return err
			}
			return SetBlock(ctx, tx, Block{AccountID: row.accountID, Action: policy.ActionMessage, Kind: policy.BlockCooldown,
				Until: now.Add(policy.CooldownAfterLimit), Reason: "LinkedIn limit signal: " + msg}, now)
		case unipile.KindReconnectNeeded, unipile.KindRestricted:
			if err := failSend(ctx, tx, row.id, kind.String(), msg, now); err != nil {
				return err
			}
			return e.flipOnSendError(ctx, tx, row.accountID, kind, "reply")
		default:
			return failSend(ctx, tx, row.id, kind.String(), msg, now)
		}
	})
}

// reconcileReply settles a reply whose outcome is unknown from the chat's
// latest messages: the account's message with the reply's text, sent after
// it was claimed, confirms it; otherwise it is parked for a person, never
// sent again.
func (e *Engine) reconcileReply(ctx context.Context, row sendRow) error {
	if e.opts.Client == nil {
		return ErrNoProvider
	}
	msgs, err := e.opts.Client.ListChatMessages(ctx, row.chatID, unipile.PageOptions{Limit: 50})
	if err != nil {
		e.opts.Logger.Warn("reconciling reply", "send", row.id, "error", err)
		return nil
	}
	ref := ""
	for _, m := range msgs.Items {
		if bool(m.IsSender) && strings.TrimSpace(m.Text) == strings.TrimSpace(row.replyText) &&
			!m.Timestamp.Before(row.claimedAt.Add(-time.Minute)) {
			ref = m.ID.String()
			break
		}
	}
	return e.opts.DB.InTx(ctx, func(tx *sql.Tx) error {
		now := e.opts.Clock.Now()
		cur, err := e.lockSend(ctx, tx, row.id)
		if err != nil || cur.state != StateUnknown {
			return err
		}
		if ref != "" {
			return confirmSend(ctx, tx, row.id, ref, row.chatID, now)
		}
		parked, err := parkSend(ctx, tx, row.id, now)
		if err != nil || !parked {
			return err
		}
		_, _, err = alert.Raise(ctx, tx, now, alert.New{WorkspaceID: row.workspaceID, Kind: alert.KindSendOutcomeUnknown, Severity: alert.Warning,
			SubjectType: "account", SubjectID: row.accountID, DedupeKey: unknownAlertKey(row.id),
			Message: fmt.Sprintf("A reply typed in the inbox may or may not have reached LinkedIn and could not be confirmed from Unipile. It will not be sent again; check the conversation, then settle it as sent or not sent (keel sends settle %s --outcome sent|not_sent).", row.id)})
		return err
	})
}
