package serve

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Routes, as they appear in the route label of the metrics.
type route uint8

const (
	routeRecommendations route = iota
	routeBatch
	routeHealthz
	routeReadyz
	routeMetrics
	routeOpenAPI
	routeOther
	numRoutes
)

var routeNames = [numRoutes]string{"recommendations", "batch", "healthz", "readyz", "metrics", "openapi", "other"}

// Status codes with pre-resolved counters; others are looked up by label.
var knownCodes = [...]int{200, 400, 404, 405, 408, 413, 415, 500, 503}

// metrics are the server's Prometheus collectors. Request counters and
// latency observers are resolved once per (route, code) so that recording
// a request is a few atomic adds with no allocation.
type metrics struct {
	reg       *prometheus.Registry
	requests  *prometheus.CounterVec
	duration  *prometheus.HistogramVec
	durObs    [numRoutes]prometheus.Observer
	reqCtr    [numRoutes][len(knownCodes)]prometheus.Counter
	users     prometheus.Gauge
	bytes     prometheus.Gauge
	k         prometheus.Gauge
	generated prometheus.Gauge
	loaded    prometheus.Gauge
	reloads   *prometheus.CounterVec
	fallbacks prometheus.Counter
	ready     prometheus.Gauge
}

func newMetrics(reg *prometheus.Registry) *metrics {
	if reg == nil {
		reg = prometheus.NewRegistry()
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	m := &metrics{
		reg: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "recs_serve_requests_total",
			Help: "HTTP requests answered, by route and status code.",
		}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "recs_serve_request_duration_seconds",
			Help:    "Time from reading the request to the end of the handler, by route.",
			Buckets: []float64{.00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route"}),
		users:     prometheus.NewGauge(prometheus.GaugeOpts{Name: "recs_serve_index_users", Help: "Users in the serving index (0 for Cosmos DB)."}),
		bytes:     prometheus.NewGauge(prometheus.GaugeOpts{Name: "recs_serve_index_bytes", Help: "Memory held by the serving index's encoded responses."}),
		k:         prometheus.NewGauge(prometheus.GaugeOpts{Name: "recs_serve_index_k", Help: "Precomputed list length: the largest k served."}),
		generated: prometheus.NewGauge(prometheus.GaugeOpts{Name: "recs_serve_index_generated_timestamp_seconds", Help: "When the lists served were computed (Unix time; 0 when unknown)."}),
		loaded:    prometheus.NewGauge(prometheus.GaugeOpts{Name: "recs_serve_index_loaded_timestamp_seconds", Help: "When the serving index was swapped in (Unix time)."}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "recs_serve_reloads_total",
			Help: "Reloads of the source, by result (ok, error).",
		}, []string{"result"}),
		fallbacks: prometheus.NewCounter(prometheus.CounterOpts{Name: "recs_serve_fallback_total", Help: "Responses served from the popular fallback."}),
		ready:     prometheus.NewGauge(prometheus.GaugeOpts{Name: "recs_serve_ready", Help: "1 when the server is ready to answer (index loaded, not draining)."}),
	}
	reg.MustRegister(m.requests, m.duration, m.users, m.bytes, m.k, m.generated, m.loaded, m.reloads, m.fallbacks, m.ready)
	for r := range numRoutes {
		m.durObs[r] = m.duration.WithLabelValues(routeNames[r])
		for c, code := range knownCodes {
			m.reqCtr[r][c] = m.requests.WithLabelValues(routeNames[r], strconv.Itoa(code))
		}
	}
	m.reloads.WithLabelValues("ok")
	m.reloads.WithLabelValues("error")
	return m
}

func (m *metrics) observe(r route, code int, d time.Duration) {
	m.durObs[r].Observe(d.Seconds())
	for c, known := range knownCodes {
		if known == code {
			m.reqCtr[r][c].Inc()
			return
		}
	}
	m.requests.WithLabelValues(routeNames[r], strconv.Itoa(code)).Inc()
}

func (m *metrics) setStore(info StoreInfo) {
	m.users.Set(float64(info.Users))
	m.bytes.Set(float64(info.Bytes))
	m.k.Set(float64(info.K))
	if info.GeneratedAt.IsZero() {
		m.generated.Set(0)
	} else {
		m.generated.Set(float64(info.GeneratedAt.UnixNano()) / 1e9)
	}
	m.loaded.SetToCurrentTime()
}
