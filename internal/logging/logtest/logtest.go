// Package logtest captures log records for tests that check what Keel
// logs: how many lines at which level, with which attributes, and that no
// secret appears in any of them.
package logtest

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
)

// Record is one captured line: level, message and attributes, values
// formatted as text.
type Record struct {
	Level slog.Level
	Msg   string
	Attrs map[string]string
}

// Recorder is a slog.Handler keeping every record at or above its level.
type Recorder struct {
	level slog.Level
	attrs []slog.Attr
	root  *recorderState
}

type recorderState struct {
	mu      sync.Mutex
	records []Record
}

// New returns a Recorder keeping records at level and above, and a logger
// writing to it.
func New(level slog.Level) (*Recorder, *slog.Logger) {
	r := &Recorder{level: level, root: &recorderState{}}
	return r, slog.New(r)
}

// Enabled implements slog.Handler.
func (r *Recorder) Enabled(_ context.Context, l slog.Level) bool { return l >= r.level }

// Handle implements slog.Handler.
func (r *Recorder) Handle(_ context.Context, rec slog.Record) error {
	out := Record{Level: rec.Level, Msg: rec.Message, Attrs: map[string]string{}}
	for _, a := range r.attrs {
		out.Attrs[a.Key] = a.Value.Resolve().String()
	}
	rec.Attrs(func(a slog.Attr) bool {
		out.Attrs[a.Key] = a.Value.Resolve().String()
		return true
	})
	r.root.mu.Lock()
	defer r.root.mu.Unlock()
	r.root.records = append(r.root.records, out)
	return nil
}

// WithAttrs implements slog.Handler.
func (r *Recorder) WithAttrs(as []slog.Attr) slog.Handler {
	return &Recorder{level: r.level, attrs: append(append([]slog.Attr(nil), r.attrs...), as...), root: r.root}
}

// WithGroup implements slog.Handler; groups are flattened.
func (r *Recorder) WithGroup(string) slog.Handler { return r }

// Records returns the records captured so far at level and above.
func (r *Recorder) Records(level slog.Level) []Record {
	r.root.mu.Lock()
	defer r.root.mu.Unlock()
	var out []Record
	for _, rec := range r.root.records {
		if rec.Level >= level {
			out = append(out, rec)
		}
	}
	return out
}

// Containing returns the first captured text (message or attribute value)
// that contains one of secrets, or "".
func (r *Recorder) Containing(secrets ...string) string {
	r.root.mu.Lock()
	defer r.root.mu.Unlock()
	for _, rec := range r.root.records {
		texts := []string{rec.Msg}
		for k, v := range rec.Attrs {
			texts = append(texts, k+"="+v)
		}
		for _, t := range texts {
			for _, s := range secrets {
				if s != "" && strings.Contains(t, s) {
					return fmt.Sprintf("%s: %s", rec.Msg, t)
				}
			}
		}
	}
	return ""
}
