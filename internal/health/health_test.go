package health_test

import (
	"context"
	"database/sql"
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/alert"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
	"github.com/keel-outreach/keel/internal/health"
	"github.com/keel-outreach/keel/internal/unipile/fake"
)

func TestNotFoundThreeStrikes(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d, health.Config{})
		accs := e.addAccounts(2, account.StatusConnected)
		gone, flaky := accs[0], accs[1]
		e.fake.FailAccount404(gone.ProviderAccountID, 3)
		e.fake.FailAccount404(flaky.ProviderAccountID, 2)

		for strike := 1; strike <= 2; strike++ {
			for _, a := range accs {
				res := e.check(a.ID)
				if res.Outcome != health.OutcomeNotFound || res.Strikes != strike || res.Flipped() {
					t.Fatalf("strike %d of %s: %+v", strike, a.ID, res)
				}
				got := e.get(a.ID)
				if got.Status != account.StatusConnected || got.Strikes != strike {
					t.Fatalf("strike %d: account is %s with %d strikes, want connected with %d", strike, got.Status, got.Strikes, strike)
				}
				if got.LastError != account.Soft404(strike).Text || got.LastErrorTerminal() || got.ReconnectNeeded() {
					t.Fatalf("strike %d: copy %q (terminal %v), want the soft strike copy", strike, got.LastError, got.LastErrorTerminal())
				}
			}
			e.clock.Advance(health.DefaultInterval)
		}

		// A success at strike 2 resets everything.
		if res := e.check(flaky.ID); res.Outcome != health.OutcomeOK || res.Strikes != 0 {
			t.Fatalf("recovery check: %+v", res)
		}
		if got := e.get(flaky.ID); got.Status != account.StatusConnected || got.Strikes != 0 || got.LastError != "" {
			t.Fatalf("after a success: %s, %d strikes, copy %q; want connected, 0, no copy", got.Status, got.Strikes, got.LastError)
		}

		// Strike 3 disconnects with terminal copy, audited.
		res := e.check(gone.ID)
		if res.To != account.StatusDisconnected || res.Held {
			t.Fatalf("strike 3: %+v", res)
		}
		got := e.get(gone.ID)
		if got.Status != account.StatusDisconnected || got.Strikes != 3 ||
			got.LastError != account.TerminalNotRegistered().Text || !got.LastErrorTerminal() || !got.ReconnectNeeded() {
			t.Fatalf("after strike 3: %+v", got)
		}
		if got.DisconnectedBy != string(account.SourceHealthCheck) || got.DisconnectedAt == nil || !got.DisconnectedAt.Equal(e.clock.Now()) {
			t.Fatalf("disconnect markers: by %q at %v", got.DisconnectedBy, got.DisconnectedAt)
		}
		audit := e.lastAudit(gone.ID)
		if audit.From != account.StatusConnected || audit.To != account.StatusDisconnected ||
			audit.Source != string(account.SourceHealthCheck) || audit.Actor != health.Actor || audit.Strikes != 3 {
			t.Fatalf("audit row: %+v", audit)
		}

		// The account keeps answering 404: nothing more happens to it, the
		// strikes stay as recorded.
		e.fake.FailAccount404(gone.ProviderAccountID, 1)
		e.clock.Advance(health.DefaultDisconnectedInterval)
		if res := e.check(gone.ID); res.Flipped() || res.Strikes != 3 {
			t.Fatalf("404 after the disconnect: %+v", res)
		}
	})
}

