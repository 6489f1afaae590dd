// Package cli implements the keel command line of docs/surfaces.md#cli. Run returns
// the exit status: 0 success, 1 failure, 2 usage error (one line on stderr).
package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/keel-outreach/keel/internal/app"
	"github.com/keel-outreach/keel/internal/clock"
	"github.com/keel-outreach/keel/internal/config"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/logging"
	"github.com/keel-outreach/keel/internal/workspace"
)

// Env is the process environment the CLI runs in; tests supply their own.
type Env struct {
	Getenv func(string) string
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// Clock is what commands that answer "as of now" read; nil is the real
	// clock (tests pass a fake one).
	Clock clock.Clock
}

// Exit statuses.
const (
	ExitOK      = 0
	ExitFailure = 1
	ExitUsage   = 2
)

// usageError is a mistake in how keel was called.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

const usageText = `usage: keel <command> [flags]

commands:
  serve                               API, UI, webhooks and workers
  worker                              workers only (scale-out on PostgreSQL)
  migrate                             apply schema migrations and exit
  workspace create SLUG               print the new workspace id
  workspace settings --workspace SLUG [--recontact-cooloff 30d|never] [--json]
  token create --workspace SLUG [--name N] [--expires-in 90d] [--role R]   print a new API token once
  token list --workspace SLUG [--json]
  token revoke ID
  user create --workspace SLUG --email E [--role owner|admin|member|viewer]   password on standard input
  user reset-password --workspace SLUG --email E   new password on standard input; ends sessions
  user set-role --workspace SLUG --email E --role owner|admin|member|viewer   change a member's role
  user unlock --workspace SLUG --email E   clear failed sign-ins (a lockout)
  accounts list [--workspace SLUG] [--tag TAG] [--json]
  accounts tag ID TAG...              add tags to an account (all or none)
  accounts untag ID TAG...            take tags off an account
  accounts sync --workspace SLUG      import the LinkedIn accounts Unipile lists
  accounts inmail-top-up ID [--json]  clear the InMail credits breaker after a top-up
  campaigns list [--workspace SLUG] [--json]
  alerts list [--open] [--json]
  alerts ack ID                       acknowledge an alert as the installation operator
  sends settle ID --outcome sent|not_sent   settle a send whose outcome is unknown
  dnc add --workspace SLUG (URL|PROVIDER_ID)... [--reason R]   do-not-contact
  dnc list --workspace SLUG [--json]
  dnc remove --workspace SLUG ID
  dnc removals --workspace SLUG [--json]   removed entries, newest first, with who removed each
  repair split-state [--apply] [--json]
  diagnose campaign ID [--json]       "why isn't it sending?"
  diagnose account ID [--json]
  forecast campaign ID [--days N] [--json]   expected actions per day and what binds them
  sandbox [--addr A]                  run the fake Unipile server alone
`

type command func(ctx context.Context, env Env, args []string) error

func commands() map[string]command {
	return map[string]command{
		"serve":     runServe,
		"worker":    runWorker,
		"migrate":   runMigrate,
		"workspace": sub(map[string]command{"create": runWorkspaceCreate, "settings": runWorkspaceSettings}),
		"token":     sub(map[string]command{"create": runTokenCreate, "list": runTokenList, "revoke": runTokenRevoke}),
		"user": sub(map[string]command{"create": runUserCreate, "unlock": runUserUnlock, "reset-password": runUserResetPassword,
			"set-role": runUserSetRole}),
		"accounts": sub(map[string]command{"list": runAccountsList, "sync": runAccountsSync, "inmail-top-up": runAccountsInMailTopUp,
			"tag": runAccountsTag, "untag": runAccountsUntag}),
		"campaigns": sub(map[string]command{"list": runCampaignsList}),
		"alerts":    sub(map[string]command{"list": runAlertsList, "ack": runAlertsAck}),
		"sends":     sub(map[string]command{"settle": runSendsSettle}),
		"dnc":       sub(map[string]command{"add": runDNCAdd, "list": runDNCList, "remove": runDNCRemove, "removals": runDNCRemovals}),
		"repair":    sub(map[string]command{"split-state": runRepairSplitState}),
		"sandbox":   runSandbox,
		"diagnose":  sub(map[string]command{"campaign": runDiagnose("campaign"), "account": runDiagnose("account")}),
		"forecast":  sub(map[string]command{"campaign": runForecast}),
	}
}

