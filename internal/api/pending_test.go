package api

import (
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
)

// TestAccountPendingAndWithdrawSettings: caps.invite_pending,
// caps.withdraw_daily and withdraw_after_days are in the account's JSON
// with their defaults, are patched like the other settings, and out of
// range are refused together in one 422 that names each field and its
// bound, with nothing changed (docs/sending.md#pending-invitations,
// docs/sending.md#withdrawals).
func TestAccountPendingAndWithdrawSettings(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		b := newInputBundle(t, d)
		path := "/api/v1/accounts/" + b.accountID
		settings := func(acc map[string]any) [3]any {
			t.Helper()
			caps, ok := acc["caps"].(map[string]any)
			if !ok {
				t.Fatalf("account without caps: %v", acc)
			}
			return [3]any{caps["invite_pending"], caps["withdraw_daily"], acc["withdraw_after_days"]}
		}
		_, acc := b.sendJSON(t, "GET", path, nil)
		if got, want := settings(acc), [3]any{400.0, 50.0, 21.0}; got != want {
			t.Fatalf("a new account's pending cap, withdrawals per day, withdraw-after %v, want %v", got, want)
		}

		t.Run("AllThreeBadInOneAnswer", func(t *testing.T) {
			_, was := b.sendJSON(t, "GET", path, nil)
			status, prob := b.sendJSON(t, "PATCH", path, map[string]any{
				"caps": map[string]any{"invite_pending": 701, "withdraw_daily": 101}, "withdraw_after_days": 5})
			if status != http.StatusUnprocessableEntity {
				t.Fatalf("answered %d %v, want 422", status, prob)
			}
			wantMsg := map[string]string{"caps.invite_pending": "700", "caps.withdraw_daily": "100", "withdraw_after_days": "0 (never) or 7–180"}
			errs, _ := prob["errors"].([]any)
			if len(errs) != len(wantMsg) {
				t.Errorf("the 422 lists %d fields, want %d: %v", len(errs), len(wantMsg), prob)
			}
			for field, bound := range wantMsg {
				if !namesField(prob, field) {
					t.Errorf("the 422 does not name %s: %v", field, prob)
				}
				for _, e := range errs {
					if m, _ := e.(map[string]any); m["field"] == field {
						if msg, _ := m["message"].(string); !strings.Contains(msg, bound) {
							t.Errorf("%s: message %q does not say %q", field, msg, bound)
						}
					}
				}
			}
			if detail, _ := prob["detail"].(string); !strings.Contains(detail, "700") || !strings.Contains(detail, "100") ||
				!strings.Contains(detail, "7–180") {
				t.Errorf("the detail does not give the bounds: %q", detail)
			}
			if _, now := b.sendJSON(t, "GET", path, nil); !reflect.DeepEqual(was, now) {
				t.Fatalf("account changed:\n%v\n%v", was, now)
			}
		})

		refused := []struct {
			name  string
			body  map[string]any
			field string
		}{
			{"PendingAboveTheCeilingOnAPaidTier", map[string]any{"tier": "premium", "caps": map[string]any{"invite_pending": 701}}, "caps.invite_pending"},
			{"PendingNegative", map[string]any{"caps": map[string]any{"invite_pending": -1}}, "caps.invite_pending"},
			{"WithdrawalsAboveTheCeilingOnAPaidTier", map[string]any{"tier": "recruiter", "caps": map[string]any{"withdraw_daily": 101}}, "caps.withdraw_daily"},
			{"WithdrawAfterBelowAWeek", map[string]any{"withdraw_after_days": 6}, "withdraw_after_days"},
			{"WithdrawAfterAboveHalfAYear", map[string]any{"withdraw_after_days": 181}, "withdraw_after_days"},
			{"WithdrawAfterNegative", map[string]any{"withdraw_after_days": -1}, "withdraw_after_days"},
		}
		for _, c := range refused {
			t.Run(c.name, func(t *testing.T) {
				_, was := b.sendJSON(t, "GET", path, nil)
				status, prob := b.sendJSON(t, "PATCH", path, c.body)
				if status != http.StatusUnprocessableEntity || !namesField(prob, c.field) {
					t.Fatalf("answered %d %v, want 422 naming %s", status, prob, c.field)
				}
				if _, now := b.sendJSON(t, "GET", path, nil); !reflect.DeepEqual(was, now) {
					t.Fatalf("account changed:\n%v\n%v", was, now)
				}
			})
		}

		accepted := []struct {
			name string
			body map[string]any
			want [3]any
		}{
			{"NeverWithdraw", map[string]any{"withdraw_after_days": 0}, [3]any{400.0, 50.0, 0.0}},
			{"WithdrawAfterHalfAYear", map[string]any{"withdraw_after_days": 180}, [3]any{400.0, 50.0, 180.0}},
			{"WithdrawAfterAWeek", map[string]any{"withdraw_after_days": 7}, [3]any{400.0, 50.0, 7.0}},
			{"CapsAtTheirCeilings", map[string]any{"caps": map[string]any{"invite_pending": 700, "withdraw_daily": 100}}, [3]any{700.0, 100.0, 7.0}},
			{"AllThreeAtOnce", map[string]any{"caps": map[string]any{"invite_pending": 250, "withdraw_daily": 0}, "withdraw_after_days": 30},
				[3]any{250.0, 0.0, 30.0}},
		}
		for _, c := range accepted {
			t.Run(c.name, func(t *testing.T) {
				status, acc := b.sendJSON(t, "PATCH", path, c.body)
				if status != http.StatusOK {
					t.Fatalf("answered %d %v", status, acc)
				}
				if got := settings(acc); got != c.want {
					t.Fatalf("after the patch %v, want %v", got, c.want)
				}
				if _, acc = b.sendJSON(t, "GET", path, nil); settings(acc) != c.want {
					t.Fatalf("read back %v, want %v", settings(acc), c.want)
				}
			})
		}

		t.Run("OtherPatchesKeepThem", func(t *testing.T) {
			status, acc := b.sendJSON(t, "PATCH", path, map[string]any{"caps": map[string]any{"invite_daily": 15}, "timezone": "Europe/Paris"})
			if status != http.StatusOK {
				t.Fatalf("answered %d %v", status, acc)
			}
			if got, want := settings(acc), [3]any{250.0, 0.0, 30.0}; got != want {
				t.Fatalf("after an unrelated patch %v, want %v", got, want)
			}
		})
	})
}
