package cli

import (
	"context"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/app"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
	"github.com/keel-outreach/keel/internal/jobs"
	"github.com/keel-outreach/keel/internal/unipile/fake"
)

// TestWorkerHelperProcess is one `keel worker` process of
// TestTwoWorkerProcessesShareTheQueue; it does nothing when run directly.
func TestWorkerHelperProcess(t *testing.T) {
	if os.Getenv("KEEL_WORKER_CHILD") != "1" {
		t.Skip("helper process for TestTwoWorkerProcessesShareTheQueue")
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	code := Run(ctx, []string{"worker"}, Env{Getenv: os.Getenv, Stdout: os.Stdout, Stderr: os.Stderr})
	if code != ExitOK {
		t.Fatalf("keel worker exited %d", code)
	}
}

func TestTwoWorkerProcessesShareTheQueue(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := dbtest.NewPostgresSchema(t, false)
	d, err := db.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := app.Migrate(ctx, d); err != nil {
		t.Fatal(err)
	}
	f := fake.New(fake.Options{})
	if err := f.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	var children []*exec.Cmd
	for i := 0; i < 2; i++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestWorkerHelperProcess$", "-test.count=1")
		cmd.Env = append(os.Environ(), "KEEL_WORKER_CHILD=1", "KEEL_DATABASE_URL="+url, "KEEL_WORKERS=3",
			"UNIPILE_DSN="+f.URL(), "UNIPILE_API_KEY="+f.APIKey(), "KEEL_WEBHOOK_SECRET=worker-test-secret")
		out := &strings.Builder{}
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		children = append(children, cmd)
		defer func(cmd *exec.Cmd, out *strings.Builder) {
			_ = cmd.Process.Signal(syscall.SIGTERM)
			if err := cmd.Wait(); err != nil {
				t.Errorf("worker process: %v\n%s", err, out.String())
			}
		}(cmd, out)
	}

	q, err := jobs.New(jobs.Options{DB: d})
	if err != nil {
		t.Fatal(err)
	}
	const n = 60
	for i := 0; i < n; i++ {
		if _, err := q.Client().Insert(ctx, app.TaskArgs{Task: "webhook_inbox"}, nil); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(90 * time.Second)
	for {
		var done int
		if err := d.SQL.QueryRow(`SELECT count(*) FROM river_job WHERE kind = 'keel_task' AND args->>'task' = 'webhook_inbox' AND state = 'completed'`).Scan(&done); err != nil {
			t.Fatal(err)
		}
		if done >= n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d jobs completed", done, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
	var workers int
	if err := d.SQL.QueryRow(`SELECT count(DISTINCT w) FROM river_job, unnest(attempted_by) AS w
		WHERE kind = 'keel_task' AND args->>'task' = 'webhook_inbox'`).Scan(&workers); err != nil {
		t.Fatal(err)
	}
	if workers < 2 {
		t.Fatalf("the %d jobs were worked by %d process(es), want both workers", n, workers)
	}
	t.Logf("%d jobs worked by %d worker processes", n, workers)
}
