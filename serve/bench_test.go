package serve

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/recs-dev/recs/internal/bench/loadgen"
	"github.com/recs-dev/recs/toplist"
)

// benchLists returns an ML-20M-sized set of top-10 lists (138,493 users,
// items 1..26,744 drawn from a Zipf popularity), seeded.
var benchLists = sync.OnceValue(func() []toplist.List {
	const users, items, k = 138_493, 26_744, 10
	rng := rand.New(rand.NewPCG(1, 2))
	zipf := rand.NewZipf(rng, 1.1, 10, items-1)
	lists := make([]toplist.List, users)
	for u := range lists {
		l := toplist.List{User: strconv.Itoa(u + 1)}
		score := float32(5)
		for range k {
			score -= rng.Float32() * 0.2
			l.Items = append(l.Items, toplist.Item{ID: strconv.FormatUint(zipf.Uint64()+1, 10), Score: score})
		}
		lists[u] = l
	}
	return lists
})

var benchMeta = toplist.Meta{Model: "bench", K: 10, GeneratedAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}

func BenchmarkIndexGet(b *testing.B) {
	lists := benchLists()
	idx, err := NewIndex(benchMeta, lists)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, ok := idx.Get(lists[i%len(lists)].User); !ok {
			b.Fatal("missing")
		}
	}
}

func BenchmarkBuildIndex(b *testing.B) {
	lists := benchLists()
	for b.Loop() {
		if _, err := NewIndex(benchMeta, lists); err != nil {
			b.Fatal(err)
		}
	}
}

// baselineHandler is the reference of bench-serve (loadgen.Baseline).
func baselineHandler(lists []toplist.List) http.Handler {
	h, err := loadgen.Baseline(benchMeta, lists)
	if err != nil {
		panic(err) // the lists are the benchmark's own
	}
	return h
}

// BenchmarkHandler measures the handlers alone (no network), recs serve's
// against the baseline's.
func BenchmarkHandler(b *testing.B) {
	lists := benchLists()
	idx, _ := NewIndex(benchMeta, lists)
	srv := NewServer(Config{})
	srv.SetStore(idx)
	reqs := make([]*http.Request, 1024)
	for i := range reqs {
		reqs[i] = httptest.NewRequest("GET", "/v1/users/"+lists[(i*7919)%len(lists)].User+"/recommendations", nil)
	}
	for _, h := range []struct {
		name string
		h    http.Handler
	}{{"recs", srv}, {"baseline", baselineHandler(lists)}} {
		b.Run(h.name, func(b *testing.B) {
			w := &discardWriter{h: http.Header{}}
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				w.body.Reset()
				clear(w.h)
				h.h.ServeHTTP(w, reqs[i%len(reqs)])
			}
		})
	}
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkHTTP measures whole requests over loopback TCP at saturation
// (closed loop, 200 connections, random users of the ML-20M-sized index):
// ns/op is the inverse of the throughput. The load generator runs in the
// same process and on the same cores. recs serves through Serve (timeouts
// enforced by the guard); recs-nethttp-timeouts through an http.Server with
// the same limits as net/http's own timeouts (four socket deadlines per
// request); the baseline through a bare http.Server.
func BenchmarkHTTP(b *testing.B) {
	lists := benchLists()
	idx, _ := NewIndex(benchMeta, lists)
	srv := NewServer(Config{})
	srv.SetStore(idx)
	paths := make([]string, len(lists))
	for i, l := range lists {
		paths[i] = "/v1/users/" + l.User + "/recommendations"
	}
	for _, s := range []string{"recs", "baseline", "recs-nethttp-timeouts"} {
		b.Run(fmt.Sprintf("server=%s/users=%d/conns=200", s, len(lists)), func(b *testing.B) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			stop := cancel
			if s == "recs" {
				go func() { srv.Serve(ctx, ln, HTTPConfig{}); close(done) }()
			} else {
				hs := &http.Server{Handler: baselineHandler(lists)}
				if s == "recs-nethttp-timeouts" {
					// What Serve would cost with net/http's own timeouts.
					hc := HTTPConfig{}.withDefaults()
					hs = &http.Server{Handler: srv, ReadHeaderTimeout: hc.ReadHeaderTimeout, ReadTimeout: hc.ReadTimeout,
						WriteTimeout: hc.WriteTimeout, IdleTimeout: hc.IdleTimeout}
				}
				go func() { hs.Serve(ln); close(done) }()
				stop = func() { cancel(); hs.Close() }
			}
			defer func() { stop(); <-done }()
			addr := ln.Addr().String()
			reqs := loadgen.GETs(addr, paths)
			loadgen.ClosedN(ctx, addr, reqs, 200, 2000, 1) // connect and warm up
			cpu0 := processCPU()
			b.ResetTimer()
			res := loadgen.ClosedN(ctx, addr, reqs, 200, b.N, 2)
			b.StopTimer()
			// CPU of the whole process (generator and server) per request:
			// the generator's share is the same for every server, so
			// differences are the servers'.
			b.ReportMetric(float64(processCPU()-cpu0)/float64(time.Microsecond)/float64(b.N), "cpu-µs/req")
			if res.Errors > 0 || res.Non2xx > 0 {
				b.Fatalf("%d errors, %d non-2xx", res.Errors, res.Non2xx)
			}
			b.ReportMetric(res.Rate(), "req/s")
		})
	}
}
