package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/clock"
	"github.com/keel-outreach/keel/internal/repair"
)

// runRepairSplitState finds accounts that break the status invariants and,
// with --apply, repairs them; without it nothing changes.
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
		fmt.Fprintf(env.Stderr, "scanned %d of %s\n", scanned, count(total, "account", "accounts"))
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
	breaks := "break"
	if len(rep.Findings) == 1 {
		breaks = "breaks"
	}
	fmt.Fprintf(env.Stdout, "%s scanned, %d %s the invariants", count(rep.Scanned, "account", "accounts"), len(rep.Findings), breaks)
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
