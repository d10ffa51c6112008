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

// closedWithin reads from conn until it is closed and reports how long that
// took, failing when it takes more than max.
func closedWithin(t *testing.T, conn net.Conn, max time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	conn.SetReadDeadline(time.Now().Add(max + 5*time.Second))
	_, err := io.Copy(io.Discard, conn)
	d := time.Since(start)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("connection still open after %v", d)
	}
	if d > max {
		t.Fatalf("closed after %v, want within %v", d, max)
	}
	return d
}

func getOn(t *testing.T, conn net.Conn, br *bufio.Reader, path string) *http.Response {
	t.Helper()
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: t\r\n\r\n", path)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// The limits of these tests: short enough to run fast, far enough apart
// that each test sees the limit it is about (the janitor's tick is a fifth
// of the smallest, 60 ms, and a connection closes within two ticks after
// its limit).
var guardHC = HTTPConfig{ReadHeaderTimeout: 300 * time.Millisecond, ReadTimeout: 400 * time.Millisecond,
	WriteTimeout: 500 * time.Millisecond, IdleTimeout: 700 * time.Millisecond}

func TestGuardIdleAndHeaders(t *testing.T) {
	srv, _ := newTestServer(t, Config{})
	addr, _, _ := startServe(t, srv, guardHC)

	// Idle: a keep-alive connection with no request closes after the idle
	// timeout (700 ms), not the header timeout.
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	if r := getOn(t, conn, br, "/healthz"); r.StatusCode != 200 {
		t.Fatal(r.Status)
	}
	if d := closedWithin(t, conn, 700*time.Millisecond+3*guardTick(guardHC)); d < 650*time.Millisecond {
		t.Errorf("idle connection closed after %v, before the 700ms idle timeout", d)
	}

	// Slow headers on a second request: the header timeout counts from its
	// first byte.
	conn, err = net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	br = bufio.NewReader(conn)
	getOn(t, conn, br, "/healthz")
	io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost:")
	if d := closedWithin(t, conn, 300*time.Millisecond+3*guardTick(guardHC)); d < 250*time.Millisecond {
		t.Errorf("slow headers cut after %v, before the 300ms header timeout", d)
	}
}

func guardTick(hc HTTPConfig) time.Duration { return newGuardTick(hc) }

// TestGuardBusyConnectionStays sends a request every 100 ms for 2 s on one
// connection: it outlives every timeout and is never closed.
func TestGuardBusyConnectionStays(t *testing.T) {
	srv, _ := newTestServer(t, Config{})
	addr, _, _ := startServe(t, srv, guardHC)
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	br := bufio.NewReader(conn)
	for i := range 20 {
		if r := getOn(t, conn, br, "/v1/users/196/recommendations?k=1"); r.StatusCode != 200 {
			t.Fatalf("request %d: %s", i, r.Status)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// slowStore's lookups wait until their context ends.
type slowStore struct{ Index }

func (s *slowStore) Lookup(ctx context.Context, user string) (Record, bool, error) {
	<-ctx.Done()
	return Record{}, false, ctx.Err()
}

// TestGuardWriteTimeout: a request whose answer takes longer than the write
// timeout has its connection closed, and the handler's context ends.
func TestGuardWriteTimeout(t *testing.T) {
	idx, _ := NewIndex(testMeta, testLists())
	srv := NewServer(Config{})
	srv.SetStore(&slowStore{*idx})
	addr, _, _ := startServe(t, srv, guardHC)
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(conn, "GET /v1/users/196/recommendations HTTP/1.1\r\nHost: t\r\n\r\n")
	if d := closedWithin(t, conn, 500*time.Millisecond+3*guardTick(guardHC)); d < 450*time.Millisecond {
		t.Errorf("closed after %v, before the 500ms write timeout", d)
	}
	waitFor(t, func() bool { return srv.InFlight() == 0 })
}

// TestGuardSlowBody: a batch body that stops arriving fails after the read
// timeout.
func TestGuardSlowBody(t *testing.T) {
	srv, _ := newTestServer(t, Config{})
	addr, _, _ := startServe(t, srv, guardHC)
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	io.WriteString(conn, "POST /v1/recommendations HTTP/1.1\r\nHost: t\r\nContent-Length: 50\r\n\r\n{\"users\":")
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer to a stalled body: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 408 || !strings.Contains(string(b), "read timeout") {
		t.Errorf("answer to a stalled body: %d %s, want 408 naming the read timeout", resp.StatusCode, b)
	}
	if d := time.Since(start); d < 350*time.Millisecond || d > 400*time.Millisecond+time.Second {
		t.Errorf("stalled body answered after %v, want about the 400ms read timeout", d)
	}
	closedWithin(t, conn, time.Second)
}

func TestGuardForgetsClosedConnections(t *testing.T) {
	g := newGuard(guardHC.withDefaults())
	defer g.close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gl := guardListener{ln, g}
	defer gl.Close()
	for range 5 {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		sc, err := gl.Accept()
		if err != nil {
			t.Fatal(err)
		}
		c.Close()
		sc.Close()
		sc.Close() // twice: harmless
	}
	if n := g.tracked(); n != 0 {
		t.Errorf("%d connections still tracked after all closed", n)
	}
}
