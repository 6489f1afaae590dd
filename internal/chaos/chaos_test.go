package chaos

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/unipile/fake"
)

// chaosPlan is how hard one run shakes the system.
type chaosPlan struct {
	duration   time.Duration
	processes  int
	accounts   int
	killEvery  [2]time.Duration // a kill every [min,max)
	faultEvery [2]time.Duration
	minKills   int
	seed       seedOptions
}

func planFor(d time.Duration) chaosPlan {
	if d < 10*time.Minute {
		// The CI run: a minute, 8 accounts, caps that bind before the end.
		return chaosPlan{duration: d, processes: 3, killEvery: [2]time.Duration{4 * time.Second, 9 * time.Second},
			faultEvery: [2]time.Duration{2 * time.Second, 5 * time.Second}, minKills: 5,
			seed: seedOptions{Accounts: 8, Invites: 25, Messages: 25, InviteDaily: 15, InvitePending: 12, MessageDaily: 20, MinGap: 1, MaxGap: 2}}
	}
	// The long run: at least 30 kills and enough work to keep sending for
	// the whole duration (about one action per account every 3 s).
	per := int(d / (3 * time.Second))
	return chaosPlan{duration: d, processes: 3, killEvery: [2]time.Duration{8 * time.Second, 16 * time.Second},
		faultEvery: [2]time.Duration{2 * time.Second, 6 * time.Second}, minKills: 30,
		seed: seedOptions{Accounts: 12, Invites: per/2 + 10, Messages: per/2 + 10, InviteDaily: min(100, per/2), InvitePending: min(100, per/2) - 10,
			MessageDaily: min(150, per/2), MinGap: 2, MaxGap: 4}}
}

