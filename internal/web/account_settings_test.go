package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/keel-outreach/keel/internal/account"
)

// TestAccountSettingsPendingAndWithdrawals: the settings form shows the
// pending-invitation cap, the withdrawals per day and the withdraw-after
// age with labels an operator reads; out of range, each is refused at its
// own field in one answer, as typed, with nothing saved; in range, all
// three are saved (docs/sending.md#pending-invitations,
// docs/sending.md#withdrawals).
func TestAccountSettingsPendingAndWithdrawals(t *testing.T) {
	t.Parallel()
	forEngines(t, func(t *testing.T, k *keel) {
		ctx := context.Background()
		c := newClient(t)
		tok := signIn(t, k, c)
		acc := demoAccounts(t, k)[0]
		page := k.Base + "/accounts/" + acc.ID
		read := func() account.Account {
			t.Helper()
			got, err := k.App.Accounts.Get(ctx, k.App.DB.SQL, "", acc.ID)
			if err != nil {
				t.Fatal(err)
			}
			return got
		}

		code, body, _ := get(t, c, page)
		if code != http.StatusOK {
			t.Fatalf("account page: %d\n%s", code, body)
		}
		for _, want := range []string{
			`<label for="cap_invite_pending">Most pending invitations</label>`,
			`<label for="cap_withdraw_daily">Withdrawals per day</label>`,
			`<label for="withdraw_after_days">Withdraw invitations older than (days, 0 = never)</label>`,
			`name="cap_invite_pending" inputmode="numeric" value="` + itoa(acc.Caps.InvitePending) + `"`,
			`name="cap_withdraw_daily" inputmode="numeric" value="` + itoa(acc.Caps.WithdrawDaily) + `"`,
			`name="withdraw_after_days" inputmode="numeric" value="` + itoa(acc.WithdrawAfterDays) + `"`,
		} {
			if !strings.Contains(body, want) {
				t.Errorf("the settings form lacks %s", want)
			}
		}

		// All three out of range: each error at its field, the values as
		// typed, nothing saved.
		resp, body := post(t, c, page, mergeSettings(acc, url.Values{"csrf_token": {tok},
			"cap_invite_pending": {"701"}, "cap_withdraw_daily": {"101"}, "withdraw_after_days": {"5"}}))
		if resp.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("out of range: %d\n%s", resp.StatusCode, body)
		}
		for _, want := range []string{
			`id="cap_invite_pending-err">701 is above the ` + string(acc.Tier) + ` tier&#39;s hard ceiling of 700`,
			`id="cap_withdraw_daily-err">101 is above the ` + string(acc.Tier) + ` tier&#39;s hard ceiling of 100`,
			`id="withdraw_after_days-err">5 is not 0 (never) or 7–180 days`,
			`value="701"`, `value="101"`, `name="withdraw_after_days" inputmode="numeric" value="5"`,
		} {
			if !strings.Contains(body, want) {
				t.Errorf("the refused form lacks %s", want)
			}
		}
		if got := read(); got.Caps != acc.Caps || got.WithdrawAfterDays != acc.WithdrawAfterDays {
			t.Fatalf("a refused form changed the account: %+v %d", got.Caps, got.WithdrawAfterDays)
		}

		// Not a number: said at the field.
		resp, body = post(t, c, page, mergeSettings(acc, url.Values{"csrf_token": {tok}, "withdraw_after_days": {"three weeks"}}))
		if resp.StatusCode != http.StatusUnprocessableEntity ||
			!strings.Contains(body, `id="withdraw_after_days-err">enter a whole number of days (0 = never)`) {
			t.Fatalf("withdraw-after not a number: %d\n%s", resp.StatusCode, body)
		}

		// In range: saved, and shown again.
		resp, body = post(t, c, page, mergeSettings(acc, url.Values{"csrf_token": {tok},
			"cap_invite_pending": {"650"}, "cap_withdraw_daily": {"80"}, "withdraw_after_days": {"0"}}))
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("valid form: %d\n%s", resp.StatusCode, body)
		}
		if got := read(); got.Caps.InvitePending != 650 || got.Caps.WithdrawDaily != 80 || got.WithdrawAfterDays != 0 {
			t.Fatalf("saved as %+v, withdraw after %d", got.Caps, got.WithdrawAfterDays)
		}
		if _, body, _ = get(t, c, page); !strings.Contains(body, `name="withdraw_after_days" inputmode="numeric" value="0"`) ||
			!strings.Contains(body, `name="cap_invite_pending" inputmode="numeric" value="650"`) {
			t.Fatalf("the saved values are not shown:\n%s", body)
		}
	})
}
