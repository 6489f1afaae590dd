package webhook_test

import (
	"bytes"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
	"github.com/keel-outreach/keel/internal/webhook"
)

// BenchmarkAck measures webhook acknowledgement latency (request sent to
// 200 received: secret check, decode, durable inbox row) under an open-loop
// load of 500 requests per second for two seconds, with processing running
// behind it. b.N is ignored; the load is fixed. Reported: p50, p99, max.
//
//	go test -run '^$' -bench BenchmarkAck -benchtime 1x ./internal/webhook/
func BenchmarkAck(b *testing.B) {
	for _, engine := range dbtest.Engines {
		b.Run(string(engine), func(b *testing.B) { benchAck(b, engine, false) })
		b.Run(string(engine)+"/baseline", func(b *testing.B) { benchAck(b, engine, true) })
	}
}

// bareHandler is the baseline: the same HTTP load answered after one bare
// INSERT in its own transaction on the same database, nothing else.
func bareHandler(b *testing.B, d *db.DB) http.Handler {
	if _, err := d.SQL.Exec(`CREATE TABLE bench_bare_inbox (id integer NOT NULL, body text NOT NULL)`); err != nil {
		b.Fatal(err)
	}
	var n int64
	var mu sync.Mutex
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		n++
		id := n
		mu.Unlock()
		err := d.InTx(r.Context(), func(tx *sql.Tx) error {
			_, err := tx.Exec(`INSERT INTO bench_bare_inbox (id, body) VALUES ($1, $2)`, id, string(body))
			return err
		})
		if err != nil {
			w.WriteHeader(500)
			return
		}
		w.WriteHeader(200)
	})
}

var noBackground = os.Getenv("KEEL_BENCH_NO_PROCESSING") == "1"

const (
	ackRate     = 500
	ackDuration = 2 * time.Second
)

func benchAck(b *testing.B, engine db.Engine, baseline bool) {
	d := dbtest.Open(b, engine, dbtest.Options{Durable: true})
	e := newEnv(b, d, func(o *webhook.Options) { o.NoBackground = noBackground })
	acc := e.newAccount(b, account.StatusConnected)
	target := e.srv.URL + "/webhooks/unipile"
	if baseline {
		srv := httptest.NewServer(bareHandler(b, d))
		b.Cleanup(srv.Close)
		target = srv.URL
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 512, MaxConnsPerHost: 0}}
	total := int(ackRate * ackDuration / time.Second)
	lat := make([]time.Duration, total)
	status := make([]int, total)
	var wg sync.WaitGroup
	interval := time.Second / ackRate
	start := time.Now()
	b.ResetTimer()
	for i := 0; i < total; i++ {
		// Open loop: request i leaves at start + i×interval whatever the
		// earlier ones are doing, so slow answers cannot hide queueing.
		if wait := time.Until(start.Add(time.Duration(i) * interval)); wait > 0 {
			time.Sleep(wait)
		}
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			body := fmt.Sprintf(`{"event":"message_received","account_id":%q,"account_type":"LINKEDIN","chat_id":"chat-%d","message_id":"msg-%d","message":"hello %d","sender":{"attendee_provider_id":"ACoAAx%d"},"timestamp":"2026-03-02T09:00:00.000Z","webhook_name":"keel:messaging"}`,
				acc.ProviderAccountID, i, i, i, i)
			req, _ := http.NewRequest("POST", target, bytes.NewBufferString(body))
			req.Header.Set("X-Keel-Webhook-Secret", secret)
			req.Header.Set("Content-Type", "application/json")
			t0 := time.Now()
			resp, err := client.Do(req)
			lat[i] = time.Since(t0)
			if err == nil {
				status[i] = resp.StatusCode
				resp.Body.Close()
			}
		}(i)
	}
	wg.Wait()
	b.StopTimer()
	for i, s := range status {
		if s != http.StatusOK {
			b.Fatalf("request %d answered %d", i, s)
		}
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms(lat[len(lat)/2]), "p50-ms")
	b.ReportMetric(ms(lat[len(lat)*99/100]), "p99-ms")
	b.ReportMetric(ms(lat[len(lat)-1]), "max-ms")
	b.ReportMetric(float64(total)/time.Since(start).Seconds(), "req/s")
}
