package send

import (
	"context"
	"log/slog"

	"github.com/keel-outreach/keel/internal/policy"
)

// logOutcome writes the one info line of a send whose provider call the
// ledger recorded, after that record committed (docs/operations.md#logs):
// ids, action, outcome and the error's kind, never the text sent, the
// note, or the provider's message. An unknown outcome is a warning; its
// reconciliation writes the info line.
func (e *Engine) logOutcome(ctx context.Context, row sendRow) {
	st, kind, err := sendOutcome(ctx, e.opts.DB.SQL, row.id)
	if err != nil {
		e.opts.Logger.Warn("reading a send's outcome for the log", "send_id", row.id, "error", err)
		return
	}
	e.logState(ctx, row, st, kind)
}

// logState writes the line for a send that reached st.
func (e *Engine) logState(ctx context.Context, row sendRow, st State, kind string, extra ...slog.Attr) {
	level, msg := slog.LevelInfo, "send "+string(st)
	switch {
	case st == StateUnknown:
		level, msg = slog.LevelWarn, "send outcome unknown; it will be reconciled, never resent"
	case row.action == policy.ActionWithdraw && st == StateConfirmed:
		msg = "invitation withdrawn"
	case row.action == policy.ActionWithdraw:
		msg = "withdrawal " + string(st)
	}
	attrs := []slog.Attr{slog.String("send_id", row.id), slog.String("account_id", row.accountID),
		slog.String("action", string(row.action)), slog.String("outcome", string(st))}
	if row.campaignID != "" {
		attrs = append(attrs, slog.String("campaign_id", row.campaignID))
	}
	if row.enrollmentID != "" {
		attrs = append(attrs, slog.String("enrollment_id", row.enrollmentID))
	}
	if kind != "" {
		attrs = append(attrs, slog.String("error_kind", kind))
	}
	e.opts.Logger.LogAttrs(ctx, level, msg, append(attrs, extra...)...)
}

// logReconciled writes the line of an unknown send that reconciliation
// settled; one still unknown (parked for a person, or to be read again)
// logs nothing more.
func (e *Engine) logReconciled(ctx context.Context, row sendRow) {
	st, kind, err := sendOutcome(ctx, e.opts.DB.SQL, row.id)
	if err != nil {
		e.opts.Logger.Warn("reading a send's outcome for the log", "send_id", row.id, "error", err)
		return
	}
	if st != StateUnknown {
		e.logState(ctx, row, st, kind)
	}
}

// logSettled writes the line of an unknown send a person settled (not who
// did: an email).
func (e *Engine) logSettled(ctx context.Context, row sendRow, outcome string) {
	st := StateFailed
	if outcome == OutcomeSent {
		st = StateConfirmed
	}
	e.logState(ctx, row, st, "", slog.Bool("settled_by_hand", true))
}
