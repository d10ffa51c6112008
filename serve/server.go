package serve

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/recs-dev/recs/toplist"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Defaults of Config.
const (
	DefaultMaxBatch     = 100
	DefaultMaxBodyBytes = 64 << 10
	batchConcurrency    = 16 // parallel lookups of one batch against a remote store
)

// Config configures a Server. The zero value serves 404 for unknown users,
// batches of up to DefaultMaxBatch users and bodies up to
// DefaultMaxBodyBytes, and logs nowhere.
type Config struct {
	// Fallback answers unknown users with the popular list (marked
	// "fallback": true) instead of 404. The list is the one the store was
	// loaded with (a run directory's training data) or else Popular.
	Fallback bool
	// Popular is the fallback list when the store carries none.
	Popular *Popular
	// MaxBatch bounds the users of one POST /v1/recommendations.
	MaxBatch int
	// MaxBodyBytes bounds a request body.
	MaxBodyBytes int64
	// Log receives errors and lifecycle events (never per-request lines).
	Log *slog.Logger
	// Registry is where the metrics are registered and what /metrics
	// serves; nil makes a new one with the Go and process collectors.
	Registry *prometheus.Registry
}

// Server is the HTTP API. It is an http.Handler; Serve runs it with the
// timeouts and graceful shutdown a production listener needs. Until SetStore
// is called every recommendation request answers 503 and /readyz is not
// ready.
type Server struct {
	cfg      Config
	popular  atomic.Pointer[Popular] // Config.Popular, or as SetPopular set it
	log      *slog.Logger
	state    atomic.Pointer[state]
	draining atomic.Bool
	inflight atomic.Int64
	// readTimeout bounds a batch body's arrival (ns; 0: none); set by Serve.
	readTimeout atomic.Int64
	m           *metrics
	metricsH    http.Handler
}

// state is what one request sees: a store and the fallback that goes with
// it, swapped together.
type state struct {
	store        Store
	info         StoreInfo
	popular      *Popular // nil: no fallback
	fallbackTail []byte   // `],"model":…,"fallback":true}` + "\n"
	maxK         int
}

// NewServer returns a server with no store yet.
func NewServer(cfg Config) *Server {
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = DefaultMaxBatch
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, log: log, m: newMetrics(cfg.Registry)}
	s.popular.Store(cfg.Popular)
	s.m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "recs_serve_requests_in_flight",
		Help: "Requests being answered now.",
	}, func() float64 { return float64(s.inflight.Load()) }))
	s.metricsH = promhttp.HandlerFor(s.m.reg, promhttp.HandlerOpts{ErrorLog: slogPrinter{log}})
	return s
}

// ErrNoFallback is returned by SetStore when the fallback is on but neither
// the store nor the configuration has a popular list.
var ErrNoFallback = errors.New("serve: --fallback popular needs popular items: a run directory whose manifest names its training data, or --popular FILE")

// SetStore swaps st in atomically: requests that started before keep the
// store they loaded, later ones see st. It fails (keeping the old store)
// only when the fallback is on and no popular list is available.
func (s *Server) SetStore(st Store) error {
	info := st.Info()
	ns := &state{store: st, info: info, maxK: st.MaxK()}
	if s.cfg.Fallback {
		if idx, ok := st.(*Index); ok && idx.Popular() != nil {
			ns.popular = idx.Popular()
		} else {
			ns.popular = s.popular.Load()
		}
		if ns.popular == nil {
			return ErrNoFallback
		}
		ns.fallbackTail = append(appendTail(nil, info.Model, info.GeneratedAt, true), '\n')
		ns.info.Fallback = ns.popular.Len()
	}
	s.state.Store(ns)
	s.m.setStore(info)
	s.updateReady()
	return nil
}

// SetPopular replaces Config.Popular, the fallback list used with stores
// that carry none, from the next SetStore on.
func (s *Server) SetPopular(p *Popular) { s.popular.Store(p) }

// Store returns the store in use, or nil before the first SetStore.
func (s *Server) Store() Store {
	if st := s.state.Load(); st != nil {
		return st.store
	}
	return nil
}

// InFlight returns the number of requests being answered.
func (s *Server) InFlight() int64 { return s.inflight.Load() }

// Info describes what the server serves (the store's StoreInfo, with the
// fallback list's length when the fallback is on); ok is false before the
// first SetStore.
func (s *Server) Info() (info StoreInfo, ok bool) {
	if st := s.state.Load(); st != nil {
		return st.info, true
	}
	return StoreInfo{}, false
}

