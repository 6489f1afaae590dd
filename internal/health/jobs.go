package health

import (
	"context"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// SweepKind is the River job kind of a health sweep.
const SweepKind = "health_sweep"

// MaxSweepPeriod is the longest time between two sweeps. A sweep only checks
// accounts that are due, so sweeping often costs little and keeps checks
// close to their jittered times.
const MaxSweepPeriod = 30 * time.Second

// MinSweepPeriod is the shortest time between two sweeps, whatever the
// interval (tests use intervals of seconds).
const MinSweepPeriod = time.Second

// SweepArgs is the job that runs one Service.RunDue.
type SweepArgs struct{}

// Kind implements river.JobArgs.
func (SweepArgs) Kind() string { return SweepKind }

// InsertOpts makes sweeps single-attempt (the next period's sweep is the
// retry) and unique while one is waiting or running, so a slow sweep never
// piles others up behind it. Completed sweeps do not block the next one.
func (SweepArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{
		MaxAttempts: 1,
		UniqueOpts: river.UniqueOpts{ByState: []rivertype.JobState{
			rivertype.JobStateAvailable, rivertype.JobStatePending,
			rivertype.JobStateRunning, rivertype.JobStateScheduled,
		}},
	}
}

// SweepWorker runs SweepArgs jobs.
type SweepWorker struct {
	river.WorkerDefaults[SweepArgs]
	svc *Service
}

// NewSweepWorker returns the worker for SweepArgs jobs.
func NewSweepWorker(s *Service) *SweepWorker { return &SweepWorker{svc: s} }

// Work runs one sweep.
func (w *SweepWorker) Work(ctx context.Context, _ *river.Job[SweepArgs]) error {
	sum, err := w.svc.RunDue(ctx)
	if err != nil {
		return fmt.Errorf("health sweep: %w", err)
	}
	if sum.Checked > 0 || sum.Released > 0 || sum.Tripped {
		w.svc.log.Info("health sweep", "checked", sum.Checked, "flipped", sum.Flipped, "held", sum.Held,
			"released", sum.Released, "refused", sum.Refused, "guard", sum.Guard)
	}
	return nil
}

// Timeout lets a sweep run for up to one interval: claims are leased, so a
// sweep cut short loses nothing, and one that outlives an interval is
// already too slow to be worth finishing.
func (w *SweepWorker) Timeout(*river.Job[SweepArgs]) time.Duration { return w.svc.cfg.Interval }

// AddWorkers registers the health workers on a River worker bundle.
func AddWorkers(workers *river.Workers, s *Service) error {
	if err := river.AddWorkerSafely(workers, NewSweepWorker(s)); err != nil {
		return fmt.Errorf("registering health workers: %w", err)
	}
	return nil
}

// SweepPeriod is how often the periodic sweep runs for cfg: a tenth of the
// interval, at most MaxSweepPeriod and at least MinSweepPeriod.
func SweepPeriod(cfg Config) time.Duration {
	cfg = cfg.WithDefaults()
	return max(min(MaxSweepPeriod, cfg.Interval/10), MinSweepPeriod)
}

// PeriodicJobs returns the health monitor's periodic River jobs: the sweep,
// every SweepPeriod(cfg), also run once when a leader starts.
func PeriodicJobs(cfg Config) []*river.PeriodicJob {
	return []*river.PeriodicJob{
		river.NewPeriodicJob(
			river.PeriodicInterval(SweepPeriod(cfg)),
			func() (river.JobArgs, *river.InsertOpts) { return SweepArgs{}, nil },
			&river.PeriodicJobOpts{ID: SweepKind, RunOnStart: true},
		),
	}
}
