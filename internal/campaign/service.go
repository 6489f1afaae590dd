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

const campaignColumns = `id, workspace_id, name, status, paused_reason, steps, cap_invite, cap_message,
	cap_inmail, cap_view_profile, stop_on_reply, late_accept_policy, created_at, updated_at`

type scanner interface{ Scan(dest ...any) error }

func scanCampaign(row scanner) (Campaign, error) {
	var (
		c      Campaign
		reason sql.NullString
		steps  string
	)
	if err := row.Scan(&c.ID, &c.WorkspaceID, &c.Name, &c.Status, &reason, &steps,
		&c.DailyCaps.Invite, &c.DailyCaps.Message, &c.DailyCaps.InMail, &c.DailyCaps.ViewProfile,
		&c.StopOnReply, &c.LateAcceptPolicy, &c.CreatedAt, &c.UpdatedAt); err != nil {
		return Campaign{}, err
	}
	c.PausedReason = PausedReason(reason.String)
	if err := json.Unmarshal([]byte(steps), &c.Steps); err != nil {
		return Campaign{}, fmt.Errorf("decoding steps of campaign %s: %w", c.ID, err)
	}
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	return c, nil
}

// placeholders returns "$from, $from+1, …" for n arguments.
func placeholders(from, n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = fmt.Sprintf("$%d", from+i)
	}
	return strings.Join(parts, ", ")
}

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

// read reads one campaign row (without senders), locking it when lock is
// set (PostgreSQL; SQLite's immediate transaction already serialises).
func (s *Service) read(ctx context.Context, q db.Querier, workspaceID, campaignID string, lock bool) (Campaign, error) {
	if !text.Valid(campaignID) {
		// No id holds control characters; PostgreSQL would error on a NUL.
		return Campaign{}, ErrNotFound
	}
	query := `SELECT ` + campaignColumns + ` FROM campaigns WHERE id = $1`
	args := []any{campaignID}
	if workspaceID != "" {
		query += ` AND workspace_id = $2`
		args = append(args, workspaceID)
	}
	if lock {
		query += s.db.LockForUpdate()
	}
	c, err := scanCampaign(q.QueryRowContext(ctx, query, args...))
	if db.IsNoRows(err) {
		return Campaign{}, ErrNotFound
	}
	if err != nil {
		return Campaign{}, fmt.Errorf("reading campaign %s: %w", campaignID, err)
	}
	return c, nil
}