func TestTransientFailuresAreNeverStrikes(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d, health.Config{CheckTimeout: 150 * time.Millisecond})
		a := e.addAccounts(1, account.StatusConnected)[0]

		// One genuine 404 strike first: failures without an answer must
		// neither add to it nor reset it.
		e.fake.FailAccount404(a.ProviderAccountID, 1)
		e.check(a.ID)

		firstFailure := e.clock.Advance(health.DefaultInterval)
		failures := []func(){
			func() { e.fake.Fail5xx(1) },
			func() { e.fake.Fail429(1) },
			func() { e.fake.HangNext(fake.ActionGetAccount, 1) },
			func() {
				e.fake.InjectFault(fake.Fault{Action: fake.ActionGetAccount, Status: http.StatusInternalServerError, Times: 1})
			},
			func() {
				e.fake.InjectFault(fake.Fault{Action: fake.ActionGetAccount, Status: http.StatusGatewayTimeout, Times: 1})
			},
		}
		for i := 0; ; i++ {
			failures[i%len(failures)]()
			res := e.check(a.ID)
			if res.Outcome != health.OutcomeUnreachable {
				t.Fatalf("check %d: outcome %s, want unreachable (%v)", i, res.Outcome, res.ProviderErr)
			}
			got := e.get(a.ID)
			if got.Strikes != 1 {
				t.Fatalf("check %d (%v): strikes %d, want the one real strike untouched", i, res.ProviderErr, got.Strikes)
			}
			within := e.clock.Now().Sub(firstFailure) <= health.DefaultUnreachableTolerance
			if within {
				if got.Status != account.StatusConnected {
					t.Fatalf("check %d, %v after the first failure: %s, want connected", i, e.clock.Now().Sub(firstFailure), got.Status)
				}
				e.clock.Advance(health.DefaultInterval)
				continue
			}
			if got.Status != account.StatusError || got.LastErrorTerminal() || !strings.Contains(got.LastError, "2h") ||
				got.DisconnectedBy != string(account.SourceHealthCheck) {
				t.Fatalf("unreachable past the tolerance: %+v", got)
			}
			break
		}

		// The first good check brings it back.
		e.clock.Advance(health.DefaultDisconnectedInterval)
		res := e.check(a.ID)
		if res.Outcome != health.OutcomeOK || res.To != account.StatusConnected {
			t.Fatalf("recovery: %+v", res)
		}
		got := e.get(a.ID)
		if got.Status != account.StatusConnected || got.LastError != "" || got.Strikes != 0 || got.DisconnectedAt != nil {
			t.Fatalf("after recovery: %+v", got)
		}
		if audit := e.lastAudit(a.ID); audit.From != account.StatusError || audit.Source != string(account.SourceHealthCheck) {
			t.Fatalf("recovery audit: %+v", audit)
		}
	})
}

func TestProviderWordWins(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d, health.Config{})
		accs := e.addAccounts(3, account.StatusConnected)
		disc, errd, operator := accs[0], accs[1], accs[2]
		e.flip(disc.ID, account.StatusDisconnected, account.TerminalCredentials(), account.SourceWebhook)
		e.flip(errd.ID, account.StatusError, account.SoftUnreachable("2h"), account.SourceHealthCheck)
		e.flip(operator.ID, account.StatusDisconnected, account.TerminalOperator(), account.SourceOperator)

		for _, a := range []account.Account{disc, errd} {
			before := e.get(a.ID).Status
			res := e.check(a.ID)
			if res.Outcome != health.OutcomeOK || res.From != before || res.To != account.StatusConnected {
				t.Fatalf("OK for a %s account: %+v", before, res)
			}
			got := e.get(a.ID)
			if got.Status != account.StatusConnected || got.LastError != "" || got.DisconnectedAt != nil ||
				got.DisconnectedBy != "" || got.Strikes != 0 {
				t.Fatalf("after OK: %+v", got)
			}
			audit := e.lastAudit(a.ID)
			if audit.From != before || audit.To != account.StatusConnected ||
				audit.Source != string(account.SourceHealthCheck) || audit.Actor != health.Actor {
				t.Fatalf("audit: %+v", audit)
			}
		}

		// An operator's disconnect is a decision, not a provider state: it
		// stands until the owner reconnects.
		if res := e.check(operator.ID); res.Flipped() {
			t.Fatalf("an operator-disconnected account was flipped: %+v", res)
		}
		if got := e.get(operator.ID); got.Status != account.StatusDisconnected || got.LastError != account.TerminalOperator().Text {
			t.Fatalf("operator disconnect changed: %+v", got)
		}
	})
}

