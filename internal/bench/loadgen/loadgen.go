// Package loadgen is the HTTP/1.1 load generator of `make bench-serve`:
// closed-loop saturation (every connection sends its next request as soon
// as the previous response is read, like wrk) and open-loop latency
// (requests are sent on a fixed schedule whatever the responses, and each
// latency is measured from the request's scheduled time, so a slow server
// cannot hide its queueing by slowing the generator down: no coordinated
// omission).
//
// The generator speaks raw HTTP/1.1 over keep-alive TCP connections with
// pre-built requests, so that on a machine it shares with the server it
// spends as little CPU per request as possible. It is for localhost
// benchmarks. Baseline is the map-of-bytes server they compare recs serve
// with.
package loadgen

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Requests are pre-built raw requests, one picked at random per send.
type Requests [][]byte

// GETs builds "GET path HTTP/1.1" requests with a Host header.
func GETs(host string, paths []string) Requests {
	reqs := make(Requests, len(paths))
	for i, p := range paths {
		reqs[i] = []byte("GET " + p + " HTTP/1.1\r\nHost: " + host + "\r\n\r\n")
	}
	return reqs
}

// Result is what a run measured.
type Result struct {
	Requests int64         // responses read
	Non2xx   int64         // responses with a status outside 200–299
	Errors   int64         // connection or protocol errors
	Elapsed  time.Duration // measurement time
	// Latencies (open loop only) from each request's scheduled time to the
	// end of its response, sorted.
	Latencies []time.Duration
	// Late (open loop only) counts requests sent more than 1 ms after
	// their scheduled time (the generator or the server fell behind).
	Late int64
}

// Rate returns responses per second.
func (r Result) Rate() float64 { return float64(r.Requests) / r.Elapsed.Seconds() }

// Quantile returns the q-quantile of the latencies (nearest rank).
func (r Result) Quantile(q float64) time.Duration {
	if len(r.Latencies) == 0 {
		return 0
	}
	i := int(q*float64(len(r.Latencies))+0.5) - 1
	return r.Latencies[min(max(i, 0), len(r.Latencies)-1)]
}

// conn is one keep-alive connection.
type conn struct {
	addr string
	c    net.Conn
	r    *bufio.Reader
}

func (c *conn) dial() error {
	c.close()
	nc, err := net.Dial("tcp", c.addr)
	if err != nil {
		return err
	}
	c.c = nc
	if c.r == nil {
		c.r = bufio.NewReaderSize(nc, 32<<10)
	} else {
		c.r.Reset(nc)
	}
	return nil
}

// close closes the connection, if one is open.
func (c *conn) close() {
	if c.c != nil {
		c.c.Close()
		c.c = nil
	}
}

// roundTrip sends req and reads the response, returning its status.
func (c *conn) roundTrip(req []byte) (int, error) {
	if c.c == nil {
		if err := c.dial(); err != nil {
			return 0, err
		}
	}
	// A bound on every exchange, so that a server that stops answering
	// shows up as errors instead of a generator waiting forever.
	c.c.SetDeadline(time.Now().Add(RoundTripTimeout))
	if _, err := c.c.Write(req); err != nil {
		c.c.Close()
		c.c = nil
		return 0, err
	}
	status, closeAfter, err := readResponse(c.r)
	if err != nil || closeAfter {
		c.c.Close()
		c.c = nil
	}
	return status, err
}

// RoundTripTimeout bounds one request and its response.
var RoundTripTimeout = 10 * time.Second

var errProtocol = errors.New("loadgen: malformed response")

