package connect

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/unipile"
	"github.com/keel-outreach/keel/internal/workspace"
)

// Sync outcomes per Unipile account.
const (
	// SyncCreated: the account was missing and has been created.
	SyncCreated = "created"
	// SyncExisting: the account already exists in this workspace; its
	// status is left to the health monitor.
	SyncExisting = "existing"
)

// SyncItem is what Sync did with one of the workspace's accounts.
type SyncItem struct {
	ProviderAccountID string         `json:"provider_account_id"`
	Name              string         `json:"name"`
	Type              string         `json:"type"`
	SourceStatus      string         `json:"source_status"`
	Outcome           string         `json:"outcome"`
	AccountID         string         `json:"account_id,omitempty"`
	Status            account.Status `json:"status,omitempty"`
}

// SyncReport is the result of Sync. Items lists the calling workspace's
// accounts only: the Unipile account list is the whole installation's, and
// one workspace must learn nothing about another's accounts (names, ids,
// provider status), so those are only counted, as are accounts Keel does
// not import.
type SyncReport struct {
	Items    []SyncItem `json:"items"`
	Created  int        `json:"created"`
	Existing int        `json:"existing"`
	// OtherWorkspaces counts accounts that belong to other workspaces;
	// they are neither described nor moved.
	OtherWorkspaces int `json:"other_workspaces"`
	// Skipped counts accounts that are not LinkedIn accounts Keel can
	// import.
	Skipped int `json:"skipped"`
}

// syncOther marks an account of another workspace while Sync sorts them;
// it never reaches the report.
const syncOther = "other_workspace"

// Sync imports every LinkedIn account Unipile lists into the workspace,
// synchronously: when it returns, each missing account exists with the
// status its source status maps to (OK → connected, CONNECTING or none →
// connecting, CREDENTIALS → disconnected, ERROR/STOPPED/PERMISSIONS →
// error), audited with source sync. Existing accounts of the workspace are
// left to the health monitor; an account that belongs to another workspace
// is counted, not described or taken over.
func (s *Service) Sync(ctx context.Context, workspaceID string) (SyncReport, error) {
	rep := SyncReport{Items: []SyncItem{}}
	if _, err := workspace.ByID(ctx, s.db.SQL, workspaceID); err != nil {
		return rep, fmt.Errorf("syncing accounts: %w", err)
	}
	remote, err := s.client.AllAccounts(ctx)
	if err != nil {
		return rep, fmt.Errorf("syncing accounts: listing Unipile accounts: %w", err)
	}
	for _, ra := range remote {
		it := SyncItem{ProviderAccountID: string(ra.ID), Name: ra.Name, Type: ra.Type, SourceStatus: ra.SourceStatus()}
		if !strings.EqualFold(ra.Type, "LINKEDIN") || !unipile.ValidAccountID(it.ProviderAccountID) {
			rep.Skipped++
			continue
		}
		if err := s.syncOne(ctx, workspaceID, ra, &it); err != nil {
			return rep, fmt.Errorf("syncing Unipile account %s: %w", it.ProviderAccountID, err)
		}
		switch it.Outcome {
		case SyncCreated:
			rep.Created++
		case SyncExisting:
			rep.Existing++
		default:
			rep.OtherWorkspaces++
			continue
		}
		rep.Items = append(rep.Items, it)
	}
	s.log.Info("accounts synced from Unipile", "workspace_id", workspaceID, "created", rep.Created,
		"existing", rep.Existing, "other_workspaces", rep.OtherWorkspaces, "skipped", rep.Skipped)
	return rep, nil
}

// syncTarget maps a source status to the status an imported account gets,
// and the copy that explains it.
func syncTarget(sourceStatus string) (account.Status, *account.Copy) {
	switch sourceStatus {
	case unipile.StatusOK:
		return account.StatusConnected, nil
	case unipile.StatusCredentials:
		c := account.TerminalCredentials()
		return account.StatusDisconnected, &c
	case unipile.StatusError, unipile.StatusStopped, unipile.StatusPermissions:
		c := account.SoftProviderReported(sourceStatus)
		return account.StatusError, &c
	default:
		// CONNECTING, no sources, or a status Keel does not know: not
		// usable yet; the stuck-connecting watcher follows it up.
		return account.StatusConnecting, nil
	}
}

// syncOne creates one account in its own transaction, so one failure does
// not undo the others.
func (s *Service) syncOne(ctx context.Context, workspaceID string, ra unipile.Account, it *SyncItem) error {
	to, cp := syncTarget(it.SourceStatus)
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		existing, err := s.accounts.GetByProviderID(ctx, tx, it.ProviderAccountID)
		switch {
		case err == nil && existing.WorkspaceID == workspaceID:
			it.Outcome, it.AccountID, it.Status = SyncExisting, existing.ID, existing.Status
			return nil
		case err == nil:
			it.Outcome = syncOther
			return nil
		case !errors.Is(err, account.ErrNotFound):
			return err
		}
		// Accounts that need copy are created connecting and flipped, so
		// their copy and the flip's audit row say why they are not usable.
		first := to
		if cp != nil {
			first = account.StatusConnecting
		}
		a, err := s.accounts.Create(ctx, tx, account.NewAccount{
			WorkspaceID: workspaceID, ProviderAccountID: it.ProviderAccountID, Name: ra.Name, Status: first})
		if err != nil {
			return err
		}
		if first != to {
			f, err := s.accounts.FlipTx(ctx, tx, account.FlipRequest{
				AccountID: a.ID, To: to, Copy: cp, Source: account.SourceSync, Actor: "keel",
				Reason: "imported from Unipile, which reports " + it.SourceStatus})
			if err != nil {
				return fmt.Errorf("setting the imported status of account %s: %w", a.ID, err)
			}
			a = f.After
		}
		it.Outcome, it.AccountID, it.Status = SyncCreated, a.ID, a.Status
		return nil
	})
}
