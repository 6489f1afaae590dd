package api

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
	"github.com/keel-outreach/keel/internal/policy"
	"github.com/keel-outreach/keel/internal/send"
)

func TestInMailTopUpRoute(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		b := newCampaignBundle(t, d)
		ctx := context.Background()
		now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		if err := send.SetBlock(ctx, d.SQL, send.Block{AccountID: b.a.accountID, Action: policy.ActionInMail, Kind: policy.BlockCredits,
			Until: policy.NextMonthStart(now), Reason: "InMail credits exhausted"}, now); err != nil {
			t.Fatal(err)
		}
		path := "/api/v1/accounts/" + b.a.accountID + "/inmail/top-up"
		if status, _, _ := b.call(t, "POST", path, b.b.secret, "", nil); status != http.StatusNotFound {
			t.Fatalf("another workspace's account: %d, want 404", status)
		}
		if blk, _ := send.ActiveBlock(ctx, d.SQL, b.a.accountID, policy.ActionInMail, now); blk == nil {
			t.Fatal("a refused top-up cleared the breaker")
		}
		status, res, _ := b.call(t, "POST", path, b.a.secret, "", nil)
		if status != http.StatusOK || res["breaker_was_held"] != true {
			t.Fatalf("top-up: %d %v", status, res)
		}
		if blk, _ := send.ActiveBlock(ctx, d.SQL, b.a.accountID, policy.ActionInMail, now); blk != nil {
			t.Fatalf("breaker still held: %+v", blk)
		}
		last, err := send.LastTopUp(ctx, d.SQL, b.a.accountID)
		if err != nil || last == nil || last.By[:6] != "token:" {
			t.Fatalf("recorded top-up: %+v %v", last, err)
		}
	})
}
