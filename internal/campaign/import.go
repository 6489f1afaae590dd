package campaign

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/id"
)

// Row statuses of an import.
const (
	RowImported  = "imported"
	RowDuplicate = "duplicate"
	RowInvalid   = "invalid"
)

// RowResult is what happened to one import row.
type RowResult struct {
	Row    int    `json:"row"`
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`
	// ProspectID is set for imported rows.
	ProspectID string `json:"prospect_id,omitempty"`
}

// ImportResult is the per-row report of CONTRACT.md.
type ImportResult struct {
	Imported int         `json:"imported"`
	Skipped  int         `json:"skipped"`
	Rows     []RowResult `json:"rows"`
}

// Import adds prospects to a campaign, row by row, in one transaction:
// each valid row becomes (or updates) the workspace's prospect and is
// enrolled once in the campaign; a row naming a prospect already in the
// campaign, or one an earlier row of the same import named, is a
// duplicate; a row that cannot be used is invalid with its reason. Bad
// rows never stop good ones. A prospect the workspace already has is
// matched by any of its identifiers; the row's names, company and custom
// fields then update it (empty cells change nothing).
//
// New enrollments go to the campaign's least-loaded sender. In a draft or
// paused campaign they are pending; in a running one they start at once
// (soft-paused if their sender is not connected). Completed and archived
// campaigns take no prospects.
func (s *Service) Import(ctx context.Context, campaignID, workspaceID string, rows []ProspectRow) (ImportResult, error) {
	res := ImportResult{Rows: make([]RowResult, 0, len(rows))}
	if len(rows) > MaxImportRows {
		return res, ErrTooLarge
	}
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		c, err := s.read(ctx, tx, workspaceID, campaignID, true)
		if err != nil {
			return err
		}
		if c.Status == StatusCompleted || c.Status == StatusArchived {
			return &StateError{CampaignID: c.ID, Op: "import prospects", Status: c.Status,
				Message: fmt.Sprintf("the campaign is %s and takes no new prospects; create a new campaign", c.Status)}
		}
		senders, err := s.senders(ctx, tx, c.ID)
		if err != nil {
			return err
		}
		if len(senders) == 0 {
			return &StateError{CampaignID: c.ID, Op: "import prospects", Status: c.Status,
				Message: "the campaign has no sender account to assign prospects to"}
		}
		order := make([]string, len(senders))
		connected := map[string]bool{}
		for i, sd := range senders {
			order[i] = sd.AccountID
			connected[sd.AccountID] = sd.Status == account.StatusConnected
		}
		loads, err := s.senderLoads(ctx, tx, c.ID, order)
		if err != nil {
			return err
		}
		im := importer{s: s, tx: tx, c: c, now: s.clock.Now(), order: order, connected: connected,
			loads: loads, seen: map[string]int{}}
		for _, r := range rows {
			rr, err := im.row(ctx, r)
			if err != nil {
				return err
			}
			if rr.Status == RowImported {
				res.Imported++
			} else {
				res.Skipped++
			}
			res.Rows = append(res.Rows, rr)
		}
		return nil
	})
	if err != nil {
		return ImportResult{}, err
	}
	return res, nil
}

type importer struct {
	s         *Service
	tx        *sql.Tx
	c         Campaign
	now       time.Time
	order     []string
	connected map[string]bool
	loads     map[string]int
	// seen maps identity keys of this import to the row that used them.
	seen map[string]int
}

func identityKeys(id Identity) []string {
	var keys []string
	if id.PublicSlug != "" {
		keys = append(keys, "slug:"+id.PublicSlug)
	}
	if id.SalesNavID != "" {
		keys = append(keys, "nav:"+id.SalesNavID)
	}
	if id.ProviderID != "" {
		keys = append(keys, "pid:"+id.ProviderID)
	}
	return keys
}

func (im *importer) row(ctx context.Context, r ProspectRow) (RowResult, error) {
	rr := RowResult{Row: r.Row}
	invalid := func(msg string) (RowResult, error) {
		rr.Status, rr.Error = RowInvalid, msg
		return rr, nil
	}
	if r.Problem != "" {
		return invalid(r.Problem)
	}
	ident, err := r.identity()
	if err != nil {
		return invalid(err.Error())
	}
	r, msg := cleanRow(r)
	if msg != "" {
		return invalid(msg)
	}
	keys := identityKeys(ident)
	for _, k := range keys {
		if first, dup := im.seen[k]; dup {
			rr.Status, rr.Error = RowDuplicate, fmt.Sprintf("same prospect as row %d", first)
			return rr, nil
		}
	}
	for _, k := range keys {
		im.seen[k] = r.Row
	}

	existing, err := im.match(ctx, ident)
	if err != nil {
		return rr, err
	}
	if len(existing) > 1 {
		return invalid(fmt.Sprintf("its identifiers match %d different prospects already stored (%s and %s)",
			len(existing), existing[0].label(), existing[1].label()))
	}
	var p Prospect
	if len(existing) == 1 {
		p = existing[0]
		if msg := conflict(p, ident); msg != "" {
			return invalid(msg)
		}
		var enrolled bool
		if err := im.tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM enrollments WHERE campaign_id = $1 AND prospect_id = $2)`,
			im.c.ID, p.ID).Scan(&enrolled); err != nil {
			return rr, fmt.Errorf("checking enrollment of prospect %s: %w", p.ID, err)
		}
		if enrolled {
			rr.Status, rr.Error = RowDuplicate, "already in this campaign"
			return rr, nil
		}
		if p, err = im.merge(ctx, p, ident, r); err != nil {
			return rr, err
		}
	} else {
		if p, err = im.insert(ctx, ident, r); err != nil {
			return rr, err
		}
	}
	if err := im.enroll(ctx, p); err != nil {
		return rr, err
	}
	rr.Status, rr.ProspectID = RowImported, p.ID
	return rr, nil
}