// TestChaos runs `keel worker` processes against the fake Unipile while
// killing them at random and injecting provider faults, then lets the
// system settle and checks every safety rule over the fake's call log and
// the database (docs/operations.md#the-chaos-check). One minute by
// default; KEEL_CHAOS_DURATION=10m for the long run.
func TestChaos(t *testing.T) {
	if raceEnabled {
		t.Skip("the chaos run measures real processes; it runs in the pass without -race")
	}
	d := time.Minute
	if v := os.Getenv("KEEL_CHAOS_DURATION"); v != "" {
		var err error
		if d, err = time.ParseDuration(v); err != nil || d < 10*time.Second {
			t.Fatalf("KEEL_CHAOS_DURATION=%q: want a Go duration of at least 10s", v)
		}
	}
	plan := planFor(d)
	h := newHarness(t, harnessOptions{Workers: 6, HealthInterval: 6 * time.Second})
	h.seed(plan.seed)
	h.fake.SetLatencyJitter(300*time.Millisecond, 100*time.Millisecond)
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 16))

	for range plan.processes {
		h.start()
	}
	faults := map[string]int{}
	between := func(r [2]time.Duration) time.Duration {
		return r[0] + time.Duration(rng.Int64N(int64(r[1]-r[0])))
	}
	end := time.Now().Add(plan.duration)
	nextKill, nextFault := time.Now().Add(between(plan.killEvery)), time.Now().Add(between(plan.faultEvery))
	var burstOff time.Time
	burstDone := false
	var restarts []time.Time
	var reverts []revert
	lost := map[string]bool{} // accounts taken out by a fault, at most a quarter of them
	for time.Now().Before(end) {
		time.Sleep(100 * time.Millisecond) // the chaos schedule's tick, not a wait for work
		now := time.Now()
		if !burstOff.IsZero() && now.After(burstOff) {
			h.fake.SetBurst404(false)
			burstOff = time.Time{}
		}
		// Restart the killed processes whose pause is over.
		kept := restarts[:0]
		for _, at := range restarts {
			if now.After(at) {
				h.start()
			} else {
				kept = append(kept, at)
			}
		}
		restarts = kept
		keptReverts := reverts[:0]
		for _, r := range reverts {
			if now.After(r.at) {
				r.undo()
			} else {
				keptReverts = append(keptReverts, r)
			}
		}
		reverts = keptReverts
		if now.After(nextKill) {
			if live := h.running(); len(live) > 0 {
				h.kill(live[rng.IntN(len(live))])
				restarts = append(restarts, now.Add(time.Duration(rng.Int64N(int64(3*time.Second)))))
			}
			nextKill = now.Add(between(plan.killEvery))
		}
		// The mass 404 (every account "vanishes") comes once, near the end:
		// it trips the burst guard, which rightly holds every send for a
		// quarter of an hour (docs/health.md), so earlier it would leave
		// the rest of the run idle.
		if burstOff.IsZero() && !burstDone && now.After(end.Add(-40*time.Second)) {
			h.fake.SetBurst404(true)
			burstOff, burstDone = now.Add(8*time.Second), true
			faults["mass_404"]++
		}
		if now.After(nextFault) {
			if r := h.injectRandomFault(rng, faults, lost, plan.seed.Accounts/4); r != nil {
				reverts = append(reverts, *r)
			}
			nextFault = now.Add(between(plan.faultEvery))
		}
	}
	for _, r := range reverts {
		r.undo()
	}
	h.fake.SetBurst404(false)
	h.fake.ClearFaults()
	h.fake.SetLatencyJitter(20*time.Millisecond, 10*time.Millisecond)

	// Settle: no new claims, every process stopped, fresh ones started
	// (each start runs a reconciliation pass), polled until nothing is in
	// flight or unknown and unparked. A reconciliation pass killed during
	// the run holds its lease until it expires (jobs.PeriodicTiming.HeldLease,
	// 30 s after its last extension), which a start-up pass waits out; the
	// processes are still restarted every minute, up to six times, in case
	// a start-up pass missed it.
	h.pauseCampaigns()
	h.stopAll()
	settleStart := time.Now()
	settled := false
	for round := 0; round < 6 && !settled; round++ {
		for range plan.processes {
			h.start()
		}
		deadline := time.Now().Add(time.Minute)
		for time.Now().Before(deadline) {
			if h.count(`SELECT count(*) FROM sends WHERE state IN ('intent', 'dispatched') OR (state = 'unknown' AND parked_at IS NULL)`) == 0 {
				settled = true
				break
			}
			time.Sleep(250 * time.Millisecond)
		}
		h.stopAll()
	}
	h.stopAll()
	rep := h.check()
	summary := fmt.Sprintf("chaos run: %v with %d worker processes (KEEL_WORKERS=6), %d accounts; %d SIGKILLs, %d process starts\n"+
		"faults injected: %v; base latency 300ms±100ms\nsettled in %v (settled=%v)\n%s",
		plan.duration, plan.processes, plan.seed.Accounts, h.kills, h.starts, faults,
		time.Since(settleStart).Round(time.Second), settled, rep)
	t.Log("\n" + summary)
	if os.Getenv("KEEL_CHAOS_DEBUG") != "" {
		statuses := map[string]int{}
		for _, c := range h.fake.Calls() {
			statuses[fmt.Sprintf("%s %d applied=%v", c.Action, c.Status, c.Applied)]++
		}
		t.Logf("calls by action and status: %v", statuses)
		rows, _ := h.d.SQL.Query(`SELECT action, state, coalesce(error_kind, ''), coalesce(error, ''), parked_at IS NOT NULL, count(*) FROM sends GROUP BY 1,2,3,4,5`)
		for rows != nil && rows.Next() {
			var a, st, k, e string
			var parked bool
			var n int
			_ = rows.Scan(&a, &st, &k, &e, &parked, &n)
			t.Logf("sends: %s %s %s %q parked=%v: %d", a, st, k, e, parked, n)
		}
	}
	if path := os.Getenv("KEEL_CHAOS_REPORT"); path != "" {
		_ = os.WriteFile(path, []byte(summary), 0o644)
	}
	for _, c := range h.crashed() {
		t.Errorf("worker %d exited on its own:\n%s", c.id, h.logTail(c))
	}
	if rep.violations() > 0 {
		t.Errorf("the checker found %d violations (details above)", rep.violations())
	}
	if h.kills < plan.minKills {
		t.Errorf("only %d kills, want at least %d", h.kills, plan.minKills)
	}
	if rep.Applied == 0 {
		t.Error("nothing was sent: the run proved nothing")
	}
	if !settled {
		t.Error("the system did not settle: sends still in flight or unknown and unparked")
	}
}