// Ready reports whether the server answers recommendations: a store is set
// and it is not shutting down.
func (s *Server) Ready() bool { return s.state.Load() != nil && !s.draining.Load() }

func (s *Server) updateReady() {
	if s.Ready() {
		s.m.ready.Set(1)
	} else {
		s.m.ready.Set(0)
	}
}

// Registry returns the registry holding the server's metrics, for sources
// and caches to register theirs.
func (s *Server) Registry() *prometheus.Registry { return s.m.reg }

// CountReload records the outcome of a reload in the metrics.
func (s *Server) CountReload(err error) {
	if err != nil {
		s.m.reloads.WithLabelValues("error").Inc()
	} else {
		s.m.reloads.WithLabelValues("ok").Inc()
	}
}

var (
	contentTypeJSON    = []string{"application/json"}
	contentTypeNosniff = []string{"nosniff"}
	allowGet           = []string{"GET, HEAD"}
	allowPost          = []string{"POST"}
	retryAfter1        = []string{"1"}
)

const (
	usersPrefix = "/v1/users/"
	recsSuffix  = "/recommendations"
)

// ServeHTTP answers one request. It never panics: a panic in a handler is
// logged and answered with 500.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rt := routeOther
	s.inflight.Add(1)
	defer func() {
		s.inflight.Add(-1)
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			s.log.Error("handler panic", "route", routeNames[rt], "method", r.Method, "panic", fmt.Sprint(p))
			writeError(w, http.StatusInternalServerError, "internal error")
			s.m.observe(rt, http.StatusInternalServerError, time.Since(start))
		}
	}()
	var code int
	rt, code = s.route(w, r)
	s.m.observe(rt, code, time.Since(start))
}

// route dispatches r and returns its route and the status code written.
func (s *Server) route(w http.ResponseWriter, r *http.Request) (route, int) {
	path := r.URL.Path
	switch {
	case strings.HasPrefix(path, usersPrefix):
		return routeRecommendations, s.handleUser(w, r)
	case path == "/v1/recommendations":
		return routeBatch, s.handleBatch(w, r)
	case path == "/healthz":
		if !getOrHead(w, r) {
			return routeHealthz, http.StatusMethodNotAllowed
		}
		writeJSON(w, http.StatusOK, []byte(`{"status":"ok"}`+"\n"))
		return routeHealthz, http.StatusOK
	case path == "/readyz":
		return routeReadyz, s.handleReady(w, r)
	case path == "/metrics":
		if !getOrHead(w, r) {
			return routeMetrics, http.StatusMethodNotAllowed
		}
		rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
		s.metricsH.ServeHTTP(rec, r)
		return routeMetrics, rec.code
	case path == "/openapi.json":
		if !getOrHead(w, r) {
			return routeOpenAPI, http.StatusMethodNotAllowed
		}
		writeJSON(w, http.StatusOK, openAPIDocument)
		return routeOpenAPI, http.StatusOK
	}
	writeError(w, http.StatusNotFound, "no such endpoint; see /openapi.json")
	return routeOther, http.StatusNotFound
}

func getOrHead(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return true
	}
	w.Header()["Allow"] = allowGet
	writeError(w, http.StatusMethodNotAllowed, "method not allowed")
	return false
}

// userFromPath extracts and unescapes the id of /v1/users/{id}/recommendations.
func userFromPath(u *url.URL) (id string, ok bool) {
	if u.RawPath == "" {
		// The path had no escapes that matter: no %2F, so '/' separates.
		rest, found := strings.CutSuffix(u.Path[len(usersPrefix):], recsSuffix)
		if !found || strings.IndexByte(rest, '/') >= 0 {
			return "", false
		}
		return rest, true
	}
	raw, found := strings.CutPrefix(u.RawPath, usersPrefix)
	if !found {
		return "", false
	}
	raw, found = strings.CutSuffix(raw, recsSuffix)
	if !found || strings.IndexByte(raw, '/') >= 0 {
		return "", false
	}
	id, err := url.PathUnescape(raw)
	if err != nil {
		return "", false
	}
	return id, true
}

// parseK reads k from a raw query string: absent → def; present → 1..max.
// It allocates nothing.
func parseK(rawQuery string, def, maxK int) (int, string) {
	k, _, msg := parseKSeen(rawQuery, def, maxK)
	return k, msg
}

