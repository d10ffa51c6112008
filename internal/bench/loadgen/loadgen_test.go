package loadgen

import (
	"bufio"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestReadResponse(t *testing.T) {
	cases := []struct {
		raw        string
		status     int
		closeAfter bool
		rest       string // what must remain unread
	}{
		{"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloNEXT", 200, false, "NEXT"},
		{"HTTP/1.1 404 Not Found\r\ncontent-length: 2\r\nConnection: close\r\n\r\n{}NEXT", 404, true, "NEXT"},
		{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\nNEXT", 200, false, "NEXT"},
		{"HTTP/1.0 503 Service Unavailable\r\n\r\nuntil close", 503, true, ""},
	}
	for _, c := range cases {
		r := bufio.NewReader(strings.NewReader(c.raw))
		status, closeAfter, err := readResponse(r)
		if err != nil || status != c.status || closeAfter != c.closeAfter {
			t.Errorf("%q: %d %v %v, want %d %v", c.raw, status, closeAfter, err, c.status, c.closeAfter)
		}
		rest, _ := r.ReadString(0)
		if rest != c.rest {
			t.Errorf("%q: left %q, want %q", c.raw, rest, c.rest)
		}
	}
	for _, bad := range []string{"", "HTTP/1.1 2x0 OK\r\n\r\n", "SSH-2.0\r\n", "HTTP/1.1 200 OK\r\nno colon\r\n\r\n"} {
		if _, _, err := readResponse(bufio.NewReader(strings.NewReader(bad))); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func testServer(t *testing.T) (*httptest.Server, Requests) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/missing" {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte(`{"ok":true}`))
	}))
	t.Cleanup(ts.Close)
	host := strings.TrimPrefix(ts.URL, "http://")
	return ts, GETs(host, []string{"/a", "/b"})
}

func TestClosed(t *testing.T) {
	ts, reqs := testServer(t)
	addr := strings.TrimPrefix(ts.URL, "http://")
	r := Closed(context.Background(), addr, reqs, 4, 50*time.Millisecond, 300*time.Millisecond, 1)
	if r.Requests < 50 || r.Errors != 0 || r.Non2xx != 0 {
		t.Errorf("closed loop: %+v", r)
	}
	if r.Elapsed < 300*time.Millisecond || r.Rate() <= 0 {
		t.Errorf("elapsed %v rate %v", r.Elapsed, r.Rate())
	}
	bad := GETs(addr, []string{"/missing"})
	if r := Closed(context.Background(), addr, bad, 2, 0, 100*time.Millisecond, 1); r.Non2xx != r.Requests || r.Requests == 0 {
		t.Errorf("404s: %+v", r)
	}
}

func TestEach(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]int{}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen[r.URL.Path]++
		mu.Unlock()
	}))
	defer ts.Close()
	addr := strings.TrimPrefix(ts.URL, "http://")
	paths := []string{"/1", "/2", "/3", "/4", "/5"}
	r := Each(context.Background(), addr, GETs(addr, paths), 3)
	if r.Requests != 5 || r.Errors != 0 {
		t.Errorf("Each: %+v", r)
	}
	for _, p := range paths {
		if seen[p] != 1 {
			t.Errorf("%s requested %d times, want once", p, seen[p])
		}
	}
}

func TestOpen(t *testing.T) {
	ts, reqs := testServer(t)
	addr := strings.TrimPrefix(ts.URL, "http://")
	start := time.Now()
	// 1000 requests per second for 0.5 s: exactly 500 requests, and the run
	// takes at least the 0.5 s of the schedule.
	r, err := Open(context.Background(), addr, reqs, 8, 1000, 500*time.Millisecond, 1)
	if err != nil {
		t.Fatal(err)
	}
	if r.Requests != 500 || r.Errors != 0 || len(r.Latencies) != 500 {
		t.Errorf("open loop: %d requests %d errors %d latencies", r.Requests, r.Errors, len(r.Latencies))
	}
	if d := time.Since(start); d < 490*time.Millisecond {
		t.Errorf("500 requests at 1000/s took %v", d)
	}
	if r.Quantile(0.5) <= 0 || r.Quantile(0.5) > r.Quantile(0.99) || r.Quantile(1) != r.Latencies[len(r.Latencies)-1] {
		t.Errorf("quantiles: p50 %v p99 %v max %v", r.Quantile(0.5), r.Quantile(0.99), r.Quantile(1))
	}
	if _, err := Open(context.Background(), addr, reqs, 1, 10, time.Millisecond, 1); err == nil {
		t.Error("a schedule with no request: no error")
	}
}
