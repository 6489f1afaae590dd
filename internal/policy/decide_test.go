package policy

import (
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/account"
)

func TestListedProspectIsRefusedWhateverTheAccount(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	for _, st := range []account.Status{account.StatusConnected, account.StatusDisconnected} {
		v := Decide(Snapshot{Account: account.Account{Status: st, Name: "A"}, Action: ActionInvite, Listed: true,
			Person: "https://www.linkedin.com/in/jane"}, now, Draw{})
		if v.Allowed || v.Code != CodeDoNotContact || v.Message != "https://www.linkedin.com/in/jane is on the do-not-contact list." ||
			!v.Until.IsZero() {
			t.Errorf("%s account: %+v", st, v)
		}
	}
}
