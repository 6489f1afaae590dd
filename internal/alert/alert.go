// Package alert owns admin alerts: conditions a person should look at
// (a provider incident, held disconnects, repaired rows, stuck accounts…).
// A dedupe key makes a recurring condition one open alert, not thousands.
package alert

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/id"
)

// Severity ranks alerts.
type Severity string

// Severities.
const (
	Info     Severity = "info"
	Warning  Severity = "warning"
	Critical Severity = "critical"
)

// Kinds of alert Keel raises.
const (
	KindMass404Burst       = "mass_404_burst"
	KindHeldDisconnects    = "held_disconnects"
	KindSplitStateRepaired = "split_state_repaired"
	KindStuckConnecting    = "stuck_connecting"
	KindAmbiguousAccept    = "ambiguous_accept"
	KindHighFailureRate    = "high_failure_rate"
	// KindWebhookEndpointDisabled: an outbound webhook endpoint failed
	// permanently for a day and Keel stopped delivering to it.
	KindWebhookEndpointDisabled = "webhook_endpoint_disabled"
)

// Alert is one admin alert.
type Alert struct {
	ID             string     `json:"id"`
	WorkspaceID    string     `json:"workspace_id,omitempty"`
	Kind           string     `json:"kind"`
	Severity       Severity   `json:"severity"`
	SubjectType    string     `json:"subject_type,omitempty"`
	SubjectID      string     `json:"subject_id,omitempty"`
	Message        string     `json:"message"`
	DedupeKey      string     `json:"dedupe_key"`
	Occurrences    int        `json:"occurrences"`
	CreatedAt      time.Time  `json:"created_at"`
	LastSeenAt     time.Time  `json:"last_seen_at"`
	AcknowledgedAt *time.Time `json:"acknowledged_at"`
	AcknowledgedBy string     `json:"acknowledged_by,omitempty"`
	// InstallationWide marks alerts of no workspace (a provider incident,
	// say): every workspace sees them, only installation operators
	// acknowledge them.
	InstallationWide bool `json:"installation_wide"`
}

// New describes an alert to raise.
type New struct {
	// WorkspaceID is empty for installation-wide alerts.
	WorkspaceID string
	Kind        string
	Severity    Severity
	// SubjectType is "account", "campaign" or empty; SubjectID goes with it.
	SubjectType string
	SubjectID   string
	Message     string
	// DedupeKey names the condition; while an alert with the same key is
	// open, raising again only counts another occurrence. Empty means
	// kind:subject.
	DedupeKey string
}

// ErrNotFound: no such alert (in that workspace).
var ErrNotFound = errors.New("alert not found")

// ErrInstallationWide: a workspace tried to acknowledge an installation-wide
// alert, which only installation operators may do.
var ErrInstallationWide = errors.New("installation-wide alerts are acknowledged by installation operators (keel alerts ack)")

// OperatorPrefix starts the acknowledger of every acknowledgement by an
// installation operator; the database accepts no other acknowledger on an
// installation-wide alert.
const OperatorPrefix = "operator:"

// ByCLI is the acknowledger `keel alerts ack` records: whoever runs the
// binary against the database operates the installation.
const ByCLI = OperatorPrefix + "cli"

// OperatorLabel is how a workspace sees who acknowledged an installation-wide
// alert: never the operator's own name, and never another workspace's.
const OperatorLabel = "installation operator"

// Raise records an alert, or counts another occurrence of the open alert with
// the same dedupe key. It returns the alert's id and whether it is new. Call
// it inside the transaction of the change that caused it.
func Raise(ctx context.Context, q db.Querier, now time.Time, n New) (string, bool, error) {
	if n.Kind == "" || n.Message == "" {
		return "", false, errors.New("raising alert: kind and message are required")
	}
	if n.Severity == "" {
		n.Severity = Warning
	}
	if n.DedupeKey == "" {
		n.DedupeKey = n.Kind
		if n.SubjectID != "" {
			n.DedupeKey += ":" + n.SubjectType + ":" + n.SubjectID
		}
	}
	var alertID string
	var occurrences int
	err := q.QueryRowContext(ctx, `
		INSERT INTO admin_alerts (id, workspace_id, kind, severity, subject_type, subject_id,
			message, dedupe_key, created_at, last_seen_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)
		ON CONFLICT (dedupe_key) WHERE acknowledged_at IS NULL
		DO UPDATE SET occurrences = admin_alerts.occurrences + 1, last_seen_at = excluded.last_seen_at,
		              message = excluded.message
		RETURNING id, occurrences`,
		id.New("alr"), db.NullIfEmpty(n.WorkspaceID), n.Kind, string(n.Severity), db.NullIfEmpty(n.SubjectType),
		db.NullIfEmpty(n.SubjectID), n.Message, n.DedupeKey, now).Scan(&alertID, &occurrences)
	if err != nil {
		return "", false, fmt.Errorf("raising alert %s: %w", n.DedupeKey, err)
	}
	return alertID, occurrences == 1, nil
}

