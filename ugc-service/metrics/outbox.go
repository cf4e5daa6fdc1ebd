package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	ugc "github.com/ugcstack/ugcstack/ugc-service"
)

// WatchOutbox exports the analytics backlog, read from the store at each
// scrape: every instance reports the one outbox they share, whether or not
// it runs the relay, so the lag is visible even when no relay runs at all.
func (m *Metrics) WatchOutbox(o ugc.Outbox) {
	m.registry.MustRegister(&outboxCollector{outbox: o})
}

// WatchWAL exports the embedded store's write-ahead log size, read at each
// scrape: a WAL that keeps growing means checkpoints cannot keep up.
func (m *Metrics) WatchWAL(size func() int64) {
	m.registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "ugc_sqlite_wal_bytes",
		Help: "Size of the embedded store's write-ahead log file.",
	}, func() float64 { return float64(size()) }))
}

var (
	pendingDesc = prometheus.NewDesc("ugc_outbox_pending_events",
		"Events recorded by the store and not yet relayed to ClickHouse.", nil, nil)
	ageDesc = prometheus.NewDesc("ugc_outbox_oldest_event_age_seconds",
		"Age of the oldest event not yet relayed; 0 when none is pending.", nil, nil)
)

type outboxCollector struct{ outbox ugc.Outbox }

func (c *outboxCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- pendingDesc
	ch <- ageDesc
}

// Collect reports nothing when the store cannot answer in time: a missing
// series is what `absent()` alerts on, and a guessed value would mislead.
func (c *outboxCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	st, err := c.outbox.OutboxStats(ctx)
	if err != nil {
		return
	}
	ch <- prometheus.MustNewConstMetric(pendingDesc, prometheus.GaugeValue, float64(st.Pending))
	ch <- prometheus.MustNewConstMetric(ageDesc, prometheus.GaugeValue, st.Age(time.Now()).Seconds())
}
