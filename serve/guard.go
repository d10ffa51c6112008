package serve

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/recs-dev/recs/toplist"
)

// guard enforces the connection timeouts of HTTPConfig without a timer per
// request. net/http's own timeouts set up to four socket deadlines per
// request, each a runtime timer change that may wake the network poller
// (BenchmarkHTTP: about 1.5 µs of CPU per request on the test machine).
// Instead, every connection records
// its phase and when it entered it (two atomic stores per phase change,
// stamped with a clock the janitor advances), and one janitor goroutine
// closes the connections that overstay:
//
//   - reading a request's headers (from the connection's accept, or from
//     the first byte after an idle period) longer than ReadHeaderTimeout;
//   - answering (from the end of the headers: reading the body, running
//     the handler, writing the response) longer than WriteTimeout;
//   - idle between requests longer than IdleTimeout.
//
// A batch request's body must also arrive within ReadTimeout of the end of
// its headers (a deadline set by the batch handler alone). A connection is
// closed between its limit and two janitor ticks later; a tick is a fifth
// of the smallest timeout, within 10 ms to 500 ms.
//
// The guard also enforces MaxHeaderBytes exactly and answers in JSON where
// net/http would answer in plain text (see guardedConn.Read and Write).
type guard struct {
	hc    HTTPConfig
	tick  time.Duration
	clock atomic.Int64 // Unix nanoseconds, advanced every tick
	// rejected, if set, is told of each request refused before net/http
	// saw it (414, 431).
	rejected func(code int)

	mu    sync.Mutex
	conns map[*guardedConn]struct{}
	stop  chan struct{}
	done  chan struct{}
}

// Connection phases.
const (
	phaseHeaders int32 = iota // reading a request's headers
	phaseActive               // headers read: body, handler, response
	phaseIdle                 // between requests
)

// newGuardTick is the janitor's period for hc.
func newGuardTick(hc HTTPConfig) time.Duration {
	tick := min(hc.ReadHeaderTimeout, hc.WriteTimeout, hc.IdleTimeout) / 5
	return max(min(tick, 500*time.Millisecond), 10*time.Millisecond)
}

func newGuard(hc HTTPConfig) *guard {
	g := &guard{hc: hc, tick: newGuardTick(hc), conns: make(map[*guardedConn]struct{}),
		stop: make(chan struct{}), done: make(chan struct{})}
	g.clock.Store(time.Now().UnixNano())
	go g.run()
	return g
}

// close stops the janitor (connections are left to the server).
func (g *guard) close() {
	close(g.stop)
	<-g.done
}

func (g *guard) run() {
	defer close(g.done)
	t := time.NewTicker(g.tick)
	defer t.Stop()
	var expired []*guardedConn
	for {
		select {
		case <-g.stop:
			return
		case now := <-t.C:
			g.clock.Store(now.UnixNano())
			expired = g.expired(now.UnixNano(), expired[:0])
			for _, c := range expired {
				c.Close()
			}
		}
	}
}

// expired appends the connections past their phase's limit.
func (g *guard) expired(now int64, out []*guardedConn) []*guardedConn {
	g.mu.Lock()
	defer g.mu.Unlock()
	for c := range g.conns {
		var limit time.Duration
		switch c.phase.Load() {
		case phaseHeaders:
			limit = g.hc.ReadHeaderTimeout
		case phaseActive:
			limit = g.hc.WriteTimeout
		default:
			limit = g.hc.IdleTimeout
		}
		// since lags the true time by up to a tick: allow one more.
		if time.Duration(now-c.since.Load()) > limit+g.tick {
			out = append(out, c)
		}
	}
	return out
}

// listener wraps accepted connections so the guard can watch them.
type guardListener struct {
	net.Listener
	g *guard
}

func (l guardListener) Accept() (net.Conn, error) {
	nc, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	c := &guardedConn{Conn: nc, g: l.g, counting: true}
	c.since.Store(l.g.clock.Load())
	l.g.mu.Lock()
	l.g.conns[c] = struct{}{}
	l.g.mu.Unlock()
	return c, nil
}

// guardedConn is a connection whose phase the guard watches.
type guardedConn struct {
	net.Conn
	g      *guard
	phase  atomic.Int32
	since  atomic.Int64
	closed atomic.Bool

	// The header section of the request being read (Read only; net/http
	// never reads a connection from two goroutines at once).
	counting bool // between a request's first byte and its blank line
	hdrBytes int  // bytes of the section so far
	lineLen  int  // bytes of the current line so far, without its '\n'
	lines    int  // complete lines so far
	lastCR   bool // the last byte counted was '\r'
}

// errHeaderLimit ends a connection whose request was answered 414 or 431
// by the guard. It reaches net/http as a read error, on which it closes the
// connection without answering again.
var errHeaderLimit = errors.New("request header section beyond the limit")

// Read notes the first bytes of a request after an idle period: from then
// on the headers must arrive within ReadHeaderTimeout. It also counts the
// request's header section — the request line, the header lines and the
// blank line that ends them, line ends included — and refuses a request
// whose section exceeds MaxHeaderBytes, exactly: net/http's own check
// allows 4 KiB more and answers in plain text. A request line alone beyond
// the limit is answered 414 URI Too Long, a longer section 431, both as
// JSON like every other error, and the connection is closed. (Bytes of a
// pipelined request that net/http buffered together with the previous one
// are not counted; net/http's own limit still bounds them.)
func (c *guardedConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if n > 0 && c.phase.Load() == phaseIdle {
		c.enter(phaseHeaders)
		c.counting, c.hdrBytes, c.lineLen, c.lines, c.lastCR = true, 0, 0, 0, false
	}
	if n > 0 && c.counting {
		if code := c.scanHeader(b[:n]); code != 0 {
			c.refuse(code)
			return 0, &net.OpError{Op: "read", Net: "tcp", Source: c.LocalAddr(), Addr: c.RemoteAddr(), Err: errHeaderLimit}
		}
	}
	return n, err
}

