package webhook_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/clock"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
	"github.com/keel-outreach/keel/internal/webhook"
	"github.com/keel-outreach/keel/internal/workspace"
)

// fuzzSeeds are the payload shapes of the Unipile reference (§3.2–3.4 and
// §2.7), a few variants the lenient decoding must absorb, and near misses.
var fuzzSeeds = []string{
	// account_status, documented and captured live.
	`{"AccountStatus":{"account_id":"h_EKCy2lRLef5NzHp0iw4A","account_type":"LINKEDIN","message":"CREDENTIALS"}}`,
	`{"AccountStatus":{"account_id":"fFl27we2Rqa0eSbwIKX9hw","message":"CREATION_SUCCESS","account_type":"LINKEDIN"}}`,
	`{"AccountStatus":{"account_id":"fFl27we2Rqa0eSbwIKX9hw","account_type":"LINKEDIN","message":"OK"}}`,
	`{"AccountStatus":{"account_id":"h_EKCy2lRLef5NzHp0iw4A","account_type":"LINKEDIN","message":"DELETED"}}`,
	`{"AccountStatus":{"account_id":12345,"message":"ERROR"}}`,
	// new_relation (doc).
	`{"event":"new_relation","account_id":"SDF4tGaPSPSzNe1D1xsOs","account_type":"LINKEDIN","webhook_name":"",` +
		`"user_full_name":"Julien Crépieux","user_provider_id":"ACoAAAh_Ffqss54sqAGQOD8u7sl5of04y9_3AwyM",` +
		`"user_public_identifier":"julien-crepieux","user_profile_url":"https://www.linkedin.com/in/julien-crepieux/",` +
		`"user_picture_url":"https://media.licdn.com/dms/image/x"}`,
	// message_received (doc: attachments as an object).
	`{"account_id":"dfXlh46vQYCsMbVarumWlg","account_type":"LINKEDIN","event":"message_received",` +
		`"chat_id":"R8J-xM9WX7eoHLp6gSVtWQ","timestamp":"2023-09-24T13:49:07.965Z","webhook_name":"Webhook demo",` +
		`"message_id":"ykmhfXlRW0W_cqReJYrfBw","message":"Hello World !",` +
		`"sender":{"attendee_id":"a1","attendee_name":"Kim Unipile","attendee_provider_id":"ACoAAA1","attendee_profile_url":"https://www.linkedin.com/in/ACoAAA1/"},` +
		`"attendees":[{"attendee_id":"a1","attendee_name":"Kim","attendee_provider_id":"ACoAAA1","attendee_profile_url":"u"}],` +
		`"attachments":{"id":"att1","size":{"height":"150","width":"150"},"sticker":"false","unavailable":"false","mimetype":"image/jpeg","type":"img","url":"att://x"}}`,
	// message_received captured live (booleans, arrays, nulls).
	`{"event":"message_received","account_id":"fFl27we2Rqa0eSbwIKX9hw","account_type":"LINKEDIN",` +
		`"account_info":{"type":"LINKEDIN","feature":"classic","user_id":"ACoAAown"},"webhook_name":"n","chat_id":"chat1",` +
		`"attendees":[{"attendee_id":"x","attendee_provider_id":"ACoAAsender","attendee_name":"S","attendee_profile_url":"u",` +
		`"attendee_specifics":{"provider":"LINKEDIN","member_urn":"urn:li:member:1","occupation":"o","is_company":false,"network_distance":"DISTANCE_1"},` +
		`"attendee_public_identifier":null}],"sender":{"attendee_provider_id":"ACoAAsender"},"subject":null,"message":"body",` +
		`"message_id":"msg1","timestamp":"2026-07-06T09:43:27.002Z","attachments":[],"is_sender":false,"provider_chat_id":"2-a",` +
		`"provider_message_id":"2-b","is_event":0,"chat_pinned":0,"quoted":null,"reply_to":null,"is_forwarded":null,` +
		`"chat_content_type":null,"message_type":"MESSAGE","is_group":false,"folder":["INBOX","INBOX_LINKEDIN_CLASSIC"],"event_type":null}`,
	`{"event":"message_reaction","account_id":"fFl27we2Rqa0eSbwIKX9hw","chat_id":"c","message_id":"m","reaction":"😄","reaction_sender":{"attendee_provider_id":"p"}}`,
	// The hosted-auth callback body is an unknown event on this endpoint.
	`{"status":"CREATION_SUCCESS","account_id":"e54m8LR22bA7G5qsAc8w","name":"myuser1234"}`,
	// Near misses.
	`{"event":"something_else"}`,
	`{"AccountStatus":null}`,
	`{"AccountStatus":{"account_id":"a\u0000b","message":"OK"}}`,
	`{"event":"x","s":"\ud800"}`,
	`{"event":"x","n":1e999}`,
	`{}`,
	`[]`,
	`not json`,
	"{\"event\":\"\xff\"}",
}