// parseKSeen is parseK that also reports whether the query named k.
func parseKSeen(rawQuery string, def, maxK int) (int, bool, string) {
	k, seen := def, false
	for q := rawQuery; q != ""; {
		var kv string
		kv, q, _ = strings.Cut(q, "&")
		key, val, _ := strings.Cut(kv, "=")
		if key != "k" {
			continue
		}
		if seen {
			return 0, true, "k given more than once"
		}
		seen = true
		n, ok := atoiSmall(val)
		if !ok || n < 1 {
			return 0, true, "k must be a positive integer"
		}
		if n > maxK {
			return 0, true, "k exceeds the precomputed list length"
		}
		k = n
	}
	return k, seen, ""
}

// atoiSmall parses 1 to 9 decimal digits.
func atoiSmall(s string) (int, bool) {
	if len(s) == 0 || len(s) > 9 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func (s *Server) handleUser(w http.ResponseWriter, r *http.Request) int {
	id, ok := userFromPath(r.URL)
	if !ok {
		writeError(w, http.StatusNotFound, "no such endpoint; see /openapi.json")
		return http.StatusNotFound
	}
	if !getOrHead(w, r) {
		return http.StatusMethodNotAllowed
	}
	if !ValidID(id) {
		writeError(w, http.StatusBadRequest, "invalid user id: 1 to 256 bytes of UTF-8 without control characters")
		return http.StatusBadRequest
	}
	st := s.state.Load()
	if st == nil {
		w.Header()["Retry-After"] = retryAfter1
		writeError(w, http.StatusServiceUnavailable, "not ready: recommendations are loading")
		return http.StatusServiceUnavailable
	}
	k, msg := parseK(r.URL.RawQuery, st.maxK, st.maxK)
	if msg != "" {
		writeErrorK(w, msg, st.maxK)
		return http.StatusBadRequest
	}
	rec, found, err := st.store.Lookup(r.Context(), id)
	if err != nil {
		return s.lookupFailed(w, r, err)
	}
	h := w.Header()
	h["Content-Type"] = contentTypeJSON
	h["X-Content-Type-Options"] = contentTypeNosniff
	if !found {
		if st.popular == nil {
			return writeUnknown(w, id)
		}
		s.m.fallbacks.Inc()
		b := s.appendFallback(make([]byte, 0, 64+len(id)+len(st.popular.items)+len(st.fallbackTail)), st, id, k)
		w.Write(b)
		return http.StatusOK
	}
	part := rec.cut(k)
	if n := len(part) + len(rec.tail); n >= 2048 {
		// Beyond net/http's buffer: declare the length rather than chunk.
		h["Content-Length"] = []string{strconv.Itoa(n)}
	}
	w.Write(part)
	w.Write(rec.tail)
	return http.StatusOK
}

func (s *Server) appendFallback(b []byte, st *state, id string, k int) []byte {
	b = append(b, `{"user":`...)
	b = toplist.AppendJSONString(b, id)
	b = append(b, `,"items":[`...)
	b = append(b, st.popular.cut(k)...)
	return append(b, st.fallbackTail...)
}

// lookupFailed answers a store failure. The error may come from a remote
// service; clients get a generic message, the log gets the error redacted.
func (s *Server) lookupFailed(w http.ResponseWriter, r *http.Request, err error) int {
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		// The client went away; nobody reads this answer.
		writeError(w, http.StatusServiceUnavailable, "request canceled")
		return http.StatusServiceUnavailable
	}
	s.log.Error("lookup failed", "err", Redact(err.Error()))
	w.Header()["Retry-After"] = retryAfter1
	writeError(w, http.StatusServiceUnavailable, "recommendations are temporarily unavailable")
	return http.StatusServiceUnavailable
}

type batchRequest struct {
	Users []string `json:"users"`
	K     *int     `json:"k"`
}

// handleBatch answers POST /v1/recommendations: the lists of the users in
// the body, in their order, each cut to k.
func (s *Server) handleBatch(w http.ResponseWriter, r *http.Request) int {
	if code := checkBatchHeaders(w, r); code != 0 {
		return code
	}
	st := s.state.Load()
	if st == nil {
		w.Header()["Retry-After"] = retryAfter1
		writeError(w, http.StatusServiceUnavailable, "not ready: recommendations are loading")
		return http.StatusServiceUnavailable
	}
	req, code := s.readBatch(w, r)
	if code != 0 {
		return code
	}
	k, code := batchK(w, r.URL.RawQuery, req.K, st.maxK)
	if code != 0 {
		return code
	}
	recs, found, errs := s.lookupAll(r.Context(), st.store, req.Users)
	writeJSON(w, http.StatusOK, s.appendBatch(st, req.Users, k, recs, found, errs))
	return http.StatusOK
}

