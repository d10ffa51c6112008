package serve

import (
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
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
type guard struct {
	hc    HTTPConfig
	tick  time.Duration
	clock atomic.Int64 // Unix nanoseconds, advanced every tick

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
	c := &guardedConn{Conn: nc, g: l.g}
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
}

// Read notes the first bytes of a request after an idle period: from then
// on the headers must arrive within ReadHeaderTimeout.
func (c *guardedConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if n > 0 && c.phase.Load() == phaseIdle {
		c.enter(phaseHeaders)
	}
	return n, err
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
