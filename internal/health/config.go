package health

import (
	"errors"
	"fmt"
	"time"
)

// Defaults of docs/health.md#health-checking. A zero Config field means its default.
const (
	// DefaultInterval is how often a connected account is checked.
	DefaultInterval = 5 * time.Minute
	// DefaultDisconnectedInterval is how often an account that is not
	// connected is checked: it keeps being checked so the provider's word
	// can bring it back, but less often.
	DefaultDisconnectedInterval = 30 * time.Minute
	// DefaultUnreachableTolerance is how long Unipile may fail to answer
	// (timeouts, 5xx, 429, network errors) before a connected account goes
	// to error.
	DefaultUnreachableTolerance = 2 * time.Hour
	// DefaultJitter spreads each next check by ±10% of its interval, so
	// accounts checked together drift apart instead of hitting Unipile in
	// lockstep.
	DefaultJitter = 0.1
	// DefaultCheckTimeout bounds one GET /accounts/{id}. It is much shorter
	// than the client's default because a health check changes nothing on
	// the provider side and a hung check only delays the next one.
	DefaultCheckTimeout = 20 * time.Second
	// DefaultConcurrency is how many checks one sweep runs at once.
	DefaultConcurrency = 8

	// DefaultBurstWindow is the window the mass-404 burst guard looks at.
	DefaultBurstWindow = 10 * time.Minute
	// DefaultBurstMinAccounts is the least number of distinct accounts
	// answering 404 in the window that can trip the guard.
	DefaultBurstMinAccounts = 5
	// DefaultBurstMinPercent is the least share (in percent) of the distinct
	// accounts checked in the window that must have answered 404.
	DefaultBurstMinPercent = 20
	// DefaultBurstQuietPeriod is how long the guard stays open before it
	// half-opens and probes.
	DefaultBurstQuietPeriod = 15 * time.Minute
	// DefaultBurstProbes is how many accounts a half-open guard probes.
	DefaultBurstProbes = 3

	// DefaultDisconnectWindow is the mass-disconnect limiter's window.
	DefaultDisconnectWindow = 10 * time.Minute
	// DefaultDisconnectMin is the least number of provider-driven
	// disconnects the limiter allows per window, however few accounts exist.
	DefaultDisconnectMin = 3
	// DefaultDisconnectPercent is the share (in percent) of all accounts
	// that may be disconnected by the provider per window, when that is
	// more than DefaultDisconnectMin.
	DefaultDisconnectPercent = 5
)

// shortIntervalWarning is the threshold under which an interval is only
// fit for tests (docs/health.md#provider-call-budget: about one call per account per minute at
// most).
const shortIntervalWarning = time.Minute

// Config tunes the monitor. The zero value means every default.
type Config struct {
	// Interval between checks of a connected account.
	Interval time.Duration
	// DisconnectedInterval between checks of an account that is not
	// connected. It may not be shorter than Interval.
	DisconnectedInterval time.Duration
	// UnreachableTolerance is how long checks may fail without an answer
	// before a connected account goes to error.
	UnreachableTolerance time.Duration
	// Jitter is the fraction (0 to 0.5) by which each next check is moved
	// at random; zero means DefaultJitter. Use NoJitter for exact times.
	Jitter float64
	// CheckTimeout bounds one check's provider call.
	CheckTimeout time.Duration
	// Concurrency is how many checks a sweep runs at once.
	Concurrency int

	// BurstWindow, BurstMinAccounts and BurstMinPercent decide when the
	// mass-404 guard trips: at least BurstMinAccounts distinct accounts
	// answered 404 within BurstWindow, and they are at least
	// BurstMinPercent of the distinct accounts checked in it.
	BurstWindow      time.Duration
	BurstMinAccounts int
	BurstMinPercent  int
	// BurstQuietPeriod is how long a tripped guard refuses checks before
	// it half-opens.
	BurstQuietPeriod time.Duration
	// BurstProbes is how many healthy answers close a half-open guard.
	BurstProbes int

	// DisconnectWindow, DisconnectMin and DisconnectPercent rate-limit
	// provider-driven disconnects: at most max(DisconnectMin,
	// DisconnectPercent% of all accounts) per DisconnectWindow.
	DisconnectWindow  time.Duration
	DisconnectMin     int
	DisconnectPercent int
}

// NoJitter, as Config.Jitter, schedules checks at exact intervals.
const NoJitter = -1

// DefaultConfig returns the configuration of docs/health.md#health-checking.
func DefaultConfig() Config { return Config{}.WithDefaults() }