func TestStatusMapping(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d, health.Config{})
		cases := []struct {
			name    string
			prepare func(pid string)
			want    account.Status
			copy    account.Copy
			outcome health.Outcome
		}{
			{"credentials", func(pid string) { mustOK(t, e.fake.SetAccountStatus(pid, "CREDENTIALS")) },
				account.StatusDisconnected, account.TerminalCredentials(), health.OutcomeProviderStatus},
			{"connecting", func(pid string) { mustOK(t, e.fake.SetAccountStatus(pid, "CONNECTING")) },
				account.StatusConnecting, account.SoftConnecting(), health.OutcomeProviderStatus},
			{"permissions", func(pid string) { mustOK(t, e.fake.SetAccountStatus(pid, "PERMISSIONS")) },
				account.StatusError, account.SoftProviderReported("PERMISSIONS"), health.OutcomeProviderStatus},
			{"restricted", func(pid string) {
				e.fake.InjectFault(fake.Fault{Action: fake.ActionGetAccount, AccountID: pid, Status: http.StatusForbidden, Type: "errors/account_restricted"})
			}, account.StatusRestricted, account.TerminalRestricted(), health.OutcomeRestricted},
			{"checkpoint", func(pid string) {
				e.fake.InjectFault(fake.Fault{Action: fake.ActionGetAccount, AccountID: pid, Status: http.StatusUnauthorized, Type: "errors/checkpoint_error"})
			}, account.StatusNeedsVerification, account.TerminalVerification(), health.OutcomeVerification},
			{"disconnected_account", func(pid string) {
				e.fake.InjectFault(fake.Fault{Action: fake.ActionGetAccount, AccountID: pid, Status: http.StatusUnauthorized, Type: "errors/disconnected_account"})
			}, account.StatusDisconnected, account.TerminalCredentials(), health.OutcomeReconnectNeeded},
		}
		accs := e.addAccounts(len(cases), account.StatusConnected)
		for i, c := range cases {
			a := accs[i]
			c.prepare(a.ProviderAccountID)
			res := e.check(a.ID)
			got := e.get(a.ID)
			if res.Outcome != c.outcome || got.Status != c.want || got.LastError != c.copy.Text {
				t.Errorf("%s: outcome %s, status %s, copy %q; want %s, %s, %q", c.name, res.Outcome, got.Status, got.LastError, c.outcome, c.want, c.copy.Text)
			}
			if got.DisconnectedBy != string(account.SourceHealthCheck) {
				t.Errorf("%s: disconnected_by %q", c.name, got.DisconnectedBy)
			}
			if audit := e.lastAudit(a.ID); audit.To != c.want || audit.Source != string(account.SourceHealthCheck) {
				t.Errorf("%s: audit %+v", c.name, audit)
			}
		}
		if n := e.calls(fake.ActionRestartAccount, 0); n != 0 {
			t.Errorf("%d restart calls for statuses a restart cannot fix", n)
		}
	})
}

func TestErrorStatusRestartsOnce(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d, health.Config{})
		accs := e.addAccounts(2, account.StatusConnected)
		stuck, fixable := accs[0], accs[1]
		mustOK(t, e.fake.SetAccountStatus(stuck.ProviderAccountID, "ERROR"))
		mustOK(t, e.fake.SetAccountStatus(fixable.ProviderAccountID, "STOPPED"))
		// Unipile fails to restart the first account, so it stays in ERROR.
		e.fake.InjectFault(fake.Fault{Action: fake.ActionRestartAccount, AccountID: stuck.ProviderAccountID, Status: http.StatusServiceUnavailable})

		for round := range 3 {
			for _, a := range accs {
				res := e.check(a.ID)
				if round == 0 && (res.To != account.StatusError || !strings.Contains(e.get(a.ID).LastError, "restart")) {
					t.Fatalf("first check of %s: %+v copy %q", a.ID, res, e.get(a.ID).LastError)
				}
			}
			e.clock.Advance(health.DefaultDisconnectedInterval)
		}
		restarts := map[string]int{}
		for _, c := range e.fake.Calls() {
			if c.Action == fake.ActionRestartAccount {
				restarts[c.AccountID]++
			}
		}
		if restarts[stuck.ProviderAccountID] != 1 || restarts[fixable.ProviderAccountID] != 1 {
			t.Fatalf("restart calls %v, want exactly one per account", restarts)
		}
		if got := e.get(stuck.ID); got.Status != account.StatusError || got.LastErrorTerminal() {
			t.Fatalf("stuck account: %+v", got)
		}
		if got := e.get(fixable.ID); got.Status != account.StatusConnected || got.LastError != "" {
			t.Fatalf("restarted account: %+v", got)
		}
	})
}