// Acknowledge closes an open alert. workspaceID, when set, is the
// workspace acting: it may acknowledge its own alerts only; other
// workspaces' alerts are ErrNotFound and installation-wide ones
// ErrInstallationWide, and nothing changes. An empty workspaceID is an
// installation operator, who may acknowledge any alert; by is then recorded
// with OperatorPrefix.
func Acknowledge(ctx context.Context, q db.Querier, now time.Time, alertID, workspaceID, by string) (Alert, error) {
	if strings.TrimSpace(by) == "" {
		by = "unknown"
	}
	query := `UPDATE admin_alerts SET acknowledged_at = $2, acknowledged_by = $3
	           WHERE id = $1 AND acknowledged_at IS NULL`
	args := []any{alertID, now, by}
	if workspaceID != "" {
		query += ` AND workspace_id = $4`
		args = append(args, workspaceID)
	} else if !strings.HasPrefix(by, OperatorPrefix) {
		args[2] = OperatorPrefix + by
	}
	a, err := scan(q.QueryRowContext(ctx, query+` RETURNING `+columns, args...))
	if db.IsNoRows(err) {
		// Unknown, another workspace's, installation-wide, or already
		// acknowledged: Get says which (an acknowledged alert is returned
		// as it stands).
		a, err := Get(ctx, q, alertID, workspaceID)
		if err == nil && workspaceID != "" && a.InstallationWide {
			return Alert{}, ErrInstallationWide
		}
		return a, err
	}
	if err != nil {
		return Alert{}, fmt.Errorf("acknowledging alert %s: %w", alertID, err)
	}
	return seenBy(a, workspaceID), nil
}

// seenBy is the alert as workspaceID may see it (empty: an installation
// operator, who sees everything): an installation-wide alert's
// acknowledger is shown as OperatorLabel, so no workspace learns who
// acknowledged it (rows written before only operators could still name a
// workspace's token).
func seenBy(a Alert, workspaceID string) Alert {
	if workspaceID != "" && a.InstallationWide && a.AcknowledgedBy != "" {
		a.AcknowledgedBy = OperatorLabel
	}
	return a
}

const columns = `id, workspace_id, kind, severity, subject_type, subject_id, message, dedupe_key,
	occurrences, created_at, last_seen_at, acknowledged_at, acknowledged_by`

func scan(row interface{ Scan(...any) error }) (Alert, error) {
	var (
		a                         Alert
		ws, subType, subID, ackBy sql.NullString
		ackAt                     sql.NullTime
	)
	if err := row.Scan(&a.ID, &ws, &a.Kind, &a.Severity, &subType, &subID, &a.Message, &a.DedupeKey,
		&a.Occurrences, &a.CreatedAt, &a.LastSeenAt, &ackAt, &ackBy); err != nil {
		return Alert{}, err
	}
	a.WorkspaceID, a.SubjectType, a.SubjectID, a.AcknowledgedBy = ws.String, subType.String, subID.String, ackBy.String
	a.InstallationWide = !ws.Valid
	a.CreatedAt, a.LastSeenAt = a.CreatedAt.UTC(), a.LastSeenAt.UTC()
	if ackAt.Valid {
		t := ackAt.Time.UTC()
		a.AcknowledgedAt = &t
	}
	return a, nil
}

// Get reads one alert visible to workspaceID (empty: any).
func Get(ctx context.Context, q db.Querier, alertID, workspaceID string) (Alert, error) {
	query := `SELECT ` + columns + ` FROM admin_alerts WHERE id = $1`
	args := []any{alertID}
	if workspaceID != "" {
		query += ` AND (workspace_id = $2 OR workspace_id IS NULL)`
		args = append(args, workspaceID)
	}
	a, err := scan(q.QueryRowContext(ctx, query, args...))
	if db.IsNoRows(err) {
		return Alert{}, ErrNotFound
	}
	if err != nil {
		return Alert{}, fmt.Errorf("reading alert %s: %w", alertID, err)
	}
	return seenBy(a, workspaceID), nil
}

// Filter selects alerts for List.
type Filter struct {
	// WorkspaceID shows that workspace's alerts and installation-wide ones;
	// empty shows all.
	WorkspaceID string
	// OpenOnly hides acknowledged alerts.
	OpenOnly bool
	// Kind, when set, keeps only that kind.
	Kind string
	// Limit caps the result; 0 means 1000.
	Limit int
	// After is the id of the last alert of the previous page (keyset
	// pagination in the list's newest-first order).
	After string
}

// List returns alerts, newest first.
func List(ctx context.Context, q db.Querier, f Filter) ([]Alert, error) {
	query := `SELECT ` + columns + ` FROM admin_alerts WHERE 1 = 1`
	var args []any
	if f.WorkspaceID != "" {
		args = append(args, f.WorkspaceID)
		query += fmt.Sprintf(` AND (workspace_id = $%d OR workspace_id IS NULL)`, len(args))
	}
	if f.OpenOnly {
		query += ` AND acknowledged_at IS NULL`
	}
	if f.Kind != "" {
		args = append(args, f.Kind)
		query += fmt.Sprintf(` AND kind = $%d`, len(args))
	}
	if f.After != "" {
		args = append(args, f.After)
		query += fmt.Sprintf(` AND (created_at, id) < (SELECT created_at, id FROM admin_alerts WHERE id = $%d)`, len(args))
	}
	if f.Limit <= 0 {
		f.Limit = 1000
	}
	args = append(args, f.Limit)
	query += fmt.Sprintf(` ORDER BY created_at DESC, id DESC LIMIT $%d`, len(args))
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("listing alerts: %w", err)
	}
	defer rows.Close()
	var out []Alert
	for rows.Next() {
		a, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("listing alerts: %w", err)
		}
		out = append(out, seenBy(a, f.WorkspaceID))
	}
	return out, rows.Err()
}
