package send_test

import (
	"context"
	"database/sql"
	"sync"
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

// inFlight is how long after its dispatch a send may still be in its call
// with the sims' client (default timeout).
const inFlight = unipile.DefaultTimeout + send.InFlightMargin

// inFlightWorld is one sender, one message campaign to a connection, and an
// engine that claims through a queue (the test dispatches) and keeps the
// events it emits.
type inFlightWorld struct {
	*sim
	sa      simAccount
	queued  *send.Engine
	claimed []string

	mu     sync.Mutex
	events []string
}

func newInFlightWorld(t *testing.T, d *db.DB) *inFlightWorld {
	t.Helper()
	w := &inFlightWorld{sim: newSim(t, d, 11)}
	w.sa = w.addAccount(t, "Slow", account.TierPremium, "UTC", 5)
	w.addCampaign(t, "slow", []campaign.Step{{ID: "m1", Type: campaign.StepMessage, Text: "Hello {{first_name}}"}}, 1, []string{w.sa.acc.ID})
	if _, err := w.fake.AddRelation(w.sa.provider, "ACoAAslow00000"); err != nil {
		t.Fatal(err)
	}
	var err error
	w.queued, err = send.New(send.Options{DB: d, Accounts: w.accounts, Campaigns: w.camps, Client: w.client, Clock: w.clock, Seed: 1,
		Enqueue: func(_ context.Context, _ *sql.Tx, id string) error { w.claimed = append(w.claimed, id); return nil },
		Emit: func(_ context.Context, _ *sql.Tx, _ string, eventType string, _ any) error {
			w.mu.Lock()
			defer w.mu.Unlock()
			w.events = append(w.events, eventType)
			return nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	w.clock.Set(simStart.Add(9 * time.Hour))
	if _, err := w.queued.RunPass(w.ctx); err != nil || len(w.claimed) != 1 {
		t.Fatalf("claim: %v %v", w.claimed, err)
	}
	return w
}

func (w *inFlightWorld) state(t *testing.T) (state string, parked bool) {
	t.Helper()
	if err := w.d.SQL.QueryRow(`SELECT state, parked_at IS NOT NULL FROM sends WHERE id = $1`, w.claimed[0]).Scan(&state, &parked); err != nil {
		t.Fatal(err)
	}
	return state, parked
}

func (w *inFlightWorld) sweep(t *testing.T) {
	t.Helper()
	if _, err := w.queued.ReconcileUnknown(w.ctx); err != nil {
		t.Fatal(err)
	}
}

// dispatchHeld dispatches the claimed send with its provider answer held,
// and returns once the provider has applied the message: the send is in
// its call until release. done receives Dispatch's result.
func (w *inFlightWorld) dispatchHeld(t *testing.T) (release func(), done <-chan error) {
	t.Helper()
	release = w.fake.HoldAnswers(fake.ActionStartChat, 1)
	t.Cleanup(release)
	result := make(chan error, 1)
	go func() { result <- w.queued.Dispatch(w.ctx, w.claimed[0]) }()
	for deadline := time.Now().Add(20 * time.Second); applied(w.fake, fake.ActionStartChat) == 0; {
		if time.Now().After(deadline) {
			t.Fatal("the provider never applied the message")
		}
		time.Sleep(10 * time.Millisecond)
	}
	return release, result
}

func (w *inFlightWorld) sentEvents() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, e := range w.events {
		if e == "linkedin.message_sent" {
			n++
		}
	}
	return n
}

// docs/operations.md#what-a-crash-leaves-behind: the reconciliation sweep
// takes a dispatched send for one a crash left behind only once its call
// cannot still be running.
func TestSweepLeavesASendInItsCall(t *testing.T) {
	t.Parallel()

	// A live worker has marked the send dispatched and is about to call
	// Unipile. A sweep then (another process starting, say) used to read
	// the chat, find nothing yet and park a message that went out a moment
	// later.
	t.Run("ItIsNotParkedBeforeTheProviderActs", func(t *testing.T) {
		t.Parallel()
		dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
			w := newInFlightWorld(t, d)
			if _, err := d.SQL.Exec(`UPDATE sends SET state = 'dispatched', dispatched_at = $2 WHERE id = $1`, w.claimed[0], w.clock.Now()); err != nil {
				t.Fatal(err)
			}
			mark := w.clock.Now()
			w.clock.Advance(inFlight - time.Second)
			w.sweep(t)
			if state, parked := w.state(t); state != "dispatched" || parked {
				t.Fatalf("a send still in its call was taken by the sweep: %s, parked %v", state, parked)
			}
			if n := countCalls(w.fake, w.sa.provider, fake.ActionListChats, mark); n != 0 {
				t.Fatalf("the sweep read %d chat lists for a send still in its call", n)
			}
			// The worker's call goes out and its answer is lost; then the
			// worker dies. Past the call's longest life the sweep finds it.
			w.fake.LoseResponses(fake.ActionStartChat, 1)
			req := unipile.StartChatRequest{AccountID: w.sa.provider, AttendeeIDs: []string{"ACoAAslow00000"}, Text: "Hello P0"}
			if _, err := w.client.StartChat(w.ctx, req); unipile.KindOf(err) != unipile.KindUnknownOutcome {
				t.Fatalf("a lost answer must be an unknown outcome: %v", err)
			}
			w.clock.Advance(2 * time.Second)
			w.sweep(t)
			if state, parked := w.state(t); state != "confirmed" || parked {
				t.Fatalf("after the call's longest life the sweep must confirm it from the chat: %s, parked %v", state, parked)
			}
			if n := countCalls(w.fake, w.sa.provider, fake.ActionStartChat, mark); n != 1 {
				t.Fatalf("the message was sent %d times", n)
			}
		})
	})

	// The provider has acted but its answer is slow. A sweep past the
	// call's longest life confirms the send from the chat; the answer that
	// comes after must not confirm it again (a second message_sent event).
	t.Run("ALateAnswerDoesNotConfirmItTwice", func(t *testing.T) {
		t.Parallel()
		dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
			w := newInFlightWorld(t, d)
			release, done := w.dispatchHeld(t)
			w.sweep(t)
			if state, _ := w.state(t); state != "dispatched" {
				t.Fatalf("the sweep took a send in its call: %s", state)
			}
			w.clock.Advance(inFlight + time.Second)
			w.sweep(t)
			if state, parked := w.state(t); state != "confirmed" || parked {
				t.Fatalf("the sweep past the call's life: %s, parked %v", state, parked)
			}
			release()
			if err := <-done; err != nil {
				t.Fatalf("the late answer: %v", err)
			}
			if state, _ := w.state(t); state != "confirmed" {
				t.Fatalf("after the late answer: %s", state)
			}
			if n := w.sentEvents(); n != 1 {
				t.Fatalf("%d message_sent events for one message", n)
			}
		})
	})
}