// match finds the workspace's prospects sharing any identifier.
func (im *importer) match(ctx context.Context, ident Identity) ([]Prospect, error) {
	rows, err := im.tx.QueryContext(ctx, `SELECT `+prospectColumns+` FROM prospects
		WHERE workspace_id = $1 AND (public_slug = $2 OR sales_nav_id = $3 OR provider_id = $4) ORDER BY id`,
		im.c.WorkspaceID, nullable(ident.PublicSlug), nullable(ident.SalesNavID), nullable(ident.ProviderID))
	if err != nil {
		return nil, fmt.Errorf("matching prospect: %w", err)
	}
	defer rows.Close()
	var out []Prospect
	for rows.Next() {
		p, err := scanProspect(rows)
		if err != nil {
			return nil, fmt.Errorf("matching prospect: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// conflict says why a row cannot be the stored prospect it matched: an
// identifier both have, with different values.
func conflict(p Prospect, ident Identity) string {
	switch {
	case ident.PublicSlug != "" && p.PublicSlug != "" && ident.PublicSlug != p.PublicSlug:
		return fmt.Sprintf("matches a stored prospect whose profile is %s, not %s", p.LinkedInURL, ProfileURLFor(ident.PublicSlug))
	case ident.SalesNavID != "" && p.SalesNavID != "" && ident.SalesNavID != p.SalesNavID:
		return fmt.Sprintf("matches a stored prospect whose Sales Navigator lead is %s, not %s", p.SalesNavID, ident.SalesNavID)
	case ident.ProviderID != "" && p.ProviderID != "" && ident.ProviderID != p.ProviderID:
		return fmt.Sprintf("matches a stored prospect whose provider_id is %s, not %s", p.ProviderID, ident.ProviderID)
	}
	return ""
}

func encodeCustom(m map[string]string) (string, error) {
	if len(m) == 0 {
		return "{}", nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return "", fmt.Errorf("encoding custom fields: %w", err)
	}
	return string(b), nil
}

func linkedInURL(ident Identity) any {
	if ident.PublicSlug == "" {
		return nil
	}
	return ProfileURLFor(ident.PublicSlug)
}

func (im *importer) insert(ctx context.Context, ident Identity, r ProspectRow) (Prospect, error) {
	custom, err := encodeCustom(r.Custom)
	if err != nil {
		return Prospect{}, err
	}
	pid := id.New("prs")
	// ON CONFLICT DO NOTHING: on PostgreSQL another import may have stored
	// the same person since match ran; then that row is used instead of
	// failing the whole import.
	res, err := im.tx.ExecContext(ctx, `
		INSERT INTO prospects (id, workspace_id, linkedin_url, public_slug, sales_nav_id, provider_id,
			first_name, last_name, company, custom_fields, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)
		ON CONFLICT DO NOTHING`,
		pid, im.c.WorkspaceID, linkedInURL(ident), nullable(ident.PublicSlug), nullable(ident.SalesNavID),
		nullable(ident.ProviderID), r.FirstName, r.LastName, r.Company, custom, im.now)
	if err != nil {
		return Prospect{}, fmt.Errorf("storing prospect: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		found, err := im.match(ctx, ident)
		if err != nil {
			return Prospect{}, err
		}
		if len(found) != 1 {
			return Prospect{}, fmt.Errorf("storing prospect: a concurrent import stored a conflicting prospect; retry the import")
		}
		return im.merge(ctx, found[0], ident, r)
	}
	return Prospect{ID: pid, WorkspaceID: im.c.WorkspaceID, PublicSlug: ident.PublicSlug, SalesNavID: ident.SalesNavID,
		ProviderID: ident.ProviderID, FirstName: r.FirstName, LastName: r.LastName, Company: r.Company,
		Custom: r.Custom, CreatedAt: im.now, UpdatedAt: im.now}, nil
}

// merge completes a stored prospect with the row: identifiers it lacked,
// names and company when the row has them, custom fields key by key.
func (im *importer) merge(ctx context.Context, p Prospect, ident Identity, r ProspectRow) (Prospect, error) {
	if p.PublicSlug == "" && ident.PublicSlug != "" {
		p.PublicSlug, p.LinkedInURL = ident.PublicSlug, ProfileURLFor(ident.PublicSlug)
	}
	if p.SalesNavID == "" {
		p.SalesNavID = ident.SalesNavID
	}
	if p.ProviderID == "" {
		p.ProviderID = ident.ProviderID
	}
	for _, f := range []struct {
		dst *string
		v   string
	}{{&p.FirstName, r.FirstName}, {&p.LastName, r.LastName}, {&p.Company, r.Company}} {
		if f.v != "" {
			*f.dst = f.v
		}
	}
	if p.Custom == nil {
		p.Custom = map[string]string{}
	}
	keys := make([]string, 0, len(r.Custom))
	for k := range r.Custom {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		p.Custom[k] = r.Custom[k]
	}
	custom, err := encodeCustom(p.Custom)
	if err != nil {
		return Prospect{}, err
	}
	p.UpdatedAt = im.now
	if _, err := im.tx.ExecContext(ctx, `
		UPDATE prospects SET linkedin_url = $2, public_slug = $3, sales_nav_id = $4, provider_id = $5,
		       first_name = $6, last_name = $7, company = $8, custom_fields = $9, updated_at = $10
		 WHERE id = $1`,
		p.ID, nullable(p.LinkedInURL), nullable(p.PublicSlug), nullable(p.SalesNavID), nullable(p.ProviderID),
		p.FirstName, p.LastName, p.Company, custom, im.now); err != nil {
		return Prospect{}, fmt.Errorf("updating prospect %s: %w", p.ID, err)
	}
	return p, nil
}

// enroll puts the prospect in the campaign with the least-loaded sender.
func (im *importer) enroll(ctx context.Context, p Prospect) error {
	sender := leastLoaded(im.loads, im.order)
	im.loads[sender]++
	state, step, next := EnrollmentPending, any(nil), any(nil)
	if im.c.Status == StatusRunning {
		state, step, next = EnrollmentActive, FirstStepID(im.c.Steps), im.now
		if !im.connected[sender] {
			state = EnrollmentSoftPaused
		}
	}
	if _, err := im.tx.ExecContext(ctx, `
		INSERT INTO enrollments (id, workspace_id, campaign_id, prospect_id, account_id, state, step_id,
			next_action_at, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)`,
		id.New("enr"), im.c.WorkspaceID, im.c.ID, p.ID, sender, string(state), step, next, im.now); err != nil {
		return fmt.Errorf("enrolling prospect %s in campaign %s: %w", p.ID, im.c.ID, err)
	}
	return nil
}
