// Package config reads Keel's settings from the environment and from flags
// of the same meaning (a flag wins over its variable), and validates them so
// a bad value stops Keel with one line naming the variable.
package config

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/logging"
	"github.com/keel-outreach/keel/internal/outbound"
)

// Defaults.
const (
	DefaultAddr              = "127.0.0.1:8080"
	DefaultHealthInterval    = 5 * time.Minute
	DefaultSchedulerInterval = time.Minute
	DefaultMinSpacing        = 60 * time.Second
	DefaultWorkers           = 10
)

// Config is Keel's configuration.
type Config struct {
	DatabaseURL       string
	Addr              string
	PublicURL         string
	UnipileDSN        string
	UnipileAPIKey     string
	WebhookSecret     string
	HealthInterval    time.Duration
	SchedulerInterval time.Duration
	MinSpacing        time.Duration
	Workers           int
	// OutboundAllow lists the networks outbound webhooks may reach although
	// they are loopback, private, link-local… (empty: none).
	OutboundAllow []netip.Prefix
	// LogLevel and LogFormat are KEEL_LOG_LEVEL and KEEL_LOG_FORMAT
	// (an empty format: text on a terminal, else JSON).
	LogLevel  slog.Level
	LogFormat string
	// Warnings are accepted but unusual settings (test-only intervals).
	Warnings []string
}

// Sandbox reports whether Keel runs against its built-in fake Unipile:
// no Unipile credentials are configured.
func (c Config) Sandbox() bool { return c.UnipileDSN == "" && c.UnipileAPIKey == "" }

// Error is an invalid setting; its text names the variable.
type Error struct {
	Var string
	Msg string
}

func (e *Error) Error() string { return fmt.Sprintf("invalid %s: %s", e.Var, e.Msg) }

type setting struct {
	env, flag, usage, def string
	dest                  *string
}

