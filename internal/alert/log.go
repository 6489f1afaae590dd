package alert

import (
	"context"
	"log/slog"
	"sync/atomic"

	"github.com/keel-outreach/keel/internal/db"
)

// logger receives one line per alert raised. Alerts are raised from many
// packages inside their transactions, with no logger of their own at hand,
// so the process sets it once (SetLogger); until then nothing is logged.
var logger atomic.Pointer[slog.Logger]

// SetLogger sets where raised alerts are logged, for the whole process
// (docs/operations.md#logs); nil stops it.
func SetLogger(l *slog.Logger) { logger.Store(l) }

// logRaised writes a new alert's info line once its transaction commits:
// ids, kind and severity, not its message (which may quote a provider's
// error text).
func logRaised(q db.Querier, alertID string, n New) {
	l := logger.Load()
	if l == nil {
		return
	}
	db.AfterCommit(q, func() {
		attrs := []slog.Attr{slog.String("alert_id", alertID), slog.String("kind", n.Kind), slog.String("severity", string(n.Severity))}
		if n.WorkspaceID != "" {
			attrs = append(attrs, slog.String("workspace_id", n.WorkspaceID))
		}
		if n.SubjectType != "" {
			attrs = append(attrs, slog.String(n.SubjectType+"_id", n.SubjectID))
		}
		l.LogAttrs(context.Background(), slog.LevelInfo, "alert raised", attrs...)
	})
}
