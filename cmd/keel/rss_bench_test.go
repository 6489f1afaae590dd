package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the seed's PostgreSQL driver

	"github.com/keel-outreach/keel/internal/unipile/fake"
)

// TestServeRSS measures the resident memory of `keel serve` with 10,000
// accounts under a running day (docs/benchmarks.md#resident-memory-of-keel-serve). It is
// a measurement, not a check: it prints the figures and fails only when
// the server cannot run. It runs with KEEL_BENCH_RSS=1 and
// KEEL_BENCH_RSS_DATABASE_URL naming an existing PostgreSQL database it may
// empty and fill:
//
//	KEEL_BENCH_RSS=1 KEEL_BENCH_RSS_DATABASE_URL=postgres://…/keel_rss?sslmode=disable \
//	  go test -run TestServeRSS -v -timeout 30m ./cmd/keel/
//
// It builds the binary, migrates the database, seeds KEEL_BENCH_RSS_ACCOUNTS
// (10,000) connected accounts whose window is always open, one running
// campaign per 100 of them and 20 due prospects per account (a profile
// view, an invitation, a wait), starts a fake Unipile on loopback that
// knows every account, runs `keel serve` against it with a five-second
// scheduler (KEEL_BENCH_RSS_SCHEDULER_INTERVAL) and a one-minute health sweep for KEEL_BENCH_RSS_DURATION (4m),
// and samples VmRSS and VmHWM from /proc every two seconds.
func TestServeRSS(t *testing.T) {
	if os.Getenv("KEEL_BENCH_RSS") != "1" {
		t.Skip("a measurement: set KEEL_BENCH_RSS=1 and KEEL_BENCH_RSS_DATABASE_URL to run it")
	}
	dbURL := os.Getenv("KEEL_BENCH_RSS_DATABASE_URL")
	if dbURL == "" {
		t.Fatal("KEEL_BENCH_RSS_DATABASE_URL must name a PostgreSQL database the measurement may empty and fill")
	}
	nAcc := envInt("KEEL_BENCH_RSS_ACCOUNTS", 10_000)
	perAccount := envInt("KEEL_BENCH_RSS_PROSPECTS", 20)
	duration, err := time.ParseDuration(os.Getenv("KEEL_BENCH_RSS_DURATION"))
	if err != nil || duration <= 0 {
		duration = 4 * time.Minute
	}
	schedulerInterval := os.Getenv("KEEL_BENCH_RSS_SCHEDULER_INTERVAL")
	if schedulerInterval == "" {
		schedulerInterval = "5s"
	}
	ctx := context.Background()
	dir := t.TempDir()
	bin := filepath.Join(dir, "keel")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("building keel: %v\n%s", err, out)
	}

	sqlDB, err := sql.Open("pgx", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer sqlDB.Close()
	must := func(q string, args ...any) {
		t.Helper()
		if _, err := sqlDB.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	must(`DROP SCHEMA public CASCADE`)
	must(`CREATE SCHEMA public`)
	t.Cleanup(func() {
		// Leave the database small: the measurement's rows are not kept.
		_, _ = sqlDB.ExecContext(context.Background(), `DROP SCHEMA public CASCADE`)
		_, _ = sqlDB.ExecContext(context.Background(), `CREATE SCHEMA public`)
	})
	env := append(os.Environ(), "KEEL_DATABASE_URL="+dbURL)
	if out, err := cmdWith(bin, env, "migrate").CombinedOutput(); err != nil {
		t.Fatalf("keel migrate: %v\n%s", err, out)
	}

	// The fake knows every account (prov_1 … prov_N), so the health sweep
	// finds them working.
	provider := fake.New(fake.Options{APIKey: "bench-key"})
	for g := 1; g <= nAcc; g++ {
		provider.AddAccount(fake.AccountSpec{ID: "prov_" + strconv.Itoa(g), Name: "A" + strconv.Itoa(g)})
	}
	if err := provider.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	defer provider.Close()

	now := time.Now().UTC()
	start := time.Now()
	steps := `[{"id":"s1","type":"view_profile"},{"id":"s2","type":"invite"},{"id":"s3","type":"wait","duration":"24h"}]`
	must(`INSERT INTO workspaces (id, slug, name, created_at) VALUES ('ws_rss', 'rss', '', $1)`, now)
	must(`INSERT INTO linkedin_accounts (id, workspace_id, provider_account_id, name, status, tier, timezone, created_at, updated_at,
		ramp_started_at, window_days, window_start, window_end)
		SELECT 'acc_' || g, 'ws_rss', 'prov_' || g, 'A' || g, 'connected', 'premium', 'UTC', $1, $1, $2,
		       'mon,tue,wed,thu,fri,sat,sun', 0, 1440
		  FROM generate_series(1, $3::int) g`, now, now.Add(-60*24*time.Hour), nAcc)
	campaigns := (nAcc + 99) / 100
	must(`INSERT INTO campaigns (id, workspace_id, name, status, steps, cap_invite, cap_message, cap_inmail, cap_view_profile, created_at, updated_at)
		SELECT 'cmp_' || g, 'ws_rss', 'C' || g, 'running', $1, 20, 20, 5, 40, $2, $2 FROM generate_series(1, $3::int) g`, steps, now, campaigns)
	must(`INSERT INTO campaign_accounts (campaign_id, account_id, workspace_id, position, added_at)
		SELECT 'cmp_' || (1 + (g - 1) / 100), 'acc_' || g, 'ws_rss', (g - 1) % 100, $1 FROM generate_series(1, $2::int) g`, now, nAcc)
	nPro := nAcc * perAccount
	must(`INSERT INTO prospects (id, workspace_id, provider_id, first_name, created_at, updated_at)
		SELECT 'pro_' || g, 'ws_rss', 'ACoAAbench' || g, 'P', $1, $1 FROM generate_series(1, $2::int) g`, now, nPro)
	must(`INSERT INTO enrollments (id, workspace_id, campaign_id, prospect_id, account_id, state, step_id, next_action_at, created_at, updated_at)
		SELECT 'enr_' || g, 'ws_rss', 'cmp_' || (1 + ((g - 1) % $1::int) / 100), 'pro_' || g, 'acc_' || (1 + (g - 1) % $1::int),
		       'active', 's1', $2::timestamptz, $2, $2
		  FROM generate_series(1, $3::int) g`, nAcc, now, nPro)
	must(`ANALYZE`)
	t.Logf("seeded %d accounts, %d campaigns, %d due enrollments in %s", nAcc, campaigns, nPro, time.Since(start).Round(time.Second))

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	var logs lockedBuffer
	serve := cmdWith(bin, append(env,
		"KEEL_ADDR="+addr, "KEEL_PUBLIC_URL=http://"+addr,
		"UNIPILE_DSN="+provider.URL(), "UNIPILE_API_KEY=bench-key", "KEEL_WEBHOOK_SECRET=bench-secret-bench-secret",
		"KEEL_SCHEDULER_INTERVAL="+schedulerInterval, "KEEL_HEALTH_INTERVAL=1m", "KEEL_MIN_SPACING=60s",
		"KEEL_LOG_LEVEL=warn", "KEEL_LOG_FORMAT=json"), "serve")
	serve.Stdout, serve.Stderr = &logs, &logs
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = serve.Process.Signal(os.Interrupt)
		done := make(chan error, 1)
		go func() { done <- serve.Wait() }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = serve.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("serve output:\n%s", tail(logs.String(), 4000))
		}
	}()

	type sample struct {
		at       time.Duration
		rss, hwm int
	}
	var samples []sample
	began := time.Now()
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	for time.Since(began) < duration {
		<-tick.C
		rss, hwm, err := procMemory(serve.Process.Pid)
		if err != nil {
			t.Fatalf("keel serve stopped: %v\n%s", err, tail(logs.String(), 4000))
		}
		samples = append(samples, sample{time.Since(began), rss, hwm})
		if len(samples)%15 == 0 {
			t.Logf("%4.0fs  VmRSS %4d MB  VmHWM %4d MB", time.Since(began).Seconds(), rss>>10, hwm>>10)
		}
	}
	var sends, views, invites int
	if err := sqlDB.QueryRowContext(ctx, `SELECT count(*), count(*) FILTER (WHERE action = 'view_profile'), count(*) FILTER (WHERE action = 'invite')
		FROM sends WHERE state = 'confirmed'`).Scan(&sends, &views, &invites); err != nil {
		t.Fatal(err)
	}
	rows, err := sqlDB.QueryContext(ctx, `SELECT action || ' ' || state, count(*) FROM sends GROUP BY 1 ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	var ledger []string
	for rows.Next() {
		var k string
		var n int
		if err := rows.Scan(&k, &n); err != nil {
			t.Fatal(err)
		}
		ledger = append(ledger, fmt.Sprintf("%s: %d", k, n))
	}
	rows.Close()
	t.Logf("ledger: %s", strings.Join(ledger, ", "))
	if os.Getenv("KEEL_BENCH_RSS_LOGS") == "1" {
		t.Logf("serve output (last 6,000 bytes):\n%s", tail(logs.String(), 6000))
	}
	var checks int
	for _, c := range provider.Calls() {
		if strings.HasPrefix(c.Action, "get_account") {
			checks++
		}
	}
	last := samples[len(samples)/2:]
	steady := make([]int, len(last))
	for i, s := range last {
		steady[i] = s.rss
	}
	sort.Ints(steady)
	peak := samples[len(samples)-1].hwm
	t.Logf("keel serve, %d accounts, %s: peak (VmHWM) %d MB, steady VmRSS (median of the second half) %d MB, max VmRSS %d MB; "+
		"%d confirmed sends (%d profile views, %d invitations), %d account checks at the fake",
		nAcc, duration, peak>>10, steady[len(steady)/2]>>10, steady[len(steady)-1]>>10, sends, views, invites, checks)
	fmt.Printf("RSS accounts=%d duration=%s peak_mb=%d steady_mb=%d sends=%d\n", nAcc, duration, peak>>10, steady[len(steady)/2]>>10, sends)
}

// lockedBuffer collects a child's output while the test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func cmdWith(bin string, env []string, args ...string) *exec.Cmd {
	c := exec.Command(bin, args...)
	c.Env = env
	return c
}

// procMemory reads VmRSS and VmHWM (kB) of a process.
func procMemory(pid int) (rss, hwm int, err error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 {
			continue
		}
		switch fields[0] {
		case "VmRSS:":
			rss, _ = strconv.Atoi(fields[1])
		case "VmHWM:":
			hwm, _ = strconv.Atoi(fields[1])
		case "State:":
			if fields[1] == "Z" {
				return 0, 0, fmt.Errorf("process %d exited", pid)
			}
		}
	}
	return rss, hwm, sc.Err()
}

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