// scanHeader counts p against the header limit and returns 0, or the
// status that refuses the request (414 or 431).
func (c *guardedConn) scanHeader(p []byte) int {
	limit := c.g.hc.MaxHeaderBytes
	for len(p) > 0 {
		j := bytes.IndexByte(p, '\n')
		if j < 0 {
			c.hdrBytes += len(p)
			c.lineLen += len(p)
			c.lastCR = p[len(p)-1] == '\r'
			break
		}
		c.hdrBytes += j + 1
		lineLen := c.lineLen + j
		cr := (j > 0 && p[j-1] == '\r') || (j == 0 && c.lastCR)
		p = p[j+1:]
		if c.hdrBytes > limit {
			break
		}
		if lineLen == 0 || (lineLen == 1 && cr) {
			c.counting = false // the blank line: what follows is the body
			return 0
		}
		c.lines++
		c.lineLen, c.lastCR = 0, false
	}
	if c.hdrBytes <= limit {
		return 0
	}
	if c.lines == 0 {
		return http.StatusRequestURITooLong
	}
	return http.StatusRequestHeaderFieldsTooLarge
}

// refuse answers code as JSON on the raw connection, then half-closes it
// and reads what the client is still sending for a moment, so that the
// final close does not reset the connection before the client has read
// the answer.
func (c *guardedConn) refuse(code int) {
	c.counting = false
	what := "request headers (request line included)"
	if code == http.StatusRequestURITooLong {
		what = "request line (method, URI and version)"
	}
	msg := what + " longer than " + strconv.Itoa(c.g.hc.MaxHeaderBytes) + " bytes"
	if c.g.rejected != nil {
		c.g.rejected(code) // counted before the client can see the answer
	}
	c.Conn.Write(jsonErrorResponse(code, msg))
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	}
	c.Conn.SetReadDeadline(time.Now().Add(min(c.g.hc.ReadHeaderTimeout, time.Second)))
	io.CopyN(io.Discard, c.Conn, 1<<20)
}

// jsonErrorResponse is a whole HTTP/1.1 response {"error": msg} that
// closes the connection.
func jsonErrorResponse(code int, msg string) []byte {
	body := append(toplist.AppendJSONString([]byte(`{"error":`), msg), "}\n"...)
	b := make([]byte, 0, 160+len(body))
	b = append(b, "HTTP/1.1 "...)
	b = strconv.AppendInt(b, int64(code), 10)
	b = append(b, ' ')
	b = append(b, http.StatusText(code)...)
	b = append(b, "\r\nContent-Type: application/json\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\nContent-Length: "...)
	b = strconv.AppendInt(b, int64(len(body)), 10)
	b = append(b, "\r\n\r\n"...)
	return append(b, body...)
}

// netHTTPErrorHeaders follow the status line of the answers net/http
// writes itself, before any handler runs, to a request it cannot parse
// (400, 431, 501): "HTTP/1.1 " + status + these + status again as the body.
const netHTTPErrorHeaders = "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"

// Write passes responses through, except net/http's own plain-text error
// answers, which it rewrites as the JSON every other error gets. Handlers
// never write that exact header block (they answer application/json, and
// /metrics a versioned text/plain), so only net/http's answers match.
func (c *guardedConn) Write(b []byte) (int, error) {
	if bytes.HasPrefix(b, []byte("HTTP/1.1 ")) {
		if i := bytes.IndexByte(b[:min(len(b), 512)], '\r'); i > 0 && bytes.HasPrefix(b[i:], []byte(netHTTPErrorHeaders)) {
			status := string(b[len("HTTP/1.1 "):i])
			if code, err := strconv.Atoi(status[:min(3, len(status))]); err == nil && code >= 400 && code < 600 {
				msg := strings.TrimSpace(status[min(3, len(status)):])
				if _, err := c.Conn.Write(jsonErrorResponse(code, msg)); err != nil {
					return 0, err
				}
				return len(b), nil
			}
		}
	}
	return c.Conn.Write(b)
}

func (c *guardedConn) enter(p int32) {
	c.since.Store(c.g.clock.Load())
	c.phase.Store(p)
}

func (c *guardedConn) Close() error {
	if c.closed.CompareAndSwap(false, true) {
		c.g.mu.Lock()
		delete(c.g.conns, c)
		c.g.mu.Unlock()
	}
	return c.Conn.Close()
}

// connState is the http.Server ConnState hook: net/http reports Active
// when a request's headers have been read and Idle after its response.
func (g *guard) connState(nc net.Conn, s http.ConnState) {
	c, ok := nc.(*guardedConn)
	if !ok {
		return
	}
	switch s {
	case http.StateActive:
		c.enter(phaseActive)
	case http.StateIdle:
		c.enter(phaseIdle)
	case http.StateHijacked, http.StateClosed:
		if c.closed.CompareAndSwap(false, true) {
			g.mu.Lock()
			delete(g.conns, c)
			g.mu.Unlock()
		}
	}
}

// tracked returns the number of connections watched (for tests).
func (g *guard) tracked() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.conns)
}
