package campaign

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/id"
	"github.com/keel-outreach/keel/internal/text"
)

// MaxSenders bounds how many accounts one campaign sends through.
const MaxSenders = 50

type scanner interface{ Scan(dest ...any) error }

// Get reads one campaign. workspaceID may be empty for installation-wide
// callers (workers, the CLI); API callers always pass theirs.
func (s *Service) Get(ctx context.Context, q db.Querier, workspaceID, campaignID string) (Campaign, error) {
	c, err := s.read(ctx, q, workspaceID, campaignID, false)
	if err != nil {
		return Campaign{}, err
	}
	if err := s.loadSenders(ctx, q, []*Campaign{&c}); err != nil {
		return Campaign{}, err
	}
	return c, nil
}

// ListOptions filters and pages List.
type ListOptions struct {
	// WorkspaceID limits the list to one workspace; empty lists all.
	WorkspaceID string
	// Status, when set, keeps only campaigns in that status.
	Status Status
	// After is the last id of the previous page (keyset pagination; ids
	// are time-ordered, so pages run oldest first).
	After string
	// Limit caps the page; 0 means no cap.
	Limit int
}

// apply merges an Input into c (Create starts from defaults).
func apply(c *Campaign, in Input) {
	if in.Name != nil {
		c.Name = strings.TrimSpace(*in.Name)
	}
	if in.AccountIDs != nil {
		c.AccountIDs = append([]string{}, in.AccountIDs...)
	}
	if in.Steps != nil {
		c.Steps = append([]Step{}, in.Steps...)
	}
	if in.DailyCaps != nil {
		for _, f := range []struct {
			in  *int
			out *int
		}{
			{in.DailyCaps.Invite, &c.DailyCaps.Invite}, {in.DailyCaps.Message, &c.DailyCaps.Message},
			{in.DailyCaps.InMail, &c.DailyCaps.InMail}, {in.DailyCaps.ViewProfile, &c.DailyCaps.ViewProfile},
		} {
			if f.in != nil {
				*f.out = *f.in
			}
		}
	}
	if in.StopOnReply != nil {
		c.StopOnReply = *in.StopOnReply
	}
	if in.LateAcceptPolicy != nil {
		c.LateAcceptPolicy = *in.LateAcceptPolicy
	}
}

// validate checks everything about a campaign body; tx is used to check
// the senders belong to the workspace, and known says which template
// variables can be filled.
func (s *Service) validate(ctx context.Context, tx *sql.Tx, c Campaign, known knownFunc) ([]FieldError, error) {
	var errs []FieldError
	add := func(field, format string, args ...any) {
		errs = append(errs, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	switch n := utf8.RuneCountInString(c.Name); {
	case text.CheckLine("name", c.Name) != nil:
		add("name", "%s", text.Problem(c.Name, false))
	case n == 0:
		add("name", "required")
	case n > 200:
		add("name", "at most 200 characters (has %d)", n)
	}

	switch {
	case len(c.AccountIDs) == 0:
		add("account_ids", "name at least one LinkedIn account to send through")
	case len(c.AccountIDs) > MaxSenders:
		add("account_ids", "at most %d accounts", MaxSenders)
	default:
		// An id that is not clean text names no account; it is reported
		// as such and kept out of the query (PostgreSQL errors on a NUL).
		var clean []string
		for _, a := range c.AccountIDs {
			if text.Valid(a) {
				clean = append(clean, a)
			}
		}
		inWS, err := s.accountsInWorkspace(ctx, tx, c.WorkspaceID, clean)
		if err != nil {
			return nil, err
		}
		seen := map[string]int{}
		for i, a := range c.AccountIDs {
			f := fmt.Sprintf("account_ids[%d]", i)
			if msg := text.Problem(a, false); msg != "" {
				add(f, "%s", msg)
				continue
			}
			if j, dup := seen[a]; dup {
				add(f, "account %s is listed twice (also account_ids[%d])", a, j)
				continue
			}
			seen[a] = i
			if !inWS[a] {
				add(f, "no LinkedIn account %q in this workspace", a)
			}
		}
	}

	errs = append(errs, ValidateSteps(c.Steps, known)...)

	uses := map[StepType]string{}
	for _, st := range c.Steps {
		if _, ok := uses[st.Type]; !ok {
			uses[st.Type] = st.ID
		}
	}
	for _, cp := range []struct {
		field      string
		value, max int
		step       StepType
		what       string
	}{
		{"invite", c.DailyCaps.Invite, CapCeilings.Invite, StepInvite, "invitations"},
		{"message", c.DailyCaps.Message, CapCeilings.Message, StepMessage, "messages"},
		{"inmail", c.DailyCaps.InMail, CapCeilings.InMail, StepInMail, "InMails"},
		{"view_profile", c.DailyCaps.ViewProfile, CapCeilings.ViewProfile, StepViewProfile, "profile views"},
	} {
		f := "daily_caps." + cp.field
		switch {
		case cp.value < 0:
			add(f, "must not be negative")
		case cp.value > cp.max:
			add(f, "at most %d: LinkedIn's hard ceiling for %s per account per day", cp.max, cp.what)
		case cp.value == 0 && uses[cp.step] != "":
			// A zero cap with a step of that type would hold every
			// prospect at that step forever without saying why.
			add(f, "is 0 but step %s sends %s; raise the cap or remove the step", uses[cp.step], cp.what)
		}
	}
	if !c.LateAcceptPolicy.Valid() {
		add("late_accept_policy", "must be follow_up or record_only (got %q)", c.LateAcceptPolicy)
	}
	return errs, nil
}

// Create stores a new draft campaign after validating it. Name,
// account_ids and steps are required; daily caps default to
// DefaultDailyCaps per type, stop_on_reply to true and late_accept_policy
// to follow_up. Only built-in template variables are known, since a new
// campaign has no prospects yet.
func (s *Service) Create(ctx context.Context, workspaceID string, in Input) (Campaign, error) {
	c := Campaign{
		ID: id.New("cmp"), WorkspaceID: workspaceID, Status: StatusDraft,
		DailyCaps: DefaultDailyCaps, StopOnReply: true, LateAcceptPolicy: LateAcceptFollowUp,
	}
	apply(&c, in)
	var out Campaign
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		errs, err := s.validate(ctx, tx, c, IsBuiltinVariable)
		if err != nil {
			return err
		}
		if len(errs) > 0 {
			return &ValidationError{Errors: errs}
		}
		now := s.clock.Now()
		c.CreatedAt, c.UpdatedAt, c.UpdatedBy = now, now, actorOf(ctx)
		steps, err := json.Marshal(c.Steps)
		if err != nil {
			return fmt.Errorf("encoding steps: %w", err)
		}
		if err := insertCampaign(ctx, tx, c, string(steps), now); err != nil {
			return err
		}
		if err := s.setSenders(ctx, tx, c, nil); err != nil {
			return err
		}
		out = c
		return nil
	})
	if err != nil {
		return Campaign{}, err
	}
	return out, nil
}

