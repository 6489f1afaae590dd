package web

import (
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/campaign"
)

// TestNextActionWords: an overview row says what the account does next
// and when, in the account's zone; a time already come is "due now";
// nothing scheduled is "—" (docs/surfaces.md#accounts-overview).
func TestNextActionWords(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC) // a Monday
	paris := account.Account{Timezone: "Europe/Paris"}
	for _, c := range []struct {
		name      string
		n         campaign.NextAction
		ok        bool
		want, tip string
	}{
		{"nothing scheduled", campaign.NextAction{}, false, "—", "nothing scheduled"},
		{"later today in the account's zone", campaign.NextAction{StepType: campaign.StepInvite, At: now.Add(3*time.Hour + 32*time.Minute)}, true,
			"Invitation at 14:32", "2026-12-07 13:32 UTC"},
		{"another day", campaign.NextAction{StepType: campaign.StepMessage, At: now.Add(23 * time.Hour)}, true,
			"Message Tue 8 Dec 10:00", "2026-12-08 09:00 UTC"},
		{"due already", campaign.NextAction{StepType: campaign.StepInMail, At: now.Add(-time.Minute)}, true,
			"InMail due now", "2026-12-07 09:59 UTC"},
		{"a wait", campaign.NextAction{StepType: campaign.StepWait, At: now.Add(time.Hour)}, true, "End of a wait at 12:00", "2026-12-07 11:00 UTC"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, tip := nextActionWords(paris, c.n, c.ok, now)
			if got != c.want || tip != c.tip {
				t.Fatalf("got %q (%q), want %q (%q)", got, tip, c.want, c.tip)
			}
		})
	}
}