func TestBurstGuard(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d, health.Config{})
		accs := e.addAccounts(50, account.StatusConnected)
		step := 30 * time.Second

		// Ten quiet minutes: every account is checked and healthy.
		for range 20 {
			e.runDue()
			e.clock.Advance(step)
		}
		if counts, _ := e.statusCounts(); counts[account.StatusConnected] != 50 {
			t.Fatalf("before the burst: %v", counts)
		}

		e.fake.SetBurst404(true)
		burstStart := e.clock.Now()
		var tripped, sawHalfOpen bool
		for e.clock.Now().Sub(burstStart) < 30*time.Minute {
			seq := e.lastSeq()
			g0, err := e.svc.Guard(e.ctx)
			mustOK(t, err)
			sum := e.runDue()
			tripped = tripped || sum.Tripped
			counts, maxStrikes := e.statusCounts()
			if counts[account.StatusConnected] != 50 {
				t.Fatalf("%v into the burst: %v", e.clock.Now().Sub(burstStart), counts)
			}
			g, err := e.svc.Guard(e.ctx)
			mustOK(t, err)
			if g.State != health.GuardClosed && maxStrikes != 0 {
				t.Fatalf("%v into the burst, guard %s: an account holds %d strikes", e.clock.Now().Sub(burstStart), g.State, maxStrikes)
			}
			switch g0.State {
			case health.GuardOpen:
				if n := e.calls(fake.ActionGetAccount, seq); n != 0 {
					t.Fatalf("open guard made %d account calls", n)
				}
			case health.GuardHalfOpen:
				sawHalfOpen = true
				if n := e.calls(fake.ActionGetAccount, seq); n > health.DefaultBurstProbes {
					t.Fatalf("half-open guard made %d account calls, want at most %d probes", n, health.DefaultBurstProbes)
				}
			}
			e.clock.Advance(step)
		}
		if !tripped || !sawHalfOpen {
			t.Fatalf("tripped %v, half-open seen %v", tripped, sawHalfOpen)
		}
		if got := e.alerts(alert.KindMass404Burst); len(got) != 1 || got[0].WorkspaceID != "" || got[0].Severity != alert.Critical {
			t.Fatalf("burst alerts: %+v", got)
		}
		if g, _ := e.svc.Guard(e.ctx); g.State == health.GuardClosed {
			t.Fatalf("guard closed while the burst goes on")
		}

		// The incident ends: the next probes close the guard and checking
		// resumes with everyone still connected.
		e.fake.SetBurst404(false)
		for range 60 {
			e.runDue()
			if g, _ := e.svc.Guard(e.ctx); g.State == health.GuardClosed {
				break
			}
			e.clock.Advance(step)
		}
		if g, _ := e.svc.Guard(e.ctx); g.State != health.GuardClosed || g.Trips != 1 {
			t.Fatalf("after the burst: %+v", g)
		}
		closedAt := e.clock.Now()
		for e.clock.Now().Sub(closedAt) <= health.DefaultInterval+time.Minute {
			e.clock.Advance(step)
			e.runDue()
		}
		counts, maxStrikes := e.statusCounts()
		if counts[account.StatusConnected] != 50 || maxStrikes != 0 {
			t.Fatalf("after the burst: %v, max strikes %d", counts, maxStrikes)
		}
		for _, a := range accs {
			if got := e.get(a.ID); got.LastError != "" {
				t.Fatalf("account %s keeps copy %q", a.ID, got.LastError)
			}
		}
		// Every account was checked again after the guard closed.
		checked := map[string]bool{}
		for _, c := range e.fake.Calls() {
			if c.Action == fake.ActionGetAccount && !c.Time.Before(closedAt) && c.Status == http.StatusOK {
				checked[c.AccountID] = true
			}
		}
		if len(checked) != 50 {
			t.Fatalf("%d accounts checked healthy after the guard closed, want 50", len(checked))
		}
		if got := e.alerts(alert.KindMass404Burst); len(got) != 1 {
			t.Fatalf("burst alerts after the burst: %d", len(got))
		}
	})
}