// Update changes a draft or paused campaign; of a running one only what
// LiveEditProblem allows (otherwise a StateError naming what must wait for
// a pause), so no prospect is ever between two versions of a sequence. Nil
// fields of in are kept. Template variables may name custom fields that
// at least one of the campaign's prospects has. A step that active
// prospects are at cannot be removed. Taking a sender off the campaign
// hands its not-yet-contacted prospects (no send of theirs reached or may
// have reached LinkedIn) to the remaining connected senders, spread
// evenly, and ends the prospects it already contacted with ended_reason
// "sender_removed": their thread is with that account
// (docs/campaigns.md#senders).
func (s *Service) Update(ctx context.Context, workspaceID, campaignID string, in Input) (Campaign, error) {
	var out Campaign
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		if err := s.shareLockAccounts(ctx, tx, workspaceID, in.AccountIDs); err != nil {
			return err
		}
		old, err := s.read(ctx, tx, workspaceID, campaignID, true)
		if err != nil {
			return err
		}
		if old.Status != StatusDraft && old.Status != StatusPaused && old.Status != StatusRunning {
			return &StateError{CampaignID: old.ID, Op: "edit", Status: old.Status,
				Message: fmt.Sprintf("the campaign is %s; only a draft, running or paused campaign can be edited", old.Status)}
		}
		if err := s.loadSenders(ctx, tx, []*Campaign{&old}); err != nil {
			return err
		}
		c := old
		apply(&c, in)
		if old.Status == StatusRunning {
			// What may change live is one rule (LiveEditProblem,
			// docs/campaigns.md#editing-a-running-campaign).
			reached, err := s.reachedSteps(ctx, tx, c.ID)
			if err != nil {
				return err
			}
			if msg := LiveEditProblem(old, c, reached); msg != "" {
				return &StateError{CampaignID: old.ID, Op: "edit", Status: old.Status, Message: msg}
			}
		}
		known := func(name string) bool {
			if IsBuiltinVariable(name) {
				return true
			}
			ok, qerr := s.someProspectHas(ctx, tx, c.ID, name)
			if qerr != nil {
				err = qerr
			}
			return ok
		}
		errs, verr := s.validate(ctx, tx, c, known)
		if verr != nil {
			return verr
		}
		if err != nil {
			return err
		}
		stepErrs, err := s.checkLiveSteps(ctx, tx, c)
		if err != nil {
			return err
		}
		if errs = append(errs, stepErrs...); len(errs) > 0 {
			return &ValidationError{Errors: errs}
		}
		now := s.clock.Now()
		steps, err := json.Marshal(c.Steps)
		if err != nil {
			return fmt.Errorf("encoding steps: %w", err)
		}
		if err := updateCampaign(ctx, tx, c, string(steps), now); err != nil {
			return err
		}
		c.UpdatedAt, c.UpdatedBy = now, actorOf(ctx)
		if err := s.setSenders(ctx, tx, c, old.AccountIDs); err != nil {
			return err
		}
		// An edit may have given held prospects a fallback: they are
		// looked at again on the next pass (docs/campaigns.md#holds).
		if _, err := s.Reevaluate(ctx, tx, Scope{CampaignID: c.ID, ParkedBy: HoldCode}, now); err != nil {
			return err
		}
		out = c
		return nil
	})
	if err != nil {
		return Campaign{}, err
	}
	return out, nil
}

// EndedSenderRemoved is the ended_reason of a prospect whose sender was
// taken off the campaign after contacting it.
const EndedSenderRemoved = "sender_removed"

// leastLoaded picks the sender with the fewest enrollments, the earlier
// listed one on a tie, so prospects spread evenly (round-robin when the
// loads start equal).
func leastLoaded(loads map[string]int, order []string) string {
	best := order[0]
	for _, a := range order[1:] {
		if loads[a] < loads[best] {
			best = a
		}
	}
	return best
}