// Load builds the configuration from env (usually os.Getenv) and the flags
// in args, registering the flags on fs. It returns the remaining arguments.
func Load(fs *flag.FlagSet, args []string, env func(string) string) (Config, []string, error) {
	var raw struct {
		db, addr, public, dsn, key, secret, health, sched, spacing, workers, allow, level, format string
	}
	settings := []setting{
		{"KEEL_DATABASE_URL", "database-url", "postgres://… selects PostgreSQL; anything else is a SQLite file path", db.DefaultURL, &raw.db},
		{"KEEL_ADDR", "addr", "listen address", DefaultAddr, &raw.addr},
		{"KEEL_PUBLIC_URL", "public-url", "external base URL (hosted-auth notify_url, redirects)", "", &raw.public},
		{"UNIPILE_DSN", "unipile-dsn", "Unipile base URL; unset means the sandbox provider", "", &raw.dsn},
		{"UNIPILE_API_KEY", "unipile-api-key", "Unipile API key (X-API-KEY)", "", &raw.key},
		{"KEEL_WEBHOOK_SECRET", "webhook-secret", "expected X-Keel-Webhook-Secret on /webhooks/unipile", "", &raw.secret},
		{"KEEL_HEALTH_INTERVAL", "health-interval", "account health-check interval", DefaultHealthInterval.String(), &raw.health},
		{"KEEL_SCHEDULER_INTERVAL", "scheduler-interval", "campaign scheduler interval", DefaultSchedulerInterval.String(), &raw.sched},
		{"KEEL_MIN_SPACING", "min-spacing", "least time between two actions of one account", DefaultMinSpacing.String(), &raw.spacing},
		{"KEEL_WORKERS", "workers", "job workers per process (0 = API only)", strconv.Itoa(DefaultWorkers), &raw.workers},
		{"KEEL_OUTBOUND_ALLOW", "outbound-allow", "comma-separated CIDRs outbound webhooks may reach although private or loopback", "", &raw.allow},
		{"KEEL_LOG_LEVEL", "log-level", "debug, info, warn or error", "info", &raw.level},
		{"KEEL_LOG_FORMAT", "log-format", "text or json (default: text on a terminal, else json)", "", &raw.format},
	}
	for _, s := range settings {
		v := env(s.env)
		if v == "" {
			v = s.def
		}
		fs.StringVar(s.dest, s.flag, v, s.usage+" ("+s.env+")")
	}
	if err := fs.Parse(args); err != nil {
		return Config{}, nil, err
	}
	c := Config{
		DatabaseURL: strings.TrimSpace(raw.db), Addr: strings.TrimSpace(raw.addr),
		PublicURL: strings.TrimRight(strings.TrimSpace(raw.public), "/"), UnipileDSN: strings.TrimSpace(raw.dsn),
		UnipileAPIKey: strings.TrimSpace(raw.key), WebhookSecret: raw.secret,
	}
	var err error
	if c.DatabaseURL == "" {
		c.DatabaseURL = db.DefaultURL
	}
	if c.DatabaseURL != "" && db.EngineOf(c.DatabaseURL) == db.Postgres {
		if _, perr := url.Parse(c.DatabaseURL); perr != nil {
			return Config{}, nil, &Error{"KEEL_DATABASE_URL", "not a valid postgres:// URL"}
		}
	}
	if _, _, serr := net.SplitHostPort(c.Addr); serr != nil {
		return Config{}, nil, &Error{"KEEL_ADDR", fmt.Sprintf("%q is not host:port", c.Addr)}
	}
	if c.PublicURL == "" {
		c.PublicURL = "http://" + c.Addr
	}
	if _, perr := Endpoint(c.PublicURL, ""); perr != nil {
		return Config{}, nil, &Error{"KEEL_PUBLIC_URL", "must be an absolute http(s) URL without credentials, query or fragment"}
	}
	switch {
	case c.UnipileDSN != "" && c.UnipileAPIKey == "":
		return Config{}, nil, &Error{"UNIPILE_API_KEY", "required when UNIPILE_DSN is set"}
	case c.UnipileDSN == "" && c.UnipileAPIKey != "":
		return Config{}, nil, &Error{"UNIPILE_DSN", "required when UNIPILE_API_KEY is set"}
	case c.UnipileDSN != "" && c.WebhookSecret == "":
		return Config{}, nil, &Error{"KEEL_WEBHOOK_SECRET", "required when UNIPILE_DSN is set"}
	}
	if c.HealthInterval, err = duration("KEEL_HEALTH_INTERVAL", raw.health, time.Minute, &c.Warnings); err != nil {
		return Config{}, nil, err
	}
	if c.SchedulerInterval, err = duration("KEEL_SCHEDULER_INTERVAL", raw.sched, time.Second, &c.Warnings); err != nil {
		return Config{}, nil, err
	}
	if c.MinSpacing, err = duration("KEEL_MIN_SPACING", raw.spacing, 60*time.Second, &c.Warnings); err != nil {
		return Config{}, nil, err
	}
	n, aerr := strconv.Atoi(strings.TrimSpace(raw.workers))
	if aerr != nil || n < 0 || n > 1000 {
		return Config{}, nil, &Error{"KEEL_WORKERS", fmt.Sprintf("%q is not a whole number from 0 to 1000", raw.workers)}
	}
	c.Workers = n
	if c.OutboundAllow, err = outbound.ParseAllowList(raw.allow); err != nil {
		return Config{}, nil, &Error{"KEEL_OUTBOUND_ALLOW", err.Error()}
	}
	if c.LogLevel, err = logging.ParseLevel(raw.level); err != nil {
		return Config{}, nil, &Error{"KEEL_LOG_LEVEL", err.Error()}
	}
	if c.LogFormat, err = logging.ParseFormat(raw.format); err != nil {
		return Config{}, nil, &Error{"KEEL_LOG_FORMAT", err.Error()}
	}
	return c, fs.Args(), nil
}

// duration parses a positive Go duration; values under warnBelow are
// accepted for tests but produce a warning.
func duration(name, v string, warnBelow time.Duration, warnings *[]string) (time.Duration, error) {
	d, err := time.ParseDuration(strings.TrimSpace(v))
	if err != nil {
		return 0, &Error{name, fmt.Sprintf("%q is not a Go duration such as 5m or 90s", v)}
	}
	if d <= 0 {
		return 0, &Error{name, "must be positive"}
	}
	if d < warnBelow {
		*warnings = append(*warnings, fmt.Sprintf("%s=%s is below %s: meant for tests only", name, d, warnBelow))
	}
	return d, nil
}

// IsConfigError reports whether err is an invalid setting.
func IsConfigError(err error) bool {
	var e *Error
	return errors.As(err, &e)
}

// Endpoint is the public URL of one of Keel's routes (the webhook
// receiver, the hosted-auth notify_url): publicURL, which must be an
// absolute http(s) URL without credentials, query or fragment, joined
// with path.
func Endpoint(publicURL, path string) (string, error) {
	base := strings.TrimRight(strings.TrimSpace(publicURL), "/")
	u, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("public URL: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", errors.New("public URL must be an absolute http(s) URL without credentials, query or fragment (KEEL_PUBLIC_URL)")
	}
	return base + path, nil
}