func TestBurstRollsBackWindowStrikesOnly(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d, health.Config{BurstMinAccounts: 3, BurstMinPercent: 50})
		accs := e.addAccounts(4, account.StatusConnected)
		old := accs[0]
		for _, a := range accs {
			e.check(a.ID)
		}
		// A strike from before the incident's window is not the incident's:
		// it stays.
		e.clock.Advance(time.Minute)
		e.fake.FailAccount404(old.ProviderAccountID, 1)
		e.check(old.ID)
		e.clock.Advance(11 * time.Minute)

		e.fake.SetBurst404(true)
		e.check(old.ID) // strike 2, inside the new window
		if got := e.get(old.ID); got.Strikes != 2 {
			t.Fatalf("old account strikes %d, want 2", got.Strikes)
		}
		e.check(accs[1].ID) // strike 1, 2 of 2 checked in window: below the minimum of 3 accounts
		if got := e.get(accs[1].ID); got.Strikes != 1 {
			t.Fatalf("strikes %d before the trip, want 1", got.Strikes)
		}
		res := e.check(accs[2].ID) // third account: trips
		if !res.Tripped {
			t.Fatalf("third 404 did not trip the guard: %+v", res)
		}
		if got := e.get(old.ID); got.Strikes != 1 || got.LastError != account.Soft404(1).Text {
			t.Fatalf("old account after the trip: %d strikes, copy %q; want its strike from before the window", got.Strikes, got.LastError)
		}
		if got := e.get(accs[1].ID); got.Strikes != 0 || got.LastError != "" {
			t.Fatalf("window strike not rolled back: %d, %q", got.Strikes, got.LastError)
		}
		if res := e.check(accs[3].ID); res.Outcome != health.OutcomeRefused {
			t.Fatalf("check while open: %+v", res)
		}
		msg := e.alerts(alert.KindMass404Burst)
		if len(msg) != 1 || !strings.Contains(msg[0].Message, "2 strike(s)") {
			t.Fatalf("alert: %+v", msg)
		}
	})
}