// readResponse reads one response (status line, headers, body by
// Content-Length or chunked) and reports its status and whether the server
// will close the connection.
func readResponse(r *bufio.Reader) (status int, closeAfter bool, err error) {
	line, err := r.ReadSlice('\n')
	if err != nil {
		return 0, false, err
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) {
		return 0, false, errProtocol
	}
	status, err = strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, false, errProtocol
	}
	length, chunked := -1, false
	for {
		h, err := r.ReadSlice('\n')
		if err != nil {
			return 0, false, err
		}
		h = bytes.TrimRight(h, "\r\n")
		if len(h) == 0 {
			break
		}
		name, val, ok := bytes.Cut(h, []byte(":"))
		if !ok {
			return 0, false, errProtocol
		}
		val = bytes.TrimSpace(val)
		switch {
		case asciiEqualFold(name, "content-length"):
			if length, err = strconv.Atoi(string(val)); err != nil {
				return 0, false, errProtocol
			}
		case asciiEqualFold(name, "transfer-encoding"):
			chunked = asciiEqualFold(val, "chunked")
		case asciiEqualFold(name, "connection"):
			closeAfter = asciiEqualFold(val, "close")
		}
	}
	switch {
	case chunked:
		for {
			l, err := r.ReadSlice('\n')
			if err != nil {
				return 0, false, err
			}
			l = bytes.TrimRight(l, "\r\n")
			if i := bytes.IndexByte(l, ';'); i >= 0 {
				l = l[:i]
			}
			n, err := strconv.ParseInt(string(l), 16, 64)
			if err != nil {
				return 0, false, errProtocol
			}
			if _, err := r.Discard(int(n) + 2); err != nil {
				return 0, false, err
			}
			if n == 0 {
				break
			}
		}
	case length >= 0:
		if _, err := r.Discard(length); err != nil {
			return 0, false, err
		}
	default:
		// Body until close.
		io.Copy(io.Discard, r)
		closeAfter = true
	}
	return status, closeAfter, nil
}

func asciiEqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range b {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}

// Closed runs conns connections against addr for warmup plus d, each
// sending a request (picked at random from reqs with a generator seeded by
// seed and the connection's number) as soon as it has read the previous
// response. Only the d after the warm-up is counted.
func Closed(ctx context.Context, addr string, reqs Requests, conns int, warmup, d time.Duration, seed uint64) Result {
	return ClosedHook(ctx, addr, reqs, conns, warmup, d, seed, nil, nil)
}

// ClosedHook is Closed calling begin when the measured time starts and end
// when it ends (either may be nil): to sample, say, a server's CPU time
// over exactly the measured window.
func ClosedHook(ctx context.Context, addr string, reqs Requests, conns int, warmup, d time.Duration, seed uint64, begin, end func()) Result {
	var counting atomic.Bool
	var total, non2xx, errs atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range conns {
		wg.Go(func() {
			c := &conn{addr: addr}
			defer c.close()
			rng := rand.New(rand.NewPCG(seed, uint64(w)))
			var n, bad, fails int64
			for {
				select {
				case <-stop:
					total.Add(n)
					non2xx.Add(bad)
					errs.Add(fails)
					return
				default:
				}
				status, err := c.roundTrip(reqs[rng.IntN(len(reqs))])
				if !counting.Load() {
					continue
				}
				switch {
				case err != nil:
					fails++
				case status < 200 || status > 299:
					bad++
					n++
				default:
					n++
				}
			}
		})
	}
	sleepCtx(ctx, warmup)
	if begin != nil {
		begin()
	}
	counting.Store(true)
	start := time.Now()
	sleepCtx(ctx, d)
	elapsed := time.Since(start)
	counting.Store(false)
	if end != nil {
		end()
	}
	close(stop)
	wg.Wait()
	return Result{Requests: total.Load(), Non2xx: non2xx.Load(), Errors: errs.Load(), Elapsed: elapsed}
}

// ClosedN sends n requests in all over conns connections, closed loop as
// in Closed, and returns when every response has been read; for Go
// benchmarks, where b.N fixes the work.
func ClosedN(ctx context.Context, addr string, reqs Requests, conns, n int, seed uint64) Result {
	var next, non2xx, errs atomic.Int64
	start := time.Now()
	var wg sync.WaitGroup
	for w := range conns {
		wg.Go(func() {
			c := &conn{addr: addr}
			defer c.close()
			rng := rand.New(rand.NewPCG(seed, uint64(w)))
			for next.Add(1) <= int64(n) && ctx.Err() == nil {
				status, err := c.roundTrip(reqs[rng.IntN(len(reqs))])
				switch {
				case err != nil:
					errs.Add(1)
				case status < 200 || status > 299:
					non2xx.Add(1)
				}
			}
		})
	}
	wg.Wait()
	return Result{Requests: int64(n) - errs.Load(), Non2xx: non2xx.Load(), Errors: errs.Load(), Elapsed: time.Since(start)}
}

