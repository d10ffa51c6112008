package serve

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// startServe runs srv.Serve on a fresh 127.0.0.1 listener and returns its
// address, a cancel that starts the shutdown, and the channel Serve's
// result arrives on.
func startServe(t *testing.T, srv *Server, hc HTTPConfig) (string, context.CancelFunc, chan error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	finished := make(chan struct{})
	go func() {
		done <- srv.Serve(ctx, ln, hc)
		close(finished)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-finished:
		case <-time.After(10 * time.Second):
			t.Error("Serve still running 10s after the test")
		}
	})
	return ln.Addr().String(), cancel, done
}

// TestGracefulShutdown starts a batch request whose body arrives slowly,
// begins the shutdown while it is in flight, and checks that the request
// still completes with 200, that the server stops accepting connections
// and turns unready, and that Serve then returns nil.
func TestGracefulShutdown(t *testing.T) {
	srv, _ := newTestServer(t, Config{})
	addr, cancel, done := startServe(t, srv, HTTPConfig{ShutdownTimeout: 10 * time.Second})

	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := `{"users":["196","186"],"k":1}`
	fmt.Fprintf(conn, "POST /v1/recommendations HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(body), body[:10])
	// Wait until the handler is reading the body: the request is in flight.
	waitFor(t, func() bool { return srv.InFlight() == 1 })

	cancel()
	waitFor(t, func() bool { return !srv.Ready() })
	// The listener closes soon after (how soon depends on the scheduler:
	// wait for it), while the request is still in flight.
	waitFor(t, func() bool {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
		}
		return err != nil
	})
	select {
	case err := <-done:
		t.Fatalf("Serve returned %v with a request in flight", err)
	default:
	}
	if srv.InFlight() != 1 {
		t.Fatalf("%d requests in flight during the shutdown, want the one", srv.InFlight())
	}

	if _, err := io.WriteString(conn, body[10:]); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	want := `{"results":[{"user":"196","items":[{"id":"242","score":4.61}],"model":"als-test","generatedAt":"2026-11-26T06:15:00Z"},{"user":"186","items":[{"id":"302","score":4.9}],"model":"als-test","generatedAt":"2026-11-26T06:15:00Z"}]}` + "\n"
	if resp.StatusCode != 200 || string(got) != want {
		t.Errorf("in-flight request: %d %s, want 200 %s", resp.StatusCode, got, want)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve: %v, want nil after a clean shutdown", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after the last request finished")
	}
}

// TestShutdownTimeout holds a request open past the drain timeout: Serve
// closes it and reports the forced close.
func TestShutdownTimeout(t *testing.T) {
	srv, _ := newTestServer(t, Config{})
	addr, cancel, done := startServe(t, srv, HTTPConfig{ShutdownTimeout: 300 * time.Millisecond})
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /v1/recommendations HTTP/1.1\r\nHost: test\r\nContent-Length: 100\r\n\r\n{")
	waitFor(t, func() bool { return srv.InFlight() == 1 })
	start := time.Now()
	cancel()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "still running") {
			t.Errorf("Serve: %v, want a forced-close error", err)
		}
		// The drain timeout is a timer: it never fires early. (An upper
		// bound would measure the machine; the 10 s below is liveness.)
		if d := time.Since(start); d < 300*time.Millisecond {
			t.Errorf("Serve returned after %v, before the 300ms drain timeout", d)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after the shutdown timeout")
	}
}

// TestSlowHeadersTimeOut checks ReadHeaderTimeout closes a connection that
// never finishes its headers (a slowloris client).
func TestSlowHeadersTimeOut(t *testing.T) {
	srv, _ := newTestServer(t, Config{})
	addr, _, _ := startServe(t, srv, HTTPConfig{ReadHeaderTimeout: 200 * time.Millisecond})
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: x\r\n")
	// Liveness only: closed at all within 10 s (TestGuardExpiry checks the
	// limit itself).
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err = io.ReadAll(conn)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatal("the server kept the half-sent request open for 10s")
	}
}

// TestHeaderLimit sends headers beyond MaxHeaderBytes: 431.
func TestHeaderLimit(t *testing.T) {
	srv, _ := newTestServer(t, Config{})
	addr, _, _ := startServe(t, srv, HTTPConfig{MaxHeaderBytes: 1 << 10})
	req, _ := http.NewRequest("GET", "http://"+addr+"/healthz", nil)
	req.Header.Set("X-Big", strings.Repeat("a", 8<<10))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("oversized headers: %d, want 431", resp.StatusCode)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
