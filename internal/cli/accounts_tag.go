package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/clock"
)

// runAccountsTag adds tags to an account (docs/accounts.md#tags): all of
// them or, when one is not a tag or they would make more than ten, none.
// Whoever runs keel against the database operates the installation, so
// the tags are recorded as set from the command line.
func runAccountsTag(ctx context.Context, env Env, args []string) error {
	return editAccountTags(ctx, env, args, "tag", func(svc *account.Service, id string, tags []string) ([]string, error) {
		return svc.AddTags(ctx, "", id, tags, "cli")
	})
}

// editAccountTags parses "ID TAG..." and runs edit: a missing argument or a
// typed entry that is not a tag is a usage error (exit 2), an unknown
// account or an eleventh tag a failure (exit 1). It prints the account's
// tags afterwards.
func editAccountTags(ctx context.Context, env Env, args []string, verb string,
	edit func(svc *account.Service, id string, tags []string) ([]string, error)) error {
	fs := flags("accounts "+verb, env)
	cfg, rest, err := parse(fs, env, args)
	if err != nil {
		return err
	}
	if len(rest) < 2 {
		return usagef("usage: keel accounts %s ID TAG...", verb)
	}
	d, err := openDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer d.Close()
	tags, err := edit(account.NewService(d, clock.Real{}), rest[0], rest[1:])
	var te *account.TagsError
	switch {
	case errors.Is(err, account.ErrNotFound):
		return fmt.Errorf("no account %q (keel accounts list shows the ids)", rest[0])
	case errors.As(err, &te):
		var msgs []string
		usage := false
		for _, f := range te.Fields {
			msgs = append(msgs, f.Message)
			usage = usage || f.Field != "tags"
		}
		if usage {
			return usagef("%s; nothing changed", strings.Join(msgs, "; "))
		}
		return fmt.Errorf("%s; nothing changed", strings.Join(msgs, "; "))
	case err != nil:
		return err
	}
	fmt.Fprintf(env.Stdout, "account %s tags: %s\n", rest[0], tagsText(tags))
	return nil
}

// tagsText is a tag list in one column, "-" for none.
func tagsText(tags []string) string {
	if len(tags) == 0 {
		return "-"
	}
	return strings.Join(tags, ",")
}
