package logging

import (
	"context"
	"log/slog"
	"strings"
	"testing"
)

func TestOrDiscard(t *testing.T) {
	if OrDiscard(nil).Enabled(context.Background(), slog.LevelError) {
		t.Error("the default logger should discard every record")
	}
	l := slog.Default()
	if OrDiscard(l) != l {
		t.Error("a given logger should be kept")
	}
}

func TestLevelsAndFormats(t *testing.T) {
	for in, want := range map[string]slog.Level{"": slog.LevelInfo, "debug": slog.LevelDebug, "WARN": slog.LevelWarn, "error": slog.LevelError} {
		if got, err := ParseLevel(in); err != nil || got != want {
			t.Errorf("ParseLevel(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := ParseLevel("loud"); err == nil {
		t.Error("an unknown level was accepted")
	}
	if _, err := ParseFormat("xml"); err == nil {
		t.Error("an unknown format was accepted")
	}
	var buf strings.Builder
	New(&buf, slog.LevelInfo, "").Info("hello", "k", 1)
	if !strings.HasPrefix(buf.String(), "{") {
		t.Errorf("not a terminal: want JSON, got %q", buf.String())
	}
	buf.Reset()
	New(&buf, slog.LevelInfo, FormatText).Info("hello", "k", 1)
	if !strings.Contains(buf.String(), "msg=hello k=1") {
		t.Errorf("text: %q", buf.String())
	}
}

func TestRoutineChatterIsDebug(t *testing.T) {
	var buf strings.Builder
	l := Routine(New(&buf, slog.LevelInfo, FormatJSON))
	l.Info("producer: jobs fetched", "n", 3)
	if buf.Len() != 0 {
		t.Errorf("routine info logged at the info level: %q", buf.String())
	}
	l.Warn("queue slow")
	if !strings.Contains(buf.String(), `"level":"WARN"`) {
		t.Errorf("a routine warning was lost: %q", buf.String())
	}
	buf.Reset()
	Routine(New(&buf, slog.LevelDebug, FormatJSON)).Info("producer: jobs fetched")
	if !strings.Contains(buf.String(), `"level":"DEBUG"`) {
		t.Errorf("with debug on, routine lines show as debug: %q", buf.String())
	}
}
