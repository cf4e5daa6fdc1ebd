// Package metrics exposes the service's Prometheus metrics: HTTP requests by
// route and status, and the latency of every store operation.
package metrics

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	ugc "github.com/ugcstack/ugcstack/ugc-service"
)

// Metrics owns a registry, so tests and several servers in one process never
// collide on the global one.
type Metrics struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	storeOps *prometheus.HistogramVec
	// jwksSkipped counts keys left out of fetched JWK Sets.
	jwksSkipped prometheus.Counter

	// Each series' collectors, looked up once: looking them up by label
	// values hashes the values on every call. Routes, methods, statuses,
	// operations and outcomes are all bounded, so the caches are too.
	requestSeries memo[requestSeries, requestObservers]
	storeSeries   memo[storeSeries, prometheus.Observer]
}

// memo maps a series' labels to its collectors.
type memo[K comparable, V any] struct {
	mu sync.RWMutex
	m  map[K]V
}

// get returns k's value, making it with mk the first time.
func (c *memo[K, V]) get(k K, mk func() V) V {
	c.mu.RLock()
	v, ok := c.m[k]
	c.mu.RUnlock()
	if ok {
		return v
	}
	v = mk()
	c.mu.Lock()
	if c.m == nil {
		c.m = map[K]V{}
	}
	c.m[k] = v
	c.mu.Unlock()
	return v
}

type storeSeries struct{ op, outcome string }

type requestSeries struct {
	route, method string
	status        int
}

type requestObservers struct {
	count   prometheus.Counter
	latency prometheus.Observer
}

// New creates the collectors, including the Go runtime and process ones.
func New() *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ugc_http_requests_total",
			Help: "HTTP requests served, by route template, method and status code.",
		}, []string{"route", "method", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "ugc_http_request_duration_seconds",
			Help: "HTTP request latency, by route template, method and status code.",
			// Finer than the defaults below 10ms, where this service lives.
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route", "method", "status"}),
		storeOps: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "ugc_store_operation_duration_seconds",
			Help:    "Store operation latency, by operation and outcome (ok or a domain error code).",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1},
		}, []string{"operation", "outcome"}),
		jwksSkipped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ugc_jwks_keys_skipped_total",
			Help: "Keys of fetched JWK Sets left out because they cannot verify anything (the set's other keys are used).",
		}),
	}
	m.registry.MustRegister(m.requests, m.latency, m.storeOps, m.jwksSkipped,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// JWKSKeySkipped counts one key left out of a fetched JWK Set.
func (m *Metrics) JWKSKeySkipped() { m.jwksSkipped.Inc() }

// Registry is where other parts of the service register their collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.registry }

// Handler serves the registry in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{Registry: m.registry})
}

// statusLabels avoids formatting the status code of a new series.
var statusLabels = func() (l [600]string) {
	for i := range l {
		l[i] = strconv.Itoa(i)
	}
	return l
}()

// methodLabels are the methods counted by name; any other method a client
// makes up folds into "other", as an unknown path folds into one route, so
// no request can add a series.
var methodLabels = map[string]string{
	"GET": "GET", "HEAD": "HEAD", "POST": "POST", "PUT": "PUT", "PATCH": "PATCH", "DELETE": "DELETE", "OPTIONS": "OPTIONS",
}

// ObserveRequest records one served request. route is the route template
// (never the raw path, whose ids would explode the label set).
func (m *Metrics) ObserveRequest(route, method string, status int, d time.Duration) {
	verb, ok := methodLabels[method]
	if !ok {
		verb = "other"
	}
	o := m.requestSeries.get(requestSeries{route, verb, status}, func() requestObservers {
		s := "other"
		if status >= 0 && status < len(statusLabels) {
			s = statusLabels[status]
		}
		return requestObservers{m.requests.WithLabelValues(route, verb, s), m.latency.WithLabelValues(route, verb, s)}
	})
	o.count.Inc()
	o.latency.Observe(d.Seconds())
}

// observeStore records one store operation that took d.
func (m *Metrics) observeStore(op string, d time.Duration, err error) {
	k := storeSeries{op, Outcome(err)}
	m.storeSeries.get(k, func() prometheus.Observer { return m.storeOps.WithLabelValues(k.op, k.outcome) }).Observe(d.Seconds())
}

// Outcome names how an operation ended: "ok" or the domain error code.
func Outcome(err error) string {
	if err == nil {
		return "ok"
	}
	return ugc.ErrorCode(err)
}
