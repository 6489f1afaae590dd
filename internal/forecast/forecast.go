// Package forecast answers "when will this campaign be done, and what
// limits it?" (docs/surfaces.md#forecast): it runs the one decision
// (internal/policy) over a simulated clock from the campaign's current
// state and writes nothing. The API, the UI and the CLI call Campaign.
package forecast

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/policy"
	"github.com/keel-outreach/keel/internal/send"
)

// Horizon limits, in days.
const (
	DefaultDays = 30
	MaxDays     = 90
)

// Defaults stated when a campaign has too few answers of its own.
const (
	// MinSamples is how many invited (or messaged) prospects a campaign
	// needs before its own rate replaces the default.
	MinSamples           = 20
	DefaultAcceptance    = 0.30
	DefaultAcceptAfter   = 48 * time.Hour
	DefaultReplyRate     = 0.10
	DefaultReplyAfter    = 24 * time.Hour
	rateSourceDefault    = "default"
	rateSourceObserved   = "observed"
	dateLayout           = time.DateOnly
	notConnectedForecast = "account_not_connected"
)

// ErrDays is a days value outside 1..MaxDays or not a whole number.
var ErrDays = errors.New("days must be a whole number from 1 to 90")

// ParseDays reads the horizon of a request: empty means DefaultDays.
func ParseDays(s string) (int, error) {
	if strings.TrimSpace(s) == "" {
		return DefaultDays, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 1 || n > MaxDays {
		return 0, ErrDays
	}
	return n, nil
}

// Rates are the assumptions about how prospects answer.
type Rates struct {
	// Accept is the share of invitations accepted, AcceptAfter how long
	// after the invitation.
	Accept      float64
	AcceptAfter time.Duration
	// Reply is the share of messages and InMails answered, ReplyAfter how
	// long after.
	Reply      float64
	ReplyAfter time.Duration
}

// Usage is a sender's state for one action at the forecast's start, as
// the decision's snapshot holds it.
type Usage struct {
	UsedToday, ShareUsed int
	Week, Notes          []time.Time
	Block                *policy.Block
	// SpreadUntil is when the spread of the day's sends of the action
	// lets the next one go.
	SpreadUntil time.Time
}

// Sender is one account the simulation runs.
type Sender struct {
	Account     account.Account
	Pacing      policy.Pacing
	NextAllowed time.Time
	// IncidentUntil is when a provider incident stops holding the sender.
	IncidentUntil time.Time
	Usage         map[policy.Action]Usage
	// Pending is what the sender has outstanding at the start
	// (docs/sending.md#pending-invitations).
	Pending send.PendingAt
}

// Input is everything Simulate reads: the forecast does no I/O of its own
// beyond building this (Read).
type Input struct {
	Campaign    campaign.Campaign
	Senders     []Sender
	Enrollments []campaign.LiveEnrollment
	// Later counts the live prospects left out of Enrollments because the
	// simulation cannot move them: due at or after the horizon's end
	// (HorizonEnd) at a step that is not a condition, and (with stop on
	// reply) not replied. They count as live and as not past their step.
	Later []campaign.LiveCount
	Rates Rates
	// Observed counts behind Rates (for the assumptions).
	AcceptSamples, ReplySamples   int
	AcceptObserved, ReplyObserved bool
	Now                           time.Time
	Days                          int
	// PassInterval, when set, makes the simulation act only on the
	// scheduler's ticks, as the engine's passes do, looking at
	// send.PerAccountPerPass due prospects of a sender per pass. Zero
	// simulates a continuous scheduler.
	PassInterval time.Duration
	// PerPass is how many due prospects of a sender one pass looks at
	// (with PassInterval).
	PerPass int
}

// Forecast is the answer (docs/surfaces.md#forecast).
type Forecast struct {
	CampaignID  string      `json:"campaign_id"`
	Assumptions Assumptions `json:"assumptions"`
	// FinishDate is the UTC date the last current prospect finishes its
	// sequence; nil when that is beyond the horizon (or nothing is live).
	FinishDate *string     `json:"finish_date"`
	Days       []Day       `json:"days"`
	Steps      []StepReach `json:"steps"`
	// Decisions counts the policy decisions the simulation asked for
	// (benchmarks compare against as many bare decisions).
	Decisions int `json:"-"`
}

// Assumptions are the inputs a reader must know to trust the numbers.
type Assumptions struct {
	Start             time.Time `json:"start"`
	Days              int       `json:"days"`
	AcceptanceRate    float64   `json:"acceptance_rate"`
	AcceptanceSource  string    `json:"acceptance_source"`
	AcceptanceSamples int       `json:"acceptance_samples"`
	AcceptAfterHours  float64   `json:"accept_after_hours"`
	ReplyRate         float64   `json:"reply_rate"`
	ReplySource       string    `json:"reply_source"`
	ReplySamples      int       `json:"reply_samples"`
	ReplyAfterHours   float64   `json:"reply_after_hours"`
	CampaignStatus    string    `json:"campaign_status"`
	// AssumesRunning is set when the campaign is not running: the forecast
	// is what would happen if it were started or resumed now.
	AssumesRunning bool     `json:"assumes_running"`
	LiveProspects  int      `json:"live_prospects"`
	Notes          []string `json:"notes"`
}

// Day is one UTC day of the forecast.
type Day struct {
	Date string `json:"date"`
	// Actions counts the expected actions of the day by type, across
	// senders.
	Actions map[string]int `json:"actions"`
	// Capacity is what the senders may send that day for the campaign's
	// actions: each sender's effective daily cap (tier, configured cap,
	// ramp) within the campaign's share, on days its window opens.
	Capacity int `json:"capacity"`
	// Binding is, per sender and action, the limit that held it when it
	// stopped acting that day.
	Binding []Binding   `json:"binding"`
	Senders []SenderDay `json:"senders"`
}

// Binding is the limit holding one sender's action on a day.
type Binding struct {
	AccountID string `json:"account_id"`
	Action    string `json:"action"`
	Code      string `json:"code"`
}

// SenderDay is one sender's expected actions on a day.
type SenderDay struct {
	AccountID string         `json:"account_id"`
	Actions   map[string]int `json:"actions"`
}

// StepReach says by when every current prospect has reached a step (or
// gone past it or finished): nil when not within the horizon.
type StepReach struct {
	StepID       string  `json:"step_id"`
	AllReachedBy *string `json:"all_reached_by"`
}

// Thinned reports whether the n-th (1-based) of a sender's answers-to-be
// is answered at rate: exactly round-down(n×rate) of the first n are, spread
// evenly, so the simulation is deterministic and its share exact.
func Thinned(n int, rate float64) bool {
	if n <= 0 || rate <= 0 {
		return false
	}
	return int(float64(n)*rate+1e-9) > int(float64(n-1)*rate+1e-9)
}

// Capacity is what senders may send on the UTC day starting at day for a
// campaign's actions: per connected sender whose window opens that day, the
// effective daily cap of each action (tier, configured cap, ramp at midday)
// within the campaign's share.
func Capacity(c campaign.Campaign, senders []account.Account, day time.Time) int {
	acts := policy.CampaignActions(c)
	total := 0
	for _, a := range senders {
		if a.Status != account.StatusConnected {
			continue
		}
		win, loc := policy.AccountWindow(a)
		open := win.NextOpen(day, loc)
		if open.IsZero() || !open.Before(day.Add(24*time.Hour)) {
			continue
		}
		for _, act := range acts {
			eff := policy.EffectiveDaily(a, act, day.Add(12*time.Hour))
			total += min(eff.Cap, policy.ShareCap(c, act))
		}
	}
	return total
}

// HorizonEnd is when a forecast of days days from now stops: the end of
// the last UTC day (days <= 0: DefaultDays).
func HorizonEnd(now time.Time, days int) time.Time {
	if days <= 0 {
		days = DefaultDays
	}
	return policy.UTCDayStart(now).Add(time.Duration(days) * 24 * time.Hour)
}

func dateOf(t time.Time) *string {
	s := t.UTC().Format(dateLayout)
	return &s
}

func hours(d time.Duration) float64 { return float64(d) / float64(time.Hour) }

// assumptions builds the stated inputs of in.
func assumptions(in Input, live int) Assumptions {
	src := func(observed bool) string {
		if observed {
			return rateSourceObserved
		}
		return rateSourceDefault
	}
	a := Assumptions{Start: in.Now.UTC(), Days: in.Days,
		AcceptanceRate: in.Rates.Accept, AcceptanceSource: src(in.AcceptObserved), AcceptanceSamples: in.AcceptSamples,
		AcceptAfterHours: hours(in.Rates.AcceptAfter),
		ReplyRate:        in.Rates.Reply, ReplySource: src(in.ReplyObserved), ReplySamples: in.ReplySamples,
		ReplyAfterHours: hours(in.Rates.ReplyAfter),
		CampaignStatus:  string(in.Campaign.Status), LiveProspects: live}
	a.AssumesRunning = in.Campaign.Status != campaign.StatusRunning && live > 0
	a.Notes = []string{
		fmt.Sprintf("Acceptance and reply rates are the campaign's own once %d prospects were invited (messaged); before that the defaults (%.0f%% after %.0f h, %.0f%% after %.0f h).",
			MinSamples, DefaultAcceptance*100, hours(DefaultAcceptAfter), DefaultReplyRate*100, hours(DefaultReplyAfter)),
		"Answers are spread evenly over each sender's invitations and messages in the order they go out.",
		"Gaps between actions take the middle of their random range.",
		"Other campaigns on the same senders count with what they sent today; their future sends are not simulated.",
		"Cooldowns and credit breakers in force now are kept until they end; no new ones are predicted.",
	}
	if a.AssumesRunning {
		a.Notes = append(a.Notes, "The campaign is "+string(in.Campaign.Status)+"; the forecast assumes it runs from now.")
	}
	return a
}
