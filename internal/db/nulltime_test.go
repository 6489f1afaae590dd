package db_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/db"
)

// TestNullTimeReadsStoredTextAsTimeParseDoes checks NullTime's one-pass
// reading of SQLite's stored form against time.Parse, on times across
// four centuries with every fraction length and offset, and on texts that
// are not that form (read by the general formats, or refused).
func TestNullTimeReadsStoredTextAsTimeParseDoes(t *testing.T) {
	t.Parallel()
	const layout = "2006-01-02 15:04:05.999999999-07:00"
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 20000; i++ {
		at := time.Unix(r.Int64N(12_000_000_000)-2_000_000_000, 0)
		switch i % 4 {
		case 1:
			at = at.Add(time.Duration(r.IntN(1000)) * time.Millisecond)
		case 2:
			at = at.Add(time.Duration(r.IntN(1_000_000_000)))
		case 3:
			at = at.Add(time.Duration(r.IntN(1000)) * time.Microsecond)
		}
		zone := time.FixedZone("", (r.IntN(27*4)-12*4)*15*60)
		text := at.In(zone).Format(layout)
		var n db.NullTime
		if err := n.Scan(text); err != nil || !n.Valid {
			t.Fatalf("%q: %v", text, err)
		}
		if !n.Time.Equal(at) || n.Time.Location() != time.UTC {
			t.Fatalf("%q read as %v, want %v in UTC", text, n.Time, at.UTC())
		}
	}
	for text, want := range map[string]time.Time{
		"2026-12-06 16:00:00":                 time.Date(2026, 12, 6, 16, 0, 0, 0, time.UTC),
		"2026-12-06T16:00:00.5Z":              time.Date(2026, 12, 6, 16, 0, 0, 500_000_000, time.UTC),
		"2026-12-06 16:00:00.123456789-01:30": time.Date(2026, 12, 6, 17, 30, 0, 123456789, time.UTC),
	} {
		var n db.NullTime
		if err := n.Scan(text); err != nil || !n.Time.Equal(want) {
			t.Errorf("%q read as %v (%v), want %v", text, n.Time, err, want)
		}
	}
	for _, text := range []string{"2026-02-30 10:00:00+00:00", "2026-12-06 24:00:00+00:00", "2026-12-06 16:00:00.+00:00",
		"2026-12-06 16:00:00+0000", "2026-12-06 16:0a:00+00:00", "yesterday"} {
		var n db.NullTime
		if err := n.Scan(text); err == nil {
			t.Errorf("%q read as %v, want an error", text, n.Time)
		}
	}
}