// checkBatchHeaders checks the method and the content type of a batch
// request. Like readBatch and batchK, it answers a request that fails and
// returns the status written, or 0 when the request passes.
func checkBatchHeaders(w http.ResponseWriter, r *http.Request) int {
	if r.Method != http.MethodPost {
		w.Header()["Allow"] = allowPost
		writeError(w, http.StatusMethodNotAllowed, "method not allowed; use POST")
		return http.StatusMethodNotAllowed
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			writeError(w, http.StatusUnsupportedMediaType, "the body must be application/json")
			return http.StatusUnsupportedMediaType
		}
	}
	return 0
}

// readBatch reads the body, within the read timeout and MaxBodyBytes, as
// one JSON object of known fields, and checks its user ids.
func (s *Server) readBatch(w http.ResponseWriter, r *http.Request) (batchRequest, int) {
	if d := time.Duration(s.readTimeout.Load()); d > 0 {
		// net/http clears the deadline before the connection's next request.
		http.NewResponseController(w).SetReadDeadline(time.Now().Add(d))
	}
	var req batchRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes))
	dec.DisallowUnknownFields()
	err := dec.Decode(&req)
	if err == nil {
		if dec.Decode(&struct{}{}) != io.EOF {
			err = errors.New("trailing data after the JSON object")
		}
	}
	if err != nil {
		return req, bodyFailed(w, err)
	}
	if len(req.Users) == 0 {
		writeError(w, http.StatusBadRequest, `"users" must list at least one user id`)
		return req, http.StatusBadRequest
	}
	if len(req.Users) > s.cfg.MaxBatch {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("at most %d users per request, got %d", s.cfg.MaxBatch, len(req.Users)))
		return req, http.StatusBadRequest
	}
	for i, id := range req.Users {
		if !ValidID(id) {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("users[%d]: invalid user id: 1 to 256 bytes of UTF-8 without control characters", i))
			return req, http.StatusBadRequest
		}
	}
	return req, 0
}

// bodyFailed answers a body that could not be read or decoded.
func bodyFailed(w http.ResponseWriter, err error) int {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		writeError(w, http.StatusRequestTimeout, "the body did not arrive within the read timeout")
		return http.StatusRequestTimeout
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("body larger than %d bytes", mbe.Limit))
		return http.StatusRequestEntityTooLarge
	}
	writeError(w, http.StatusBadRequest, "body must be a JSON object {\"users\": [ids], \"k\": n}: "+jsonErrorText(err))
	return http.StatusBadRequest
}

// batchK returns the list length asked for in the query or the body
// (bodyK; both may name it if they agree), maxK when neither does, and 0
// or the status of the error it answered.
func batchK(w http.ResponseWriter, rawQuery string, bodyK *int, maxK int) (int, int) {
	k, kInQuery, msg := parseKSeen(rawQuery, maxK, maxK)
	if msg != "" {
		writeErrorK(w, msg, maxK)
		return 0, http.StatusBadRequest
	}
	if bodyK == nil {
		return k, 0
	}
	switch {
	case *bodyK < 1:
		msg = "k must be a positive integer"
	case *bodyK > maxK:
		msg = "k exceeds the precomputed list length"
	case kInQuery && k != *bodyK:
		msg = "k in the query and in the body differ"
	default:
		return *bodyK, 0
	}
	writeErrorK(w, msg, maxK)
	return 0, http.StatusBadRequest
}

// appendBatch returns the body of a batch answer: one entry per user, in
// order, from lookupAll's results: the list cut to k, the popular items
// when the user is unknown and there is a fallback, or an error.
func (s *Server) appendBatch(st *state, users []string, k int, recs []Record, found []bool, errs []error) []byte {
	b := make([]byte, 0, 16+len(users)*64*(k+1))
	b = append(b, `{"results":[`...)
	for i, id := range users {
		if i > 0 {
			b = append(b, ',')
		}
		switch {
		case errs[i] != nil:
			s.log.Error("lookup failed", "err", Redact(errs[i].Error()))
			b = append(b, `{"user":`...)
			b = toplist.AppendJSONString(b, id)
			b = append(b, `,"error":"temporarily unavailable"}`...)
		case found[i]:
			b = append(b, recs[i].cut(k)...)
			b = append(b, recs[i].tail[:len(recs[i].tail)-1]...)
		case st.popular != nil:
			s.m.fallbacks.Inc()
			b = s.appendFallback(b, st, id, k)
			b = b[:len(b)-1] // the newline
		default:
			b = append(b, `{"user":`...)
			b = toplist.AppendJSONString(b, id)
			b = append(b, `,"error":"unknown user"}`...)
		}
	}
	return append(b, "]}\n"...)
}

