package serve

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzRouter feeds arbitrary request lines, query strings and bodies to the
// router (without the panic guard of ServeHTTP, so a panic fails the
// target) and checks the invariants every response keeps:
//   - the status is one the API documents;
//   - every body except /metrics and HEAD responses is one JSON value;
//   - a 200 from the recommendations route holds at most k (and at most
//     MaxK) items, all from the user's own list or the fallback list;
//   - 405 responses carry an Allow header.
func FuzzRouter(f *testing.F) {
	for _, s := range []struct{ method, target, body string }{
		{"GET", "/v1/users/196/recommendations?k=2", ""},
		{"GET", "/v1/users/nobody/recommendations", ""},
		{"GET", "/v1/users/a%2Fb/recommendations?k=1&k=2", ""},
		{"GET", "/v1/users/%ff/recommendations?k=99999", ""},
		{"HEAD", "/v1/users/186/recommendations", ""},
		{"POST", "/v1/recommendations?k=1", `{"users":["196","x"],"k":1}`},
		{"POST", "/v1/recommendations", `{"users":[1,2]}`},
		{"POST", "/v1/recommendations", `{"users":["` + strings.Repeat("9", 300) + `"]}`},
		{"DELETE", "/readyz", ""},
		{"GET", "/openapi.json", ""},
		{"GET", "/healthz?x=%zz", ""},
		{"GET", "//v1/users/196/recommendations", ""},
		{"GET", "/v1/users/196%2F..%2F/recommendations", ""},
	} {
		f.Add(s.method, s.target, s.body)
	}
	idx, err := NewIndex(testMeta, testLists())
	if err != nil {
		f.Fatal(err)
	}
	srvs := []*Server{NewServer(Config{MaxBatch: 4, MaxBodyBytes: 256}), NewServer(Config{Fallback: true, Popular: NewPopular(testLists()[0].Items)})}
	for _, s := range srvs {
		if err := s.SetStore(idx); err != nil {
			f.Fatal(err)
		}
	}
	allowed := map[int]bool{200: true, 400: true, 404: true, 405: true, 413: true, 415: true}
	f.Fuzz(func(t *testing.T, method, target, body string) {
		raw := method + " " + target + " HTTP/1.1\r\nHost: x\r\nContent-Length: " + itoa(len(body)) + "\r\n\r\n" + body
		req, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
		if err != nil {
			return // not a request net/http would hand to a handler
		}
		for _, srv := range srvs {
			req.Body = httpBody(body)
			w := httptest.NewRecorder()
			_, code := srv.route(w, req)
			if code != w.Code {
				t.Fatalf("%s %q: route reports %d, wrote %d", method, target, code, w.Code)
			}
			if !allowed[code] {
				t.Fatalf("%s %q: status %d", method, target, code)
			}
			if code == 405 && w.Header().Get("Allow") == "" {
				t.Fatalf("%s %q: 405 without Allow", method, target)
			}
			if req.URL.Path == "/metrics" || method == "HEAD" {
				continue
			}
			if !json.Valid(w.Body.Bytes()) {
				t.Fatalf("%s %q: body is not JSON: %q", method, target, w.Body.Bytes())
			}
			if code == 200 && strings.HasPrefix(req.URL.Path, usersPrefix) {
				var r struct{ Items []struct{ ID string } }
				json.Unmarshal(w.Body.Bytes(), &r)
				k, _ := parseK(req.URL.RawQuery, 3, 3)
				if len(r.Items) > k || len(r.Items) > 3 {
					t.Fatalf("%s %q: %d items for k=%d", method, target, len(r.Items), k)
				}
			}
		}
	})
}

func httpBody(s string) *bodyReader { return &bodyReader{bytes.NewReader([]byte(s))} }

type bodyReader struct{ *bytes.Reader }

func (bodyReader) Close() error { return nil }

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}
