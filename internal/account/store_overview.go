package account

import (
	"context"
	"fmt"
	"strings"

	"github.com/keel-outreach/keel/internal/db"
)

// reconnectSQL is Account.ReconnectNeeded as an SQL condition: not
// connected, with terminal copy (the same LIKE patterns as the CHECK).
func reconnectSQL() string {
	parts := make([]string, len(TerminalPatterns))
	for i, p := range TerminalPatterns {
		parts[i] = "lower(COALESCE(last_error, '')) LIKE '" + p + "'"
	}
	return "(status <> 'connected' AND (" + strings.Join(parts, " OR ") + "))"
}

// StatusCount is one group of CountStatuses: accounts of a status, and
// whether they need a reconnect.
type StatusCount struct {
	Status         Status
	NeedsReconnect bool
	N              int
}

// CountStatuses counts a workspace's accounts by status and by whether
// they need a reconnect: the overview's summary in one grouped query
// (docs/surfaces.md#accounts-overview).
func CountStatuses(ctx context.Context, q db.Querier, workspaceID string) ([]StatusCount, error) {
	// One read of the workspace's accounts (linkedin_accounts_workspace_idx),
	// grouped by status and by whether the copy is terminal. No index holds
	// status, so that flips stay heap-only updates
	// (docs/benchmarks.md#state-flips-with-audit).
	rows, err := q.QueryContext(ctx, `SELECT status, CASE WHEN `+reconnectSQL()+` THEN 1 ELSE 0 END, count(*)
		FROM linkedin_accounts WHERE workspace_id = $1 GROUP BY 1, 2`, workspaceID)
	if err != nil {
		return nil, fmt.Errorf("counting the accounts of workspace %s: %w", workspaceID, err)
	}
	defer rows.Close()
	var out []StatusCount
	for rows.Next() {
		var (
			c         StatusCount
			reconnect int
		)
		if err := rows.Scan(&c.Status, &reconnect, &c.N); err != nil {
			return nil, fmt.Errorf("counting the accounts of workspace %s: %w", workspaceID, err)
		}
		c.NeedsReconnect = reconnect == 1
		out = append(out, c)
	}
	return out, rows.Err()
}

// notConnected lists every status but connected, for IN.
func notConnected() string {
	var parts []string
	for _, st := range []Status{StatusConnecting, StatusNeedsVerification, StatusDisconnected, StatusRestricted, StatusError} {
		parts = append(parts, "'"+string(st)+"'")
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// PageFilter selects, orders and pages a workspace's accounts for the
// overview (docs/surfaces.md#accounts-overview).
type PageFilter struct {
	WorkspaceID string
	// Status keeps one status; NeedsReconnect keeps the accounts that
	// need a reconnect.
	Status         Status
	NeedsReconnect bool
	// Only, when not nil, keeps these ids (an attention filter whose
	// accounts another package found: cooling down, at the pending cap).
	Only []string
	// Tag keeps the accounts carrying it; Search those whose name contains
	// it (case-insensitive for ASCII letters).
	Tag    string
	Search string
	// ByAttention orders what needs a person first: needs reconnect,
	// other not connected, then the Cooling ids, then the Capped ids,
	// then the rest; each group by name. Otherwise by name, then id.
	ByAttention     bool
	Cooling, Capped []string
	// ByUsage, when set, orders by today's usage first (highest first;
	// accounts it has no row for count as 0), then by name. It returns a
	// subquery of (account_id, usage) rows, binding its values through arg;
	// the ledger's owner builds it (send.UsageJoin), so this package reads
	// no table of another.
	ByUsage       func(arg func(any) string) string
	Offset, Limit int
}

// Page returns one page of whole accounts and how many match in all.
func (s *Service) Page(ctx context.Context, q db.Querier, f PageFilter) ([]Account, int, error) {
	where := []string{"workspace_id = $1"}
	args := []any{f.WorkspaceID}
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	in := func(ids []string) string {
		if len(ids) == 0 {
			return "(NULL)"
		}
		marks := make([]string, len(ids))
		for i, id := range ids {
			marks[i] = arg(id)
		}
		return "(" + strings.Join(marks, ", ") + ")"
	}
	if f.Status != "" {
		where = append(where, "status = "+arg(string(f.Status)))
	}
	if f.NeedsReconnect {
		where = append(where, "status IN "+notConnected(), reconnectSQL())
	}
	if f.Only != nil {
		where = append(where, "id IN "+in(f.Only))
	}
	if f.Tag != "" {
		where = append(where, "id IN (SELECT account_id FROM account_tags WHERE tag = "+arg(f.Tag)+")")
	}
	if f.Search != "" {
		esc := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(strings.ToLower(f.Search))
		where = append(where, "lower(name) LIKE "+arg("%"+esc+"%")+` ESCAPE '\'`)
	}
	cond := strings.Join(where, " AND ")
	var total int
	if err := q.QueryRowContext(ctx, `SELECT count(*) FROM linkedin_accounts WHERE `+cond, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("counting accounts: %w", err)
	}
	order, from := "lower(name), id", "linkedin_accounts"
	switch {
	case f.ByAttention:
		order = "CASE WHEN " + reconnectSQL() + " THEN 0 WHEN status <> 'connected' THEN 1 WHEN id IN " + in(f.Cooling) +
			" THEN 2 WHEN id IN " + in(f.Capped) + " THEN 3 ELSE 4 END, " + order
	case f.ByUsage != nil:
		// The usage rows carry only account_id and usage, so the
		// account's own column names stay unambiguous.
		from += " LEFT JOIN (" + f.ByUsage(arg) + ") u ON u.account_id = linkedin_accounts.id"
		order = "COALESCE(u.usage, 0) DESC, " + order
	}
	rows, err := q.QueryContext(ctx, `SELECT `+selectColumns+` FROM `+from+` WHERE `+cond+` ORDER BY `+order+
		` LIMIT `+arg(f.Limit)+` OFFSET `+arg(f.Offset), args...)
	if err != nil {
		return nil, 0, fmt.Errorf("listing accounts: %w", err)
	}
	defer rows.Close()
	var out []Account
	for rows.Next() {
		a, err := ScanWith(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("listing accounts: %w", err)
		}
		out = append(out, a)
	}
	return out, total, rows.Err()
}
