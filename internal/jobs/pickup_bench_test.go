package jobs_test

import (
	"context"
	"database/sql"
	"log/slog"
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
	"github.com/keel-outreach/keel/internal/jobs"
)

// pickupArgs is the benchmark's job: its worker reports when it starts.
type pickupArgs struct{}

func (pickupArgs) Kind() string { return "bench_pickup" }

type pickupWorker struct {
	river.WorkerDefaults[pickupArgs]
	started chan<- time.Time
}

func (w *pickupWorker) Work(ctx context.Context, _ *river.Job[pickupArgs]) error {
	w.started <- time.Now()
	return nil
}

// pickupLatencies runs a working queue on d and, n times, enqueues one job
// inside a database/sql transaction (as Keel's claims do) and measures
// from the commit to the worker's start.
func pickupLatencies(b *testing.B, d *db.DB, pollOnly bool, n int) []time.Duration {
	b.Helper()
	ctx := context.Background()
	started := make(chan time.Time, 1)
	workers := river.NewWorkers()
	river.AddWorker(workers, &pickupWorker{started: started})
	q, err := jobs.New(jobs.Options{DB: d, Workers: workers, MaxWorkers: 2, PollOnly: pollOnly,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	if err := q.Start(ctx); err != nil {
		b.Fatal(err)
	}
	defer func() { _ = q.Stop(ctx) }()
	out := make([]time.Duration, 0, n)
	for i := 0; i < n; i++ {
		// Jobs arrive at random moments, as claims do, rather than just
		// after the previous fetch (which would make polling look worst
		// and the fetch cooldown show in every notified pickup).
		time.Sleep(rand.N(jobs.DefaultPollInterval))
		if err := d.InTx(ctx, func(tx *sql.Tx) error {
			_, err := q.Client().InsertTx(ctx, tx, pickupArgs{}, nil)
			return err
		}); err != nil {
			b.Fatal(err)
		}
		committed := time.Now()
		select {
		case at := <-started:
			out = append(out, at.Sub(committed))
		case <-time.After(10 * time.Second):
			b.Fatalf("job %d not picked up within 10s (poll only: %v)", i, pollOnly)
		}
	}
	return out
}

func median(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

func maxOf(ds []time.Duration) time.Duration {
	var m time.Duration
	for _, d := range ds {
		m = max(m, d)
	}
	return m
}

func mean(ds []time.Duration) time.Duration {
	var sum time.Duration
	for _, d := range ds {
		sum += d
	}
	return sum / time.Duration(len(ds))
}

// BenchmarkPickupLatency measures, on PostgreSQL and in one run, how long a
// job enqueued in a committed transaction waits before a worker starts it:
// first with the queue polling only (as before notifications), then with
// notifications. Each op is one job in each mode, enqueued at a random
// moment within a poll interval; run it with a fixed count, e.g.
// -benchtime=40x (figures in docs/benchmarks.md#job-pickup).
func BenchmarkPickupLatency(b *testing.B) {
	d := dbtest.Open(b, db.Postgres, dbtest.Options{Durable: true})
	if err := jobs.Migrate(context.Background(), d); err != nil {
		b.Fatal(err)
	}
	n := b.N
	b.ResetTimer()
	poll := pickupLatencies(b, d, true, n)
	notify := pickupLatencies(b, d, false, n)
	b.StopTimer()
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(mean(poll)), "poll-mean-ms")
	b.ReportMetric(ms(median(poll)), "poll-p50-ms")
	b.ReportMetric(ms(mean(notify)), "notify-mean-ms")
	b.ReportMetric(ms(median(notify)), "notify-p50-ms")
	b.ReportMetric(ms(maxOf(notify)), "notify-max-ms")
	b.ReportMetric(float64(mean(poll))/float64(mean(notify)), "poll/notify-mean")
}
