package diagnose

import (
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/db/dbtest"
	"github.com/keel-outreach/keel/internal/jobs"
)

// TestStalledSchedulerBlocksSending: a campaign that would be sending is
// reported stalled, blocking first, once the scheduler has gone three of
// its intervals without a completed pass; before that, and on a fresh
// installation where it never ran, it is sending normally.
func TestStalledSchedulerBlocksSending(t *testing.T) {
	t.Parallel()
	for _, engine := range dbtest.Engines {
		t.Run(string(engine), func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, engine, inviteSteps())
			check := func(wantCode string, wantSending bool) Finding {
				t.Helper()
				r, err := Campaign(f.ctx, f.deps, f.ws.ID, f.camp.ID, f.clock.Now())
				if err != nil {
					t.Fatal(err)
				}
				if len(r.Findings) == 0 || r.Findings[0].Code != wantCode || r.Sending != wantSending {
					t.Fatalf("at %s: sending %v, findings %+v; want first %s, sending %v", f.clock.Now(), r.Sending, r.Findings, wantCode, wantSending)
				}
				return r.Findings[0]
			}
			check("sending", true) // the scheduler never ran: nothing known
			timing := jobs.TimingFor(time.Minute)
			passAt := monday10.Add(-2 * time.Minute) // 09:58
			if ok, err := jobs.AcquireTask(f.ctx, f.d, jobs.TaskCampaignScheduler, "job 1", timing, passAt); err != nil || !ok {
				t.Fatalf("lease: %v %v", ok, err)
			}
			check("sending", true) // the first pass is under way
			f.clock.Set(passAt.Add(3*time.Minute + time.Second))
			fd := check("scheduler_stalled", false)
			if want := "The campaign scheduler has not completed a pass since it was first started at 09:58 UTC; sending is stalled until it does."; fd.Message != want || fd.Severity != Blocking {
				t.Fatalf("finding %+v, want blocking %q", fd, want)
			}
			if err := jobs.FinishTask(f.ctx, f.d, jobs.TaskCampaignScheduler, "job 1", passAt.Add(time.Second), nil); err != nil {
				t.Fatal(err)
			}
			f.clock.Set(passAt.Add(time.Second + 3*time.Minute))
			check("sending", true) // three intervals since the pass: not yet
			f.clock.Set(passAt.Add(time.Second + 3*time.Minute + time.Second))
			fd = check("scheduler_stalled", false)
			if want := "The campaign scheduler has not run since 09:58 UTC; sending is stalled until it does."; fd.Message != want {
				t.Fatalf("message %q, want %q", fd.Message, want)
			}
		})
	}
}