// revert undoes a fault that lasts a while.
type revert struct {
	at   time.Time
	undo func()
}

// injectRandomFault injects one of the fake's faults and counts it. Faults
// that take one account out of sending for long (a 429 on a send; it
// vanishes: 404 on every call; its session expires: CREDENTIALS — the last
// two for 20–40 s, long enough for health checks to act) hit at most
// maxLost accounts of the run, so the others keep sending to the end.
func (h *harness) injectRandomFault(rng *rand.Rand, counts map[string]int, lost map[string]bool, maxLost int) *revert {
	f := h.fake
	switch n := rng.IntN(100); {
	case n < 18:
		// A 429 on a send is a LinkedIn limit signal: the account rests
		// that action for hours (docs/sending.md), so 429s on sends hit
		// only the accounts of the faults' budget; reads get them freely.
		if rng.IntN(3) == 0 && len(lost) < maxLost {
			s := h.senders[rng.IntN(len(h.senders))]
			lost[s.provider] = true
			_, _ = f.InjectFault(fake.Fault{AccountID: s.provider, Effect: fake.EffectError, Status: http.StatusTooManyRequests, Times: 1 + rng.IntN(3)})
			counts["429_on_send"]++
			return nil
		}
		action := []string{fake.ActionGetAccount, fake.ActionListSentInvitations, fake.ActionListChats, fake.ActionListMessages}[rng.IntN(4)]
		_, _ = f.InjectFault(fake.Fault{Action: action, Effect: fake.EffectError, Status: http.StatusTooManyRequests, Times: 1 + rng.IntN(8)})
		counts["429_on_read"]++
	case n < 36:
		st := []int{http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable}[rng.IntN(3)]
		_, _ = f.InjectFault(fake.Fault{Effect: fake.EffectError, Status: st, Times: 1 + rng.IntN(8)})
		counts["5xx"]++
	case n < 62:
		// The action is applied, then the answer is lost: a dropped
		// connection or a 504 after the fact.
		action := []string{fake.ActionInvite, fake.ActionStartChat}[rng.IntN(2)]
		status := []int{0, http.StatusGatewayTimeout}[rng.IntN(2)]
		_, _ = f.InjectFault(fake.Fault{Action: action, Effect: fake.EffectLost, Status: status, Times: 1 + rng.IntN(3)})
		counts["lost_response"]++
	case n < 80:
		_, _ = f.InjectFault(fake.Fault{Effect: fake.EffectLatency, Latency: fake.Duration(time.Duration(2+rng.IntN(5)) * time.Second),
			Times: 3 + rng.IntN(15)})
		counts["latency_spike"]++
	default:
		if len(lost) >= maxLost {
			return nil
		}
		s := h.senders[rng.IntN(len(h.senders))]
		if lost[s.provider] {
			return nil
		}
		lost[s.provider] = true
		at := time.Now().Add(time.Duration(20+rng.IntN(21)) * time.Second)
		if rng.IntN(2) == 0 {
			id, _ := f.InjectFault(fake.Fault{AccountID: s.provider, Effect: fake.EffectError, Status: http.StatusNotFound})
			counts["account_404"]++
			return &revert{at: at, undo: func() { f.RemoveFault(id) }}
		}
		_ = f.SetAccountStatus(s.provider, "CREDENTIALS")
		counts["account_credentials"]++
		return &revert{at: at, undo: func() { _ = f.SetAccountStatus(s.provider, "OK") }}
	}
	return nil
}
