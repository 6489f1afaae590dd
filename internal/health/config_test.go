package health_test

import (
	"strings"
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
	"github.com/keel-outreach/keel/internal/health"
)

func TestConfigDefaults(t *testing.T) {
	c := health.DefaultConfig()
	want := health.Config{
		Interval: 5 * time.Minute, DisconnectedInterval: 30 * time.Minute, UnreachableTolerance: 2 * time.Hour,
		Jitter: 0.1, CheckTimeout: health.DefaultCheckTimeout, Concurrency: health.DefaultConcurrency,
		BurstWindow: 10 * time.Minute, BurstMinAccounts: 5, BurstMinPercent: 20, BurstQuietPeriod: 15 * time.Minute, BurstProbes: 3,
		DisconnectWindow: 10 * time.Minute, DisconnectMin: 3, DisconnectPercent: 5,
	}
	if c != want {
		t.Fatalf("defaults:\n got %+v\nwant %+v", c, want)
	}
	if err := (health.Config{}).Validate(); err != nil {
		t.Fatalf("the zero config is invalid: %v", err)
	}
	if w := c.Warnings(); len(w) != 0 {
		t.Fatalf("defaults warn: %v", w)
	}
}

func TestConfigValidation(t *testing.T) {
	bad := map[string]health.Config{
		"negative interval":              {Interval: -time.Second},
		"disconnected shorter":           {Interval: 10 * time.Minute, DisconnectedInterval: 5 * time.Minute},
		"jitter too large":               {Jitter: 0.9},
		"percent over 100":               {BurstMinPercent: 101},
		"negative tolerance":             {UnreachableTolerance: -time.Hour},
		"negative concurrency":           {Concurrency: -1},
		"negative disconnect percent":    {DisconnectPercent: -5},
		"negative burst minimum":         {BurstMinAccounts: -1},
		"negative disconnect window":     {DisconnectWindow: -time.Minute},
		"negative quiet period":          {BurstQuietPeriod: -time.Minute},
		"negative probes":                {BurstProbes: -3},
		"negative check timeout":         {CheckTimeout: -time.Second},
		"negative burst window":          {BurstWindow: -time.Second},
		"negative disconnected interval": {DisconnectedInterval: -time.Second},
	}
	for name, c := range bad {
		if err := c.Validate(); err == nil || !strings.HasPrefix(err.Error(), "health configuration: ") {
			t.Errorf("%s: Validate() = %v, want a health configuration error", name, err)
		}
	}
	good := health.Config{Interval: 10 * time.Second, Jitter: health.NoJitter}
	if err := good.Validate(); err != nil {
		t.Fatalf("short test interval refused: %v", err)
	}
	if got := good.WithDefaults().DisconnectedInterval; got != health.DefaultDisconnectedInterval {
		t.Fatalf("disconnected interval default with a short interval: %v", got)
	}
	if got := (health.Config{Interval: time.Hour}).WithDefaults().DisconnectedInterval; got != time.Hour {
		t.Fatalf("disconnected interval default with a long interval: %v, want the interval itself", got)
	}
}

func TestShortIntervalWarns(t *testing.T) {
	d := dbtest.Open(t, db.SQLite, dbtest.Options{})
	e := newEnv(t, d, health.Config{Interval: 10 * time.Second, DisconnectedInterval: 30 * time.Second})
	if w := e.svc.Config().Warnings(); len(w) != 2 {
		t.Fatalf("warnings: %v", w)
	}
	if logs := e.logs.String(); !strings.Contains(logs, "level=WARN") || !strings.Contains(logs, "fit for tests only") {
		t.Fatalf("no warning logged for a 10s interval:\n%s", logs)
	}
	if _, err := health.New(health.Options{DB: d, Accounts: e.accounts, Client: e.client,
		Config: health.Config{Interval: -time.Minute}}); err == nil {
		t.Fatal("New accepted a negative interval")
	}
	if _, err := health.New(health.Options{DB: d, Accounts: e.accounts}); err == nil {
		t.Fatal("New accepted a missing client")
	}
}

func TestSweepPeriod(t *testing.T) {
	for interval, want := range map[time.Duration]time.Duration{
		0:                30 * time.Second, // the default interval
		time.Hour:        30 * time.Second,
		time.Minute:      6 * time.Second,
		5 * time.Second:  time.Second,
		30 * time.Second: 3 * time.Second,
	} {
		if got := health.SweepPeriod(health.Config{Interval: interval}); got != want {
			t.Errorf("SweepPeriod(interval %v) = %v, want %v", interval, got, want)
		}
	}
}
