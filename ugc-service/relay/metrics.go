package relay

import "github.com/prometheus/client_golang/prometheus"

type relayMetrics struct {
	events        prometheus.Counter
	failures      *prometheus.CounterVec
	insertSeconds prometheus.Histogram
	lagSeconds    prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer) (*relayMetrics, error) {
	m := &relayMetrics{
		events: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ugc_relay_events_total",
			Help: "Events relayed to the analytics sink and marked sent.",
		}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ugc_relay_failures_total",
			Help: "Failed relay attempts, by step (read, insert, mark); each is retried.",
		}, []string{"step"}),
		insertSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "ugc_relay_insert_duration_seconds",
			Help:    "Duration of one successful batch insert into the sink.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2.5, 12),
		}),
		lagSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "ugc_relay_event_lag_seconds",
			Help:    "Time from an event's change to its being marked sent after the sink took it.",
			Buckets: []float64{.05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600},
		}),
	}
	for _, c := range []prometheus.Collector{m.events, m.failures, m.insertSeconds, m.lagSeconds} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}