// Each sends every request of reqs once, over conns connections, and
// returns when all are answered (to warm a cache, say).
func Each(ctx context.Context, addr string, reqs Requests, conns int) Result {
	var next, non2xx, errs atomic.Int64
	start := time.Now()
	var wg sync.WaitGroup
	for range conns {
		wg.Go(func() {
			c := &conn{addr: addr}
			defer c.close()
			for ctx.Err() == nil {
				i := next.Add(1) - 1
				if i >= int64(len(reqs)) {
					return
				}
				status, err := c.roundTrip(reqs[i])
				switch {
				case err != nil:
					errs.Add(1)
				case status < 200 || status > 299:
					non2xx.Add(1)
				}
			}
		})
	}
	wg.Wait()
	return Result{Requests: int64(len(reqs)) - errs.Load(), Non2xx: non2xx.Load(), Errors: errs.Load(), Elapsed: time.Since(start)}
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// Open sends rate requests per second for d over conns connections,
// following a fixed schedule (request i is due at start + i/rate), and
// measures each request's latency from its due time to the end of its
// response. A request waits for a free connection if all are busy; that
// wait counts in its latency. The schedule is kept by a dispatcher on its
// own OS thread sleeping with nanosleep(2), whose wake-ups are precise to
// well under 0.1 ms, where Go timers may be late by a millisecond.
func Open(ctx context.Context, addr string, reqs Requests, conns int, rate float64, d time.Duration, seed uint64) (Result, error) {
	n := int(rate * d.Seconds())
	if n <= 0 || conns <= 0 {
		return Result{}, fmt.Errorf("loadgen: rate %v for %v with %d connections sends nothing", rate, d, conns)
	}
	interval := time.Duration(float64(time.Second) / rate)
	// Connect first, so connection set-up is not measured.
	cs := make([]*conn, conns)
	for i := range cs {
		cs[i] = &conn{addr: addr}
		if err := cs[i].dial(); err != nil {
			return Result{}, err
		}
	}
	defer func() {
		for _, c := range cs {
			if c.c != nil {
				c.c.Close()
			}
		}
	}()
	due := make(chan int, n)
	lat := make([]time.Duration, n)
	var non2xx, errs, late atomic.Int64
	start := time.Now().Add(10 * time.Millisecond)
	var wg sync.WaitGroup
	for w, c := range cs {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(seed, uint64(w)))
			for i := range due {
				sched := start.Add(time.Duration(i) * interval)
				if time.Since(sched) > time.Millisecond {
					late.Add(1)
				}
				status, err := c.roundTrip(reqs[rng.IntN(len(reqs))])
				lat[i] = time.Since(sched)
				switch {
				case err != nil:
					errs.Add(1)
					lat[i] = -1
				case status < 200 || status > 299:
					non2xx.Add(1)
				}
			}
		})
	}
	// The dispatcher.
	dispatched := 0
	func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		for dispatched < n && ctx.Err() == nil {
			now := time.Now()
			for dispatched < n && !start.Add(time.Duration(dispatched)*interval).After(now) {
				due <- dispatched
				dispatched++
			}
			if dispatched < n {
				wait := start.Add(time.Duration(dispatched) * interval).Sub(time.Now())
				if wait > 0 {
					preciseSleep(wait)
				}
			}
		}
	}()
	close(due)
	wg.Wait()
	elapsed := time.Since(start)
	out := make([]time.Duration, 0, dispatched)
	for _, l := range lat[:dispatched] {
		if l >= 0 {
			out = append(out, l)
		}
	}
	slices.Sort(out)
	return Result{Requests: int64(len(out)), Non2xx: non2xx.Load(), Errors: errs.Load(), Elapsed: elapsed,
		Latencies: out, Late: late.Load()}, nil
}
