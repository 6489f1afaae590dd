package outbound

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/keel-outreach/keel/internal/account"
)

// envelope is the JSON body of every delivery.
type envelope struct {
	ID        string    `json:"id"`
	Type      string    `json:"type"`
	CreatedAt time.Time `json:"created_at"`
	Data      any       `json:"data"`
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
