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
	"text/tabwriter"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/alert"
	"github.com/keel-outreach/keel/internal/app"
	"github.com/keel-outreach/keel/internal/clock"
	"github.com/keel-outreach/keel/internal/config"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/repair"
	"github.com/keel-outreach/keel/internal/workspace"
)

// Env is the process environment the CLI runs in; tests supply their own.
type Env struct {
	Getenv func(string) string
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
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
  token create --workspace SLUG [--name N] [--expires-in 90d]   print a new API token once
  token list --workspace SLUG [--json]
  token revoke ID
  user create --workspace SLUG --email E   password on standard input
  user unlock --workspace SLUG --email E   clear failed sign-ins (a lockout)
  accounts list [--workspace SLUG] [--json]
  accounts sync --workspace SLUG      import the LinkedIn accounts Unipile lists
  campaigns list [--workspace SLUG] [--json]
  alerts list [--open] [--json]
  alerts ack ID                       acknowledge an alert as the installation operator
  repair split-state [--apply] [--json]
  diagnose campaign ID [--json]       "why isn't it sending?"
  diagnose account ID [--json]
  sandbox [--addr A]                  run the fake Unipile server alone
`

type command func(ctx context.Context, env Env, args []string) error

func commands() map[string]command {
	return map[string]command{
		"serve":     runServe,
		"worker":    runWorker,
		"migrate":   runMigrate,
		"workspace": sub(map[string]command{"create": runWorkspaceCreate}),
		"token":     sub(map[string]command{"create": runTokenCreate, "list": runTokenList, "revoke": runTokenRevoke}),
		"user":      sub(map[string]command{"create": runUserCreate, "unlock": runUserUnlock}),
		"accounts":  sub(map[string]command{"list": runAccountsList, "sync": runAccountsSync}),
		"campaigns": sub(map[string]command{"list": runCampaignsList}),
		"alerts":    sub(map[string]command{"list": runAlertsList, "ack": runAlertsAck}),
		"repair":    sub(map[string]command{"split-state": runRepairSplitState}),
		"sandbox":   runSandbox,
		"diagnose":  sub(map[string]command{"campaign": runDiagnose("campaign"), "account": runDiagnose("account")}),
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

func logger(env Env) *slog.Logger {
	return slog.New(slog.NewJSONHandler(env.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
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

// openDB opens and migrates the configured database for a one-shot command.
func openDB(ctx context.Context, cfg config.Config) (*db.DB, error) {
	d, err := db.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	if _, err := app.Migrate(ctx, d); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

func runServe(ctx context.Context, env Env, args []string) error {
	fs := flags("serve", env)
	cfg, rest, err := parse(fs, env, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("unexpected argument %q", rest[0])
	}
	a, err := app.Open(ctx, cfg, app.Options{Logger: logger(env), Out: env.Stdout, Clock: clock.Real{}})
	if err != nil {
		return err
	}
	defer a.Close()
	return a.Run(ctx)
}

func runWorker(ctx context.Context, env Env, args []string) error {
	fs := flags("worker", env)
	cfg, rest, err := parse(fs, env, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("unexpected argument %q", rest[0])
	}
	if cfg.Workers == 0 {
		return usagef("KEEL_WORKERS=0 leaves a worker process nothing to do")
	}
	a, err := app.Open(ctx, cfg, app.Options{Logger: logger(env), Out: env.Stdout, Clock: clock.Real{}, WorkerOnly: true})
	if err != nil {
		return err
	}
	defer a.Close()
	return a.Run(ctx)
}

func runMigrate(ctx context.Context, env Env, args []string) error {
	fs := flags("migrate", env)
	cfg, rest, err := parse(fs, env, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("unexpected argument %q", rest[0])
	}
	d, err := db.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer d.Close()
	rep, err := app.Migrate(ctx, d)
	if err != nil {
		return err
	}
	if len(rep.Applied) == 0 {
		fmt.Fprintf(env.Stdout, "schema is current (version %d, %s)\n", rep.Version, d.Engine)
	} else {
		fmt.Fprintf(env.Stdout, "applied migrations %v; schema version %d (%s)\n", rep.Applied, rep.Version, d.Engine)
	}
	for _, name := range rep.Validated {
		fmt.Fprintf(env.Stdout, "validated constraint %s\n", name)
	}
	for _, w := range rep.Warnings() {
		fmt.Fprintf(env.Stdout, "warning: %s\n", w)
	}
	return nil
}

func runWorkspaceCreate(ctx context.Context, env Env, args []string) error {
	fs := flags("workspace create", env)
	name := fs.String("name", "", "display name")
	cfg, rest, err := parse(fs, env, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usagef("usage: keel workspace create SLUG")
	}
	if !workspace.ValidSlug(rest[0]) {
		return usagef("invalid workspace slug %q: use lower-case letters, digits and dashes (at most 63)", rest[0])
	}
	d, err := openDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer d.Close()
	w, err := workspace.Create(ctx, d.SQL, rest[0], *name, clock.Real{}.Now())
	if err != nil {
		return err
	}
	fmt.Fprintln(env.Stdout, w.ID)
	return nil
}

func runAccountsList(ctx context.Context, env Env, args []string) error {
	fs := flags("accounts list", env)
	slug := fs.String("workspace", "", "workspace slug")
	asJSON := fs.Bool("json", false, "print JSON")
	_, d, err := openNoArgs(ctx, fs, env, args)
	if err != nil {
		return err
	}
	defer d.Close()
	opts := account.ListOptions{}
	if *slug != "" {
		w, err := workspace.BySlug(ctx, d.SQL, *slug)
		if err != nil {
			return err
		}
		opts.WorkspaceID = w.ID
	}
	list, err := account.NewService(d, clock.Real{}).List(ctx, d.SQL, opts)
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(env.Stdout, nonNil(list))
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATUS\tSTRIKES\tPROVIDER ID\tNAME\tLAST ERROR")
	for _, a := range list {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\n", a.ID, pill(a), a.Strikes, a.ProviderAccountID, a.Name, a.LastError)
	}
	return tw.Flush()
}

// pill is the status as the UI shows it.
func pill(a account.Account) string {
	if a.ReconnectNeeded() {
		return string(a.Status) + " (reconnect needed)"
	}
	return string(a.Status)
}

func runAlertsList(ctx context.Context, env Env, args []string) error {
	fs := flags("alerts list", env)
	open := fs.Bool("open", false, "only alerts not yet acknowledged")
	asJSON := fs.Bool("json", false, "print JSON")
	_, d, err := openNoArgs(ctx, fs, env, args)
	if err != nil {
		return err
	}
	defer d.Close()
	list, err := alert.List(ctx, d.SQL, alert.Filter{OpenOnly: *open})
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(env.Stdout, nonNil(list))
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tCREATED\tSEVERITY\tKIND\tSUBJECT\tSTATE\tMESSAGE")
	for _, a := range list {
		state := "open"
		if a.AcknowledgedAt != nil {
			state = "acknowledged"
		}
		subject := "-"
		if a.SubjectID != "" {
			subject = a.SubjectType + " " + a.SubjectID
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", a.ID, a.CreatedAt.Format("2006-01-02 15:04:05Z"),
			a.Severity, a.Kind, subject, state, a.Message)
	}
	return tw.Flush()
}

func runRepairSplitState(ctx context.Context, env Env, args []string) error {
	fs := flags("repair split-state", env)
	apply := fs.Bool("apply", false, "repair the rows (default: dry run)")
	asJSON := fs.Bool("json", false, "print JSON")
	_, d, err := openNoArgs(ctx, fs, env, args)
	if err != nil {
		return err
	}
	defer d.Close()
	progress := func(scanned, total int) {
		fmt.Fprintf(env.Stderr, "scanned %d/%d accounts\n", scanned, total)
	}
	rep, err := repair.SplitState(ctx, account.NewService(d, clock.Real{}), repair.Options{Apply: *apply, Progress: progress})
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(env.Stdout, rep)
	}
	verb := "would repair"
	if rep.Applied {
		verb = "repaired"
	}
	for _, f := range rep.Findings {
		fmt.Fprintf(env.Stdout, "%s %s (%s, %s): %s\n", verb, f.AccountID, f.Status, strings.Join(f.Problems, "; "), f.Action)
	}
	fmt.Fprintf(env.Stdout, "%d accounts scanned, %d break the invariants", rep.Scanned, len(rep.Findings))
	if rep.Applied {
		fmt.Fprintf(env.Stdout, ", %d repaired (audited, one alert each)\n", rep.Repaired)
	} else if len(rep.Findings) > 0 {
		fmt.Fprintln(env.Stdout, "; dry run: nothing changed, run with --apply to repair")
	} else {
		fmt.Fprintln(env.Stdout)
	}
	for _, n := range rep.Validated {
		fmt.Fprintf(env.Stdout, "validated constraint %s\n", n)
	}
	for _, n := range rep.NotValid {
		fmt.Fprintf(env.Stdout, "constraint %s is still NOT VALID\n", n)
	}
	return nil
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
