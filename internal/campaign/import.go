package campaign

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/db"
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

// ImportResult is the per-row report of docs/surfaces.md#json-shapes.
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
		im := &importer{tx: tx, c: c, now: s.clock.Now(), order: order, connected: connected, loads: loads,
			byID: map[string]*Prospect{}, byKey: map[string]*Prospect{}}
		if res.Rows, err = im.run(ctx, rows); err != nil {
			return err
		}
		for _, rr := range res.Rows {
			if rr.Status == RowImported {
				res.Imported++
			} else {
				res.Skipped++
			}
		}
		return nil
	})
	if err != nil {
		return ImportResult{}, err
	}
	return res, nil
}

// importer carries one import's state. It works in phases so that a large
// file costs a handful of statements per few hundred rows rather than
// several per row: validate every row in memory, fetch the stored
// prospects the rows name in bulk, decide each row, then write new
// prospects, updates and enrollments in batches.
type importer struct {
	tx        *sql.Tx
	c         Campaign
	now       time.Time
	order     []string
	connected map[string]bool
	loads     map[string]int
	// byID and byKey index the workspace's prospects the import touches,
	// stored or new, by id and by identity key ("slug:…", "nav:…", "pid:…").
	byID  map[string]*Prospect
	byKey map[string]*Prospect
}

// importBatch bounds the rows of one multi-row statement. SQLite resolves
// each $N by scanning the statement's earlier parameters, so the cost of
// preparing a statement grows with the square of its parameters: a
// thousand or so per statement is the sweet spot on both engines.
const importBatch = 100

