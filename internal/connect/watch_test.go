package connect_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/alert"
	"github.com/keel-outreach/keel/internal/connect"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
	"github.com/keel-outreach/keel/internal/unipile/fake"
	"github.com/keel-outreach/keel/internal/workspace"
)

func TestStuckConnectingIsRepolledThenAlerted(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		var disconnects atomic.Int64
		e := newEnv(t, d, func(o *connect.Options) {
			o.Disconnect = func(ctx context.Context, req account.FlipRequest) (bool, error) {
				disconnects.Add(1)
				return true, nil // held by the limiter: the account stays connecting
			}
		})
		stuckPID := e.fake.AddAccount(fake.AccountSpec{Status: "CONNECTING"})
		stuck := e.create(t, e.ws, stuckPID, account.StatusConnecting)
		readyPID := e.fake.AddAccount(fake.AccountSpec{Status: "OK"})
		ready := e.create(t, e.ws, readyPID, account.StatusConnecting)
		credPID := e.fake.AddAccount(fake.AccountSpec{Status: "CREDENTIALS"})
		cred := e.create(t, e.ws, credPID, account.StatusConnecting)

		watch := func() {
			t.Helper()
			if err := e.svc.WatchConnecting(e.ctx); err != nil {
				t.Fatalf("WatchConnecting: %v", err)
			}
		}
		alerts := func() []alert.Alert {
			t.Helper()
			as, err := alert.List(e.ctx, e.db.SQL, alert.Filter{Kind: alert.KindStuckConnecting})
			if err != nil {
				t.Fatal(err)
			}
			return as
		}

		e.clock.Advance(4 * time.Minute)
		watch()
		if n := e.calls(fake.ActionGetAccount, ""); n != 0 {
			t.Fatalf("%d polls before 5 minutes", n)
		}

		e.clock.Advance(2 * time.Minute) // 6 minutes connecting
		watch()
		if n := e.calls(fake.ActionGetAccount, stuckPID); n != 1 {
			t.Fatalf("stuck account polled %d times after 5 minutes, want 1", n)
		}
		if got := e.get(t, ready.ID); got.Status != account.StatusConnected {
			t.Fatalf("account Unipile reports OK is %s", got.Status)
		}
		audit, _ := e.accounts.Audit(e.ctx, e.db.SQL, ready.ID)
		if last := audit[len(audit)-1]; last.Source != string(account.SourceHealthCheck) || last.From != account.StatusConnecting {
			t.Fatalf("re-poll audit row = %+v", last)
		}
		if disconnects.Load() != 1 {
			t.Fatalf("CREDENTIALS went through the disconnect func %d times", disconnects.Load())
		}
		if got := e.get(t, stuck.ID); got.Status != account.StatusConnecting {
			t.Fatalf("still-connecting account is %s", got.Status)
		}
		if len(alerts()) != 0 {
			t.Fatal("alert before an hour")
		}

		e.clock.Advance(30 * time.Second)
		watch()
		if n := e.calls(fake.ActionGetAccount, stuckPID); n != 1 {
			t.Fatalf("re-polled within a minute (%d polls)", n)
		}

		e.clock.Advance(55 * time.Minute) // 61.5 minutes connecting
		watch()
		// One alert per stuck account: cred stays connecting too, because
		// its disconnect was held.
		as := alerts()
		subjects := map[string]bool{}
		for _, a := range as {
			subjects[a.SubjectID] = a.WorkspaceID == e.ws.ID && a.AcknowledgedAt == nil
		}
		if len(as) != 2 || !subjects[stuck.ID] || !subjects[cred.ID] {
			t.Fatalf("alerts after an hour = %+v", as)
		}
		e.clock.Advance(2 * time.Minute)
		watch()
		if as := alerts(); len(as) != 2 {
			t.Fatalf("%d alerts on the next pass, want still 2", len(as))
		}

		// Unipile finally reports OK: the next pass connects it.
		if err := e.fake.SetAccountStatus(stuckPID, "OK"); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(time.Minute)
		watch()
		if got := e.get(t, stuck.ID); got.Status != account.StatusConnected {
			t.Fatalf("account is %s after Unipile reported OK", got.Status)
		}
	})
}

func TestSyncImportsWithMappedStatuses(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		other, err := workspace.Create(e.ctx, e.db.SQL, "other", "Other", e.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		okPID := e.fake.AddAccount(fake.AccountSpec{Name: "Ok", Status: "OK"})
		connPID := e.fake.AddAccount(fake.AccountSpec{Name: "Conn", Status: "CONNECTING"})
		credPID := e.fake.AddAccount(fake.AccountSpec{Name: "Cred", Status: "CREDENTIALS"})
		errPID := e.fake.AddAccount(fake.AccountSpec{Name: "Err", Status: "ERROR"})
		minePID := e.fake.AddAccount(fake.AccountSpec{Name: "Mine", Status: "CREDENTIALS"})
		theirsPID := e.fake.AddAccount(fake.AccountSpec{Name: "Theirs", Status: "OK"})
		mine := e.create(t, e.ws, minePID, account.StatusConnected)
		theirs := e.create(t, other, theirsPID, account.StatusConnected)

		rep, err := e.svc.Sync(e.ctx, e.ws.ID)
		if err != nil {
			t.Fatalf("Sync: %v", err)
		}
		if rep.Created != 4 || rep.Existing != 1 || rep.OtherWorkspaces != 1 || len(rep.Items) != 5 {
			t.Fatalf("report = %+v", rep)
		}
		want := map[string]account.Status{
			okPID: account.StatusConnected, connPID: account.StatusConnecting,
			credPID: account.StatusDisconnected, errPID: account.StatusError,
		}
		for pid, st := range want {
			a, err := e.accounts.GetByProviderID(e.ctx, e.db.SQL, pid)
			if err != nil {
				t.Fatalf("account %s not imported: %v", pid, err)
			}
			if a.Status != st || a.WorkspaceID != e.ws.ID {
				t.Fatalf("imported %s: status %s in %s, want %s", pid, a.Status, a.WorkspaceID, st)
			}
		}
		cred, _ := e.accounts.GetByProviderID(e.ctx, e.db.SQL, credPID)
		if !cred.ReconnectNeeded() || cred.DisconnectedBy != string(account.SourceSync) {
			t.Fatalf("imported CREDENTIALS account = %+v", cred)
		}
		errAcct, _ := e.accounts.GetByProviderID(e.ctx, e.db.SQL, errPID)
		if errAcct.LastError == "" || errAcct.LastErrorTerminal() {
			t.Fatalf("imported ERROR account copy = %q", errAcct.LastError)
		}
		// Existing accounts are left to the health monitor.
		if got := e.get(t, mine.ID); got.Status != account.StatusConnected {
			t.Fatalf("sync changed an existing account to %s", got.Status)
		}
		if got := e.get(t, theirs.ID); got.WorkspaceID != other.ID {
			t.Fatal("sync moved another workspace's account")
		}
		for _, it := range rep.Items {
			if it.ProviderAccountID == theirsPID {
				t.Fatalf("the report describes another workspace's account: %+v", it)
			}
		}

		again, err := e.svc.Sync(e.ctx, e.ws.ID)
		if err != nil {
			t.Fatal(err)
		}
		if again.Created != 0 || again.Existing != 5 || again.OtherWorkspaces != 1 {
			t.Fatalf("second sync = %+v", again)
		}
	})
}
