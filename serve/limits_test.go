package serve

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// rawRequest sends req on a new connection and reads one response.
func rawRequest(t *testing.T, addr, req string) (int, string, http.Header) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, req); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no response: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp.StatusCode, string(b), resp.Header
}

// jsonError asserts an error body in the API's shape and returns its text.
func jsonError(t *testing.T, code int, body string, hdr http.Header) string {
	t.Helper()
	if ct := hdr.Get("Content-Type"); ct != "application/json" {
		t.Errorf("%d answered with Content-Type %q, body %q", code, ct, body)
	}
	var e struct {
		Error string `json:"error"`
	}
	if err := json.Unmarshal([]byte(body), &e); err != nil || e.Error == "" {
		t.Errorf("%d body %q is not {\"error\": message}", code, body)
	}
	return e.Error
}

// headerOfSize builds a GET request whose header section (request line,
// header lines, blank line, CRLFs included) is exactly n bytes, padding
// with an X-Pad header.
func headerOfSize(path string, n int) string {
	head := "GET " + path + " HTTP/1.1\r\nHost: t\r\nX-Pad: "
	pad := n - len(head) - len("\r\n\r\n")
	return head + strings.Repeat("a", pad) + "\r\n\r\n"
}

// TestHeaderLimitExact checks that --max-header-bytes is the documented
// number to the byte (net/http alone allows 4 KiB more) and that requests
// refused for their size get JSON like every other error: 414 for a long
// request line (a 100 KB user id), 431 for long headers (20,000 bytes at
// the default 16 KiB), and net/http's own 400 for a malformed request.
func TestHeaderLimitExact(t *testing.T) {
	srv, _ := newTestServer(t, Config{})
	addr, _, _ := startServe(t, srv, HTTPConfig{}) // the defaults: 16 KiB
	const limit = 16 << 10

	// At the limit: answered by the handler (404 for an unknown user).
	if code, body, hdr := rawRequest(t, addr, headerOfSize("/v1/users/nobody/recommendations", limit)); code != http.StatusNotFound {
		t.Errorf("header section of exactly %d bytes: %d %s", limit, code, body)
	} else {
		jsonError(t, code, body, hdr)
	}
	// One byte more: 431.
	code, body, hdr := rawRequest(t, addr, headerOfSize("/v1/users/nobody/recommendations", limit+1))
	if code != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("header section of %d bytes: %d %s, want 431", limit+1, code, body)
	}
	if msg := jsonError(t, code, body, hdr); !strings.Contains(msg, "longer than 16384 bytes") {
		t.Errorf("431 message %q does not give the limit", msg)
	}

	// The documented limits, through net/http's client as curl would send
	// them: a 20,000-byte header and a 100 KB user id.
	req, _ := http.NewRequest("GET", "http://"+addr+"/healthz", nil)
	req.Header.Set("X-Big", strings.Repeat("b", 20000))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("20,000-byte header: %d, want 431", resp.StatusCode)
	}
	jsonError(t, resp.StatusCode, string(b), resp.Header)

	resp, err = http.Get("http://" + addr + "/v1/users/" + strings.Repeat("u", 100_000) + "/recommendations")
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestURITooLong {
		t.Errorf("100 KB user id: %d, want 414", resp.StatusCode)
	}
	if msg := jsonError(t, resp.StatusCode, string(b), resp.Header); !strings.Contains(msg, "request line") {
		t.Errorf("414 message %q", msg)
	}

	// A request net/http cannot parse: its 400 is JSON too.
	code, body, hdr = rawRequest(t, addr, "GET /healthz HTTP/1.1\r\nHost: t\r\nno colon here\r\n\r\n")
	if code != http.StatusBadRequest {
		t.Errorf("malformed header line: %d %s, want 400", code, body)
	}
	jsonError(t, code, body, hdr)

	// The count starts afresh with each request on a kept-alive
	// connection: small requests in a row pass, and an oversized one
	// after them is refused.
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(conn)
	for i := range 3 {
		if resp := getOn(t, conn, br, "/healthz"); resp.StatusCode != http.StatusOK {
			t.Fatalf("request %d on a kept-alive connection: %d", i, resp.StatusCode)
		}
	}
	io.WriteString(conn, headerOfSize("/healthz", limit-1))
	if resp, err := http.ReadResponse(br, nil); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("request of %d bytes after three others: %v %v", limit-1, resp, err)
	} else {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	io.WriteString(conn, headerOfSize("/healthz", limit+100))
	resp, err = http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("oversized request on a kept-alive connection: %v %v", resp, err)
	}
	resp.Body.Close()

	// The refusals are counted like other answers.
	rec := do(t, "GET", "http://"+addr+"/metrics", "")
	for _, c := range []int{414, 431} {
		if want := fmt.Sprintf(`recs_serve_requests_total{code="%d",route="other"}`, c); !strings.Contains(rec.body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// TestHeaderLimitConfigured: a smaller --max-header-bytes holds to the
// byte as well.
func TestHeaderLimitConfigured(t *testing.T) {
	srv, _ := newTestServer(t, Config{})
	addr, _, _ := startServe(t, srv, HTTPConfig{MaxHeaderBytes: 1000})
	if code, _, _ := rawRequest(t, addr, headerOfSize("/healthz", 1000)); code != http.StatusOK {
		t.Errorf("1000 bytes at a limit of 1000: %d", code)
	}
	if code, _, _ := rawRequest(t, addr, headerOfSize("/healthz", 1001)); code != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("1001 bytes at a limit of 1000: %d", code)
	}
	// A request line alone beyond the limit: 414.
	if code, _, _ := rawRequest(t, addr, "GET /"+strings.Repeat("x", 1000)+" HTTP/1.1\r\nHost: t\r\n\r\n"); code != http.StatusRequestURITooLong {
		t.Errorf("a 1000-byte request line at a limit of 1000: %d, want 414", code)
	}
}
