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
	// SyncOtherWorkspace: the account belongs to another workspace; it is
	// reported, never moved.
	SyncOtherWorkspace = "other_workspace"
	// SyncSkipped: not a LinkedIn account.
	SyncSkipped = "skipped"
)

// SyncItem is what Sync did with one Unipile account.
type SyncItem struct {
	ProviderAccountID string         `json:"provider_account_id"`
	Name              string         `json:"name"`
	Type              string         `json:"type"`
	SourceStatus      string         `json:"source_status"`
	Outcome           string         `json:"outcome"`
	AccountID         string         `json:"account_id,omitempty"`
	Status            account.Status `json:"status,omitempty"`
}

// SyncReport is the result of Sync.
type SyncReport struct {
	Items          []SyncItem `json:"items"`
	Created        int        `json:"created"`
	Existing       int        `json:"existing"`
	OtherWorkspace int        `json:"other_workspace"`
	Skipped        int        `json:"skipped"`
}

// Sync imports every LinkedIn account Unipile lists into the workspace,
// synchronously: when it returns, each missing account exists with the
// status its source status maps to (OK → connected, CONNECTING or none →
// connecting, CREDENTIALS → disconnected, ERROR/STOPPED/PERMISSIONS →
// error), audited with source sync. Existing accounts of the workspace are
// left to the health monitor; an account that belongs to another workspace
// is reported, not taken over.
func (s *Service) Sync(ctx context.Context, workspaceID string) (SyncReport, error) {
	var rep SyncReport
	if _, err := workspace.ByID(ctx, s.db.SQL, workspaceID); err != nil {
		return rep, fmt.Errorf("syncing accounts: %w", err)
	}
	remote, err := s.client.AllAccounts(ctx)
	if err != nil {
		return rep, fmt.Errorf("syncing accounts: listing Unipile accounts: %w", err)
	}
	for _, ra := range remote {
		it := SyncItem{ProviderAccountID: string(ra.ID), Name: ra.Name, Type: ra.Type, SourceStatus: ra.SourceStatus()}
		switch {
		case !strings.EqualFold(ra.Type, "LINKEDIN"):
			it.Outcome = SyncSkipped
		case !unipile.ValidID(it.ProviderAccountID):
			it.Outcome = SyncSkipped
		default:
			if err := s.syncOne(ctx, workspaceID, ra, &it); err != nil {
				return rep, fmt.Errorf("syncing Unipile account %s: %w", it.ProviderAccountID, err)
			}
		}
		switch it.Outcome {
		case SyncCreated:
			rep.Created++
		case SyncExisting:
			rep.Existing++
		case SyncOtherWorkspace:
			rep.OtherWorkspace++
		default:
			rep.Skipped++
		}
		rep.Items = append(rep.Items, it)
	}
	s.log.Info("accounts synced from Unipile", "workspace_id", workspaceID, "created", rep.Created,
		"existing", rep.Existing, "other_workspace", rep.OtherWorkspace, "skipped", rep.Skipped)
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
			// Do not reveal which workspace holds it.
			it.Outcome = SyncOtherWorkspace
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
