// Package alert owns admin alerts: conditions a person should look at
// (a provider incident, held disconnects, repaired rows, stuck accounts…).
// A dedupe key makes a recurring condition one open alert, not thousands.
package alert

import (
	"database/sql"
	"errors"
	"time"
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
	// KindUnmatchedAccepts: accepted invitations matched no prospect of
	// the workspace today (one alert per workspace per UTC day, its
	// message carrying the count).
	KindUnmatchedAccepts = "unmatched_accepts"
	// KindSendOutcomeUnknown: a send could not be confirmed or refuted
	// from the provider and waits for a person to settle it.
	KindSendOutcomeUnknown = "send_outcome_unknown"
	// KindWebhookEndpointDisabled: an outbound webhook endpoint failed
	// permanently for a day and Keel stopped delivering to it.
	KindWebhookEndpointDisabled = "webhook_endpoint_disabled"
	// KindReconnectFailed: a reconnect of an account that is not connected
	// failed or was abandoned (its hosted-auth link expired unused, or
	// Unipile's callback reported a failure); one open alert per account
	// (docs/accounts.md#failed-reconnects).
	KindReconnectFailed = "reconnect_failed"
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
