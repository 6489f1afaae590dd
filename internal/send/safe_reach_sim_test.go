package send_test

import (
	"database/sql"
	"fmt"
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
	"github.com/keel-outreach/keel/internal/send"
	"github.com/keel-outreach/keel/internal/unipile"
	"github.com/keel-outreach/keel/internal/unipile/fake"
)

// Safe-reach simulation settings: small enough caps that the pending cap,
// withdrawals and their daily cap all bind within three weeks.
const (
	reachPeople        = 360
	reachPendingCap    = 45
	reachWithdrawDaily = 8
	reachWithdrawAfter = 7
	reachOutside       = 5
)

func reachPerson(i int) string { return fmt.Sprintf("ACoAAreach%03d", i) }

// TestSafeReachThreeWeeks runs three campaigns on three senders over
// overlapping lists for 21 simulated days (fake clock, fake Unipile):
// some people are on the do-not-contact list before the imports and some
// are listed on day 5, some reply to a sender other than the one that
// invited them, nobody accepts. It proves from the fake's call log and the
// database: no contact of a listed person, nobody in two live sequences,
// no invitation after a reply, pending never above the cap, withdrawals
// within their daily cap, and no withdrawn person invited again within 21
// days (docs/contacts.md, docs/sending.md#pending-invitations,
// docs/sending.md#withdrawals).
func TestSafeReachThreeWeeks(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		days := 21
		if testing.Short() || raceEnabled {
			days = 9
		}
		s := newSim(t, d, 77)
		rng := rand.New(rand.NewPCG(77, 78))
		var senders []simAccount
		for _, sp := range []struct {
			name, tz string
			tier     account.Tier
		}{{"Ada", "UTC", account.TierPremium}, {"Ben", "Europe/Paris", account.TierPremium}, {"Cy", "America/New_York", account.TierSalesNavigator}} {
			sa := s.addAccount(t, sp.name, sp.tier, sp.tz, 5)
			pending, withdrawDaily, after := reachPendingCap, reachWithdrawDaily, reachWithdrawAfter
			a, err := s.accounts.UpdateSettings(s.ctx, s.ws.ID, sa.acc.ID, account.SettingsPatch{Actor: "test", WithdrawAfterDays: &after,
				Caps: &account.CapsPatch{InvitePending: &pending, WithdrawDaily: &withdrawDaily}})
			if err != nil {
				t.Fatal(err)
			}
			sa.acc = a
			s.senders[len(s.senders)-1].acc = a
			senders = append(senders, sa)
		}
		ids := []string{senders[0].acc.ID, senders[1].acc.ID, senders[2].acc.ID}
		// A person may be enrolled again at once after a sequence ends: the
		// re-invite wait alone must keep withdrawn people uninvited.
		if _, err := d.SQL.Exec(`UPDATE workspaces SET recontact_cooloff_days = 0 WHERE id = $1`, s.ws.ID); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < reachPeople+reachOutside; i++ {
			s.fake.AddPerson(fake.Person{ProviderID: reachPerson(i), PublicIdentifier: fmt.Sprintf("reach-%d", i), FirstName: fmt.Sprintf("R%d", i)})
		}
		// Ada invited five people by hand before Keel: they count as pending.
		s.clock.Set(simStart.Add(-48 * time.Hour))
		for i := reachPeople; i < reachPeople+reachOutside; i++ {
			if _, err := s.client.SendInvitation(s.ctx, unipile.InvitationRequest{AccountID: senders[0].provider, ProviderID: reachPerson(i)}); err != nil {
				t.Fatal(err)
			}
		}
		s.clock.Set(simStart)

		// Listed before any import: every 17th person.
		listedAt := map[string]time.Time{}
		var early []campaign.DNCRow
		for i := 0; i < reachPeople; i += 17 {
			early = append(early, campaign.DNCRow{Row: len(early) + 1, ProviderID: reachPerson(i), Reason: "asked never to be contacted"})
			listedAt[reachPerson(i)] = simStart
		}
		if _, err := s.camps.AddDNC(s.ctx, s.ws.ID, "test", early); err != nil {
			t.Fatal(err)
		}

		invite := []campaign.Step{{ID: "i1", Type: campaign.StepInvite},
			{ID: "c1", Type: campaign.StepIfAccepted, Within: "240h", Then: "m1", Else: campaign.End},
			{ID: "m1", Type: campaign.StepMessage, Text: "Thanks for connecting"}}
		viewInvite := []campaign.Step{{ID: "v1", Type: campaign.StepViewProfile}, {ID: "i1", Type: campaign.StepInvite},
			{ID: "c1", Type: campaign.StepIfAccepted, Within: "168h", Then: "m1", Else: campaign.End},
			{ID: "m1", Type: campaign.StepMessage, Text: "Thanks"}}
		statuses := map[string]int{}
		startCampaign := func(name string, steps []campaign.Step, people []int) campaign.Campaign {
			inv, msg, inm, view := 100, 150, 50, 100
			c, err := s.camps.Create(s.ctx, s.ws.ID, campaign.Input{Name: &name, AccountIDs: ids, Steps: steps,
				DailyCaps: &campaign.CapsInput{Invite: &inv, Message: &msg, InMail: &inm, ViewProfile: &view}})
			if err != nil {
				t.Fatal(err)
			}
			rows := make([]campaign.ProspectRow, len(people))
			for k, i := range people {
				rows[k] = campaign.ProspectRow{Row: k + 1, ProviderID: reachPerson(i), FirstName: fmt.Sprintf("R%d", i)}
			}
			res, err := s.camps.Import(s.ctx, c.ID, s.ws.ID, rows)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range res.Rows {
				statuses[r.Status]++
			}
			if c, err = s.camps.Start(s.ctx, s.ws.ID, c.ID); err != nil {
				t.Fatal(err)
			}
			return c
		}
		span := func(from, to int) []int {
			var out []int
			for i := from; i < to; i++ {
				out = append(out, i)
			}
			return out
		}
		alpha := startCampaign("alpha", invite, span(0, 180))
		beta := startCampaign("beta", viewInvite, span(120, 300))

		replied := map[string]time.Time{}
		byProvider := map[string]simAccount{}
		for _, sa := range senders {
			byProvider[sa.provider] = sa
		}
		maxLive := 0
		end := simStart.Add(time.Duration(days) * 24 * time.Hour)
		for now := s.clock.Now(); now.Before(end); now = s.clock.Advance(time.Minute) {
			if now.Minute()%5 == 0 {
				if _, err := s.engine.SyncInvitations(s.ctx); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := s.engine.RunPass(s.ctx); err != nil {
				t.Fatalf("pass at %v: %v", now, err)
			}
			elapsed := now.Sub(simStart)
			switch {
			case elapsed == 5*24*time.Hour+10*time.Hour:
				// Listed on day 5, while their sequences are live.
				var rows []campaign.DNCRow
				for i := 180; i < 190; i++ {
					rows = append(rows, campaign.DNCRow{Row: len(rows) + 1, ProviderID: reachPerson(i), Reason: "complained"})
					listedAt[reachPerson(i)] = now
				}
				res, err := s.camps.AddDNC(s.ctx, s.ws.ID, "test", rows)
				if err != nil {
					t.Fatal(err)
				}
				statuses["dnc_ended_live"] += res.Ended
			case elapsed == 12*24*time.Hour+8*time.Hour:
				// A third list on day 12 takes people of the first, some
				// of them withdrawn already.
				startCampaign("gamma", invite, append(span(0, 60), span(300, 360)...))
			case now.Minute() == 30 && now.Hour() == 12:
				// Three people a day write to a sender other than the one
				// that invited them.
				for _, inv := range pickInvited(s, senders, rng, 3) {
					other := senders[(indexOf(senders, inv.AccountID)+1)%len(senders)]
					if _, ok := replied[inv.ProviderID]; ok {
						continue
					}
					replied[inv.ProviderID] = now
					if err := s.d.InTx(s.ctx, func(tx *sql.Tx) error {
						_, err := s.engine.StampReplied(s.ctx, tx, send.ReplySignal{WorkspaceID: s.ws.ID, AccountID: other.acc.ID, ProviderID: inv.ProviderID})
						return err
					}); err != nil {
						t.Fatal(err)
					}
				}
			}
			if now.Minute() == 0 {
				var dup int
				if err := d.SQL.QueryRow(`SELECT count(*) FROM (SELECT prospect_id FROM enrollments WHERE state IN ('pending', 'active', 'soft_paused')
					GROUP BY workspace_id, prospect_id HAVING count(*) > 1) x`).Scan(&dup); err != nil {
					t.Fatal(err)
				}
				if dup > 0 {
					t.Fatalf("%v: %d people in two live sequences", now, dup)
				}
				var live int
				if err := d.SQL.QueryRow(`SELECT count(*) FROM enrollments WHERE state IN ('pending', 'active', 'soft_paused')`).Scan(&live); err != nil {
					t.Fatal(err)
				}
				maxLive = max(maxLive, live)
			}
		}

		// The call log.
		contacted := 0
		invitesAfterReply := 0
		for _, c := range s.fake.Calls() {
			if !c.Applied || c.Recipient == "" {
				continue
			}
			if _, ok := sendActions[c.Action]; !ok {
				continue
			}
			if at, ok := listedAt[c.Recipient]; ok && !c.Time.Before(at) {
				contacted++
				t.Errorf("%s %s at %v, listed at %v", c.Action, c.Recipient, c.Time, at)
			}
			if at, ok := replied[c.Recipient]; ok && c.Action == fake.ActionInvite && c.Time.After(at) {
				invitesAfterReply++
				t.Errorf("invitation to %s at %v after their reply at %v", c.Recipient, c.Time, at)
			}
		}
		type event struct {
			at    time.Time
			delta int
		}
		withdrawnAt := map[string][]time.Time{}
		var invitedAt []fake.Invitation
		maxPending := map[string]int{}
		totalInvites, totalWithdrawals, maxWithdrawDay := 0, 0, 0
		for _, sa := range senders {
			var evs []event
			perDay := map[time.Time]int{}
			for _, inv := range s.fake.Invitations(sa.provider) {
				evs = append(evs, event{inv.SentAt, +1})
				if inv.SentAt.After(simStart.Add(-time.Hour)) {
					totalInvites++
					invitedAt = append(invitedAt, inv)
				}
				if inv.State == fake.InvitationWithdrawn {
					evs = append(evs, event{inv.ChangedAt, -1})
					withdrawnAt[inv.ProviderID] = append(withdrawnAt[inv.ProviderID], inv.ChangedAt)
					day := inv.ChangedAt.UTC().Truncate(24 * time.Hour)
					perDay[day]++
					totalWithdrawals++
				}
			}
			sort.SliceStable(evs, func(i, j int) bool {
				if evs[i].at.Equal(evs[j].at) {
					return evs[i].delta < evs[j].delta
				}
				return evs[i].at.Before(evs[j].at)
			})
			n := 0
			for _, e := range evs {
				n += e.delta
				if n > reachPendingCap {
					t.Errorf("%s: %d pending at %v, cap %d", sa.acc.Name, n, e.at, reachPendingCap)
				}
				maxPending[sa.acc.Name] = max(maxPending[sa.acc.Name], n)
			}
			for day, n := range perDay {
				maxWithdrawDay = max(maxWithdrawDay, n)
				if n > reachWithdrawDaily {
					t.Errorf("%s: %d withdrawals on %s, cap %d", sa.acc.Name, n, day.Format(time.DateOnly), reachWithdrawDaily)
				}
			}
		}
		reinvited := 0
		for _, inv := range invitedAt {
			for _, w := range withdrawnAt[inv.ProviderID] {
				if inv.SentAt.After(w) && inv.SentAt.Before(w.Add(21*24*time.Hour)) {
					reinvited++
					t.Errorf("%s invited at %v, withdrawn at %v", inv.ProviderID, inv.SentAt, w)
				}
			}
		}
		var held, endedReplied, endedWithdrawn int
		if err := d.SQL.QueryRow(`SELECT
			(SELECT count(*) FROM enrollments WHERE parked_by = 'recently_withdrawn'),
			(SELECT count(*) FROM enrollments WHERE state = 'replied'),
			(SELECT count(*) FROM enrollments WHERE ended_reason = 'invitation_withdrawn')`).Scan(&held, &endedReplied, &endedWithdrawn); err != nil {
			t.Fatal(err)
		}
		t.Logf("%d days: %d invitations, %d withdrawals (at most %d a day), pending at most %v (cap %d); import rows %v; "+
			"%d replies, %d sequences stopped as replied; %d ended invitation_withdrawn; %d prospects held by the re-invite wait at the end; "+
			"at most %d live sequences; violations: %d contacts of listed people, %d invitations after a reply, %d re-invitations within 21 days",
			days, totalInvites, totalWithdrawals, maxWithdrawDay, maxPending, reachPendingCap, statuses, len(replied), endedReplied,
			endedWithdrawn, held, maxLive, contacted, invitesAfterReply, reinvited)
		// The rules must have been exercised, or the zeros prove little.
		if statuses["in_other_campaign"] == 0 || statuses["do_not_contact"] == 0 || len(replied) == 0 {
			t.Errorf("import rows %v, %d replies: the overlaps, the list or the replies never came into play", statuses, len(replied))
		}
		// The diagnosis says who left and why.
		mustFinding(t, s.diagnosis(t, beta.ID), "prospects_do_not_contact")
		if days >= 21 {
			mustFinding(t, s.diagnosis(t, alpha.ID), "prospects_invitation_withdrawn")
			if totalWithdrawals == 0 || held == 0 {
				t.Errorf("%d withdrawals, %d held by the re-invite wait: the withdrawal rules never came into play", totalWithdrawals, held)
			}
			if maxPending["Ada"] < reachPendingCap {
				t.Errorf("Ada's pending reached %d, never its cap %d", maxPending["Ada"], reachPendingCap)
			}
		}
	})
}

// pickInvited picks up to n invitations still pending at the fake.
func pickInvited(s *sim, senders []simAccount, rng *rand.Rand, n int) []fake.Invitation {
	var all []fake.Invitation
	for _, sa := range senders {
		for _, inv := range s.fake.Invitations(sa.provider) {
			if inv.State == fake.InvitationPending && inv.SentAt.After(simStart) {
				all = append(all, inv)
			}
		}
	}
	rng.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
	return all[:min(n, len(all))]
}

func indexOf(senders []simAccount, provider string) int {
	for i, sa := range senders {
		if sa.provider == provider {
			return i
		}
	}
	return 0
}