// WithDefaults returns c with every zero field set to its default.
func (c Config) WithDefaults() Config {
	setDur := func(v *time.Duration, def time.Duration) {
		if *v == 0 {
			*v = def
		}
	}
	setInt := func(v *int, def int) {
		if *v == 0 {
			*v = def
		}
	}
	setDur(&c.Interval, DefaultInterval)
	setDur(&c.DisconnectedInterval, max(DefaultDisconnectedInterval, c.Interval))
	setDur(&c.UnreachableTolerance, DefaultUnreachableTolerance)
	setDur(&c.CheckTimeout, DefaultCheckTimeout)
	setDur(&c.BurstWindow, DefaultBurstWindow)
	setDur(&c.BurstQuietPeriod, DefaultBurstQuietPeriod)
	setDur(&c.DisconnectWindow, DefaultDisconnectWindow)
	setInt(&c.Concurrency, DefaultConcurrency)
	setInt(&c.BurstMinAccounts, DefaultBurstMinAccounts)
	setInt(&c.BurstMinPercent, DefaultBurstMinPercent)
	setInt(&c.BurstProbes, DefaultBurstProbes)
	setInt(&c.DisconnectMin, DefaultDisconnectMin)
	setInt(&c.DisconnectPercent, DefaultDisconnectPercent)
	if c.Jitter == 0 {
		c.Jitter = DefaultJitter
	}
	return c
}

// Validate reports every problem of c (after defaults) at once.
func (c Config) Validate() error {
	c = c.WithDefaults()
	var errs []error
	positive := func(name string, d time.Duration) {
		if d <= 0 {
			errs = append(errs, fmt.Errorf("%s must be positive, got %v", name, d))
		}
	}
	positive("health interval", c.Interval)
	positive("disconnected-account interval", c.DisconnectedInterval)
	positive("unreachable tolerance", c.UnreachableTolerance)
	positive("check timeout", c.CheckTimeout)
	positive("burst window", c.BurstWindow)
	positive("burst quiet period", c.BurstQuietPeriod)
	positive("disconnect window", c.DisconnectWindow)
	if c.Interval > 0 && c.DisconnectedInterval > 0 && c.DisconnectedInterval < c.Interval {
		errs = append(errs, fmt.Errorf("disconnected-account interval %v is shorter than the health interval %v; non-connected accounts are checked less often, not more",
			c.DisconnectedInterval, c.Interval))
	}
	if c.Jitter != NoJitter && (c.Jitter < 0 || c.Jitter > 0.5) {
		errs = append(errs, fmt.Errorf("jitter must be between 0 and 0.5 (or NoJitter), got %v", c.Jitter))
	}
	atLeast := func(name string, v, least int) {
		if v < least {
			errs = append(errs, fmt.Errorf("%s must be at least %d, got %d", name, least, v))
		}
	}
	atLeast("check concurrency", c.Concurrency, 1)
	atLeast("burst minimum accounts", c.BurstMinAccounts, 1)
	atLeast("burst probes", c.BurstProbes, 1)
	atLeast("disconnect minimum", c.DisconnectMin, 1)
	if c.BurstMinPercent < 1 || c.BurstMinPercent > 100 {
		errs = append(errs, fmt.Errorf("burst minimum percent must be between 1 and 100, got %d", c.BurstMinPercent))
	}
	if c.DisconnectPercent < 0 || c.DisconnectPercent > 100 {
		errs = append(errs, fmt.Errorf("disconnect percent must be between 0 and 100, got %d", c.DisconnectPercent))
	}
	if len(errs) > 0 {
		return fmt.Errorf("health configuration: %w", errors.Join(errs...))
	}
	return nil
}

// Warnings lists settings that are valid but fit only for tests: intervals
// under a minute would call Unipile more often than Keel's rate principle
// allows.
func (c Config) Warnings() []string {
	c = c.WithDefaults()
	var out []string
	if c.Interval < shortIntervalWarning {
		out = append(out, fmt.Sprintf("health interval %v is under %v: fit for tests only, it checks each account more than once a minute", c.Interval, shortIntervalWarning))
	}
	if c.DisconnectedInterval < shortIntervalWarning {
		out = append(out, fmt.Sprintf("disconnected-account interval %v is under %v: fit for tests only", c.DisconnectedInterval, shortIntervalWarning))
	}
	return out
}

// disconnectLimit is how many provider-driven disconnects the limiter
// allows per window with total accounts in the installation.
func (c Config) disconnectLimit(total int) int {
	return max(c.DisconnectMin, total*c.DisconnectPercent/100)
}

// burstTrips reports whether notFound 404ing accounts out of checked
// distinct accounts trip the guard.
func (c Config) burstTrips(notFound, checked int) bool {
	return notFound >= c.BurstMinAccounts && notFound*100 >= c.BurstMinPercent*checked
}

// jitter returns the jitter fraction in effect.
func (c Config) jitter() float64 {
	if c.Jitter == NoJitter {
		return 0
	}
	return c.Jitter
}

// MaxSweepPeriod is the longest time between two sweeps. A sweep only checks
// accounts that are due, so sweeping often costs little and keeps checks
// close to their jittered times.
const MaxSweepPeriod = 30 * time.Second

// MinSweepPeriod is the shortest time between two sweeps, whatever the
// interval (tests use intervals of seconds).
const MinSweepPeriod = time.Second

// SweepPeriod is how often the periodic sweep runs for cfg: a tenth of the
// interval, at most MaxSweepPeriod and at least MinSweepPeriod.
func SweepPeriod(cfg Config) time.Duration {
	cfg = cfg.WithDefaults()
	return max(min(MaxSweepPeriod, cfg.Interval/10), MinSweepPeriod)
}
