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

// closedAfter reads from conn until the server closes it and reports how
// long that took. The guard's exact limits are checked by TestGuardExpiry
// on a clock the test sets; here, over real sockets, a busy machine may
// delay the janitor, so a close must come within a generous 10 s beyond
// limit (it came at all), and no earlier than half the limit (it was that
// limit, not a shorter one, that closed it; the guard's clock, stamped by
// the janitor, may lag when the janitor is starved).
func closedAfter(t *testing.T, conn net.Conn, limit time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	conn.SetReadDeadline(time.Now().Add(limit + 10*time.Second))
	_, err := io.Copy(io.Discard, conn)
	d := time.Since(start)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("connection still open after %v (limit %v)", d, limit)
	}
	if d < limit/2 {
		t.Errorf("closed after %v, long before the %v limit", d, limit)
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

// The limits of these tests: short enough to run fast, and the idle limit
// far from the others, so that which limit closed a connection shows even
// on a busy machine (the janitor's tick is a fifth of the smallest, 60 ms).
var guardHC = HTTPConfig{ReadHeaderTimeout: 300 * time.Millisecond, ReadTimeout: 400 * time.Millisecond,
	WriteTimeout: 500 * time.Millisecond, IdleTimeout: 2 * time.Second}

func TestGuardIdleAndHeaders(t *testing.T) {
	srv, _ := newTestServer(t, Config{})
	addr, _, _ := startServe(t, srv, guardHC)

	// Idle: a keep-alive connection with no request closes after the idle
	// timeout (2 s), not the header timeout (300 ms).
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	if r := getOn(t, conn, br, "/healthz"); r.StatusCode != 200 {
		t.Fatal(r.Status)
	}
	closedAfter(t, conn, guardHC.IdleTimeout)

	// Slow headers on a second request: the header timeout counts from its
	// first byte, and cuts long before the idle timeout would.
	conn, err = net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	br = bufio.NewReader(conn)
	getOn(t, conn, br, "/healthz")
	io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost:")
	if d := closedAfter(t, conn, guardHC.ReadHeaderTimeout); d >= guardHC.IdleTimeout {
		t.Errorf("slow headers cut after %v: the idle timeout's doing, not the header timeout's", d)
	}
}

// TestGuardBusyConnectionStays sends a request every 100 ms for 2.5 s on
// one connection: it outlives every timeout and is never closed.
func TestGuardBusyConnectionStays(t *testing.T) {
	srv, _ := newTestServer(t, Config{})
	addr, _, _ := startServe(t, srv, guardHC)
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	br := bufio.NewReader(conn)
	for i := range 25 {
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
	closedAfter(t, conn, guardHC.WriteTimeout)
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
	// The body's deadline is a socket deadline: it never fires early.
	if d := time.Since(start); d < guardHC.ReadTimeout {
		t.Errorf("stalled body answered after %v, before the %v read timeout", d, guardHC.ReadTimeout)
	}
	closedAfter(t, conn, 0)
}

// TestGuardExpiry checks which connections the janitor closes, on a clock
// the test sets (no janitor runs): each phase has its own limit, counted
// from when the connection entered the phase, plus one tick of slack for
// the clock's lag; the first bytes after an idle period start the header
// limit.
func TestGuardExpiry(t *testing.T) {
	hc := guardHC.withDefaults()
	g := &guard{hc: hc, tick: newGuardTick(hc), conns: map[*guardedConn]struct{}{}}
	ms := func(n int64) int64 { return n * int64(time.Millisecond) }
	tick := int64(g.tick) // 60 ms: a fifth of the 300 ms header limit
	if tick != ms(60) {
		t.Fatalf("tick %v, want 60ms", g.tick)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	gl := guardListener{ln, g}
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	const t0 = int64(1e18) // the clock's value at accept
	g.clock.Store(t0)
	nc, err := gl.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	c := nc.(*guardedConn)
	expired := func(now int64) bool { return len(g.expired(now, nil)) == 1 }
	check := func(phase string, from int64, limit time.Duration) {
		t.Helper()
		last := from + int64(limit) + tick // closed only past limit + tick
		if expired(last) {
			t.Errorf("%s: expired at limit + tick (%v after entering)", phase, time.Duration(last-from))
		}
		if !expired(last + 1) {
			t.Errorf("%s: not expired 1 ns past limit + tick", phase)
		}
	}
	// Accepted: reading the first request's headers.
	check("headers", t0, hc.ReadHeaderTimeout)

	// Headers read at t0+100ms: answering, under the write limit.
	g.clock.Store(t0 + ms(100))
	g.connState(c, http.StateActive)
	check("active", t0+ms(100), hc.WriteTimeout)

	// Answered at t0+200ms: idle, under the idle limit.
	g.clock.Store(t0 + ms(200))
	g.connState(c, http.StateIdle)
	check("idle", t0+ms(200), hc.IdleTimeout)

	// The next request's first bytes at t0+900ms: headers again, from then.
	g.clock.Store(t0 + ms(900))
	io.WriteString(client, "G")
	if _, err := c.Read(make([]byte, 1)); err != nil {
		t.Fatal(err)
	}
	check("headers after idle", t0+ms(900), hc.ReadHeaderTimeout)

	// More bytes of the same headers do not restart the limit.
	g.clock.Store(t0 + ms(1000))
	io.WriteString(client, "E")
	if _, err := c.Read(make([]byte, 1)); err != nil {
		t.Fatal(err)
	}
	check("headers, later bytes", t0+ms(900), hc.ReadHeaderTimeout)

	// Closed: no longer watched.
	c.Close()
	if g.tracked() != 0 || expired(t0+ms(1e6)) {
		t.Error("a closed connection is still watched")
	}
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
