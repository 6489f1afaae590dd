package conformance

import (
	"context"
	"testing"
)

// exerciseAll runs every concern's exercise, each as its own subtest, so
// both engines' tests run the same list.
func exerciseAll(ctx context.Context, t *testing.T, newDB NewDB) {
	for _, c := range []struct {
		name     string
		exercise func(context.Context, *testing.T, NewDB)
	}{
		{"Accounts", ExerciseAccounts},
		{"Campaigns", ExerciseCampaigns},
		{"Ledger", ExerciseLedger},
		{"Health", ExerciseHealth},
		{"Inbox", ExerciseInbox},
		{"Outbound", ExerciseOutbound},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.exercise(ctx, t, newDB)
		})
	}
}
