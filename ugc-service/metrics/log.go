package metrics

import "github.com/prometheus/client_golang/prometheus"

// WatchLog exports how many log lines were dropped because stdout did not
// take them (its reader stalled or went away): requests never wait on it.
func (m *Metrics) WatchLog(dropped func() uint64) {
	m.registry.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "ugc_log_lines_dropped_total",
		Help: "Log lines dropped because the log's reader (stdout) did not take them in time.",
	}, func() float64 { return float64(dropped()) }))
}
