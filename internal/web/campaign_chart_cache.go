package web

// The campaign page's heavy figures — the forecast, the stats in people
// terms, the sends per day, each sender's next due prospect — kept for a
// minute per campaign: over a large campaign they cost far more than the
// rest of the page (docs/benchmarks.md#campaign-page), and they move by
// the hour, not by the second. A change made from the page (a prospect
// action, an import) or to the campaign itself drops them.

import (
	"context"
	"sync"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/forecast"
	"github.com/keel-outreach/keel/internal/policy"
	"github.com/keel-outreach/keel/internal/send"
)

// campaignFigures are the page's aggregates of one campaign.
type campaignFigures struct {
	fc      forecast.Forecast
	senders []account.Account
	// stats are the campaign's stats, steps in its order (no day series).
	stats send.Stats
	// daily are the counted sends of the last ChartDays UTC days.
	daily []int
	// due is each sender's earliest due active prospect per step.
	due map[string]map[string]time.Time
	// minute and updated say what they were computed for: the clock's
	// minute and the campaign's last change.
	minute, updated time.Time
}

// chartCache keeps one campaignFigures per campaign; the zero value is
// ready.
type chartCache struct {
	mu sync.Mutex
	by map[string]campaignFigures
}

// maxCachedCharts bounds the cache; past it, it starts over.
const maxCachedCharts = 1000

// ForgetCharts empties the campaign pages' cache of figures, so the next
// page computes them (benchmarks measure the cold page with it).
func (s *Server) ForgetCharts() {
	s.charts.mu.Lock()
	s.charts.by = nil
	s.charts.mu.Unlock()
}

// forgetFigures drops one campaign's figures after a change made from
// its page.
func (s *Server) forgetFigures(campaignID string) {
	s.charts.mu.Lock()
	delete(s.charts.by, campaignID)
	s.charts.mu.Unlock()
}

// figures are the campaign's figures, reused while the clock is in the
// same minute and the campaign has not changed.
func (s *Server) figures(ctx context.Context, c campaign.Campaign, now time.Time) (campaignFigures, error) {
	minute := now.Truncate(time.Minute)
	s.charts.mu.Lock()
	got, ok := s.charts.by[c.ID]
	s.charts.mu.Unlock()
	if ok && got.minute.Equal(minute) && got.updated.Equal(c.UpdatedAt) {
		return got, nil
	}
	deps := forecast.Deps{DB: s.opts.DB, Accounts: s.opts.Accounts, Campaigns: s.opts.Campaigns, MinSpacing: s.opts.MinSpacing}
	in, err := forecast.Read(ctx, deps, c, now, ChartDays)
	if err != nil {
		return campaignFigures{}, err
	}
	f := campaignFigures{fc: forecast.Simulate(in), minute: minute, updated: c.UpdatedAt}
	for _, sn := range in.Senders {
		f.senders = append(f.senders, sn.Account)
	}
	if f.stats, err = send.CampaignStats(ctx, s.opts.DB.SQL, c.ID, now, 0); err != nil {
		return campaignFigures{}, err
	}
	f.stats.Arrange(c.Steps)
	first := policy.UTCDayStart(now).Add(-time.Duration(ChartDays-1) * 24 * time.Hour)
	if f.daily, err = send.CampaignDailySends(ctx, s.opts.DB.SQL, c.ID, first, ChartDays); err != nil {
		return campaignFigures{}, err
	}
	if f.due, err = s.opts.Campaigns.DueByStep(ctx, s.opts.DB.SQL, c); err != nil {
		return campaignFigures{}, err
	}
	s.charts.mu.Lock()
	if s.charts.by == nil || len(s.charts.by) >= maxCachedCharts {
		s.charts.by = map[string]campaignFigures{}
	}
	s.charts.by[c.ID] = f
	s.charts.mu.Unlock()
	return f, nil
}
