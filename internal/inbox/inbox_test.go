package inbox_test

import (
	"context"
	"database/sql"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/clock"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
	"github.com/keel-outreach/keel/internal/inbox"
	"github.com/keel-outreach/keel/internal/unipile"
	"github.com/keel-outreach/keel/internal/unipile/fake"
	"github.com/keel-outreach/keel/internal/workspace"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

type env struct {
	ctx      context.Context
	d        *db.DB
	clock    *clock.Fake
	fake     *fake.Server
	client   *unipile.Client
	accounts *account.Service
	camps    *campaign.Service
	ws       workspace.Workspace
}

func setup(t *testing.T, d *db.DB) *env {
	t.Helper()
	ctx := context.Background()
	c := clock.NewFake(t0)
	f := fake.New(fake.Options{Clock: c})
	if err := f.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	client, err := unipile.New(unipile.Options{BaseURL: f.URL(), APIKey: f.APIKey()})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{ctx: ctx, d: d, clock: c, fake: f, client: client, accounts: account.NewService(d, c), camps: campaign.NewService(d, c)}
	if e.ws, err = workspace.Create(ctx, d.SQL, "inbox", "", c.Now()); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) service(t *testing.T, perRun int) *inbox.Service {
	t.Helper()
	s, err := inbox.New(inbox.Options{DB: e.d, Campaigns: e.camps, Client: e.client, Clock: e.clock, BackfillPerRun: perRun, BackfillPageSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (e *env) account(t *testing.T, name string) (account.Account, string) {
	t.Helper()
	pid := e.fake.AddAccount(fake.AccountSpec{Name: name})
	a, err := e.accounts.Create(e.ctx, e.d.SQL, account.NewAccount{WorkspaceID: e.ws.ID, ProviderAccountID: pid, Name: name,
		Status: account.StatusConnected, Tier: account.TierPremium})
	if err != nil {
		t.Fatal(err)
	}
	return a, pid
}

func (e *env) record(t *testing.T, s *inbox.Service, a account.Account, ev unipile.MessageEvent) string {
	t.Helper()
	var id string
	if err := e.d.InTx(e.ctx, func(tx *sql.Tx) error {
		var err error
		id, err = s.Record(e.ctx, tx, a, ev)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return id
}

// A webhook message is stored once however often it is delivered, linked
// to the prospect and their campaign; the person's messages count as
// unread, the sender's own do not; a reaction stores nothing. The
// backfill then finds the same message and stores nothing more.
func TestWebhookMessagesAreStoredOnce(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		s := e.service(t, 10)
		a, pid := e.account(t, "Ada")
		e.fake.AddPerson(fake.Person{ProviderID: "ACoAAjane", FirstName: "Jane", LastName: "Doe"})
		name := "inbox"
		camp, err := e.camps.Create(e.ctx, e.ws.ID, campaign.Input{Name: &name, AccountIDs: []string{a.ID},
			Steps: []campaign.Step{{ID: "i1", Type: campaign.StepInvite}}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.camps.Import(e.ctx, camp.ID, e.ws.ID, []campaign.ProspectRow{{Row: 1, ProviderID: "ACoAAjane", FirstName: "Jane"}}); err != nil {
			t.Fatal(err)
		}
		chatID, msgID, err := e.fake.IncomingMessage(pid, "ACoAAjane", "Happy to talk")
		if err != nil {
			t.Fatal(err)
		}
		ev := unipile.MessageEvent{Event: "message_received", ChatID: unipile.FlexString(chatID), MessageID: unipile.FlexString(msgID),
			Message: "Happy to talk", Timestamp: unipile.FlexTime{Time: e.clock.Now()},
			Sender: &unipile.Attendee{AttendeeProviderID: "ACoAAjane", AttendeeName: "Jane Doe"}}
		first := e.record(t, s, a, ev)
		if again := e.record(t, s, a, ev); again != first || first == "" {
			t.Fatalf("conversation ids %q and %q", first, again)
		}
		own := ev
		own.MessageID, own.Message, own.IsSender = "own-1", "Great, Tuesday?", true
		own.Sender = &unipile.Attendee{AttendeeProviderID: "ACoAAada"}
		own.Attendees = []unipile.Attendee{{AttendeeProviderID: "ACoAAjane", AttendeeName: "Jane Doe"}}
		own.Timestamp = unipile.FlexTime{Time: e.clock.Now().Add(time.Minute)}
		e.record(t, s, a, own)
		reaction := ev
		reaction.Event, reaction.MessageID = "message_reaction", "react-1"
		if id := e.record(t, s, a, reaction); id != "" {
			t.Fatalf("a reaction made conversation %q", id)
		}
		list, _, err := s.List(e.ctx, d.SQL, e.ws.ID, inbox.Filter{Unread: true})
		if err != nil || len(list) != 1 {
			t.Fatalf("unread conversations: %+v %v", list, err)
		}
		c := list[0]
		if c.Unread != 1 || c.AttendeeName != "Jane Doe" || c.ProspectID == "" || c.CampaignID != camp.ID || c.LastMessageText != "Great, Tuesday?" {
			t.Fatalf("conversation %+v", c)
		}
		// The backfill reads the chat and finds the same message.
		for range 5 {
			if _, err := s.Backfill(e.ctx); err != nil {
				t.Fatal(err)
			}
			e.clock.Advance(inbox.BackfillSpacing)
		}
		msgs, _, err := s.Messages(e.ctx, d.SQL, e.ws.ID, c.ID, "", 100)
		if err != nil || len(msgs) != 2 || msgs[0].Text != "Happy to talk" || msgs[0].FromSelf || !msgs[1].FromSelf {
			t.Fatalf("messages: %+v %v", msgs, err)
		}
		// Another workspace sees nothing of it.
		other, err := workspace.Create(e.ctx, d.SQL, "other", "", e.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.Messages(e.ctx, d.SQL, other.ID, c.ID, "", 10); err != inbox.ErrNotFound {
			t.Fatalf("another workspace read it: %v", err)
		}
		if err := s.MarkRead(e.ctx, e.ws.ID, c.ID, true); err != nil {
			t.Fatal(err)
		}
		if list, _, _ := s.List(e.ctx, d.SQL, e.ws.ID, inbox.Filter{Unread: true}); len(list) != 0 {
			t.Fatalf("still unread after marking read: %+v", list)
		}
	})
}

// The backfill of many accounts, killed halfway and started again by a new
// process, stores every message exactly once, and never asks the provider
// for one account faster than BackfillSpacing.
func TestBackfillKilledHalfwayStoresEveryMessageOnce(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		accounts, chats := 50, 200
		if testing.Short() || raceEnabled {
			accounts, chats = 6, 30
		}
		e := setup(t, d)
		total := 0
		byProvider := map[string]bool{}
		for i := 0; i < accounts; i++ {
			_, pid := e.account(t, fmt.Sprintf("A%d", i))
			byProvider[pid] = true
			for c := 0; c < chats; c++ {
				from := fmt.Sprintf("ACoAAp%02d%03d", i, c)
				for m := 0; m <= c%3; m++ {
					if _, _, err := e.fake.IncomingMessage(pid, from, fmt.Sprintf("message %d of chat %d", m, c)); err != nil {
						t.Fatal(err)
					}
					total++
				}
			}
		}
		// The first process is killed in the middle of a request, about
		// halfway through.
		requestsNeeded := accounts * (1 + chats/100 + chats)
		ctx, kill := context.WithCancel(e.ctx)
		var seen atomic.Int64
		stop := make(chan struct{})
		go func() {
			defer close(stop)
			for {
				if seen.Load() >= int64(requestsNeeded/2) {
					kill()
					return
				}
				select {
				case <-ctx.Done():
					return
				case <-time.After(time.Millisecond):
					seen.Store(int64(len(e.fake.Calls())))
				}
			}
		}()
		// The new process starts at the moment of the kill: the account
		// whose request was cut short must still rest for the spacing
		// (its request may even reach the fake after the kill).
		first := e.service(t, accounts)
		for ctx.Err() == nil {
			if _, err := first.Backfill(ctx); err != nil && ctx.Err() == nil {
				t.Fatal(err)
			}
			if ctx.Err() == nil {
				e.clock.Advance(inbox.BackfillSpacing)
			}
		}
		<-stop
		var mid int
		if err := d.SQL.QueryRow(`SELECT count(*) FROM conversation_messages`).Scan(&mid); err != nil {
			t.Fatal(err)
		}
		// A new process resumes.
		second := e.service(t, accounts)
		for round := 0; ; round++ {
			n, err := second.Backfill(e.ctx)
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				break
			}
			if round > 2*requestsNeeded {
				t.Fatal("the backfill does not finish")
			}
			e.clock.Advance(inbox.BackfillSpacing)
		}
		var stored, distinct, convs int
		if err := d.SQL.QueryRow(`SELECT count(*), count(DISTINCT provider_message_id), (SELECT count(*) FROM conversations)
			FROM conversation_messages`).Scan(&stored, &distinct, &convs); err != nil {
			t.Fatal(err)
		}
		if stored != total || distinct != total || convs != accounts*chats {
			t.Fatalf("stored %d messages (%d distinct) in %d conversations; the provider has %d in %d chats", stored, distinct, convs, total, accounts*chats)
		}
		// Gentle: one account's requests are never closer than the spacing.
		last := map[string]time.Time{}
		calls := 0
		for _, c := range e.fake.Calls() {
			if c.Action != fake.ActionListChats && c.Action != fake.ActionListMessages {
				continue
			}
			calls++
			if prev, ok := last[c.AccountID]; ok && c.Time.Sub(prev) < inbox.BackfillSpacing {
				t.Fatalf("account %s: two backfill requests %v apart", c.AccountID, c.Time.Sub(prev))
			}
			last[c.AccountID] = c.Time
		}
		t.Logf("%d accounts × %d chats: %d messages; killed after %d stored; %d list requests in all", accounts, chats, total, mid, calls)
		if mid == 0 || mid >= total {
			t.Fatalf("the kill came at %d of %d messages: not halfway", mid, total)
		}
	})
}
