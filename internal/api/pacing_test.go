package api

import (
	"net/http"
	"reflect"
	"testing"

	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
)

// TestAccountPacingSettings: pacing is stored per account, patched field
// by field, and refused whole (422 naming every bad field, nothing
// changed) below the installation's floor (one minute here) or past the
// other gap.
func TestAccountPacingSettings(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		b := newInputBundle(t, d)
		path := "/api/v1/accounts/" + b.accountID
		pacing := func(acc map[string]any) map[string]any {
			t.Helper()
			p, ok := acc["pacing"].(map[string]any)
			if !ok {
				t.Fatalf("account without pacing: %v", acc)
			}
			return p
		}
		_, acc := b.sendJSON(t, "GET", path, nil)
		if got, want := pacing(acc), map[string]any{"spread_over_window": true, "min_gap_seconds": 60.0, "max_gap_seconds": 180.0}; !reflect.DeepEqual(got, want) {
			t.Fatalf("a new account's pacing %v, want %v", got, want)
		}

		refused := []struct {
			name   string
			body   map[string]any
			fields []string
		}{
			{"MinBelowTheFloor", map[string]any{"min_gap_seconds": 30}, []string{"pacing.min_gap_seconds"}},
			{"MaxBelowTheStoredMin", map[string]any{"max_gap_seconds": 59}, []string{"pacing.max_gap_seconds"}},
			{"MinAboveTheStoredMax", map[string]any{"min_gap_seconds": 200}, []string{"pacing.min_gap_seconds"}},
			{"MaxBelowMin", map[string]any{"min_gap_seconds": 120, "max_gap_seconds": 90}, []string{"pacing.max_gap_seconds"}},
			{"MaxAboveAnHour", map[string]any{"max_gap_seconds": 3601}, []string{"pacing.max_gap_seconds"}},
			{"BothBad", map[string]any{"min_gap_seconds": 0, "max_gap_seconds": 4000}, []string{"pacing.min_gap_seconds", "pacing.max_gap_seconds"}},
		}
		for _, c := range refused {
			t.Run(c.name, func(t *testing.T) {
				_, was := b.sendJSON(t, "GET", path, nil)
				status, prob := b.sendJSON(t, "PATCH", path, map[string]any{"pacing": c.body, "timezone": "Europe/Paris"})
				if status != http.StatusUnprocessableEntity {
					t.Fatalf("answered %d %v, want 422", status, prob)
				}
				for _, f := range c.fields {
					if !namesField(prob, f) {
						t.Errorf("the 422 does not name %s: %v", f, prob)
					}
				}
				if _, now := b.sendJSON(t, "GET", path, nil); !reflect.DeepEqual(was, now) {
					t.Fatalf("account changed:\n%v\n%v", was, now)
				}
			})
		}

		t.Run("EveryBadFieldInOneAnswer", func(t *testing.T) {
			status, prob := b.sendJSON(t, "PATCH", path, map[string]any{
				"pacing": map[string]any{"min_gap_seconds": 1}, "caps": map[string]any{"invite_daily": 999}, "timezone": "Mars/Olympus"})
			if status != http.StatusUnprocessableEntity {
				t.Fatalf("answered %d %v", status, prob)
			}
			for _, f := range []string{"pacing.min_gap_seconds", "caps.invite_daily", "timezone"} {
				if !namesField(prob, f) {
					t.Errorf("the 422 does not name %s: %v", f, prob)
				}
			}
		})

		t.Run("PartialPatchKeepsTheOtherFields", func(t *testing.T) {
			status, acc := b.sendJSON(t, "PATCH", path, map[string]any{"pacing": map[string]any{"spread_over_window": false, "min_gap_seconds": 90}})
			if status != http.StatusOK {
				t.Fatalf("answered %d %v", status, acc)
			}
			want := map[string]any{"spread_over_window": false, "min_gap_seconds": 90.0, "max_gap_seconds": 180.0}
			if got := pacing(acc); !reflect.DeepEqual(got, want) {
				t.Fatalf("pacing after the patch %v, want %v", got, want)
			}
			status, acc = b.sendJSON(t, "PATCH", path, map[string]any{"pacing": map[string]any{"max_gap_seconds": 90}})
			if status != http.StatusOK {
				t.Fatalf("answered %d %v", status, acc)
			}
			_, acc = b.sendJSON(t, "GET", path, nil)
			want["max_gap_seconds"] = 90.0
			if got := pacing(acc); !reflect.DeepEqual(got, want) {
				t.Fatalf("pacing as read back %v, want %v", got, want)
			}
		})
	})
}