// loadSenders fills AccountIDs (current senders, in order) of each campaign.
func (s *Service) loadSenders(ctx context.Context, q db.Querier, cs []*Campaign) error {
	if len(cs) == 0 {
		return nil
	}
	args := make([]any, len(cs))
	byID := map[string]*Campaign{}
	for i, c := range cs {
		args[i] = c.ID
		byID[c.ID] = c
		c.AccountIDs = []string{}
	}
	rows, err := q.QueryContext(ctx, `
		SELECT campaign_id, account_id FROM campaign_accounts
		 WHERE campaign_id IN (`+placeholders(1, len(args))+`) AND removed_at IS NULL
		 ORDER BY campaign_id, position, account_id`, args...)
	if err != nil {
		return fmt.Errorf("reading campaign senders: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var cid, aid string
		if err := rows.Scan(&cid, &aid); err != nil {
			return fmt.Errorf("reading campaign senders: %w", err)
		}
		byID[cid].AccountIDs = append(byID[cid].AccountIDs, aid)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reading campaign senders: %w", err)
	}
	return nil
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

// List returns campaigns ordered by id.
func (s *Service) List(ctx context.Context, q db.Querier, opts ListOptions) ([]Campaign, error) {
	query := `SELECT ` + campaignColumns + ` FROM campaigns WHERE id > $1`
	args := []any{opts.After}
	if opts.WorkspaceID != "" {
		args = append(args, opts.WorkspaceID)
		query += fmt.Sprintf(` AND workspace_id = $%d`, len(args))
	}
	if opts.Status != "" {
		args = append(args, string(opts.Status))
		query += fmt.Sprintf(` AND status = $%d`, len(args))
	}
	query += ` ORDER BY id`
	if opts.Limit > 0 {
		args = append(args, opts.Limit)
		query += fmt.Sprintf(` LIMIT $%d`, len(args))
	}
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("listing campaigns: %w", err)
	}
	var out []Campaign
	for rows.Next() {
		c, err := scanCampaign(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("listing campaigns: %w", err)
		}
		out = append(out, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing campaigns: %w", err)
	}
	ptrs := make([]*Campaign, len(out))
	for i := range out {
		ptrs[i] = &out[i]
	}
	if err := s.loadSenders(ctx, q, ptrs); err != nil {
		return nil, err
	}
	return out, nil
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

// accountsInWorkspace returns which of ids are accounts of the workspace.
func (s *Service) accountsInWorkspace(ctx context.Context, q db.Querier, workspaceID string, ids []string) (map[string]bool, error) {
	if len(ids) == 0 {
		return map[string]bool{}, nil
	}
	args := []any{workspaceID}
	for _, a := range ids {
		args = append(args, a)
	}
	rows, err := q.QueryContext(ctx, `SELECT id FROM linkedin_accounts WHERE workspace_id = $1 AND id IN (`+
		placeholders(2, len(ids))+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("checking sender accounts: %w", err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var a string
		if err := rows.Scan(&a); err != nil {
			return nil, fmt.Errorf("checking sender accounts: %w", err)
		}
		out[a] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("checking sender accounts: %w", err)
	}
	return out, nil
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
		c.CreatedAt, c.UpdatedAt = now, now
		steps, err := json.Marshal(c.Steps)
		if err != nil {
			return fmt.Errorf("encoding steps: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO campaigns (id, workspace_id, name, status, steps, cap_invite, cap_message, cap_inmail,
				cap_view_profile, stop_on_reply, late_accept_policy, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)`,
			c.ID, c.WorkspaceID, c.Name, string(c.Status), string(steps), c.DailyCaps.Invite, c.DailyCaps.Message,
			c.DailyCaps.InMail, c.DailyCaps.ViewProfile, c.StopOnReply, string(c.LateAcceptPolicy), now); err != nil {
			return fmt.Errorf("creating campaign: %w", err)
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

// Update changes a draft or paused campaign (a running one must be paused
// first, so no prospect is ever between two versions of a sequence). Nil
// fields of in are kept. Template variables may name custom fields that
// at least one of the campaign's prospects has. A step that active
// prospects are at cannot be removed. Taking a sender off the campaign
// moves its not-yet-started (pending) prospects to the remaining senders
// and ends its prospects already in the sequence with ended_reason
// "sender_removed": they cannot continue from another account.
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
		if old.Status != StatusDraft && old.Status != StatusPaused {
			return &StateError{CampaignID: old.ID, Op: "edit", Status: old.Status,
				Message: fmt.Sprintf("the campaign is %s; only a draft or paused campaign can be edited (pause it first)", old.Status)}
		}
		if err := s.loadSenders(ctx, tx, []*Campaign{&old}); err != nil {
			return err
		}
		c := old
		apply(&c, in)
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
		if _, err := tx.ExecContext(ctx, `
			UPDATE campaigns SET name = $2, steps = $3, cap_invite = $4, cap_message = $5, cap_inmail = $6,
			       cap_view_profile = $7, stop_on_reply = $8, late_accept_policy = $9, updated_at = $10
			 WHERE id = $1`,
			c.ID, c.Name, string(steps), c.DailyCaps.Invite, c.DailyCaps.Message, c.DailyCaps.InMail,
			c.DailyCaps.ViewProfile, c.StopOnReply, string(c.LateAcceptPolicy), now); err != nil {
			return fmt.Errorf("updating campaign %s: %w", c.ID, err)
		}
		c.UpdatedAt = now
		if err := s.setSenders(ctx, tx, c, old.AccountIDs); err != nil {
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

// shareLockAccounts takes, on PostgreSQL, the key-share locks that adding
// these accounts as senders would take anyway (foreign-key checks), but
// before the campaign row is locked. A status flip locks its account and
// then the campaigns it sends for; taking the locks in the same order here
// keeps an edit and a flip from deadlocking.
func (s *Service) shareLockAccounts(ctx context.Context, tx *sql.Tx, workspaceID string, ids []string) error {
	if s.db.Engine != db.Postgres || len(ids) == 0 {
		return nil
	}
	args := []any{workspaceID}
	for _, a := range ids {
		// Not clean text, not an account: validation reports it later.
		if text.Valid(a) {
			args = append(args, a)
		}
	}
	if len(args) == 1 {
		return nil
	}
	rows, err := tx.QueryContext(ctx, `SELECT id FROM linkedin_accounts WHERE workspace_id = $1 AND id IN (`+
		placeholders(2, len(args)-1)+`) ORDER BY id FOR KEY SHARE`, args...)
	if err != nil {
		return fmt.Errorf("locking sender accounts: %w", err)
	}
	rows.Close()
	return rows.Err()
}

// checkLiveSteps refuses a new step graph that drops a step prospects
// are at.
func (s *Service) checkLiveSteps(ctx context.Context, tx *sql.Tx, c Campaign) ([]FieldError, error) {
	rows, err := tx.QueryContext(ctx, `
		SELECT step_id, count(*) FROM enrollments
		 WHERE campaign_id = $1 AND state IN ('active', 'soft_paused')
		 GROUP BY step_id ORDER BY step_id`, c.ID)
	if err != nil {
		return nil, fmt.Errorf("reading enrollment steps of campaign %s: %w", c.ID, err)
	}
	defer rows.Close()
	var errs []FieldError
	for rows.Next() {
		var step string
		var n int
		if err := rows.Scan(&step, &n); err != nil {
			return nil, fmt.Errorf("reading enrollment steps of campaign %s: %w", c.ID, err)
		}
		if _, ok := StepByID(c.Steps, step); !ok {
			errs = append(errs, FieldError{Field: "steps", Message: fmt.Sprintf(
				"step %s cannot be removed: %d prospect(s) are at it", step, n)})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading enrollment steps of campaign %s: %w", c.ID, err)
	}
	return errs, nil
}

// EndedSenderRemoved is the ended_reason of a prospect whose sender was
// taken off the campaign after its sequence had started.
const EndedSenderRemoved = "sender_removed"

// setSenders makes c.AccountIDs the campaign's current senders: new ones
// are added (or re-added), positions follow the list, and senders no
// longer listed are taken off after their live enrollments are moved
// (pending) or ended (started).
func (s *Service) setSenders(ctx context.Context, tx *sql.Tx, c Campaign, previous []string) error {
	now := s.clock.Now()
	keep := map[string]bool{}
	for i, a := range c.AccountIDs {
		keep[a] = true
		// An upsert: a sender taken off earlier keeps its row, so adding
		// it back clears removed_at.
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO campaign_accounts (campaign_id, account_id, workspace_id, position, added_at)
			VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (campaign_id, account_id)
			DO UPDATE SET position = excluded.position, removed_at = NULL`,
			c.ID, a, c.WorkspaceID, i, now); err != nil {
			return fmt.Errorf("adding sender %s to campaign %s: %w", a, c.ID, err)
		}
	}
	var removed []string
	for _, a := range previous {
		if !keep[a] {
			removed = append(removed, a)
		}
	}
	if len(removed) == 0 {
		return nil
	}
	loads, err := s.senderLoads(ctx, tx, c.ID, c.AccountIDs)
	if err != nil {
		return err
	}
	for _, a := range removed {
		pending, err := s.enrollmentIDs(ctx, tx, `campaign_id = $1 AND account_id = $2 AND state = 'pending'`, c.ID, a)
		if err != nil {
			return err
		}
		for _, eid := range pending {
			to := leastLoaded(loads, c.AccountIDs)
			loads[to]++
			if _, err := tx.ExecContext(ctx, `UPDATE enrollments SET account_id = $2, updated_at = $3 WHERE id = $1`,
				eid, to, now); err != nil {
				return fmt.Errorf("moving enrollment %s to sender %s: %w", eid, to, err)
			}
		}
		if _, err := tx.ExecContext(ctx, `
			UPDATE enrollments SET state = 'ended', ended_reason = $3, next_action_at = NULL, updated_at = $4
			 WHERE campaign_id = $1 AND account_id = $2 AND state IN ('active', 'soft_paused')`,
			c.ID, a, EndedSenderRemoved, now); err != nil {
			return fmt.Errorf("ending enrollments of removed sender %s: %w", a, err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE campaign_accounts SET removed_at = $3 WHERE campaign_id = $1 AND account_id = $2`,
			c.ID, a, now); err != nil {
			return fmt.Errorf("taking sender %s off campaign %s: %w", a, c.ID, err)
		}
	}
	return nil
}

func (s *Service) enrollmentIDs(ctx context.Context, tx *sql.Tx, where string, args ...any) ([]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id FROM enrollments WHERE `+where+` ORDER BY id`, args...)
	if err != nil {
		return nil, fmt.Errorf("listing enrollments: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var eid string
		if err := rows.Scan(&eid); err != nil {
			return nil, fmt.Errorf("listing enrollments: %w", err)
		}
		out = append(out, eid)
	}
	return out, rows.Err()
}

// senderLoads counts the enrollments each current sender has in the
// campaign (every state: what a sender already worked on is load too).
func (s *Service) senderLoads(ctx context.Context, tx *sql.Tx, campaignID string, senders []string) (map[string]int, error) {
	loads := map[string]int{}
	for _, a := range senders {
		loads[a] = 0
	}
	rows, err := tx.QueryContext(ctx, `SELECT account_id, count(*) FROM enrollments WHERE campaign_id = $1 GROUP BY account_id`, campaignID)
	if err != nil {
		return nil, fmt.Errorf("counting sender loads of campaign %s: %w", campaignID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var a string
		var n int
		if err := rows.Scan(&a, &n); err != nil {
			return nil, fmt.Errorf("counting sender loads of campaign %s: %w", campaignID, err)
		}
		if _, current := loads[a]; current {
			loads[a] = n
		}
	}
	return loads, rows.Err()
}

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

// customFieldCond is a SQL condition "prospect p has custom field $n".
// Field names are restricted to [a-z0-9_], so the SQLite JSON path is safe.
func (s *Service) customFieldCond(n int) string {
	if s.db.Engine == db.Postgres {
		return fmt.Sprintf(`(p.custom_fields::jsonb ->> $%d) IS NOT NULL`, n)
	}
	return fmt.Sprintf(`json_extract(p.custom_fields, $%d) IS NOT NULL`, n)
}

func (s *Service) customFieldArg(name string) any {
	if s.db.Engine == db.Postgres {
		return name
	}
	return `$."` + name + `"`
}

// someProspectHas reports whether any prospect enrolled in the campaign
// has the custom field.
func (s *Service) someProspectHas(ctx context.Context, tx *sql.Tx, campaignID, field string) (bool, error) {
	var ok bool
	err := tx.QueryRowContext(ctx, `
		SELECT EXISTS (SELECT 1 FROM enrollments e JOIN prospects p ON p.id = e.prospect_id
		                WHERE e.campaign_id = $1 AND `+s.customFieldCond(2)+`)`,
		campaignID, s.customFieldArg(field)).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("checking custom field %s in campaign %s: %w", field, campaignID, err)
	}
	return ok, nil
}