func TestLimiterHoldsAndReleasesDisconnects(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d, health.Config{})
		accs := e.addAccounts(20, account.StatusConnected)
		victims := accs[:10]
		for _, a := range victims {
			mustOK(t, e.fake.SetAccountStatus(a.ProviderAccountID, "CREDENTIALS"))
		}
		flipped, held := 0, 0
		for _, a := range victims {
			res := e.check(a.ID)
			switch {
			case res.Held:
				held++
			case res.To == account.StatusDisconnected:
				flipped++
			default:
				t.Fatalf("CREDENTIALS check: %+v", res)
			}
		}
		if flipped != 3 || held != 7 {
			t.Fatalf("flipped %d, held %d; want 3 and 7 (max(3, 5%% of 20) per 10 minutes)", flipped, held)
		}
		heldList, err := e.svc.Held(e.ctx)
		mustOK(t, err)
		if len(heldList) != 7 {
			t.Fatalf("%d held rows, want 7", len(heldList))
		}
		for _, h := range heldList {
			if got := e.get(h.AccountID); got.Status != account.StatusConnected {
				t.Fatalf("held account %s is %s", h.AccountID, got.Status)
			}
		}
		if got := e.alerts(alert.KindHeldDisconnects); len(got) != 1 || got[0].Occurrences != 7 {
			t.Fatalf("held alerts: %+v", got)
		}
		// Checking a held account again holds nothing new.
		if res := e.check(heldList[0].AccountID); !res.Held {
			t.Fatalf("recheck of a held account: %+v", res)
		}
		if got := e.alerts(alert.KindHeldDisconnects); got[0].Occurrences != 7 {
			t.Fatalf("a repeat request counted as a new hold: %d", got[0].Occurrences)
		}

		// Later windows release them, three at a time, oldest first.
		wantReleased := []int{3, 3, 1}
		for i, want := range wantReleased {
			e.clock.Advance(health.DefaultDisconnectWindow + time.Second)
			sum := e.runDue()
			if sum.Released != want {
				t.Fatalf("window %d released %d, want %d", i+2, sum.Released, want)
			}
		}
		for _, a := range victims {
			got := e.get(a.ID)
			if got.Status != account.StatusDisconnected || got.LastError != account.TerminalCredentials().Text ||
				got.DisconnectedBy != string(account.SourceHealthCheck) {
				t.Fatalf("victim after release: %+v", got)
			}
		}
		for _, a := range accs[10:] {
			if got := e.get(a.ID); got.Status != account.StatusConnected {
				t.Fatalf("bystander %s is %s", a.ID, got.Status)
			}
		}
		if rest, _ := e.svc.Held(e.ctx); len(rest) != 0 {
			t.Fatalf("%d still held", len(rest))
		}
	})
}

func TestDisconnectAPIForWebhooks(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d, health.Config{DisconnectMin: 1, DisconnectPercent: 1})
		accs := e.addAccounts(3, account.StatusConnected)
		deleted := account.TerminalDeleted()
		req := func(id string) account.FlipRequest {
			return account.FlipRequest{AccountID: id, Copy: &deleted, Reason: "webhook DELETED",
				Source: account.SourceWebhook, Actor: "unipile webhook"}
		}
		held, err := e.svc.Disconnect(e.ctx, req(accs[0].ID))
		if err != nil || held {
			t.Fatalf("first disconnect: held %v, %v", held, err)
		}
		if got := e.get(accs[0].ID); got.Status != account.StatusDisconnected || got.DisconnectedBy != "webhook" {
			t.Fatalf("after disconnect: %+v", got)
		}
		// Repeating it (Unipile retries deliveries) changes nothing.
		if held, err := e.svc.Disconnect(e.ctx, req(accs[0].ID)); err != nil || held {
			t.Fatalf("repeat: held %v, %v", held, err)
		}
		for _, a := range accs[1:] {
			if held, err := e.svc.Disconnect(e.ctx, req(a.ID)); err != nil || !held {
				t.Fatalf("over the limit: held %v, %v", held, err)
			}
		}
		// Newer evidence (an OK webhook) cancels a hold.
		err = e.db.InTx(e.ctx, func(tx *sql.Tx) error {
			n, err := e.svc.CancelHeld(e.ctx, tx, accs[1].ID, e.clock.Advance(time.Second))
			if n != 1 {
				t.Errorf("canceled %d holds, want 1", n)
			}
			return err
		})
		mustOK(t, err)
		e.clock.Advance(health.DefaultDisconnectWindow)
		sum := e.runDue()
		if sum.Released != 1 {
			t.Fatalf("released %d, want 1", sum.Released)
		}
		if got := e.get(accs[1].ID); got.Status != account.StatusConnected {
			t.Fatalf("canceled hold was applied: %+v", got)
		}
		if got := e.get(accs[2].ID); got.Status != account.StatusDisconnected || got.LastError != deleted.Text {
			t.Fatalf("held disconnect not applied: %+v", got)
		}
		if _, err := e.svc.Disconnect(e.ctx, account.FlipRequest{AccountID: accs[1].ID, To: account.StatusError,
			Reason: "x", Source: account.SourceWebhook, Copy: &deleted}); !errors.Is(err, health.ErrNotDisconnect) {
			t.Fatalf("non-disconnect request: %v", err)
		}
	})
}