// lookupAll looks users up in st: in order for the in-memory index, with
// bounded parallelism for a remote store.
func (s *Server) lookupAll(ctx context.Context, st Store, users []string) ([]Record, []bool, []error) {
	recs := make([]Record, len(users))
	found := make([]bool, len(users))
	errs := make([]error, len(users))
	if _, local := st.(*Index); local || len(users) == 1 {
		for i, id := range users {
			recs[i], found[i], errs[i] = st.Lookup(ctx, id)
		}
		return recs, found, errs
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, batchConcurrency)
	for i, id := range users {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			recs[i], found[i], errs[i] = st.Lookup(ctx, id)
		})
	}
	wg.Wait()
	return recs, found, errs
}

func (s *Server) handleReady(w http.ResponseWriter, r *http.Request) int {
	if !getOrHead(w, r) {
		return http.StatusMethodNotAllowed
	}
	st := s.state.Load()
	switch {
	case s.draining.Load():
		writeJSON(w, http.StatusServiceUnavailable, []byte(`{"status":"draining"}`+"\n"))
		return http.StatusServiceUnavailable
	case st == nil:
		writeJSON(w, http.StatusServiceUnavailable, []byte(`{"status":"loading"}`+"\n"))
		return http.StatusServiceUnavailable
	}
	b, _ := json.Marshal(struct {
		Status string    `json:"status"`
		Store  StoreInfo `json:"store"`
	}{"ready", st.info})
	writeJSON(w, http.StatusOK, append(b, '\n'))
	return http.StatusOK
}

func writeJSON(w http.ResponseWriter, code int, body []byte) {
	h := w.Header()
	h["Content-Type"] = contentTypeJSON
	h["X-Content-Type-Options"] = contentTypeNosniff
	w.WriteHeader(code)
	w.Write(body)
}

// writeError answers {"error": msg} with code.
func writeError(w http.ResponseWriter, code int, msg string) {
	b := make([]byte, 0, len(msg)+16)
	b = append(b, `{"error":`...)
	b = toplist.AppendJSONString(b, msg)
	writeJSON(w, code, append(b, "}\n"...))
}

func writeErrorK(w http.ResponseWriter, msg string, maxK int) {
	b := make([]byte, 0, len(msg)+32)
	b = append(b, `{"error":`...)
	b = toplist.AppendJSONString(b, msg)
	b = append(b, `,"maxK":`...)
	b = strconv.AppendInt(b, int64(maxK), 10)
	writeJSON(w, http.StatusBadRequest, append(b, "}\n"...))
}

func writeUnknown(w http.ResponseWriter, id string) int {
	b := make([]byte, 0, len(id)+40)
	b = append(b, `{"error":"unknown user","user":`...)
	b = toplist.AppendJSONString(b, id)
	writeJSON(w, http.StatusNotFound, append(b, "}\n"...))
	return http.StatusNotFound
}

// jsonErrorText describes a decoding error without echoing much input.
func jsonErrorText(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("invalid JSON at byte %d", se.Offset)
	case errors.As(err, &te):
		return fmt.Sprintf("field %q must be %s", te.Field, te.Type)
	case errors.Is(err, io.EOF):
		return "empty body"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "truncated JSON"
	}
	msg := err.Error()
	if len(msg) > 120 {
		msg = msg[:120]
	}
	return msg
}

// statusRecorder remembers the status code written through it.
type statusRecorder struct {
	http.ResponseWriter
	code        int
	wroteHeader bool
}

func (r *statusRecorder) WriteHeader(code int) {
	if !r.wroteHeader {
		r.code, r.wroteHeader = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	r.wroteHeader = true
	return r.ResponseWriter.Write(b)
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// slogPrinter adapts a slog.Logger to promhttp's Println logger.
type slogPrinter struct{ log *slog.Logger }

func (p slogPrinter) Println(v ...any) { p.log.Error(fmt.Sprint(v...)) }

//go:embed openapi.json
var openAPIDocument []byte
