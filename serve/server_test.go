package serve

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/recs-dev/recs/ratings"
	"github.com/recs-dev/recs/toplist"
)

// startServer runs srv on a real listener on 127.0.0.1 (httptest).
func startServer(t *testing.T, srv *Server) *httptest.Server {
	t.Helper()
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return ts
}

func newTestServer(t *testing.T, cfg Config) (*Server, *httptest.Server) {
	t.Helper()
	idx, err := NewIndex(testMeta, testLists())
	if err != nil {
		t.Fatal(err)
	}
	srv := NewServer(cfg)
	if err := srv.SetStore(idx); err != nil {
		t.Fatal(err)
	}
	return srv, startServer(t, srv)
}

type response struct {
	code int
	body string
	hdr  http.Header
}

func do(t *testing.T, method, u, body string, hdr ...string) response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{resp.StatusCode, string(b), resp.Header}
}

func get(t *testing.T, u string) response { t.Helper(); return do(t, "GET", u, "") }

func userURL(base, user, query string) string {
	u := base + "/v1/users/" + url.PathEscape(user) + "/recommendations"
	if query != "" {
		u += "?" + query
	}
	return u
}

func TestGetKnownUsers(t *testing.T) {
	_, ts := newTestServer(t, Config{})
	for _, l := range testLists() {
		for _, q := range []struct {
			query string
			k     int
		}{{"", 3}, {"k=1", 1}, {"k=2", 2}, {"k=3", 3}, {"other=x&k=2", 2}} {
			r := get(t, userURL(ts.URL, l.User, q.query))
			if r.code != 200 {
				t.Fatalf("user %q %s: %d %s", l.User, q.query, r.code, r.body)
			}
			if want := wantResponse(t, testMeta, l, q.k, false); r.body != want {
				t.Errorf("user %q %s:\n got %s\nwant %s", l.User, q.query, r.body, want)
			}
			if ct := r.hdr.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
		}
	}
}

func TestGetUnknownAndInvalid(t *testing.T) {
	_, ts := newTestServer(t, Config{})
	cases := []struct {
		path string
		code int
		want string // substring of the body
	}{
		{"/v1/users/nobody/recommendations", 404, `{"error":"unknown user","user":"nobody"}`},
		{"/v1/users/196/recommendations?k=4", 400, `"maxK":3`},
		{"/v1/users/196/recommendations?k=0", 400, "positive integer"},
		{"/v1/users/196/recommendations?k=-1", 400, "positive integer"},
		{"/v1/users/196/recommendations?k=abc", 400, "positive integer"},
		{"/v1/users/196/recommendations?k=", 400, "positive integer"},
		{"/v1/users/196/recommendations?k=1&k=2", 400, "more than once"},
		{"/v1/users/196/recommendations?k=99999999999999999999", 400, "positive integer"},
		{"/v1/users/%0A/recommendations", 400, "invalid user id"},
		{"/v1/users/" + strings.Repeat("x", 257) + "/recommendations", 400, "invalid user id"},
		{"/v1/users//recommendations", 400, "invalid user id"},
		{"/v1/users/196/recommendations/", 404, "no such endpoint"},
		{"/v1/users/196", 404, "no such endpoint"},
		{"/v1/users/a/b/recommendations", 404, "no such endpoint"},
		{"/v2/users/196/recommendations", 404, "no such endpoint"},
		{"/", 404, "no such endpoint"},
		// An escaped slash is part of the id, not a separator.
		{"/v1/users/a%2Fb/recommendations", 404, `"user":"a/b"`},
	}
	for _, c := range cases {
		r := get(t, ts.URL+c.path)
		if r.code != c.code || !strings.Contains(r.body, c.want) {
			t.Errorf("GET %s: %d %s, want %d containing %s", c.path, r.code, r.body, c.code, c.want)
		}
		var v map[string]any
		if err := json.Unmarshal([]byte(r.body), &v); err != nil {
			t.Errorf("GET %s: body is not JSON: %v", c.path, err)
		}
	}
	r := do(t, "POST", userURL(ts.URL, "196", ""), "{}")
	if r.code != 405 || r.hdr.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST on the GET route: %d Allow %q", r.code, r.hdr.Get("Allow"))
	}
	r = do(t, "HEAD", userURL(ts.URL, "196", ""), "")
	if r.code != 200 || r.body != "" {
		t.Errorf("HEAD: %d %q", r.code, r.body)
	}
}

