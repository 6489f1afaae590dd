package logging

import (
	"context"
	"log/slog"
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
