package campaign_test

import (
	"errors"
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
)

// TestDNCRemovalsNewestFirst: removals are read back newest first with
// who removed each, paged by a keyset cursor that survives ties on the
// time; a cursor the list did not return is refused; another workspace
// reads none of them.
func TestDNCRemovalsNewestFirst(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		res := f.addDNC(t,
			campaign.DNCRow{LinkedInURL: "https://www.linkedin.com/in/jane"},
			campaign.DNCRow{ProviderID: "ACoAAJoe12345"},
			campaign.DNCRow{CompanyURL: "https://www.linkedin.com/company/acme"},
			campaign.DNCRow{ProviderID: "ACoAAKept1234"},
		)
		if res.Added != 4 {
			t.Fatalf("add: %+v", res)
		}
		id := func(i int) string { return res.Rows[i].ID }
		if got, err := f.campaigns.ListDNCRemovals(f.ctx, d.SQL, f.ws.ID, "", 0); err != nil || len(got) != 0 {
			t.Fatalf("before any removal: %+v %v", got, err)
		}
		// Jane first, then Joe and Acme in the same instant (the entry id
		// orders those two).
		remove := func(entry int, actor string) {
			t.Helper()
			if err := f.campaigns.RemoveDNC(campaign.WithActor(f.ctx, actor), f.ws.ID, id(entry)); err != nil {
				t.Fatal(err)
			}
		}
		remove(0, "user:ann@example.com")
		f.clock.Advance(time.Minute)
		remove(1, "token:tok_1")
		remove(2, "cli")
		later := start.Add(time.Minute)

		all, err := f.campaigns.ListDNCRemovals(f.ctx, d.SQL, f.ws.ID, "", 0)
		if err != nil || len(all) != 3 {
			t.Fatalf("removals: %+v %v", all, err)
		}
		tied := []campaign.DNCRemoval{
			{EntryID: id(1), Entry: "ACoAAJoe12345", CreatedBy: "cli", RemovedBy: "token:tok_1", RemovedAt: later},
			{EntryID: id(2), Entry: "https://www.linkedin.com/company/acme", CreatedBy: "cli", RemovedBy: "cli", RemovedAt: later},
		}
		if tied[0].EntryID < tied[1].EntryID {
			tied[0], tied[1] = tied[1], tied[0]
		}
		want := append(tied, campaign.DNCRemoval{EntryID: id(0), Entry: "https://www.linkedin.com/in/jane", CreatedBy: "cli",
			RemovedBy: "user:ann@example.com", RemovedAt: start})
		for i := range want {
			if all[i] != want[i] {
				t.Errorf("removal %d: %+v, want %+v", i, all[i], want[i])
			}
		}

		// Pages of one: every removal once, in the same order.
		var paged []campaign.DNCRemoval
		after := ""
		for range 5 {
			page, err := f.campaigns.ListDNCRemovals(f.ctx, d.SQL, f.ws.ID, after, 1)
			if err != nil {
				t.Fatal(err)
			}
			if len(page) == 0 {
				break
			}
			paged = append(paged, page...)
			after = page[0].EntryID
		}
		if len(paged) != 3 || paged[0] != all[0] || paged[1] != all[1] || paged[2] != all[2] {
			t.Fatalf("paged: %+v, want %+v", paged, all)
		}

		// A cursor that is no removal of the workspace: a kept entry, an
		// unknown id, another workspace's removal.
		theirs, err := f.campaigns.AddDNC(f.ctx, f.other.ID, "cli", []campaign.DNCRow{{Row: 1, ProviderID: "ACoAATheirs12"}})
		if err != nil {
			t.Fatal(err)
		}
		if err := f.campaigns.RemoveDNC(campaign.WithActor(f.ctx, "user:bob@example.com"), f.other.ID, theirs.Rows[0].ID); err != nil {
			t.Fatal(err)
		}
		for _, bad := range []string{id(3), "dnc_nope", theirs.Rows[0].ID} {
			if _, err := f.campaigns.ListDNCRemovals(f.ctx, d.SQL, f.ws.ID, bad, 10); !errors.Is(err, campaign.ErrDNCRemovalCursor) {
				t.Errorf("cursor %s: %v", bad, err)
			}
		}
		other, err := f.campaigns.ListDNCRemovals(f.ctx, d.SQL, f.other.ID, "", 0)
		if err != nil || len(other) != 1 || other[0].RemovedBy != "user:bob@example.com" {
			t.Fatalf("the other workspace's removals: %+v %v", other, err)
		}
	})
}
