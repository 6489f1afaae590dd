package campaign

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/id"
	"github.com/keel-outreach/keel/internal/workspace"
)

// Row statuses of an import.
const (
	RowImported  = "imported"
	RowDuplicate = "duplicate"
	RowInvalid   = "invalid"
	// RowDoNotContact (dnc.go): the person is on the do-not-contact list.

	// RowInOtherCampaign: the person has a live enrollment in another
	// campaign of the workspace (named by the row's campaign_id);
	// docs/contacts.md#one-live-sequence.
	RowInOtherCampaign = "in_other_campaign"
	// RowRecentlyContacted: the person's last sequence ended without a
	// reply less than the workspace's re-contact cool-off ago (or the
	// cool-off is never); docs/contacts.md#recontact-cooloff.
	RowRecentlyContacted = "recently_contacted"
	// RowReplied: the person replied in a campaign of the workspace and is
	// never enrolled again by an import; docs/contacts.md#recontact-cooloff.
	RowReplied = "replied"
)

// EndedInOtherCampaign is the ended_reason of an enrollment ended because
// its person was live in another campaign of the workspace (migration 25
// kept the oldest of several; docs/contacts.md#one-live-sequence).
const EndedInOtherCampaign = "in_other_campaign"

// RowResult is what happened to one import row.
type RowResult struct {
	Row    int    `json:"row"`
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`
	// ProspectID is set for imported rows.
	ProspectID string `json:"prospect_id,omitempty"`
	// CampaignID names the other campaign of an in_other_campaign row.
	CampaignID string `json:"campaign_id,omitempty"`
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
// duplicate; a row that cannot be used is invalid with its reason; a row
// naming a person on the do-not-contact list is do_not_contact
// (docs/contacts.md#do-not-contact). A person live in another campaign of
// the workspace is in_other_campaign (docs/contacts.md#one-live-sequence);
// one who replied in any campaign is replied, and one whose last sequence
// ended within the workspace's re-contact cool-off is recently_contacted
// (docs/contacts.md#recontact-cooloff). Bad rows never stop good ones. A prospect the workspace already has is
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
		listed, err := listedKeys(ctx, tx, c.WorkspaceID)
		if err != nil {
			return err
		}
		recontact, err := workspace.ReadRecontact(ctx, tx, c.WorkspaceID)
		if err != nil {
			return err
		}
		im := &importer{tx: tx, c: c, now: s.clock.Now(), order: order, connected: connected, loads: loads,
			byID: map[string]*Prospect{}, byKey: map[string]*Prospect{}, listed: listed, recontact: recontact}
		if res.Rows, err = im.run(ctx, rows); err != nil {
			return err
		}
		// A re-import may have filled what held prospects lacked: they
		// are looked at again on the next pass (docs/campaigns.md#holds).
		if _, err := s.Reevaluate(ctx, tx, Scope{CampaignID: c.ID, ParkedBy: HoldCode}, im.now); err != nil {
			return err
		}
		// On SQLite each new enrollment appended a count delta; an import
		// leaves one per state (docs/storage.md#enrollment-state-counts).
		if _, err := s.FoldStateCounts(ctx, tx, c.ID); err != nil {
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
	// listed holds the do-not-contact list's person keys ("slug:…",
	// "pid:…"): rows naming a listed person are refused.
	listed map[string]bool
	// recontact is the workspace's re-contact cool-off.
	recontact workspace.Recontact
}

// isListed says whether the row's person, or the stored prospect it
// matched (p, may be nil), is on the do-not-contact list by any id.
func (im *importer) isListed(ident Identity, p *Prospect) bool {
	keys := []string{"slug:" + ident.PublicSlug, "pid:" + ident.ProviderID, "pid:" + ident.SalesNavID}
	if p != nil {
		keys = append(keys, "slug:"+p.PublicSlug, "slug:"+p.PublicHandle, "pid:"+p.ProviderID, "pid:"+p.SalesNavID, "pid:"+p.MemberID)
	}
	for _, k := range keys {
		if k != "slug:" && k != "pid:" && im.listed[k] {
			return true
		}
	}
	return false
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

// index remembers a prospect under every key a row may name it by: its
// imported ids and the member id and handle resolved when Keel first
// addressed the person. An imported id wins over a resolved one when two
// stored prospects carry the same value.
func (im *importer) index(p *Prospect) {
	im.byID[p.ID] = p
	for _, k := range identityKeys(prospectIdentity(p)) {
		im.byKey[k] = p
	}
	for _, k := range []string{"pid:" + p.MemberID, "slug:" + p.PublicHandle} {
		if k != "pid:" && k != "slug:" && im.byKey[k] == nil {
			im.byKey[k] = p
		}
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
	}{{"public_slug", slugs}, {"public_handle", slugs}, {"sales_nav_id", navs}, {"provider_id", pids}, {"member_id", pids}} {
		if err := im.fetch(ctx, q.col, q.values); err != nil {
			return nil, err
		}
	}
	// enrolledBy: prospect id -> the row that enrolled it here (0: before).
	enrolledBy, err := im.enrolled(ctx)
	if err != nil {
		return nil, err
	}
	// past: what the workspace's other campaigns did with these people.
	past, err := im.history(ctx)
	if err != nil {
		return nil, err
	}

	var fresh, changed []*Prospect
	isFresh := map[string]bool{}
	var enroll []string
	byProspect := map[string]*importItem{}
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
		}
		if im.isListed(it.ident, p) {
			it.res.Status, it.res.Error = RowDoNotContact, it.ident.label()+" is on the do-not-contact list"
			continue
		}
		if p != nil {
			if row, ok := enrolledBy[p.ID]; ok {
				it.res.Status, it.res.Error = RowDuplicate, "already in this campaign"
				if row > 0 {
					it.res.Error = fmt.Sprintf("same prospect as row %d", row)
				}
				continue
			}
			if h, ok := past[p.ID]; ok {
				if status, msg := im.refusal(it.ident, h); status != "" {
					it.res.Status, it.res.Error = status, msg
					if status == RowInOtherCampaign {
						it.res.CampaignID = h.liveCampaign
					}
					continue
				}
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
		byProspect[p.ID] = it
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
	refused, err := im.insertEnrollments(ctx, enroll)
	if err != nil {
		return nil, err
	}
	if len(refused) > 0 {
		// A concurrent transaction made these people live first (the
		// one-live-sequence index refused ours): report where they are.
		live, err := im.liveCampaigns(ctx, refused)
		if err != nil {
			return nil, err
		}
		for _, pid := range refused {
			it := byProspect[pid]
			switch cid := live[pid]; {
			case cid == "":
				return nil, errConcurrentImport(im.c)
			case cid == im.c.ID:
				it.res = RowResult{Row: it.res.Row, Status: RowDuplicate, Error: "already in this campaign"}
			default:
				it.res = RowResult{Row: it.res.Row, Status: RowInOtherCampaign, CampaignID: cid,
					Error: fmt.Sprintf("%s is in campaign %s", it.ident.label(), cid)}
			}
		}
	}
	out := make([]RowResult, len(items))
	for i, it := range items {
		out[i] = it.res
	}
	return out, nil
}

// personHistory is what the workspace's campaigns did with one person
// (docs/contacts.md#one-live-sequence, #recontact-cooloff).
type personHistory struct {
	// liveCampaign is the campaign of the person's live enrollment in
	// another campaign, if any.
	liveCampaign string
	// replied: the person replied in some campaign.
	replied bool
	// lastEnded is when the person's latest sequence that ended without a
	// reply left live (zero: none).
	lastEnded time.Time
}

// refusal says whether the person of h may be enrolled now, and if not
// the row status and its sentence.
func (im *importer) refusal(ident Identity, h personHistory) (status, msg string) {
	who := ident.label()
	switch {
	case h.replied:
		return RowReplied, who + " replied in a campaign of this workspace; the conversation is a person's now, not a sequence's"
	case h.liveCampaign != "":
		return RowInOtherCampaign, fmt.Sprintf("%s is in campaign %s", who, h.liveCampaign)
	case h.lastEnded.IsZero():
		return "", ""
	}
	until, ok := im.recontact.Until(h.lastEnded)
	if !ok {
		return RowRecentlyContacted, fmt.Sprintf("%s was contacted before (sequence ended %s) and this workspace's re-contact cool-off is never",
			who, h.lastEnded.UTC().Format(time.RFC3339))
	}
	if im.now.Before(until) {
		return RowRecentlyContacted, fmt.Sprintf("%s was contacted recently (sequence ended %s); the re-contact cool-off of %d days lasts until %s",
			who, h.lastEnded.UTC().Format(time.RFC3339), im.recontact.CooloffDays, until.UTC().Format(time.RFC3339))
	}
	return "", ""
}

// conflict says why a row cannot be the stored prospect it matched: an
// identifier both have, with different values (the handle and member id
// the provider resolved count as the prospect's too).
func conflict(p Prospect, ident Identity) string {
	switch {
	case ident.PublicSlug != "" && p.PublicSlug != "" && ident.PublicSlug != p.PublicSlug && ident.PublicSlug != p.PublicHandle:
		return fmt.Sprintf("matches a stored prospect whose profile is %s, not %s", p.LinkedInURL, ProfileURLFor(ident.PublicSlug))
	case ident.SalesNavID != "" && p.SalesNavID != "" && ident.SalesNavID != p.SalesNavID:
		return fmt.Sprintf("matches a stored prospect whose Sales Navigator lead is %s, not %s", p.SalesNavID, ident.SalesNavID)
	case ident.ProviderID != "" && p.ProviderID != "" && ident.ProviderID != p.ProviderID && ident.ProviderID != p.MemberID:
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
