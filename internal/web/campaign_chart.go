package web

// The campaign page's SVG chart of sends per day.

import (
	"context"
	"fmt"
	"time"

	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/policy"
	"github.com/keel-outreach/keel/internal/send"
)

// ChartDays is how many days the sends chart covers.
const ChartDays = 14

type bar struct {
	X, Y, W, H int
	Label      string
	Count      int
	Title      string
}

// chart is a server-rendered SVG bar chart of sends per day with the
// campaign's daily capacity as a line.
type chart struct {
	Width, Height int
	Bars          []bar
	CapY          int
	Cap           int
	Max           int
	Total         int
	BaseY         int
}

// sendsChart counts the campaign's counted ledger rows per UTC day for the
// last ChartDays days (one query, in send's store) and lays out the SVG.
func (s *Server) sendsChart(ctx context.Context, c campaign.Campaign, now time.Time) (chart, error) {
	first := policy.UTCDayStart(now).Add(-time.Duration(ChartDays-1) * 24 * time.Hour)
	counts, err := send.CampaignDailySends(ctx, s.opts.DB.SQL, c.ID, first, ChartDays)
	if err != nil {
		return chart{}, err
	}
	// Capacity: the caps of the actions the steps use, per sender.
	used := map[campaign.StepType]bool{}
	for _, st := range c.Steps {
		used[st.Type] = true
	}
	per := 0
	if used[campaign.StepInvite] {
		per += c.DailyCaps.Invite
	}
	if used[campaign.StepMessage] {
		per += c.DailyCaps.Message
	}
	if used[campaign.StepInMail] {
		per += c.DailyCaps.InMail
	}
	if used[campaign.StepViewProfile] {
		per += c.DailyCaps.ViewProfile
	}
	ch := chart{Width: 560, Height: 200, Cap: per * len(c.AccountIDs), BaseY: 170}
	ch.Max = max(ch.Cap, 1)
	for _, n := range counts {
		ch.Max = max(ch.Max, n)
		ch.Total += n
	}
	plot := 150
	slot := (ch.Width - 40) / ChartDays
	for i, n := range counts {
		h := n * plot / ch.Max
		day := first.Add(time.Duration(i) * 24 * time.Hour)
		ch.Bars = append(ch.Bars, bar{X: 40 + i*slot + 4, Y: ch.BaseY - h, W: slot - 8, H: h, Count: n,
			Label: day.Format("2"), Title: fmt.Sprintf("%s: %d sends", day.Format("Mon Jan 2"), n)})
	}
	ch.CapY = ch.BaseY - ch.Cap*plot/ch.Max
	return ch, nil
}