func TestRunDueSpreadsAndSpaces(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d, health.Config{})
		e.addAccounts(40, account.StatusConnected)
		step := 15 * time.Second
		for e.clock.Now().Sub(start) < 3*health.DefaultInterval {
			e.runDue()
			e.clock.Advance(step)
		}
		byAccount := map[string][]time.Time{}
		perStep := map[time.Time]int{}
		for _, c := range e.fake.Calls() {
			if c.Action == fake.ActionGetAccount {
				byAccount[c.AccountID] = append(byAccount[c.AccountID], c.Time)
				perStep[c.Time]++
			}
		}
		if len(byAccount) != 40 {
			t.Fatalf("%d accounts checked, want 40", len(byAccount))
		}
		minGap := time.Duration(float64(health.DefaultInterval) * (1 - health.DefaultJitter))
		for id, times := range byAccount {
			if len(times) < 2 {
				t.Fatalf("account %s checked %d times in three intervals", id, len(times))
			}
			for i := 1; i < len(times); i++ {
				if gap := times[i].Sub(times[i-1]); gap < minGap-step {
					t.Fatalf("account %s checked twice within %v", id, gap)
				}
			}
		}
		// Spread: no step carries a large share of the tenant.
		for at, n := range perStep {
			if n > 12 {
				t.Fatalf("%d checks at %s: not spread", n, at.Format(time.TimeOnly))
			}
		}
	})
}

func mustOK(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestConcurrentSweepsShareTheWork runs two monitors, as two processes
// would, on one database: their claims split the due accounts so each is
// checked exactly once.
func TestConcurrentSweepsShareTheWork(t *testing.T) {
	for _, engine := range dbtest.Engines {
		t.Run(string(engine), func(t *testing.T) {
			t.Parallel()
			var rawURL string
			if engine == db.SQLite {
				rawURL = "sqlite:" + filepath.Join(t.TempDir(), "keel.db")
			} else {
				rawURL = dbtest.NewPostgresSchema(t, false)
			}
			open := func() *db.DB {
				d, err := db.Open(context.Background(), rawURL)
				mustOK(t, err)
				t.Cleanup(func() { _ = d.Close() })
				_, err = d.Migrate(context.Background())
				mustOK(t, err)
				return d
			}
			first := newEnv(t, open(), health.Config{})
			first.addAccounts(200, account.StatusConnected)
			first.runDue()
			first.clock.Advance(health.DefaultInterval)
			// The second process shares the database, the provider and the clock.
			second := *first
			second.db = open()
			second.accounts = account.NewService(second.db, second.clock)
			second.svc = second.newService(health.Config{})

			var wg sync.WaitGroup
			sums := make([]health.Summary, 2)
			for i, e := range []*env{first, &second} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					sum, err := e.svc.RunDue(e.ctx)
					if err != nil {
						t.Errorf("RunDue: %v", err)
					}
					sums[i] = sum
				}()
			}
			wg.Wait()
			t.Logf("split: %d + %d", sums[0].Checked, sums[1].Checked)
			if sums[0].Checked+sums[1].Checked != 200 {
				t.Fatalf("checked %d + %d, want 200 in all", sums[0].Checked, sums[1].Checked)
			}
			perAccount := map[string]int{}
			for _, c := range first.fake.Calls() {
				if c.Action == fake.ActionGetAccount {
					perAccount[c.AccountID]++
				}
			}
			for id, n := range perAccount {
				if n != 1 {
					t.Fatalf("account %s checked %d times", id, n)
				}
			}
			if len(perAccount) != 200 {
				t.Fatalf("%d accounts checked, want 200", len(perAccount))
			}
		})
	}
}