// Run executes one keel command.
func Run(ctx context.Context, args []string, env Env) int {
	if env.Getenv == nil {
		env.Getenv = func(string) string { return "" }
	}
	if env.Stdout == nil {
		env.Stdout = io.Discard
	}
	if env.Stderr == nil {
		env.Stderr = io.Discard
	}
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(env.Stderr, usageText)
		if len(args) == 0 {
			return ExitUsage
		}
		return ExitOK
	}
	cmd, ok := commands()[args[0]]
	if !ok {
		fmt.Fprintf(env.Stderr, "keel: unknown command %q (run keel help)\n", args[0])
		return ExitUsage
	}
	err := cmd(ctx, env, args[1:])
	var ue *usageError
	switch {
	case err == nil:
		return ExitOK
	case errors.Is(err, flag.ErrHelp):
		return ExitOK
	case errors.As(err, &ue), config.IsConfigError(err):
		fmt.Fprintf(env.Stderr, "keel %s: %s\n", args[0], oneLine(err.Error()))
		return ExitUsage
	default:
		fmt.Fprintf(env.Stderr, "keel %s: %s\n", args[0], oneLine(err.Error()))
		return ExitFailure
	}
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func sub(cmds map[string]command) command {
	return func(ctx context.Context, env Env, args []string) error {
		if len(args) == 0 {
			return usagef("missing subcommand (one of %s)", names(cmds))
		}
		c, ok := cmds[args[0]]
		if !ok {
			return usagef("unknown subcommand %q (one of %s)", args[0], names(cmds))
		}
		return c(ctx, env, args[1:])
	}
}

func names(cmds map[string]command) string {
	var out []string
	for n := range cmds {
		out = append(out, n)
	}
	slices.Sort(out)
	return strings.Join(out, ", ")
}

// flags builds a flag set that reports errors as usage errors, with the
// configuration flags registered.
func flags(name string, env Env) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// parse loads configuration and parses args; positional arguments may come
// before or after flags.
func parse(fs *flag.FlagSet, env Env, args []string) (config.Config, []string, error) {
	var positional []string
	for len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		positional = append(positional, args[0])
		args = args[1:]
	}
	cfg, rest, err := config.Load(fs, args, env.Getenv)
	if err != nil {
		if config.IsConfigError(err) || errors.Is(err, flag.ErrHelp) {
			return cfg, nil, err
		}
		return cfg, nil, usagef("%v", err)
	}
	return cfg, append(positional, rest...), nil
}

func logger(env Env, cfg config.Config) *slog.Logger {
	return logging.New(env.Stderr, cfg.LogLevel, cfg.LogFormat)
}

// openNoArgs parses a command that takes only flags and opens its
// database; the caller closes it.
func openNoArgs(ctx context.Context, fs *flag.FlagSet, env Env, args []string) (config.Config, *db.DB, error) {
	cfg, rest, err := parse(fs, env, args)
	if err != nil {
		return cfg, nil, err
	}
	if len(rest) > 0 {
		return cfg, nil, usagef("unexpected argument %q", rest[0])
	}
	d, err := openDB(ctx, cfg)
	return cfg, d, err
}

// openDB opens and migrates the configured database for a one-shot
// command. It never creates one: only migrate and serve do
// (docs/surfaces.md#cli).
func openDB(ctx context.Context, cfg config.Config) (*db.DB, error) {
	d, err := openExisting(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	if _, err := app.Migrate(ctx, d); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

// openWorkspace opens the database and finds the workspace a command names
// by its slug; the caller closes the database.
func openWorkspace(ctx context.Context, cfg config.Config, slug string) (*db.DB, workspace.Workspace, error) {
	d, err := openDB(ctx, cfg)
	if err != nil {
		return nil, workspace.Workspace{}, err
	}
	w, err := workspace.BySlug(ctx, d.SQL, slug)
	if err != nil {
		d.Close()
		return nil, workspace.Workspace{}, err
	}
	return d, w, nil
}

// printJSON writes v as indented JSON.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// nonNil makes an empty list print as [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// stamp formats a time for a table, or none when there is none.
func stamp(t *time.Time, none string) string {
	if t == nil {
		return none
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}
