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

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/alert"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/health"
	"github.com/keel-outreach/keel/internal/jobs"
	"github.com/keel-outreach/keel/internal/outbound"
	"github.com/keel-outreach/keel/internal/send"
	"github.com/keel-outreach/keel/internal/webhook"
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
	// Each count is read through the store of the package that owns the
	// table; a failed read is logged and counted, and the others still run.
	grouped := func(desc *prometheus.Desc, vt prometheus.ValueType, read func(context.Context, db.Querier) ([]db.GroupCount, error)) {
		counts, err := read(ctx, c.db.SQL)
		if err != nil {
			failures++
			c.logger.Debug("metrics query failed", "error", err)
			return
		}
		for _, g := range counts {
			ch <- prometheus.MustNewConstMetric(desc, vt, g.N, g.Labels...)
		}
	}
	grouped(descAccounts, prometheus.GaugeValue, account.CountByStatus)
	grouped(descStrikes, prometheus.GaugeValue, account.ConnectedStrikes)
	grouped(descFlips, prometheus.CounterValue, account.CountFlips)
	grouped(descSends, prometheus.GaugeValue, send.CountByActionAndState)
	grouped(descAlerts, prometheus.GaugeValue, alert.CountOpen)
	grouped(descGuard, prometheus.GaugeValue, health.GuardOpenGauge)
	grouped(descQueue, prometheus.GaugeValue, jobs.QueueDepth)
	grouped(descHeld, prometheus.GaugeValue, health.CountHeld)
	grouped(descInbox, prometheus.GaugeValue, webhook.CountPending)
	grouped(descOutbound, prometheus.GaugeValue, outbound.CountDeliveries)
	ch <- prometheus.MustNewConstMetric(descScrapeFail, prometheus.GaugeValue, float64(failures))
}