func TestEscapedIDs(t *testing.T) {
	_, ts := newTestServer(t, Config{})
	l := testLists()[2] // `odd "<id>" \ é`
	r := get(t, userURL(ts.URL, l.User, "k=1"))
	if want := wantResponse(t, testMeta, l, 1, false); r.code != 200 || r.body != want {
		t.Errorf("escaped id: %d %s, want %s", r.code, r.body, want)
	}
}

func TestFallbackPopular(t *testing.T) {
	// The fallback list comes from a training table where item "50" has 3
	// ratings, "258" 2 and "100" and "7" one each; ties go to the smaller id,
	// so the top 3 are 50 (3), 258 (2), 7 (1).
	b := ratings.NewBuilder(false)
	for _, r := range [][2]string{{"1", "50"}, {"2", "50"}, {"3", "50"}, {"1", "258"}, {"2", "258"}, {"3", "100"}, {"4", "7"}} {
		b.Add(r[0], r[1], 4, 0)
	}
	pop := PopularFromTable(b.Table(), 3)
	if got := string(pop.cut(3)); got != `{"id":"50","score":3},{"id":"258","score":2},{"id":"7","score":1}` {
		t.Fatalf("popular: %s", got)
	}
	_, ts := newTestServer(t, Config{Fallback: true, Popular: pop})
	r := get(t, userURL(ts.URL, "newcomer", "k=2"))
	want := `{"user":"newcomer","items":[{"id":"50","score":3},{"id":"258","score":2}],"model":"als-test","generatedAt":"2026-11-26T06:15:00Z","fallback":true}` + "\n"
	if r.code != 200 || r.body != want {
		t.Errorf("fallback: %d %s, want %s", r.code, r.body, want)
	}
	// Known users are unaffected.
	r = get(t, userURL(ts.URL, "196", "k=1"))
	if want := wantResponse(t, testMeta, testLists()[0], 1, false); r.body != want {
		t.Errorf("known user with fallback on: %s", r.body)
	}
	// Fallback on without a list is a configuration error.
	idx, _ := NewIndex(testMeta, testLists())
	if err := NewServer(Config{Fallback: true}).SetStore(idx); err != ErrNoFallback {
		t.Errorf("SetStore without popular items: %v, want ErrNoFallback", err)
	}
}

func TestBatch(t *testing.T) {
	_, ts := newTestServer(t, Config{MaxBatch: 3, MaxBodyBytes: 200})
	lists := testLists()
	r := do(t, "POST", ts.URL+"/v1/recommendations", `{"users":["196","nobody","186"],"k":2}`, "Content-Type", "application/json")
	if r.code != 200 {
		t.Fatalf("batch: %d %s", r.code, r.body)
	}
	want := `{"results":[` + strings.TrimSuffix(wantResponse(t, testMeta, lists[0], 2, false), "\n") +
		`,{"user":"nobody","error":"unknown user"},` + strings.TrimSuffix(wantResponse(t, testMeta, lists[1], 2, false), "\n") + "]}\n"
	if r.body != want {
		t.Errorf("batch:\n got %s\nwant %s", r.body, want)
	}
	// k from the query, and the default (all 3).
	r = do(t, "POST", ts.URL+"/v1/recommendations?k=1", `{"users":["196"]}`)
	if want := `{"results":[` + strings.TrimSuffix(wantResponse(t, testMeta, lists[0], 1, false), "\n") + "]}\n"; r.body != want {
		t.Errorf("batch k in query: %s", r.body)
	}
	cases := []struct {
		query, body, ct string
		code            int
		want            string
	}{
		{"", `{"users":["1","2","3","4"]}`, "", 400, "at most 3 users"},
		{"", `{"users":[]}`, "", 400, "at least one"},
		{"", `{}`, "", 400, "at least one"},
		{"", `{"users":["a\nb"]}`, "", 400, "users[0]: invalid user id"},
		{"", `{"users":["196"],"k":4}`, "", 400, "exceeds"},
		{"", `{"users":["196"],"k":0}`, "", 400, "positive"},
		{"k=2", `{"users":["196"],"k":1}`, "", 400, "differ"},
		{"", `{"users":"196"}`, "", 400, `field \"users\"`},
		{"", `{"user":["196"]}`, "", 400, "unknown field"},
		{"", `{"users":["196"]} {}`, "", 400, "trailing"},
		{"", `{"users":[`, "", 400, "truncated"},
		{"", `not json`, "", 400, "invalid JSON"},
		{"", ``, "", 400, "empty body"},
		{"", `{"users":["` + strings.Repeat("x", 300) + `"]}`, "", 413, "larger than 200 bytes"},
		{"", `{"users":["196"]}`, "text/plain", 415, "application/json"},
	}
	for _, c := range cases {
		u := ts.URL + "/v1/recommendations"
		if c.query != "" {
			u += "?" + c.query
		}
		var hdr []string
		if c.ct != "" {
			hdr = []string{"Content-Type", c.ct}
		}
		r := do(t, "POST", u, c.body, hdr...)
		if r.code != c.code || !strings.Contains(r.body, c.want) {
			t.Errorf("POST %q: %d %s, want %d containing %s", c.body, r.code, r.body, c.code, c.want)
		}
	}
	if r := get(t, ts.URL+"/v1/recommendations"); r.code != 405 || r.hdr.Get("Allow") != "POST" {
		t.Errorf("GET batch: %d %q", r.code, r.hdr.Get("Allow"))
	}
}

