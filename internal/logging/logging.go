// Package logging holds the one default Keel's services apply to a logger
// they were not given.
package logging

import "log/slog"

// OrDiscard returns l, or a logger that discards everything when l is nil:
// a service built without a logger (in tests, mostly) stays quiet rather
// than failing on a nil logger.
func OrDiscard(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}
