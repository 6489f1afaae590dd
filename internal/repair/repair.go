// Package repair finds LinkedIn account rows that break the account-state
// invariants — a database restored from before the constraints existed, or
// imported data — and, when asked, puts each through the state-flip helper
// to disconnected with an audit row and one admin alert. It never calls the
// provider: a repaired account comes back only through a real reconnect.
package repair

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/alert"
)

// DefaultBatchSize is how many rows one scan step reads.
const DefaultBatchSize = 500

// Actor is recorded in the audit rows the repair writes.
const Actor = "keel repair split-state"

// Options configures SplitState.
type Options struct {
	// Apply performs the repair; without it the run only lists findings.
	Apply bool
	// BatchSize is the scan step (DefaultBatchSize when 0).
	BatchSize int
	// Progress, when set, is called after each batch with rows examined so
	// far and the table's size.
	Progress func(scanned, total int)
}

// Finding is one row that breaks an invariant.
type Finding struct {
	AccountID   string   `json:"account_id"`
	WorkspaceID string   `json:"workspace_id"`
	Status      string   `json:"status"`
	LastError   string   `json:"last_error"`
	Problems    []string `json:"problems"`
	// Action is what the repair does (or did) to the row.
	Action string `json:"action"`
	// AlertID is set once the row's alert is raised.
	AlertID string `json:"alert_id,omitempty"`
}

// Report is the outcome of a run.
type Report struct {
	Applied  bool      `json:"applied"`
	Scanned  int       `json:"scanned"`
	Findings []Finding `json:"findings"`
	Repaired int       `json:"repaired"`
	// Validated lists PostgreSQL constraints validated after the repair.
	Validated []string `json:"validated,omitempty"`
	// NotValid lists constraints still NOT VALID after the run.
	NotValid []string `json:"not_valid,omitempty"`
}

// problemsOf lists the account-state invariants a row breaks (the same
// rules as the database's CHECKs, with the terminal phrases of
// account.IsTerminal); none means the row is sound.
func problemsOf(status, lastError string, discAt sql.NullTime, discBy sql.NullString) []string {
	var p []string
	connected := status == string(account.StatusConnected)
	if connected && account.IsTerminal(lastError) {
		p = append(p, "split state: connected with terminal copy")
	}
	if connected && discAt.Valid {
		p = append(p, "connected with disconnected_at set")
	}
	if !connected && !discAt.Valid {
		p = append(p, "not connected without disconnected_at")
	}
	if connected && discBy.Valid {
		p = append(p, "connected with disconnected_by set")
	}
	return p
}

// apply repairs one row and raises its alert in one transaction.
func apply(ctx context.Context, accounts *account.Service, f *Finding) error {
	d := accounts.DB()
	return d.InTx(ctx, func(tx *sql.Tx) error {
		now := accounts.Clock().Now()
		reason := "repair: " + strings.Join(f.Problems, "; ")
		if f.Status == string(account.StatusDisconnected) {
			if err := accounts.StampDisconnectedAt(ctx, tx, f.AccountID, account.SourceRepair); err != nil {
				return err
			}
		} else {
			c := account.TerminalRepaired()
			if _, err := accounts.FlipTx(ctx, tx, account.FlipRequest{
				AccountID: f.AccountID, To: account.StatusDisconnected, Copy: &c,
				Reason: reason, Source: account.SourceRepair, Actor: Actor,
			}); err != nil {
				return fmt.Errorf("repairing account %s: %w", f.AccountID, err)
			}
		}
		msg := fmt.Sprintf("Account %s was found %s (%s) and was disconnected by the repair. Previous copy: %q. Reconnect it to resume sending.",
			f.AccountID, f.Status, strings.Join(f.Problems, "; "), f.LastError)
		alertID, _, err := alert.Raise(ctx, tx, now, alert.New{
			WorkspaceID: f.WorkspaceID, Kind: alert.KindSplitStateRepaired, Severity: alert.Warning,
			SubjectType: "account", SubjectID: f.AccountID, Message: msg,
			DedupeKey: fmt.Sprintf("%s:%s:%d", alert.KindSplitStateRepaired, f.AccountID, now.Truncate(time.Second).Unix()),
		})
		if err != nil {
			return err
		}
		f.AlertID = alertID
		return nil
	})
}
