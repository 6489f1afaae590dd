package conformance

import (
	"context"
	"database/sql"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
	"github.com/keel-outreach/keel/internal/outbound"
	"github.com/keel-outreach/keel/internal/workspace"
)

// ExerciseOutbound runs the outbound-webhook rules against databases made by
// newDB: an event is part of the transaction that reports it (a rollback
// leaves nothing to deliver), and a committed one is delivered once. The
// outbound package's own tests cover retries, destinations and signing on
// both engines.
func ExerciseOutbound(ctx context.Context, t *testing.T, newDB NewDB) {
	t.Run("EventsShareTheirTransaction", func(t *testing.T) {
		t.Parallel()
		d := newDB(t, dbtest.Options{})
		var hits atomic.Int64
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			hits.Add(1)
			w.WriteHeader(http.StatusNoContent)
		}))
		t.Cleanup(srv.Close)
		// The receiver is on loopback, which only an explicit allow-list
		// lets deliveries reach.
		svc := outbound.New(outbound.Options{DB: d, Timeout: 5 * time.Second,
			Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
		ws, err := workspace.Create(ctx, d.SQL, "outbound", "", Start)
		if err != nil {
			t.Fatalf("creating workspace: %v", err)
		}
		if _, _, err := svc.CreateEndpoint(ctx, ws.ID, srv.URL, nil); err != nil {
			t.Fatalf("creating endpoint: %v", err)
		}
		boom := errors.New("boom")
		err = d.InTx(ctx, func(tx *sql.Tx) error {
			if err := svc.Emit(ctx, tx, ws.ID, outbound.EventInviteAccepted, map[string]string{"x": "y"}); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("InTx = %v", err)
		}
		if n := countRows(ctx, t, d, `SELECT count(*) FROM outbound_events`); n != 0 {
			t.Fatalf("%d events after rollback", n)
		}
		if n, err := svc.DeliverDue(ctx); err != nil || n != 0 {
			t.Fatalf("DeliverDue sent %d (%v) after rollback", n, err)
		}
		if err := d.InTx(ctx, func(tx *sql.Tx) error {
			return svc.Emit(ctx, tx, ws.ID, outbound.EventInviteAccepted, map[string]string{"x": "y"})
		}); err != nil {
			t.Fatalf("emitting: %v", err)
		}
		if n, err := svc.DeliverDue(ctx); err != nil || n != 1 {
			t.Fatalf("DeliverDue sent %d (%v), want 1", n, err)
		}
		if n, err := svc.DeliverDue(ctx); err != nil || n != 0 {
			t.Fatalf("a second DeliverDue sent %d (%v), want 0", n, err)
		}
		if h := hits.Load(); h != 1 {
			t.Fatalf("the receiver got %d requests, want 1", h)
		}
	})
}

// countRows runs a count query.
func countRows(ctx context.Context, t *testing.T, d *db.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := d.SQL.QueryRowContext(ctx, query, args...).Scan(&n); err != nil {
		t.Fatalf("counting (%s): %v", query, err)
	}
	return n
}
