package policy

import (
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/account"
)

func TestRamp(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		days   int
		factor float64
		week   int
	}{{0, .25, 1}, {6, .25, 1}, {7, .40, 2}, {14, .60, 3}, {21, .80, 4}, {28, 1, 5}, {400, 1, 5}} {
		at := start.Add(time.Duration(c.days) * 24 * time.Hour)
		if f := RampFactor(start, at); f != c.factor {
			t.Errorf("day %d: factor %v, want %v", c.days, f, c.factor)
		}
		if w := RampWeek(start, at); w != c.week {
			t.Errorf("day %d: week %d, want %d", c.days, w, c.week)
		}
	}
	for _, c := range []struct {
		configured int
		factor     float64
		want       int
	}{{20, .25, 5}, {100, .25, 25}, {3, .25, 3}, {40, .40, 16}, {7, .6, 5}, {50, 1, 50}, {0, .25, 0}} {
		if got := Ramped(c.configured, c.factor); got != c.want {
			t.Errorf("Ramped(%d, %v) = %d, want %d", c.configured, c.factor, got, c.want)
		}
	}
}

func TestEffectiveCapNamesTheBindingLimit(t *testing.T) {
	t.Parallel()
	cases := []struct {
		ceiling, configured int
		factor              float64
		want                Effective
	}{
		{100, 20, 1, Effective{20, BindingConfigured}},
		{100, 80, .25, Effective{20, BindingRamp}},
		{0, 10, 1, Effective{0, BindingCeiling}},
		{30, 30, 1, Effective{30, BindingCeiling}},
	}
	for _, c := range cases {
		if got := EffectiveCap(c.ceiling, c.configured, c.factor); got != c.want {
			t.Errorf("EffectiveCap(%d, %d, %v) = %+v, want %+v", c.ceiling, c.configured, c.factor, got, c.want)
		}
	}
}

func TestCapsAboveCeilingAreRefused(t *testing.T) {
	t.Parallel()
	errs := Caps{InviteDaily: 31, InviteWeekly: 100, InMailDaily: 1}.Validate(account.TierFree)
	if len(errs) != 2 || errs[0].Field != "caps.invite_daily" || errs[0].Ceiling != 30 || errs[1].Field != "caps.inmail_daily" {
		t.Fatalf("free tier: %+v", errs)
	}
	if errs := DefaultCaps.Validate(account.TierPremium); len(errs) != 0 {
		t.Fatalf("defaults must fit a paid tier: %+v", errs)
	}
}

func TestParseWindow(t *testing.T) {
	t.Parallel()
	if _, err := ParseWindow([]string{"mon"}, "18:00", "09:00"); err == nil {
		t.Error("end before start accepted")
	}
	if _, err := ParseWindow([]string{"mon"}, "09:00", "09:00"); err == nil {
		t.Error("empty window accepted")
	}
	if _, err := ParseWindow(nil, "09:00", "18:00"); err == nil {
		t.Error("no days accepted")
	}
	if _, err := ParseWindow([]string{"funday"}, "09:00", "18:00"); err == nil {
		t.Error("unknown day accepted")
	}
	if _, err := ParseWindow([]string{"mon"}, "24:00", "24:00"); err == nil {
		t.Error("start 24:00 accepted")
	}
	w, err := ParseWindow([]string{"SAT", "sun"}, "00:00", "24:00")
	if err != nil || w.End != 1440 || len(w.Days) != 2 {
		t.Fatalf("whole weekend: %+v %v", w, err)
	}
}

func TestWindowAcrossDST(t *testing.T) {
	t.Parallel()
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skip("no tz database")
	}
	w := DefaultWindow
	// US clocks move forward on Sunday 2026-03-08: 09:00 local is 14:00 UTC
	// on Friday the 6th and 13:00 UTC on Monday the 9th.
	fri := time.Date(2026, 3, 6, 14, 0, 0, 0, time.UTC)
	mon := time.Date(2026, 3, 9, 13, 0, 0, 0, time.UTC)
	if !w.Contains(fri, ny) || w.Contains(fri.Add(-time.Second), ny) {
		t.Error("Friday opening before the change is wrong")
	}
	if !w.Contains(mon, ny) || w.Contains(mon.Add(-time.Second), ny) {
		t.Error("Monday opening after the change is wrong")
	}
	// Friday 18:00 local (23:00 UTC) is closed (end exclusive); next open is Monday 13:00 UTC.
	closeFri := time.Date(2026, 3, 6, 23, 0, 0, 0, time.UTC)
	if w.Contains(closeFri, ny) {
		t.Error("end must be exclusive")
	}
	if got := w.NextOpen(closeFri, ny); !got.Equal(mon) {
		t.Errorf("NextOpen over the weekend and DST = %v, want %v", got, mon)
	}
	if got := w.CloseAfter(mon, ny); !got.Equal(time.Date(2026, 3, 9, 22, 0, 0, 0, time.UTC)) {
		t.Errorf("CloseAfter = %v", got)
	}
}

func TestMonthAndDayBoundaries(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 12, 31, 23, 59, 0, 0, time.UTC)
	if got := NextMonthStart(at); !got.Equal(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("NextMonthStart = %v", got)
	}
	paris, _ := time.LoadLocation("Europe/Paris")
	if got := UTCDayStart(time.Date(2026, 6, 1, 0, 30, 0, 0, paris)); !got.Equal(time.Date(2026, 5, 31, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("UTCDayStart = %v", got)
	}
}
