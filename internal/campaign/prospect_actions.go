package campaign

// Acting on one prospect of a campaign from its page: hold, release,
// skip a step, remove (docs/campaigns.md#acting-on-one-prospect).

import (
	"context"
	"database/sql"
	"time"

	"github.com/keel-outreach/keel/internal/db"
)

// HeldByPerson is the parked_by of a prospect a person paused from the
// campaign page: it waits soft-paused until a person lets it go on; a
// sender's reconnect or the campaign's resume does not release it
// (docs/campaigns.md#acting-on-one-prospect).
const HeldByPerson = "person"

// EndedRemoved is the ended_reason of a prospect a person removed from a
// campaign.
const EndedRemoved = "removed"

// ProspectOp names an action on one prospect.
type ProspectOp string

// The actions on one prospect.
const (
	// OpPause holds a started, live prospect where it is.
	OpPause ProspectOp = "pause"
	// OpResume lets a held prospect go on, due now.
	OpResume ProspectOp = "resume"
	// OpSkip moves a started, live prospect past its current step.
	OpSkip ProspectOp = "skip"
	// OpRemove ends a live prospect's sequence with ended_reason removed.
	OpRemove ProspectOp = "remove"
)

// Valid reports whether op is one of the actions.
func (op ProspectOp) Valid() bool {
	switch op {
	case OpPause, OpResume, OpSkip, OpRemove:
		return true
	}
	return false
}

// ListProspects returns one page of a campaign's prospects as f filters
// them. The campaign must belong to workspaceID, else ErrNotFound.
func (s *Service) ListProspects(ctx context.Context, q db.Querier, workspaceID, campaignID string, f ProspectFilter) ([]ListedProspect, error) {
	var out []ListedProspect
	err := s.EachProspect(ctx, q, workspaceID, campaignID, f, func(p ListedProspect) error {
		out = append(out, p)
		return nil
	})
	return out, err
}

// ActOnProspect applies op to one enrollment of a campaign of the
// workspace, in one transaction with the enrollment locked. An
// enrollment of another campaign or workspace is ErrNotFound; one whose
// state does not allow op is a *StateError saying why, and nothing
// changes. Skip refuses while a send of the current step is in flight
// (its outcome decides where the prospect goes).
func (s *Service) ActOnProspect(ctx context.Context, workspaceID, campaignID, enrollmentID string, op ProspectOp) error {
	if !op.Valid() {
		return ErrNotFound
	}
	now := s.clock.Now()
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		c, err := s.read(ctx, tx, workspaceID, campaignID, false)
		if err != nil {
			return err
		}
		p, err := s.lockProspect(ctx, tx, workspaceID, campaignID, enrollmentID)
		if err != nil {
			return err
		}
		refuse := func(msg string) error {
			return &StateError{CampaignID: campaignID, Op: string(op) + " prospect", Status: c.Status, Message: msg}
		}
		started := p.state == EnrollmentActive || p.state == EnrollmentSoftPaused
		switch op {
		case OpPause:
			if p.state == EnrollmentPending {
				return refuse("the campaign has not started this prospect yet; remove it instead")
			}
			if !started {
				return refuse("this prospect's sequence is over (" + string(p.state) + ")")
			}
			if p.parkedBy == HeldByPerson {
				return refuse("this prospect is already paused")
			}
			return holdByPerson(ctx, tx, p.id, now)
		case OpResume:
			if p.parkedBy != HeldByPerson {
				return refuse("this prospect is not paused by a person")
			}
			return releaseHold(ctx, tx, p.id, now)
		case OpSkip:
			if !started {
				return refuse("only a started prospect whose sequence is not over can skip a step")
			}
			if p.sendInFlight {
				return refuse("a send of this step is in flight or waits to be settled; its outcome decides where the prospect goes")
			}
			return s.skip(ctx, tx, c, p, now)
		default: // OpRemove
			if !p.state.Live() {
				return refuse("this prospect's sequence is already over (" + string(p.state) + ")")
			}
			if err := s.End(ctx, tx, p.id, EndedRemoved, now); err != nil {
				return err
			}
			_, err := s.CompleteIfFinished(ctx, tx, c.ID)
			return err
		}
	})
}

// skip moves a prospect past its current step: an action or a wait goes
// to the next step in order, a condition takes its else-branch (as if it
// timed out). The target is entered as the scheduler enters it: a wait
// waits, a condition waits for its signal until its timeout (due now when
// the signal already came), an action is due now; past the last step the
// sequence completes. A held prospect stays held.
func (s *Service) skip(ctx context.Context, tx *sql.Tx, c Campaign, p lockedProspect, now time.Time) error {
	cur, ok := StepByID(c.Steps, p.stepID)
	target := End
	if ok {
		var err error
		if target, err = NextStepID(c.Steps, cur.ID, false); err != nil {
			return err
		}
		if !cur.Type.IsCondition() {
			target, _ = NextStepID(c.Steps, cur.ID, true)
		}
	}
	if target == End || target == "" {
		if err := s.Complete(ctx, tx, p.id, now); err != nil {
			return err
		}
		_, err := s.CompleteIfFinished(ctx, tx, c.ID)
		return err
	}
	step, _ := StepByID(c.Steps, target)
	due := now
	switch step.Type {
	case StepWait:
		due = now.Add(step.WaitDuration())
	case StepIfAccepted:
		if !p.acceptedAt.Valid {
			due = now.Add(step.WithinDuration())
		}
	case StepIfReplied:
		if !p.repliedAt.Valid {
			due = now.Add(step.WithinDuration())
		}
	}
	if err := s.Advance(ctx, tx, p.id, target, due, now); err != nil {
		return err
	}
	if p.parkedBy == HeldByPerson {
		return holdByPerson(ctx, tx, p.id, now)
	}
	return nil
}