func TestHealthReadyMetricsOpenAPI(t *testing.T) {
	srv := NewServer(Config{})
	ts := startServer(t, srv)
	if r := get(t, ts.URL+"/healthz"); r.code != 200 || r.body != "{\"status\":\"ok\"}\n" {
		t.Errorf("healthz: %d %s", r.code, r.body)
	}
	// Before a store is set: not ready, recommendations answer 503.
	if r := get(t, ts.URL+"/readyz"); r.code != 503 || !strings.Contains(r.body, "loading") {
		t.Errorf("readyz before load: %d %s", r.code, r.body)
	}
	if r := get(t, userURL(ts.URL, "196", "")); r.code != 503 || r.hdr.Get("Retry-After") == "" {
		t.Errorf("recommendations before load: %d %s", r.code, r.body)
	}
	idx, _ := NewIndex(testMeta, testLists())
	if err := srv.SetStore(idx.WithSource("test", "v1", nil)); err != nil {
		t.Fatal(err)
	}
	r := get(t, ts.URL+"/readyz")
	var ready struct {
		Status string
		Store  StoreInfo
	}
	if err := json.Unmarshal([]byte(r.body), &ready); err != nil || r.code != 200 {
		t.Fatalf("readyz: %d %s %v", r.code, r.body, err)
	}
	if ready.Status != "ready" || ready.Store.Users != 4 || ready.Store.K != 3 || ready.Store.Version != "v1" || ready.Store.Model != "als-test" {
		t.Errorf("readyz: %+v", ready)
	}

	get(t, userURL(ts.URL, "196", ""))
	get(t, userURL(ts.URL, "nobody", ""))
	get(t, userURL(ts.URL, "196", "k=9"))
	r = get(t, ts.URL+"/metrics")
	if r.code != 200 {
		t.Fatalf("metrics: %d", r.code)
	}
	for _, want := range []string{
		`recs_serve_requests_total{code="200",route="recommendations"} 1`,
		`recs_serve_requests_total{code="404",route="recommendations"} 1`,
		`recs_serve_requests_total{code="400",route="recommendations"} 1`,
		`recs_serve_requests_total{code="503",route="recommendations"} 1`,
		`recs_serve_request_duration_seconds_count{route="recommendations"} 4`,
		`recs_serve_index_users 4`,
		`recs_serve_index_k 3`,
		`recs_serve_ready 1`,
		`recs_serve_reloads_total{result="ok"} 0`,
		`go_goroutines`,
	} {
		if !strings.Contains(r.body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}

	r = get(t, ts.URL+"/openapi.json")
	var doc struct {
		OpenAPI string                    `json:"openapi"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal([]byte(r.body), &doc); err != nil || r.code != 200 {
		t.Fatalf("openapi: %d %v", r.code, err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Errorf("openapi version %q", doc.OpenAPI)
	}
	for path, method := range map[string]string{
		"/v1/users/{id}/recommendations": "get", "/v1/recommendations": "post",
		"/healthz": "get", "/readyz": "get", "/metrics": "get", "/openapi.json": "get",
	} {
		if doc.Paths[path][method] == nil {
			t.Errorf("openapi lacks %s %s", method, path)
		}
	}
	if len(doc.Paths) != 6 {
		t.Errorf("openapi has %d paths, want the 6 served", len(doc.Paths))
	}
}

// TestOpenAPIRefsResolve checks every $ref of the document names a
// component that exists.
func TestOpenAPIRefsResolve(t *testing.T) {
	var doc map[string]any
	if err := json.Unmarshal(openAPIDocument, &doc); err != nil {
		t.Fatal(err)
	}
	var walk func(v any)
	n := 0
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, e := range v {
				if k == "$ref" {
					n++
					ref := e.(string)
					parts := strings.Split(strings.TrimPrefix(ref, "#/"), "/")
					var cur any = doc
					for _, p := range parts {
						m, ok := cur.(map[string]any)
						if !ok || m[p] == nil {
							t.Errorf("$ref %s does not resolve", ref)
							return
						}
						cur = m[p]
					}
				}
				walk(e)
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	walk(doc)
	if n < 10 {
		t.Errorf("only %d $refs found; the walk is broken", n)
	}
}

func TestServeHTTPAllocations(t *testing.T) {
	idx, _ := NewIndex(testMeta, testLists())
	srv := NewServer(Config{})
	srv.SetStore(idx)
	req := httptest.NewRequest("GET", "/v1/users/196/recommendations?k=2", nil)
	w := &discardWriter{h: http.Header{}}
	srv.ServeHTTP(w, req)
	if w.code != 0 || !bytes.HasPrefix(w.body.Bytes(), []byte(`{"user":"196"`)) {
		t.Fatalf("response %d %s", w.code, w.body.String())
	}
	allocs := testing.AllocsPerRun(1000, func() {
		w.body.Reset()
		srv.ServeHTTP(w, req)
	})
	// The handler itself allocates nothing; net/http's own per-request
	// allocations are outside this measurement.
	if allocs != 0 {
		t.Errorf("ServeHTTP allocates %v times per request, want 0", allocs)
	}
}

type discardWriter struct {
	h    http.Header
	code int
	body bytes.Buffer
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) WriteHeader(code int)        { w.code = code }
func (w *discardWriter) Write(b []byte) (int, error) { return w.body.Write(b) }

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"https://a.blob.core.windows.net/c/p?sv=2022&sig=abc%2Bdef&se=1":                      "https://a.blob.core.windows.net/c/p?sv=2022&sig=REDACTED&se=1",
		"DefaultEndpointsProtocol=https;AccountName=a;AccountKey=Zm9vYmFy==;EndpointSuffix=x": "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=REDACTED;EndpointSuffix=x",
		"Authorization: Bearer eyJ0eXAi.abc-def":                                              "Authorization: Bearer REDACTED",
		"type%3dmaster%26ver%3d1.0%26sig%3dSECRET":                                            "type%3dmaster%26ver%3d1.0%26sig%3dREDACTED",
		"nothing secret here": "nothing secret here",
	} {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

func ExampleServer() {
	idx, _ := NewIndex(toplist.Meta{Model: "m", K: 2}, []toplist.List{
		{User: "1", Items: []toplist.Item{{ID: "10", Score: 0.9}, {ID: "20", Score: 0.5}}},
	})
	srv := NewServer(Config{})
	srv.SetStore(idx)
	w := httptest.NewRecorder()
	srv.ServeHTTP(w, httptest.NewRequest("GET", "/v1/users/1/recommendations?k=1", nil))
	fmt.Print(w.Code, " ", w.Body.String())
	// Output: 200 {"user":"1","items":[{"id":"10","score":0.9}],"model":"m"}
}