// A pass's DispatchPending listed the send while it was claimed; the
// queue's job locked it first and is in its call. The pass's Dispatch then
// finds it dispatched: it must leave it to the job's answer, not reconcile
// it (before, a read of the chat a moment before the provider applied the
// message parked it).
func TestASecondDispatchLeavesTheSendToTheFirst(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		w := newInFlightWorld(t, d)
		release, done := w.dispatchHeld(t)
		mark := w.clock.Now()
		w.clock.Advance(inFlight - time.Second)
		if err := w.queued.Dispatch(w.ctx, w.claimed[0]); err != nil {
			t.Fatal(err)
		}
		if state, parked := w.state(t); state != "dispatched" || parked {
			t.Fatalf("a second dispatch took a send in its call: %s, parked %v", state, parked)
		}
		if n := countCalls(w.fake, w.sa.provider, fake.ActionListChats, mark); n != 0 {
			t.Fatalf("a second dispatch read %d chat lists for a send in its call", n)
		}
		release()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if state, _ := w.state(t); state != "confirmed" {
			t.Fatalf("after the first dispatch's answer: %s", state)
		}
		if n, e := applied(w.fake, fake.ActionStartChat), w.sentEvents(); n != 1 || e != 1 {
			t.Fatalf("%d messages sent, %d message_sent events; want 1 and 1", n, e)
		}
	})
}

// applied counts the calls of action the fake applied.
func applied(f *fake.Server, action string) (n int) {
	for _, c := range f.Calls() {
		if c.Action == action && c.Applied {
			n++
		}
	}
	return n
}
