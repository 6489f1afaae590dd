// Package metrics exposes Keel's Prometheus metrics. Counts that describe
// stored state (flips, sends by outcome, accounts by status, open alerts,
// queue depth, the burst guard) are read from the database at scrape time,
// so every process reports the same truth and nothing can drift from the
// ledger. Only in-process timings and pass outcomes are kept in memory.
package metrics

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/keel-outreach/keel/internal/db"
)

// Metrics is one process's registry.
type Metrics struct {
	Registry *prometheus.Registry
	// WebhookLatency times inbound webhook acknowledgements.
	WebhookLatency *prometheus.HistogramVec
	// HTTPRequests counts HTTP requests by route class and status.
	HTTPRequests *prometheus.CounterVec
	// Checks counts health checks by outcome.
	Checks *prometheus.CounterVec
	// Deferrals counts scheduler deferrals (cap and gate refusals) by gate.
	Deferrals *prometheus.CounterVec
	// Claims counts sends claimed by scheduler passes.
	Claims prometheus.Counter
}

// New builds the registry with the database collector.
func New(d *db.DB, logger *slog.Logger) *Metrics {
	m := &Metrics{Registry: prometheus.NewRegistry()}
	m.WebhookLatency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "keel_webhook_ack_seconds", Help: "Time to acknowledge an inbound Unipile webhook.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1},
	}, []string{"status"})
	m.HTTPRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "keel_http_requests_total", Help: "HTTP requests by route class and status code.",
	}, []string{"route", "code"})
	m.Checks = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "keel_health_checks_total", Help: "Account health checks run by this process, by outcome.",
	}, []string{"outcome"})
	m.Deferrals = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "keel_send_deferrals_total", Help: "Enrollments deferred by a closed gate (cap refusals and others), by gate.",
	}, []string{"gate"})
	m.Claims = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "keel_send_claims_total", Help: "Sends claimed by this process's scheduler passes.",
	})
	m.Registry.MustRegister(m.WebhookLatency, m.HTTPRequests, m.Checks, m.Deferrals, m.Claims,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		&dbCollector{db: d, logger: logger})
	return m
}

// Handler serves /metrics.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{})
}

var (
	descAccounts   = prometheus.NewDesc("keel_accounts", "LinkedIn accounts by status.", []string{"status"}, nil)
	descStrikes    = prometheus.NewDesc("keel_account_strikes", "Sum of live 404 strikes over connected accounts.", nil, nil)
	descFlips      = prometheus.NewDesc("keel_account_flips_total", "Audited status flips, by target status and source.", []string{"to", "source"}, nil)
	descSends      = prometheus.NewDesc("keel_sends", "Send ledger rows by action and state (outcome).", []string{"action", "state"}, nil)
	descAlerts     = prometheus.NewDesc("keel_alerts_open", "Open admin alerts by kind.", []string{"kind"}, nil)
	descGuard      = prometheus.NewDesc("keel_burst_guard_open", "1 while the mass-404 burst guard is open.", nil, nil)
	descQueue      = prometheus.NewDesc("keel_queue_jobs", "Job queue depth by state.", []string{"state"}, nil)
	descHeld       = prometheus.NewDesc("keel_disconnects_held", "Provider-driven disconnects held by the limiter.", nil, nil)
	descInbox      = prometheus.NewDesc("keel_webhook_inbox_pending", "Inbound webhook deliveries stored but not yet processed.", nil, nil)
	descOutbound   = prometheus.NewDesc("keel_outbound_deliveries", "Outbound webhook deliveries by state.", []string{"state"}, nil)
	descScrapeFail = prometheus.NewDesc("keel_metrics_query_errors", "Metric queries that failed during this scrape.", nil, nil)
)

type dbCollector struct {
	db     *db.DB
	logger *slog.Logger
}

func (c *dbCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descAccounts, descStrikes, descFlips, descSends, descAlerts, descGuard, descQueue, descHeld, descInbox, descOutbound, descScrapeFail} {
		ch <- d
	}
}

func (c *dbCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	failures := 0
	grouped := func(desc *prometheus.Desc, vt prometheus.ValueType, query string) {
		rows, err := c.db.SQL.QueryContext(ctx, query)
		if err != nil {
			failures++
			c.logger.Debug("metrics query failed", "error", err)
			return
		}
		defer rows.Close()
		for rows.Next() {
			var n float64
			labels := make([]string, len(descLabels(desc)))
			dest := []any{}
			for i := range labels {
				dest = append(dest, &labels[i])
			}
			dest = append(dest, &n)
			if err := rows.Scan(dest...); err != nil {
				failures++
				return
			}
			ch <- prometheus.MustNewConstMetric(desc, vt, n, labels...)
		}
	}
	grouped(descAccounts, prometheus.GaugeValue, `SELECT status, count(*) FROM linkedin_accounts GROUP BY status`)
	grouped(descStrikes, prometheus.GaugeValue, `SELECT COALESCE(SUM(strikes), 0) FROM linkedin_accounts WHERE status = 'connected'`)
	grouped(descFlips, prometheus.CounterValue, `SELECT to_status, source, count(*) FROM linkedin_account_status_audit WHERE from_status IS NOT NULL GROUP BY to_status, source`)
	grouped(descSends, prometheus.GaugeValue, `SELECT action, state, count(*) FROM sends GROUP BY action, state`)
	grouped(descAlerts, prometheus.GaugeValue, `SELECT kind, count(*) FROM admin_alerts WHERE acknowledged_at IS NULL GROUP BY kind`)
	grouped(descGuard, prometheus.GaugeValue, `SELECT CASE WHEN state = 'closed' THEN 0 ELSE 1 END FROM health_guard`)
	grouped(descQueue, prometheus.GaugeValue, `SELECT state, count(*) FROM river_job GROUP BY state UNION ALL SELECT 'all', count(*) FROM river_job`)
	grouped(descHeld, prometheus.GaugeValue, `SELECT count(*) FROM health_disconnects WHERE state = 'held'`)
	grouped(descInbox, prometheus.GaugeValue, `SELECT count(*) FROM webhook_inbox WHERE state = 'pending'`)
	grouped(descOutbound, prometheus.GaugeValue, `SELECT state, count(*) FROM outbound_deliveries GROUP BY state`)
	ch <- prometheus.MustNewConstMetric(descScrapeFail, prometheus.GaugeValue, float64(failures))
}

// descLabels returns the variable label names of the descriptors above.
func descLabels(d *prometheus.Desc) []string {
	switch d {
	case descAccounts:
		return []string{"status"}
	case descFlips:
		return []string{"to", "source"}
	case descSends:
		return []string{"action", "state"}
	case descAlerts:
		return []string{"kind"}
	case descQueue, descOutbound:
		return []string{"state"}
	}
	return nil
}
