// Package logging builds Keel's loggers: one line per event, for people
// (docs/operations.md#logs). Its level and format come from KEEL_LOG_LEVEL
// and KEEL_LOG_FORMAT; routine chatter (the job queue's, static files')
// stays below the default level.
package logging

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
)

// OrDiscard returns l, or a logger that discards everything when l is nil:
// a service built without a logger (in tests, mostly) stays quiet rather
// than failing on a nil logger.
func OrDiscard(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}

// Formats of KEEL_LOG_FORMAT.
const (
	FormatText = "text"
	FormatJSON = "json"
)

// ParseLevel reads a KEEL_LOG_LEVEL value: debug, info, warn or error
// (empty: info).
func ParseLevel(s string) (slog.Level, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "debug":
		return slog.LevelDebug, nil
	case "", "info":
		return slog.LevelInfo, nil
	case "warn", "warning":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, fmt.Errorf("%q is not one of debug, info, warn, error", s)
}

// ParseFormat reads a KEEL_LOG_FORMAT value: text or json; empty is ""
// (the writer decides: text on a terminal, else JSON).
func ParseFormat(s string) (string, error) {
	switch v := strings.ToLower(strings.TrimSpace(s)); v {
	case "", FormatText, FormatJSON:
		return v, nil
	}
	return "", fmt.Errorf("%q is not text or json", s)
}

// New is a logger writing to w at level in format; an empty format is text
// when w is a terminal and JSON otherwise (a file, a pipe, a collector).
func New(w io.Writer, level slog.Level, format string) *slog.Logger {
	if format == "" {
		format = FormatJSON
		if isTerminal(w) {
			format = FormatText
		}
	}
	opts := &slog.HandlerOptions{Level: level}
	if format == FormatText {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// Routine is l for routine chatter (the job queue's producer counts and
// the like): its info lines are logged at debug, so they show only with
// KEEL_LOG_LEVEL=debug; warnings and errors pass unchanged.
func Routine(l *slog.Logger) *slog.Logger {
	return slog.New(demote{l.Handler()})
}

// demote logs info and debug records one level lower (info as debug).
type demote struct{ h slog.Handler }

func (d demote) Enabled(ctx context.Context, level slog.Level) bool {
	return d.h.Enabled(ctx, lowered(level))
}

func (d demote) Handle(ctx context.Context, r slog.Record) error {
	r.Level = lowered(r.Level)
	return d.h.Handle(ctx, r)
}

func (d demote) WithAttrs(as []slog.Attr) slog.Handler { return demote{d.h.WithAttrs(as)} }
func (d demote) WithGroup(name string) slog.Handler    { return demote{d.h.WithGroup(name)} }

func lowered(l slog.Level) slog.Level {
	if l < slog.LevelWarn {
		return slog.LevelDebug
	}
	return l
}