// FuzzReceiver feeds arbitrary bodies through the authenticated receiving
// path and the processing that follows. It must never answer anything but
// 200 (stored or ignored), 400 or 413, must store nothing when it refuses,
// and must store a delivery at most once however often it arrives. Plain
// `go test` runs the seeds; `go test -fuzz FuzzReceiver` explores further.
func FuzzReceiver(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	ctx := context.Background()
	d := dbtest.Open(f, db.SQLite, dbtest.Options{})
	clk := clock.NewFake(t0)
	accts := account.NewService(d, clk)
	ws, err := workspace.Create(ctx, d.SQL, "fuzz", "Fuzz", clk.Now())
	if err != nil {
		f.Fatal(err)
	}
	for _, pid := range []string{"h_EKCy2lRLef5NzHp0iw4A", "fFl27we2Rqa0eSbwIKX9hw", "SDF4tGaPSPSzNe1D1xsOs", "dfXlh46vQYCsMbVarumWlg"} {
		if _, err := accts.Create(ctx, d.SQL, account.NewAccount{WorkspaceID: ws.ID, ProviderAccountID: pid, Status: account.StatusConnected}); err != nil {
			f.Fatal(err)
		}
	}
	rc, err := webhook.NewReceiver(webhook.Options{DB: d, Accounts: accts, Clock: clk, Secret: secret, NoBackground: true})
	if err != nil {
		f.Fatal(err)
	}
	count := func(t *testing.T) int {
		var n int
		if err := d.SQL.QueryRowContext(ctx, `SELECT count(*) FROM webhook_inbox`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	deliver := func(body []byte) int {
		req := httptest.NewRequest(http.MethodPost, webhook.Path, bytes.NewReader(body))
		req.Header.Set(webhook.HeaderSecret, secret)
		rec := httptest.NewRecorder()
		rc.ServeHTTP(rec, req)
		return rec.Code
	}

	f.Fuzz(func(t *testing.T, body []byte) {
		before := count(t)
		code := deliver(body)
		after := count(t)
		switch code {
		case http.StatusOK:
			if after > before+1 {
				t.Fatalf("one delivery stored %d rows", after-before)
			}
		case http.StatusBadRequest, http.StatusRequestEntityTooLarge:
			if after != before {
				t.Fatalf("refused delivery (%d) stored %d rows", code, after-before)
			}
		default:
			t.Fatalf("delivery answered %d for body %q", code, body)
		}
		if _, err := rc.ProcessPending(ctx); err != nil {
			t.Fatalf("processing: %v", err)
		}
		// Unipile's retry of the same body: same answer, no new row.
		if again := deliver(body); again != code {
			t.Fatalf("redelivery answered %d, first delivery %d", again, code)
		}
		if n := count(t); n != after {
			t.Fatalf("redelivery stored a new row (%d -> %d)", after, n)
		}
		if _, err := rc.ProcessPending(ctx); err != nil {
			t.Fatalf("processing the redelivery: %v", err)
		}
	})
}

// TestFuzzSeedsOnBothEngines sends the fuzz seeds over HTTP on both engines:
// the engines' JSON and text rules differ (PostgreSQL text holds no NUL, its
// json type checks surrogates), and neither difference may surface as a 500.
func TestFuzzSeedsOnBothEngines(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		for _, s := range fuzzSeeds {
			before := e.inboxCount(t)
			switch code := e.post(t, s, secret); code {
			case http.StatusOK:
			case http.StatusBadRequest:
				if e.inboxCount(t) != before {
					t.Fatalf("refused seed stored a row: %q", s)
				}
			default:
				t.Fatalf("seed answered %d: %q", code, s)
			}
		}
		e.process(t)
	})
}
