package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/keel-outreach/keel/internal/policy"
	"github.com/keel-outreach/keel/internal/send"
)

func TestInMailTopUpButton(t *testing.T) {
	t.Parallel()
	forEngines(t, func(t *testing.T, k *keel) {
		c := newClient(t)
		tok := signIn(t, k, c)
		acc := demoAccounts(t, k)[0]
		ctx := context.Background()
		now := k.App.Clock.Now()
		page := k.Base + "/accounts/" + acc.ID
		if _, body, _ := get(t, c, page); strings.Contains(body, "InMail credits topped up") {
			t.Fatal("the top-up button shows without a credits breaker")
		}
		if err := send.SetBlock(ctx, k.App.DB.SQL, send.Block{AccountID: acc.ID, Action: policy.ActionInMail, Kind: policy.BlockCredits,
			Until: policy.NextMonthStart(now), Reason: "InMail credits exhausted"}, now); err != nil {
			t.Fatal(err)
		}
		if _, body, _ := get(t, c, page); !strings.Contains(body, "InMail credits topped up") {
			t.Fatal("no top-up button while the credits breaker holds")
		}
		resp, body := post(t, c, page+"/inmail/top-up", url.Values{"csrf_token": {tok}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("top-up: %d %s", resp.StatusCode, body)
		}
		if blk, _ := send.ActiveBlock(ctx, k.App.DB.SQL, acc.ID, policy.ActionInMail, now); blk != nil {
			t.Fatalf("breaker still held: %+v", blk)
		}
		last, err := send.LastTopUp(ctx, k.App.DB.SQL, acc.ID)
		if err != nil || last == nil || last.By != testEmail {
			t.Fatalf("recorded top-up: %+v %v", last, err)
		}
		if _, body, _ := get(t, c, page); !strings.Contains(body, "Last InMail top-up") || strings.Contains(body, "InMail credits topped up") {
			t.Fatal("after the top-up the page must show it and no button")
		}
	})
}
