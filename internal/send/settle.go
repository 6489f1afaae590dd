package send

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/keel-outreach/keel/internal/alert"
	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/policy"
)

// Outcomes a person can settle an unknown send with
// (docs/sending.md#settling-by-hand).
const (
	// OutcomeSent: the person saw it on LinkedIn; it counts as delivered
	// and the prospect moves on.
	OutcomeSent = "sent"
	// OutcomeNotSent: it did not reach LinkedIn; the step may be tried
	// again.
	OutcomeNotSent = "not_sent"
)

var (
	// ErrSendNotFound: no send with that id in the workspace.
	ErrSendNotFound = errors.New("no such send")
	// ErrNotSettleable: only a send whose outcome is unknown can be
	// settled by a person.
	ErrNotSettleable = errors.New("only a send whose outcome is unknown can be settled")
)

// SendInfo is one ledger row as the API, the UI and the CLI show it.
type SendInfo struct {
	ID           string     `json:"id"`
	CampaignID   string     `json:"campaign_id"`
	AccountID    string     `json:"account_id"`
	EnrollmentID string     `json:"enrollment_id"`
	ProspectID   string     `json:"prospect_id"`
	StepID       string     `json:"step_id"`
	Action       string     `json:"action"`
	State        string     `json:"state"`
	ClaimedAt    time.Time  `json:"claimed_at"`
	ParkedAt     *time.Time `json:"parked_at"`
	Error        string     `json:"error,omitempty"`
	SettledBy    string     `json:"settled_by,omitempty"`
	SettledAt    *time.Time `json:"settled_at"`
	// ConversationID and Text are a reply's (docs/inbox.md#replying).
	ConversationID string `json:"conversation_id,omitempty"`
	Text           string `json:"text,omitempty"`
}

// Settle records a person's verdict on a send whose outcome is unknown:
// "sent" confirms it (a message needs no chat id then) and moves the
// prospect on; "not_sent" closes it as not sent and makes the step
// claimable again. by is who settled it. workspaceID is the workspace
// acting (its own sends only); empty is the installation operator (the
// CLI). Any state other than unknown is ErrNotSettleable and nothing
// changes.
func (e *Engine) Settle(ctx context.Context, workspaceID, sendID, outcome, by string) (SendInfo, error) {
	if outcome != OutcomeSent && outcome != OutcomeNotSent {
		return SendInfo{}, errors.New(`outcome must be "sent" or "not_sent"`)
	}
	if by == "" {
		by = "unknown"
	}
	var info SendInfo
	err := e.opts.DB.InTx(ctx, func(tx *sql.Tx) error {
		now := e.opts.Clock.Now()
		ws, err := sendWorkspace(ctx, tx, sendID)
		if err != nil {
			return err
		}
		if workspaceID != "" && ws != workspaceID {
			return ErrSendNotFound
		}
		row, err := e.lockSend(ctx, tx, sendID)
		if err != nil {
			return err
		}
		if row.state != StateUnknown {
			return ErrNotSettleable
		}
		// The send's one info line, once the settlement has committed.
		db.AfterCommit(tx, func() { e.logSettled(ctx, row, outcome) })
		if row.action == policy.ActionReply {
			// A reply belongs to no sequence: only its row is settled.
			to := StateFailed
			if outcome == OutcomeSent {
				to = StateConfirmed
			}
			if err := settleSend(ctx, tx, row.id, to, by, now); err != nil {
				return err
			}
			if err := alert.Settle(ctx, tx, now, row.workspaceID, unknownAlertKey(row.id), by); err != nil {
				return err
			}
			info, err = readSendInfo(ctx, tx, row.id)
			return err
		}
		en, err := e.lockEnrollmentAny(ctx, tx, row.enrollmentID)
		if err != nil {
			return err
		}
		if outcome == OutcomeSent {
			if err := settleSend(ctx, tx, row.id, StateConfirmed, by, now); err != nil {
				return err
			}
			if err := e.advanceConfirmed(ctx, tx, row, en, "", "", now); err != nil {
				return err
			}
		} else {
			if err := settleSend(ctx, tx, row.id, StateFailed, by, now); err != nil {
				return err
			}
			if row.action == policy.ActionWithdraw {
				// Not withdrawn: the invitation is looked at again now.
				if err := holdWithdrawal(ctx, tx, row, now); err != nil {
					return err
				}
			} else if en.state == string(campaign.EnrollmentActive) && en.stepID == row.stepID {
				if err := e.deferTo(ctx, tx, en.id, now, now); err != nil {
					return err
				}
			}
		}
		// The alert that asked a person to settle it has been answered.
		if err := alert.Settle(ctx, tx, now, row.workspaceID, unknownAlertKey(row.id), by); err != nil {
			return err
		}
		info, err = readSendInfo(ctx, tx, row.id)
		return err
	})
	return info, err
}

// advanceConfirmed is what follows a confirmed send, in the confirming
// transaction: a withdrawal closes its invitation; an invitation opens as
// pending (ref is the provider's invitation id, when known); a message
// emits its event; the prospect moves to the next step.
func (e *Engine) advanceConfirmed(ctx context.Context, tx *sql.Tx, row sendRow, en *enrollmentRow, ref, chatID string, now time.Time) error {
	switch row.action {
	case policy.ActionWithdraw:
		return e.withdrawn(ctx, tx, row, en, now)
	case policy.ActionInvite:
		if ref != alreadyConnectedRef {
			if err := openInvitation(ctx, tx, row.id, ref); err != nil {
				return err
			}
		}
	}
	if row.action == policy.ActionMessage || row.action == policy.ActionInMail {
		if err := e.emit(ctx, tx, row.workspaceID, "linkedin.message_sent", EventData{AccountID: row.accountID, CampaignID: row.campaignID,
			EnrollmentID: row.enrollmentID, ProspectID: row.prospectID, Action: string(row.action), ChatID: chatID}); err != nil {
			return err
		}
	}
	if en.state != string(campaign.EnrollmentActive) || en.stepID != row.stepID {
		return nil
	}
	camp, err := e.readCampaign(ctx, tx, row.campaignID)
	if err != nil {
		return err
	}
	return e.moveTo(ctx, tx, camp, en, nextAfter(camp.Steps, row.stepID), now, 0)
}
