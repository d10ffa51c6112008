package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/recs-dev/recs/export"
	"github.com/recs-dev/recs/internal/bench/loadgen"
	"github.com/recs-dev/recs/toplist"
)

// benchRedis publishes every user to a local redis-server (Debian's, as the
// tests use; no password: it listens on 127.0.0.1 only) with recs export's
// sink, starts `recs serve --from redis://…` with a cache that holds every
// user and `recs serve --from TOPK` (in memory), checks they answer the same
// bodies, warms the cache, and alternates closed-loop rounds between the
// two: the ratio of the medians is the bar (≥ 0.8).
func benchRedis(ctx context.Context, o options, topk string, meta toplist.Meta, lists []toplist.List) error {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		fmt.Println("\nredis: skipped: redis-server not installed (make test-deps)")
		return nil
	}
	addr, stop, err := startRedisServer(ctx, bin)
	if err != nil {
		return err
	}
	defer stop()

	c := redis.NewClient(&redis.Options{Addr: addr})
	defer c.Close()
	st, err := (&export.RedisSink{Client: c, Prefix: "bench"}).Publish(ctx, meta, export.Lists(lists))
	if err != nil {
		return err
	}
	fmt.Printf("\nredis: redis-server %s holds %d users' documents (published in %.1fs, %.0f docs/s)\n",
		addr, len(lists), st.Elapsed.Seconds(), st.DocsPerSecond())
	return compareRedisServe(ctx, o, topk, addr, lists)
}

// startRedisServer starts bin on a free address of 127.0.0.1, without
// persistence, and waits until it accepts connections. stop ends it.
func startRedisServer(ctx context.Context, bin string) (addr string, stop func(), err error) {
	addr, err = freeAddr()
	if err != nil {
		return "", nil, err
	}
	host, port, _ := strings.Cut(addr, ":")
	cmd := exec.CommandContext(ctx, bin, "--bind", host, "--port", port, "--save", "", "--appendonly", "no", "--daemonize", "no")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return "", nil, err
	}
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	stop = func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	}
	sc := bufio.NewScanner(stdout)
	ready := false
	for sc.Scan() {
		if strings.Contains(sc.Text(), "Ready to accept connections") {
			ready = true
			break
		}
	}
	if !ready {
		stop()
		return "", nil, fmt.Errorf("redis-server did not start")
	}
	go io.Copy(io.Discard, stdout)
	return addr, stop, nil
}

// compareRedisServe starts `recs serve` from the lists published to the
// redis-server at addr and from topk in memory, checks they answer the
// same bodies, warms the cache and measures both.
func compareRedisServe(ctx context.Context, o options, topk, addr string, lists []toplist.List) error {
	memAddr, err := freeAddr()
	if err != nil {
		return err
	}
	memProc, err := startProc(ctx, o.recs, nil, "serve", "--from", topk, "--addr", memAddr, "--quiet", "--log-format", "json")
	if err != nil {
		return err
	}
	defer memProc.stop()
	redisServeAddr, err := freeAddr()
	if err != nil {
		return err
	}
	n := len(lists)
	redisProc, err := startProc(ctx, o.recs, []string{"RECS_REDIS_PASSWORD="}, "serve", "--from", "redis://"+addr+"/0", "--redis-prefix", "bench",
		"--addr", redisServeAddr, "--cache-size", strconv.Itoa(2*n), "--cache-ttl", "1h", "--quiet", "--log-format", "json")
	if err != nil {
		return err
	}
	defer redisProc.stop()
	for _, p := range []struct {
		addr string
		proc *proc
	}{{memAddr, memProc}, {redisServeAddr, redisProc}} {
		if err := waitReady(ctx, p.addr, p.proc, 120*time.Second); err != nil {
			return err
		}
	}
	users := make([]string, n)
	paths := make([]string, n)
	for i, l := range lists {
		users[i] = l.User
		paths[i] = "/v1/users/" + l.User + "/recommendations"
	}
	if err := sameBodies(ctx, redisServeAddr, memAddr, users, o.seed); err != nil {
		return err
	}
	fmt.Println("check: recs serve from Redis and from memory answer byte-identical bodies for 200 random users")
	redisReqs, memReqs := loadgen.GETs(redisServeAddr, paths), loadgen.GETs(memAddr, paths)
	w := loadgen.Each(ctx, redisServeAddr, redisReqs, 50)
	fmt.Printf("  warmed the cache with %d users in %.1fs (%.0f req/s, each a Redis GET)\n", w.Requests, w.Elapsed.Seconds(), float64(w.Requests)/w.Elapsed.Seconds())
	return saturateRedis(ctx, o, redisServeAddr, memAddr, redisReqs, memReqs)
}

// saturateRedis alternates o.rounds closed-loop rounds between the server
// from Redis and the one from memory and prints the ratio of their medians
// against the bar (≥ 80%).
func saturateRedis(ctx context.Context, o options, redisServeAddr, memAddr string, redisReqs, memReqs loadgen.Requests) error {
	fmt.Printf("saturation: closed loop, %d connections, random users, %d rounds of %v per server\n", o.conns, o.rounds, o.duration)
	var redisRates, memRates []float64
	for r := range o.rounds {
		for _, s := range []struct {
			name  string
			addr  string
			reqs  loadgen.Requests
			rates *[]float64
		}{{"from Redis (warm cache)", redisServeAddr, redisReqs, &redisRates}, {"from memory            ", memAddr, memReqs, &memRates}} {
			res := loadgen.Closed(ctx, s.addr, s.reqs, o.conns, o.warmup, o.duration, o.seed+uint64(r))
			if ctx.Err() != nil {
				return ctx.Err()
			}
			*s.rates = append(*s.rates, res.Rate())
			fmt.Printf("  round %d  %s  %8.0f req/s  (%d responses, %d non-2xx, %d errors)\n", r+1, s.name, res.Rate(), res.Requests, res.Non2xx, res.Errors)
			if res.Errors > 0 || res.Non2xx > 0 {
				return fmt.Errorf("%s: %d errors, %d non-2xx responses under load", s.name, res.Errors, res.Non2xx)
			}
		}
	}
	rm, mm := median(redisRates), median(memRates)
	verdict := "ok"
	if rm < 0.8*mm {
		verdict = "NOT MET"
	}
	fmt.Printf("  median   from Redis %8.0f req/s   from memory %8.0f req/s   ratio %.1f%% (bar ≥ 80%%: %s)\n", rm, mm, 100*rm/mm, verdict)
	return nil
}
