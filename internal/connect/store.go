package connect

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/id"
	"github.com/keel-outreach/keel/internal/unipile"
)

// mint stores the link first, so that a callback can never arrive for a
// link Keel does not know, then asks Unipile for the wizard URL.
func (s *Service) mint(ctx context.Context, workspaceID, linkType string, a *account.Account) (string, error) {
	token, err := newToken()
	if err != nil {
		return "", fmt.Errorf("creating %s link: %w", linkType, err)
	}
	now := s.clock.Now()
	expires := now.Add(s.linkTTL)
	linkID := id.New("hal")
	var accountID, providerID any
	req := unipile.HostedAuthRequest{
		Type:               linkType,
		ExpiresOn:          expires,
		Name:               linkID, // echoed in the callback; not a secret
		NotifyURL:          s.callbackURL + "?token=" + url.QueryEscape(token),
		SuccessRedirectURL: s.successURL,
		FailureRedirectURL: s.failureURL,
	}
	if a != nil {
		accountID, providerID = a.ID, a.ProviderAccountID
		req.ReconnectAccount = a.ProviderAccountID
	}
	if _, err := s.db.SQL.ExecContext(ctx, `
		INSERT INTO hosted_auth_links (id, token_hash, workspace_id, link_type, account_id, provider_account_id,
			created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		linkID, hashToken(token), workspaceID, linkType, accountID, providerID, now, expires.Add(s.grace)); err != nil {
		return "", fmt.Errorf("storing %s link: %w", linkType, err)
	}
	wizard, err := s.client.CreateHostedAuthLink(ctx, req)
	if err != nil {
		// The stored link could never be completed; drop it (an expired
		// leftover would be harmless too).
		if _, derr := s.db.SQL.ExecContext(context.WithoutCancel(ctx),
			`DELETE FROM hosted_auth_links WHERE id = $1 AND used_at IS NULL`, linkID); derr != nil {
			s.log.Warn("dropping unused hosted-auth link", "link_id", linkID, "error", derr)
		}
		return "", fmt.Errorf("creating %s link: %w", linkType, err)
	}
	s.log.Info("hosted-auth link created", "link_id", linkID, "type", linkType, "workspace_id", workspaceID,
		"account_id", accountID, "expires_at", expires)
	return wizard, nil
}

// markUsed spends the link inside tx.
func (s *Service) markUsed(ctx context.Context, tx *sql.Tx, l link, accountID, status string) error {
	res, err := tx.ExecContext(ctx, `
		UPDATE hosted_auth_links SET used_at = $2, result_status = $3, account_id = $4
		 WHERE id = $1 AND used_at IS NULL`, l.id, s.clock.Now(), status, accountID)
	if err != nil {
		return fmt.Errorf("marking hosted-auth link %s used: %w", l.id, err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return errLinkSpent
	}
	return nil
}

// connectingIDs lists accounts in connecting.
func (s *Service) connectingIDs(ctx context.Context) ([]string, error) {
	rows, err := s.db.SQL.QueryContext(ctx, `SELECT id FROM linkedin_accounts WHERE status = 'connecting' ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("listing connecting accounts: %w", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("listing connecting accounts: %w", err)
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// connectingSince is when the account last entered connecting, from its
// audit trail (its creation row when it was created connecting).
func (s *Service) connectingSince(ctx context.Context, a account.Account) (time.Time, error) {
	var since time.Time
	err := s.db.SQL.QueryRowContext(ctx, `
		SELECT created_at FROM linkedin_account_status_audit
		 WHERE account_id = $1 AND to_status = 'connecting'
		 ORDER BY id DESC LIMIT 1`, a.ID).Scan(&since)
	if errors.Is(err, sql.ErrNoRows) {
		return a.CreatedAt, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("reading when account %s started connecting: %w", a.ID, err)
	}
	return since.UTC(), nil
}

// lookup finds a usable link by token. Tokens of implausible length are
// refused before any query.
func (s *Service) lookup(ctx context.Context, token string) (link, bool, error) {
	if len(token) < 20 || len(token) > 128 {
		return link{}, false, nil
	}
	l, err := scanLink(s.db.SQL.QueryRowContext(ctx,
		`SELECT `+linkColumns+` FROM hosted_auth_links WHERE token_hash = $1`, hashToken(token)))
	if errors.Is(err, sql.ErrNoRows) {
		return link{}, false, nil
	}
	if err != nil {
		return link{}, false, fmt.Errorf("reading hosted-auth link: %w", err)
	}
	return l, l.usable(s.clock.Now()), nil
}

// lockLink re-reads the link inside tx, holding its row, and refuses it if
// it was spent or expired since lookup.
func (s *Service) lockLink(ctx context.Context, tx *sql.Tx, linkID string) (link, error) {
	l, err := scanLink(tx.QueryRowContext(ctx,
		`SELECT `+linkColumns+` FROM hosted_auth_links WHERE id = $1`+s.db.LockForUpdate(), linkID))
	if err != nil {
		return link{}, fmt.Errorf("locking hosted-auth link %s: %w", linkID, err)
	}
	if !l.usable(s.clock.Now()) {
		return link{}, errLinkSpent
	}
	return l, nil
}

// abandonedLinks are the reconnect links that expired (grace included)
// unused, are not recorded yet, and after which no reconnect link of the
// same account was used.
func (s *Service) abandonedLinks(ctx context.Context, now time.Time) ([]link, error) {
	rows, err := s.db.SQL.QueryContext(ctx, `SELECT `+linkColumns+` FROM hosted_auth_links l
		WHERE l.link_type = $1 AND l.used_at IS NULL AND l.expires_at < $2 AND l.account_id IS NOT NULL
		  AND NOT EXISTS (SELECT 1 FROM hosted_auth_failures f WHERE f.link_id = l.id)
		  AND NOT EXISTS (SELECT 1 FROM hosted_auth_links u WHERE u.account_id = l.account_id AND u.used_at IS NOT NULL
		                  AND u.created_at >= l.created_at)
		ORDER BY l.expires_at LIMIT 100`, LinkReconnect, now)
	if err != nil {
		return nil, fmt.Errorf("finding abandoned reconnect links: %w", err)
	}
	defer rows.Close()
	var out []link
	for rows.Next() {
		l, err := scanLink(rows)
		if err != nil {
			return nil, fmt.Errorf("finding abandoned reconnect links: %w", err)
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// insertFailure records a failed reconnect once per link.
func (s *Service) insertFailure(ctx context.Context, f Failure, workspaceID string) (bool, error) {
	res, err := s.db.SQL.ExecContext(ctx, `INSERT INTO hosted_auth_failures (link_id, workspace_id, account_id, kind, detail, created_at)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (link_id) DO NOTHING`, f.LinkID, workspaceID, f.AccountID, f.Kind, f.Detail, f.At)
	if err != nil {
		return false, fmt.Errorf("recording failed reconnect of account %s: %w", f.AccountID, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// Failures returns an account's failed reconnects, newest first.
func Failures(ctx context.Context, q db.Querier, accountID string) ([]Failure, error) {
	rows, err := q.QueryContext(ctx, `SELECT link_id, account_id, kind, detail, created_at FROM hosted_auth_failures
		WHERE account_id = $1 ORDER BY created_at DESC, link_id DESC LIMIT 100`, accountID)
	if err != nil {
		return nil, fmt.Errorf("reading failed reconnects of account %s: %w", accountID, err)
	}
	defer rows.Close()
	var out []Failure
	for rows.Next() {
		var f Failure
		if err := rows.Scan(&f.LinkID, &f.AccountID, &f.Kind, &f.Detail, &f.At); err != nil {
			return nil, fmt.Errorf("reading failed reconnects of account %s: %w", accountID, err)
		}
		f.At = f.At.UTC()
		out = append(out, f)
	}
	return out, rows.Err()
}

// LinkAccount is the account a hosted-auth link of the workspace
// reconnects, or created once used; "" when it has none (an unknown link,
// another workspace's, or a create link not used yet). Link ids are not
// secrets (Unipile echoes them); only the token is.
func (s *Service) LinkAccount(ctx context.Context, workspaceID, linkID string) (string, error) {
	var acc sql.NullString
	err := s.db.SQL.QueryRowContext(ctx, `SELECT account_id FROM hosted_auth_links WHERE id = $1 AND workspace_id = $2`,
		linkID, workspaceID).Scan(&acc)
	if db.IsNoRows(err) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("reading hosted-auth link %s: %w", linkID, err)
	}
	return acc.String, nil
}
