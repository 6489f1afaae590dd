package app

import (
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/clock"
	"github.com/keel-outreach/keel/internal/config"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
	"github.com/keel-outreach/keel/internal/jobs"
	"github.com/keel-outreach/keel/internal/unipile/fake"
)

const (
	envPeriodicChild = "KEEL_PERIODIC_TEST_CHILD"
	envPeriodicBlock = "KEEL_PERIODIC_TEST_BLOCK"
	blockedMarker    = "periodic-test: pass hangs: "
	// testSchedulerInterval is short so the tests are quick; the property
	// tested is relative to it. A pass after a hung one may wait for the
	// next interval plus the queue's one-second poll, so an interval of
	// a few seconds keeps "within two intervals" clear of scheduling noise.
	testSchedulerInterval = 3 * time.Second
)

// TestPeriodicHelperProcess is one `keel worker` process of
// TestKilledSchedulerPassRunsAgain; it does nothing when run directly. With
// envPeriodicBlock set, that task's first pass hangs, ignoring its context
// as a pass stuck in a dead call would, after saying so on standard output;
// later passes run normally.
func TestPeriodicHelperProcess(t *testing.T) {
	if os.Getenv(envPeriodicChild) != "1" {
		t.Skip("helper process for TestKilledSchedulerPassRunsAgain")
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	cfg, _, err := config.Load(flag.NewFlagSet("child", flag.ContinueOnError), nil, os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{WorkerOnly: true}
	if block := os.Getenv(envPeriodicBlock); block != "" {
		hang := make(chan struct{})
		var once sync.Once
		opts.taskHook = func(_ context.Context, task string) {
			if task != block {
				return
			}
			first := false
			once.Do(func() { first = true })
			if first {
				fmt.Fprintln(os.Stdout, blockedMarker+task)
				<-hang
			}
		}
	}
	a, err := Open(ctx, cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if err := a.Run(ctx); err != nil {
		t.Fatal(err)
	}
}

type child struct {
	cmd *exec.Cmd
	out *syncBuffer
}

func startChild(t *testing.T, env ...string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestPeriodicHelperProcess$", "-test.count=1")
	cmd.Env = append(append(os.Environ(), envPeriodicChild+"=1"), env...)
	c := &child{cmd: cmd, out: &syncBuffer{}}
	cmd.Stdout, cmd.Stderr = c.out, c.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState != nil {
			return
		}
		_ = cmd.Process.Signal(syscall.SIGTERM)
		if err := cmd.Wait(); err != nil {
			t.Errorf("worker process: %v\n%s", err, c.out.String())
		}
	})
	return c
}

// taskJob is a River job of one periodic task.
type taskJob struct {
	id    int64
	state string
}

// taskJobs lists the River jobs of task, oldest first. Arguments are
// decoded here because the engines store them differently.
func taskJobs(t *testing.T, d *db.DB, task string) []taskJob {
	t.Helper()
	args := "args::text"
	if d.Engine == db.SQLite {
		args = "json(args)" // River's SQLite driver may store binary JSON
	}
	rows, err := d.SQL.Query(`SELECT id, state, ` + args + ` FROM river_job WHERE kind = 'keel_task' ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []taskJob
	for rows.Next() {
		var j taskJob
		var args []byte
		if err := rows.Scan(&j.id, &j.state, &args); err != nil {
			t.Fatal(err)
		}
		var a TaskArgs
		if err := json.Unmarshal(args, &a); err != nil {
			t.Fatalf("job %d args %q: %v", j.id, args, err)
		}
		if a.Task == task {
			out = append(out, j)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func lastFinished(t *testing.T, d *db.DB, task string) time.Time {
	t.Helper()
	var at db.NullTime
	err := d.SQL.QueryRow(`SELECT last_finished_at FROM periodic_task_runs WHERE task = $1`, task).Scan(&at)
	if err != nil && err != sql.ErrNoRows {
		t.Fatal(err)
	}
	return at.Time
}

// TestKilledSchedulerPassRunsAgain kills (SIGKILL) a worker process while
// its campaign scheduler pass hangs, so the pass's River job stays
// `running`, then starts another process on the same database: the next
// scheduler pass must complete within two scheduler intervals of the kill.
func TestKilledSchedulerPassRunsAgain(t *testing.T) {
	t.Parallel()
	for _, engine := range dbtest.Engines {
		t.Run(string(engine), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			url := "sqlite:" + filepath.Join(t.TempDir(), "keel.db")
			if engine == db.Postgres {
				url = dbtest.NewPostgresSchema(t, false)
			}
			d, err := db.Open(ctx, url)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			if _, err := Migrate(ctx, d); err != nil {
				t.Fatal(err)
			}
			f := fake.New(fake.Options{})
			if err := f.Start("127.0.0.1:0"); err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			env := []string{"KEEL_DATABASE_URL=" + url, "KEEL_WORKERS=4", "UNIPILE_DSN=" + f.URL(),
				"UNIPILE_API_KEY=" + f.APIKey(), "KEEL_WEBHOOK_SECRET=periodic-test-secret",
				"KEEL_SCHEDULER_INTERVAL=" + testSchedulerInterval.String()}
			const task = "campaign_scheduler"

			first := startChild(t, append(env, envPeriodicBlock+"="+task)...)
			poll(t, time.Minute, func() bool { return strings.Contains(first.out.String(), blockedMarker+task) },
				func() string { return "the first process never started a scheduler pass:\n" + first.out.String() })
			if err := first.cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			_ = first.cmd.Wait()
			killed := time.Now()
			var stuck int64
			for _, j := range taskJobs(t, d, task) {
				if j.state == "running" {
					stuck = j.id
				}
			}
			if stuck == 0 {
				t.Fatalf("no scheduler job was left running by the kill: %+v", taskJobs(t, d, task))
			}

			second := startChild(t, env...)
			deadline := killed.Add(2 * testSchedulerInterval)
			for {
				completed := false
				for _, j := range taskJobs(t, d, task) {
					completed = completed || (j.id > stuck && j.state == "completed")
				}
				if completed && lastFinished(t, d, task).After(killed) {
					t.Logf("%s: next scheduler pass completed %v after the kill", engine, time.Since(killed).Round(time.Millisecond))
					return
				}
				if time.Now().After(deadline) {
					t.Fatalf("no scheduler pass completed within two intervals (%v) of the kill; jobs: %+v\nsecond process:\n%s",
						2*testSchedulerInterval, taskJobs(t, d, task), second.out.String())
				}
				time.Sleep(20 * time.Millisecond)
			}
		})
	}
}

// TestHungSchedulerPassDoesNotStallIt: in a live process whose scheduler
// pass hangs (ignoring its context), the next pass runs once the hung
// pass's lease has expired: at the first interval after that, so within
// the lease plus one interval (plus the queue's poll), on both engines.
func TestHungSchedulerPassDoesNotStallIt(t *testing.T) {
	t.Parallel()
	for _, engine := range dbtest.Engines {
		t.Run(string(engine), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			url := "sqlite:" + filepath.Join(t.TempDir(), "keel.db")
			if engine == db.Postgres {
				url = dbtest.NewPostgresSchema(t, false)
			}
			d, err := db.Open(ctx, url)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			if _, err := Migrate(ctx, d); err != nil {
				t.Fatal(err)
			}
			f := fake.New(fake.Options{})
			if err := f.Start("127.0.0.1:0"); err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			const task = "campaign_scheduler"
			p := startChild(t, "KEEL_DATABASE_URL="+url, "KEEL_WORKERS=4", "UNIPILE_DSN="+f.URL(),
				"UNIPILE_API_KEY="+f.APIKey(), "KEEL_WEBHOOK_SECRET=periodic-test-secret",
				"KEEL_SCHEDULER_INTERVAL="+testSchedulerInterval.String(), envPeriodicBlock+"="+task)
			poll(t, time.Minute, func() bool { return strings.Contains(p.out.String(), blockedMarker+task) },
				func() string { return "the process never started a scheduler pass:\n" + p.out.String() })
			hung := time.Now()
			bound := jobs.TimingFor(testSchedulerInterval).Lease() + testSchedulerInterval + jobs.DefaultPollInterval + time.Second/2
			for !lastFinished(t, d, task).After(hung) {
				if time.Since(hung) > bound {
					t.Fatalf("no scheduler pass completed within %v of a pass hanging; jobs: %+v\n%s",
						bound, taskJobs(t, d, task), p.out.String())
				}
				time.Sleep(20 * time.Millisecond)
			}
			t.Logf("%s: next scheduler pass completed %v after one hung", engine, time.Since(hung).Round(time.Millisecond))
			// The hung pass would hold up a graceful stop until its timeout.
			_ = p.cmd.Process.Kill()
			_ = p.cmd.Wait()
		})
	}
}

// poll waits for cond, failing with msg after timeout.
func poll(t *testing.T, timeout time.Duration, cond func() bool, msg func() string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal(msg())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestReadinessNamesStalledTasks: /readyz answers 503 naming each periodic
// task that has gone three of its intervals without a completed pass, and
// not before: a fresh process has its intervals to run them. The process
// here runs no workers, so only the test writes heartbeats.
func TestReadinessNamesStalledTasks(t *testing.T) {
	t.Parallel()
	for _, engine := range dbtest.Engines {
		t.Run(string(engine), func(t *testing.T) {
			t.Parallel()
			url := "sqlite:" + filepath.Join(t.TempDir(), "keel.db")
			if engine == db.Postgres {
				url = dbtest.NewPostgresSchema(t, false)
			}
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			addr := ln.Addr().String()
			cfg := config.Config{DatabaseURL: url, Addr: addr, PublicURL: "http://" + addr, HealthInterval: time.Minute,
				SchedulerInterval: time.Minute, MinSpacing: time.Minute, Workers: 0}
			start := time.Date(2026, 3, 2, 14, 0, 0, 0, time.UTC)
			c := clock.NewFake(start)
			ctx := context.Background()
			a, err := Open(ctx, cfg, Options{Listener: ln, Clock: c})
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			if err := a.Queue.Start(ctx); err != nil {
				t.Fatal(err)
			}
			readyz := func() (int, map[string]any) {
				t.Helper()
				rec := httptest.NewRecorder()
				a.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
				var body map[string]any
				if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
					t.Fatalf("readyz body %q: %v", rec.Body.String(), err)
				}
				return rec.Code, body
			}
			if code, body := readyz(); code != 200 {
				t.Fatalf("fresh process: %d %v", code, body)
			}
			// Every task completes a pass; the scheduler's is its last.
			passAt := c.Advance(time.Minute)
			for name, tk := range a.periodic {
				owner := "test " + name
				if ok, err := jobs.AcquireTask(ctx, a.DB, name, owner, tk.timing(), passAt); err != nil || !ok {
					t.Fatalf("lease %s: %v %v", name, ok, err)
				}
				if err := jobs.FinishTask(ctx, a.DB, name, owner, passAt, nil); err != nil {
					t.Fatal(err)
				}
			}
			// Other tasks keep completing passes; the scheduler does not.
			keepOthers := func() {
				now := c.Now()
				for name, tk := range a.periodic {
					if name == jobs.TaskCampaignScheduler {
						continue
					}
					if ok, err := jobs.AcquireTask(ctx, a.DB, name, "later "+name, tk.timing(), now); err != nil || !ok {
						t.Fatalf("lease %s: %v %v", name, ok, err)
					}
					if err := jobs.FinishTask(ctx, a.DB, name, "later "+name, now, nil); err != nil {
						t.Fatal(err)
					}
				}
			}
			c.Set(passAt.Add(3 * time.Minute))
			keepOthers()
			if code, body := readyz(); code != 200 {
				t.Fatalf("three intervals after the scheduler's pass: %d %v", code, body)
			}
			c.Set(passAt.Add(3*time.Minute + time.Second))
			keepOthers()
			code, body := readyz()
			checks, _ := body["checks"].(map[string]any)
			stalled, _ := body["stalled_tasks"].(map[string]any)
			if code != 503 || checks["periodic_tasks"] != "stalled: campaign_scheduler" || len(stalled) != 1 ||
				stalled["campaign_scheduler"] != "last completed pass 2026-03-02T14:01:00Z" {
				t.Fatalf("stalled scheduler: %d %v", code, body)
			}
		})
	}
}

// TestDeadRunningJobDoesNotBlockTheNextInterval: the job the leader inserts
// for a task's next interval is not refused as a duplicate of a job left
// running by a dead process, while a second job for one interval still is.
func TestDeadRunningJobDoesNotBlockTheNextInterval(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		if err := jobs.Migrate(ctx, d); err != nil {
			t.Fatal(err)
		}
		q, err := jobs.New(jobs.Options{DB: d})
		if err != nil {
			t.Fatal(err)
		}
		every := 2 * time.Second
		first := time.Now().Add(-time.Hour).Truncate(every)
		insert := func(at time.Time) (int64, bool) {
			t.Helper()
			opts := periodicInsertOpts(every)
			opts.ScheduledAt = at // as River's periodic enqueuer sets it
			res, err := q.Client().Insert(ctx, TaskArgs{Task: jobs.TaskCampaignScheduler}, opts)
			if err != nil {
				t.Fatal(err)
			}
			return res.Job.ID, res.UniqueSkippedAsDuplicate
		}
		id, _ := insert(first)
		if _, err := d.SQL.ExecContext(ctx, `UPDATE river_job SET state = 'running', attempt = 1 WHERE id = $1`, id); err != nil {
			t.Fatal(err)
		}
		if _, dup := insert(first.Add(every)); dup {
			t.Fatal("the next interval's job was refused as a duplicate of a running one")
		}
		if _, dup := insert(first.Add(every + time.Second/2)); !dup {
			t.Fatal("a second job for one interval was inserted")
		}
	})
}
