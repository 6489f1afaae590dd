package outbound

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/id"
)

// envelope is the JSON body of every delivery.
type envelope struct {
	ID        string    `json:"id"`
	Type      string    `json:"type"`
	CreatedAt time.Time `json:"created_at"`
	Data      any       `json:"data"`
}

// Emit records an event of eventType for a workspace, and one pending
// delivery per active endpoint subscribed to it, inside tx: when tx rolls
// back, nothing is ever sent. It uses tx only (never the *sql.DB), so it
// is safe on SQLite's single connection. The event row is written even
// when no endpoint matches.
func (s *Service) Emit(ctx context.Context, tx *sql.Tx, workspaceID, eventType string, data any) error {
	if !slices.Contains(EventTypes, eventType) {
		return fmt.Errorf("emitting webhook event: unknown event type %q", eventType)
	}
	now := s.clock.Now()
	ev := envelope{ID: id.New("evt"), Type: eventType, CreatedAt: now, Data: data}
	body, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("emitting %s event: encoding data: %w", eventType, err)
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, events FROM outbound_endpoints
		WHERE workspace_id = $1 AND active = $2 AND deleted_at IS NULL ORDER BY id`, workspaceID, true)
	if err != nil {
		return fmt.Errorf("emitting %s event: finding endpoints: %w", eventType, err)
	}
	var targets []string
	for rows.Next() {
		var epID, events string
		if err := rows.Scan(&epID, &events); err != nil {
			rows.Close()
			return fmt.Errorf("emitting %s event: reading endpoint: %w", eventType, err)
		}
		if events == "" || slices.Contains(splitEvents(events), eventType) {
			targets = append(targets, epID)
		}
	}
	if err := rows.Close(); err != nil {
		return fmt.Errorf("emitting %s event: finding endpoints: %w", eventType, err)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("emitting %s event: finding endpoints: %w", eventType, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO outbound_events (id, workspace_id, type, body, created_at)
		VALUES ($1, $2, $3, $4, $5)`, ev.ID, workspaceID, eventType, string(body), now); err != nil {
		return fmt.Errorf("emitting %s event for workspace %s: %w", eventType, workspaceID, err)
	}
	for _, epID := range targets {
		if _, err := tx.ExecContext(ctx, `INSERT INTO outbound_deliveries
			(id, workspace_id, event_id, endpoint_id, state, attempts, next_attempt_at, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, 0, $6, $6, $6)`,
			id.New("whd"), workspaceID, ev.ID, epID, StatePending, now); err != nil {
			return fmt.Errorf("queueing %s event %s for endpoint %s: %w", eventType, ev.ID, epID, err)
		}
	}
	return nil
}

// AccountEventData is the data of the account_connected and
// account_disconnected events.
type AccountEventData struct {
	AccountID      string     `json:"account_id"`
	Name           string     `json:"name"`
	Status         string     `json:"status"`
	PreviousStatus string     `json:"previous_status"`
	LastError      string     `json:"last_error,omitempty"`
	DisconnectedAt *time.Time `json:"disconnected_at,omitempty"`
	Source         string     `json:"source"`
	At             time.Time  `json:"at"`
}

// OnAccountFlip is an account.Consequence: register it with
// account.Service.OnFlip. It emits linkedin.account_disconnected when an
// account leaves connected and linkedin.account_connected when it becomes
// connected, inside the flip's transaction.
func (s *Service) OnAccountFlip(ctx context.Context, tx *sql.Tx, f account.Flipped) error {
	var eventType string
	switch {
	case f.Before.Status == account.StatusConnected && f.After.Status != account.StatusConnected:
		eventType = EventAccountDisconnected
	case f.Before.Status != account.StatusConnected && f.After.Status == account.StatusConnected:
		eventType = EventAccountConnected
	default:
		return nil
	}
	data := AccountEventData{
		AccountID: f.After.ID, Name: f.After.Name, Status: string(f.After.Status),
		PreviousStatus: string(f.Before.Status), LastError: f.After.LastError,
		DisconnectedAt: f.After.DisconnectedAt, Source: string(f.Source), At: f.At,
	}
	if err := s.Emit(ctx, tx, f.After.WorkspaceID, eventType, data); err != nil {
		return fmt.Errorf("account %s flip: %w", f.After.ID, err)
	}
	return nil
}
