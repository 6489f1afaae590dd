package chaos

import (
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/unipile/fake"
)

// TestScaleOutSendsPerSecond measures sends per second with 1 and then 4
// `keel worker` processes on one PostgreSQL database against the fake
// Unipile answering in 300 ms ± 100 ms, in one run, and reports the ratio
// (docs/benchmarks.md#scale-out-1-vs-4-worker-processes-issue-16). Many accounts
// with a one-second gap keep per-account pacing from binding, so the
// figure follows provider latency and worker concurrency. It takes a few
// minutes, so it runs only with KEEL_BENCH_SCALEOUT=1; KEEL_BENCH_ACCOUNTS,
// KEEL_BENCH_SECONDS (the measured window per phase) and KEEL_BENCH_WORKERS
// (KEEL_WORKERS of each process) change its size.
func TestScaleOutSendsPerSecond(t *testing.T) {
	if os.Getenv("KEEL_BENCH_SCALEOUT") != "1" {
		t.Skip("set KEEL_BENCH_SCALEOUT=1 to measure sends per second with 1 vs 4 worker processes")
	}
	if raceEnabled {
		t.Skip("a throughput figure under -race means nothing")
	}
	accounts := envInt("KEEL_BENCH_ACCOUNTS", 200)
	window := time.Duration(envInt("KEEL_BENCH_SECONDS", 60)) * time.Second
	workers := envInt("KEEL_BENCH_WORKERS", 10)
	warm := 15 * time.Second
	h := newHarness(t, harnessOptions{Durable: true, Workers: workers, HealthInterval: 30 * time.Minute})
	h.seed(seedOptions{Accounts: accounts, Invites: 100, InviteDaily: 100, InvitePending: 400, MessageDaily: 50, MinGap: 1, MaxGap: 1})
	h.fake.SetLatencyJitter(300*time.Millisecond, 100*time.Millisecond)

	measure := func(procs int) float64 {
		for range procs {
			h.start()
		}
		time.Sleep(warm) // the measured window starts once every process runs its workers
		from := time.Now()
		time.Sleep(window)
		to := time.Now()
		h.stopAll()
		n := 0
		for _, c := range h.fake.Calls() {
			if c.Action == fake.ActionInvite && c.Applied && !c.Time.Before(from) && c.Time.Before(to) {
				n++
			}
		}
		rate := float64(n) / to.Sub(from).Seconds()
		t.Logf("%d worker process(es), KEEL_WORKERS=%d: %d invitations in %v = %.1f sends/s", procs, workers, n, to.Sub(from).Round(time.Millisecond), rate)
		// Where the time went: claims made in the window, how long a claimed
		// send waited for a worker, and how long its dispatch took.
		var claims int
		var wait, dispatch float64
		if err := h.d.SQL.QueryRow(`SELECT count(*), coalesce(avg(extract(epoch FROM dispatched_at - claimed_at)), 0),
			coalesce(avg(extract(epoch FROM finished_at - dispatched_at)), 0) FROM sends WHERE claimed_at >= $1 AND claimed_at < $2`,
			from, to).Scan(&claims, &wait, &dispatch); err != nil {
			t.Fatal(err)
		}
		t.Logf("  claims in the window: %d (%.1f/s); claim → dispatch start %.2fs on average; dispatch → outcome %.2fs",
			claims, float64(claims)/to.Sub(from).Seconds(), wait, dispatch)
		return rate
	}
	one := measure(1)
	four := measure(4)

	// Settle and check: the figure counts only if nothing was sent twice.
	h.pauseCampaigns()
	h.start()
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) && h.count(`SELECT count(*) FROM sends WHERE state IN ('intent', 'dispatched') OR (state = 'unknown' AND parked_at IS NULL)`) > 0 {
		time.Sleep(250 * time.Millisecond)
	}
	h.stopAll()
	rep := h.check()
	t.Logf("\n%d accounts; 1 process: %.1f sends/s; 4 processes: %.1f sends/s; ratio %.2f (goal ≥ 2.5)\n%s", accounts, one, four, four/one, rep)
	if rep.violations() > 0 {
		t.Errorf("the checker found %d violations", rep.violations())
	}
}

// envInt reads a positive integer setting of the benchmark.
func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}
