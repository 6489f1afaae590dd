package web

// The campaign page's SVG chart: actions per day, sent (the last
// ChartDays days, from the ledger) and expected (the next ChartDays days,
// from the forecast), with the senders' real daily capacity as a line.

import (
	"fmt"
	"strings"
	"time"

	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/forecast"
	"github.com/keel-outreach/keel/internal/policy"
)

// ChartDays is how many days the chart shows on each side of today.
const ChartDays = 14

type bar struct {
	X, Y, W, H int
	Count      int
	Title      string
}

type chartDay struct {
	Label  string
	X      int
	Actual *bar
	// Expected is the forecast's count (today: what was sent plus what is
	// expected for the rest of the day).
	Expected *bar
}

// chart is a server-rendered SVG bar chart of actions per day: sent
// before today, expected from today, and each day's capacity.
type chart struct {
	Width, Height int
	Days          []chartDay
	// CapPath is the SVG path of the capacity line, one step per day.
	CapPath string
	// CapToday is today's capacity.
	CapToday            int
	Max                 int
	Sent, Expected      int
	BaseY, TodayX       int
	ExpectedAssumesRuns bool
}

// sendsChart counts the campaign's counted ledger rows per UTC day for the
// last ChartDays days and the forecast of the next ChartDays days (both
// from the page's figures, kept for a minute), computes each day's capacity (forecast.Capacity: each
// sender's effective daily cap — tier, configured cap, ramp on that day —
// within the campaign's share, on days its window opens) and lays out the
// SVG.
func (s *Server) sendsChart(f campaignFigures, c campaign.Campaign, now time.Time) chart {
	today := policy.UTCDayStart(now)
	first := today.Add(-time.Duration(ChartDays-1) * 24 * time.Hour)
	counts, fc, senders := f.daily, f.fc, f.senders

	n := 2*ChartDays - 1 // the past days, today, the future days
	actual := make([]int, n)
	expected := make([]int, n)
	capacity := make([]int, n)
	hasActual := make([]bool, n)
	hasExpected := make([]bool, n)
	for i := 0; i < ChartDays; i++ {
		actual[i], hasActual[i] = counts[i], true
	}
	for i, d := range fc.Days {
		j := ChartDays - 1 + i
		for _, v := range d.Actions {
			expected[j] += v
		}
		hasExpected[j] = true
	}
	expected[ChartDays-1] += actual[ChartDays-1]
	ch := chart{Width: 720, Height: 210, BaseY: 170, ExpectedAssumesRuns: fc.Assumptions.AssumesRunning}
	ch.Max = 1
	for i := 0; i < n; i++ {
		capacity[i] = forecast.Capacity(c, senders, first.Add(time.Duration(i)*24*time.Hour))
		ch.Max = max(ch.Max, capacity[i], actual[i], expected[i])
	}
	ch.CapToday = capacity[ChartDays-1]
	const plot = 150
	slot := (ch.Width - 40) / n
	y := func(v int) int { return ch.BaseY - v*plot/ch.Max }
	var path strings.Builder
	for i := 0; i < n; i++ {
		day := first.Add(time.Duration(i) * 24 * time.Hour)
		x := 40 + i*slot
		cd := chartDay{X: x + 2, Label: day.Format("2")}
		half := (slot - 4) / 2
		if hasActual[i] {
			h := actual[i] * plot / ch.Max
			cd.Actual = &bar{X: x + 2, Y: ch.BaseY - h, W: half, H: h, Count: actual[i],
				Title: fmt.Sprintf("%s: %d sent (capacity %d)", day.Format("Mon Jan 2"), actual[i], capacity[i])}
			ch.Sent += actual[i]
		}
		if hasExpected[i] {
			h := expected[i] * plot / ch.Max
			cd.Expected = &bar{X: x + 2 + half, Y: ch.BaseY - h, W: half, H: h, Count: expected[i],
				Title: fmt.Sprintf("%s: %d expected (capacity %d)", day.Format("Mon Jan 2"), expected[i], capacity[i])}
			ch.Expected += expected[i]
		}
		if i == ChartDays-1 {
			ch.TodayX = x
		}
		ch.Days = append(ch.Days, cd)
		if i == 0 {
			fmt.Fprintf(&path, "M%d %d", x, y(capacity[i]))
		} else {
			fmt.Fprintf(&path, " V%d", y(capacity[i]))
		}
		fmt.Fprintf(&path, " H%d", x+slot)
	}
	ch.CapPath = path.String()
	return ch
}
