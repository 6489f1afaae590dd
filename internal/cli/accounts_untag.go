package cli

import (
	"context"

	"github.com/keel-outreach/keel/internal/account"
)

// runAccountsUntag takes tags off an account (docs/accounts.md#tags); a tag
// the account does not carry is no change, a typed entry that is not a
// tag refuses them all.
func runAccountsUntag(ctx context.Context, env Env, args []string) error {
	return editAccountTags(ctx, env, args, "untag", func(svc *account.Service, id string, tags []string) ([]string, error) {
		return svc.RemoveTags(ctx, "", id, tags)
	})
}