type importItem struct {
	res   RowResult
	ident Identity
	row   ProspectRow
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

func prospectIdentity(p *Prospect) Identity {
	return Identity{PublicSlug: p.PublicSlug, SalesNavID: p.SalesNavID, ProviderID: p.ProviderID}
}

func (im *importer) index(p *Prospect) {
	im.byID[p.ID] = p
	for _, k := range identityKeys(prospectIdentity(p)) {
		im.byKey[k] = p
	}
}

func (im *importer) run(ctx context.Context, rows []ProspectRow) ([]RowResult, error) {
	items := make([]*importItem, len(rows))
	var candidates []*importItem
	seen := map[string]int{} // identity key -> first row naming it
	var slugs, navs, pids []string
	for i, r := range rows {
		it := &importItem{res: RowResult{Row: r.Row}}
		items[i] = it
		invalid := func(msg string) { it.res.Status, it.res.Error = RowInvalid, msg }
		if r.Problem != "" {
			invalid(r.Problem)
			continue
		}
		ident, err := r.identity()
		if err != nil {
			invalid(err.Error())
			continue
		}
		r, msg := cleanRow(r)
		if msg != "" {
			invalid(msg)
			continue
		}
		keys := identityKeys(ident)
		dupOf := 0
		for _, k := range keys {
			if first, ok := seen[k]; ok && dupOf == 0 {
				dupOf = first
			}
		}
		if dupOf != 0 {
			it.res.Status, it.res.Error = RowDuplicate, fmt.Sprintf("same prospect as row %d", dupOf)
			continue
		}
		for _, k := range keys {
			seen[k] = r.Row
		}
		if ident.PublicSlug != "" {
			slugs = append(slugs, ident.PublicSlug)
		}
		if ident.SalesNavID != "" {
			navs = append(navs, ident.SalesNavID)
		}
		if ident.ProviderID != "" {
			pids = append(pids, ident.ProviderID)
		}
		it.ident, it.row = ident, r
		candidates = append(candidates, it)
	}

	for _, q := range []struct {
		col    string
		values []string
	}{{"public_slug", slugs}, {"sales_nav_id", navs}, {"provider_id", pids}} {
		if err := im.fetch(ctx, q.col, q.values); err != nil {
			return nil, err
		}
	}
	// enrolledBy: prospect id -> the row that enrolled it here (0: before).
	enrolledBy, err := im.enrolled(ctx)
	if err != nil {
		return nil, err
	}

	var fresh, changed []*Prospect
	isFresh := map[string]bool{}
	var enroll []string
	for _, it := range candidates {
		var matches []*Prospect
		for _, k := range identityKeys(it.ident) {
			if p := im.byKey[k]; p != nil && (len(matches) == 0 || matches[0] != p) {
				matches = append(matches, p)
			}
		}
		if len(matches) > 1 {
			it.res.Status, it.res.Error = RowInvalid, fmt.Sprintf(
				"its identifiers name two different prospects already stored (%s and %s)", matches[0].label(), matches[1].label())
			continue
		}
		var p *Prospect
		if len(matches) == 1 {
			p = matches[0]
			if msg := conflict(*p, it.ident); msg != "" {
				it.res.Status, it.res.Error = RowInvalid, msg
				continue
			}
			if row, ok := enrolledBy[p.ID]; ok {
				it.res.Status, it.res.Error = RowDuplicate, "already in this campaign"
				if row > 0 {
					it.res.Error = fmt.Sprintf("same prospect as row %d", row)
				}
				continue
			}
			merge(p, it.ident, it.row)
			im.index(p)
			if !isFresh[p.ID] {
				changed = append(changed, p)
			}
		} else {
			p = &Prospect{ID: id.New("prs"), WorkspaceID: im.c.WorkspaceID, FirstName: it.row.FirstName,
				LastName: it.row.LastName, Company: it.row.Company, Custom: it.row.Custom, CreatedAt: im.now}
			merge(p, it.ident, ProspectRow{})
			im.index(p)
			isFresh[p.ID] = true
			fresh = append(fresh, p)
		}
		enrolledBy[p.ID] = it.row.Row
		enroll = append(enroll, p.ID)
		it.res.Status, it.res.ProspectID = RowImported, p.ID
	}

	if err := im.insertProspects(ctx, fresh); err != nil {
		return nil, err
	}
	for _, p := range changed {
		if err := im.updateProspect(ctx, p); err != nil {
			return nil, err
		}
	}
	if err := im.insertEnrollments(ctx, enroll); err != nil {
		return nil, err
	}
	out := make([]RowResult, len(items))
	for i, it := range items {
		out[i] = it.res
	}
	return out, nil
}

// fetch loads the workspace's prospects whose col is one of values.
func (im *importer) fetch(ctx context.Context, col string, values []string) error {
	for start := 0; start < len(values); start += importBatch {
		chunk := values[start:min(start+importBatch, len(values))]
		args := []any{im.c.WorkspaceID}
		for _, v := range chunk {
			args = append(args, v)
		}
		rows, err := im.tx.QueryContext(ctx, `SELECT `+prospectColumns+` FROM prospects WHERE workspace_id = $1 AND `+
			col+` IN (`+placeholders(2, len(chunk))+`)`, args...)
		if err != nil {
			return fmt.Errorf("matching stored prospects: %w", err)
		}
		for rows.Next() {
			p, err := scanProspect(rows)
			if err != nil {
				rows.Close()
				return fmt.Errorf("matching stored prospects: %w", err)
			}
			if im.byID[p.ID] == nil {
				im.index(&p)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("matching stored prospects: %w", err)
		}
	}
	return nil
}

// enrolled says which of the fetched prospects the campaign already has.
func (im *importer) enrolled(ctx context.Context) (map[string]int, error) {
	out := map[string]int{}
	ids := make([]string, 0, len(im.byID))
	for pid := range im.byID {
		ids = append(ids, pid)
	}
	sort.Strings(ids)
	for start := 0; start < len(ids); start += importBatch {
		chunk := ids[start:min(start+importBatch, len(ids))]
		args := []any{im.c.ID}
		for _, v := range chunk {
			args = append(args, v)
		}
		rows, err := im.tx.QueryContext(ctx, `SELECT prospect_id FROM enrollments WHERE campaign_id = $1 AND prospect_id IN (`+
			placeholders(2, len(chunk))+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("checking existing enrollments: %w", err)
		}
		for rows.Next() {
			var pid string
			if err := rows.Scan(&pid); err != nil {
				rows.Close()
				return nil, fmt.Errorf("checking existing enrollments: %w", err)
			}
			out[pid] = 0
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("checking existing enrollments: %w", err)
		}
	}
	return out, nil
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

// merge completes a prospect with a row: identifiers it lacked, names and
// company when the row has them, custom fields key by key.
func merge(p *Prospect, ident Identity, r ProspectRow) {
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
	if len(r.Custom) > 0 {
		custom := make(map[string]string, len(p.Custom)+len(r.Custom))
		for k, v := range p.Custom {
			custom[k] = v
		}
		for k, v := range r.Custom {
			custom[k] = v
		}
		p.Custom = custom
	}
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

// errConcurrentImport: another transaction stored one of this import's new
// prospects first (PostgreSQL only; SQLite has one writer). The import is
// rolled back whole; running it again matches those prospects instead.
func errConcurrentImport(c Campaign) error {
	return &StateError{CampaignID: c.ID, Op: "import prospects", Status: c.Status,
		Message: "another import stored some of the same prospects at the same moment; nothing was imported, run the import again"}
}

func (im *importer) insertProspects(ctx context.Context, ps []*Prospect) error {
	const cols = 11
	for start := 0; start < len(ps); start += importBatch {
		chunk := ps[start:min(start+importBatch, len(ps))]
		var sb strings.Builder
		sb.WriteString(`INSERT INTO prospects (id, workspace_id, linkedin_url, public_slug, sales_nav_id, provider_id,
			first_name, last_name, company, custom_fields, created_at, updated_at) VALUES `)
		args := make([]any, 0, len(chunk)*cols)
		for i, p := range chunk {
			custom, err := encodeCustom(p.Custom)
			if err != nil {
				return err
			}
			if i > 0 {
				sb.WriteString(", ")
			}
			n := len(args) + 1
			fmt.Fprintf(&sb, "($%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d)",
				n, n+1, n+2, n+3, n+4, n+5, n+6, n+7, n+8, n+9, n+10, n+10)
			args = append(args, p.ID, p.WorkspaceID, db.NullIfEmpty(p.LinkedInURL), db.NullIfEmpty(p.PublicSlug), db.NullIfEmpty(p.SalesNavID),
				db.NullIfEmpty(p.ProviderID), p.FirstName, p.LastName, p.Company, custom, im.now)
		}
		// ON CONFLICT DO NOTHING + RETURNING counts what went in, so a
		// concurrent insert of the same person is reported, not a crash.
		sb.WriteString(` ON CONFLICT DO NOTHING RETURNING id`)
		rows, err := im.tx.QueryContext(ctx, sb.String(), args...)
		if err != nil {
			return fmt.Errorf("storing prospects: %w", err)
		}
		n := 0
		for rows.Next() {
			n++
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("storing prospects: %w", err)
		}
		if n != len(chunk) {
			return errConcurrentImport(im.c)
		}
	}
	return nil
}

func (im *importer) updateProspect(ctx context.Context, p *Prospect) error {
	custom, err := encodeCustom(p.Custom)
	if err != nil {
		return err
	}
	p.UpdatedAt = im.now
	if _, err := im.tx.ExecContext(ctx, `
		UPDATE prospects SET linkedin_url = $2, public_slug = $3, sales_nav_id = $4, provider_id = $5,
		       first_name = $6, last_name = $7, company = $8, custom_fields = $9, updated_at = $10
		 WHERE id = $1`,
		p.ID, db.NullIfEmpty(p.LinkedInURL), db.NullIfEmpty(p.PublicSlug), db.NullIfEmpty(p.SalesNavID), db.NullIfEmpty(p.ProviderID),
		p.FirstName, p.LastName, p.Company, custom, im.now); err != nil {
		if db.IsUniqueViolation(err) {
			return errConcurrentImport(im.c)
		}
		return fmt.Errorf("updating prospect %s: %w", p.ID, err)
	}
	return nil
}

// insertEnrollments enrolls the prospects, each with the least-loaded
// sender. In a running campaign they start at the first step, due now
// (soft-paused if their sender is not connected); otherwise they wait,
// pending, for Start or Resume.
func (im *importer) insertEnrollments(ctx context.Context, prospectIDs []string) error {
	const cols = 9
	state, step, next := EnrollmentPending, any(nil), any(nil)
	if im.c.Status == StatusRunning {
		state, step, next = EnrollmentActive, FirstStepID(im.c.Steps), im.now
	}
	for start := 0; start < len(prospectIDs); start += importBatch {
		chunk := prospectIDs[start:min(start+importBatch, len(prospectIDs))]
		var sb strings.Builder
		sb.WriteString(`INSERT INTO enrollments (id, workspace_id, campaign_id, prospect_id, account_id, state, step_id,
			next_action_at, created_at, updated_at) VALUES `)
		args := make([]any, 0, len(chunk)*cols)
		for i, pid := range chunk {
			sender := leastLoaded(im.loads, im.order)
			im.loads[sender]++
			st := state
			if st == EnrollmentActive && !im.connected[sender] {
				st = EnrollmentSoftPaused
			}
			if i > 0 {
				sb.WriteString(", ")
			}
			n := len(args) + 1
			fmt.Fprintf(&sb, "($%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d)", n, n+1, n+2, n+3, n+4, n+5, n+6, n+7, n+8, n+8)
			args = append(args, id.New("enr"), im.c.WorkspaceID, im.c.ID, pid, sender, string(st), step, next, im.now)
		}
		if _, err := im.tx.ExecContext(ctx, sb.String(), args...); err != nil {
			return fmt.Errorf("enrolling prospects in campaign %s: %w", im.c.ID, err)
		}
	}
	return nil
}
