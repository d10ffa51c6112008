// Command benchserve is the benchmark of `recs serve` (make bench-serve).
//
//	benchserve run --recs bin/recs [flags]
//
// writes an ML-20M-sized top-10 file (138,493 users, 26,744 items; seeded),
// starts `recs serve` on it and, as a separate process, a minimal net/http
// server writing the same responses from a map of bytes (the baseline),
// checks that both answer byte-identical bodies, and measures in the same
// run, on localhost:
//
//   - saturation: closed-loop load from 200 keep-alive connections asking
//     for random users, rounds alternating between the two servers, and
//     the ratio of their median rates;
//   - latency at a fixed offered load of 10,000 requests/s, open loop
//     (requests sent on schedule whatever the responses, latency measured
//     from the scheduled time);
//   - with --redis (default), `recs serve --from redis://…` (a local
//     redis-server, the cache warm) against `recs serve` from memory,
//     alternating rounds, and the ratio of their medians;
//   - with --cosmos (default), the same against the Cosmos DB emulator
//     (testdata/emulators/cosmos.js) through `recs serve --from cosmos://`,
//     with the cache off and on.
//
// The load generator, the servers and the emulator share the machine's
// cores: numbers depend on the host and its load; compare within one run.
//
//	benchserve baseline --from FILE --addr HOST:PORT
//
// runs the baseline server alone.
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/recs-dev/recs/export"
	"github.com/recs-dev/recs/internal/bench/loadgen"
	"github.com/recs-dev/recs/toplist"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: benchserve run --recs BIN [flags] | benchserve baseline --from FILE --addr ADDR")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch os.Args[1] {
	case "run":
		err = run(ctx, os.Args[2:])
	case "baseline":
		err = baseline(ctx, os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchserve:", err)
		os.Exit(1)
	}
}

// Sizes of MovieLens 20M.
const (
	ml20mUsers = 138_493
	ml20mItems = 26_744
)

type options struct {
	recs       string
	users      int
	items      int
	k          int
	conns      int
	warmup     time.Duration
	duration   time.Duration
	rounds     int
	rate       float64
	openFor    time.Duration
	seed       uint64
	memory     bool
	cosmos     bool
	redis      bool
	cosmosN    int
	cosmosRate float64
	emulators  string
	workDir    string
}

func run(ctx context.Context, args []string) error {
	var o options
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.StringVar(&o.recs, "recs", "bin/recs", "the recs binary")
	fs.IntVar(&o.users, "users", ml20mUsers, "users in the index")
	fs.IntVar(&o.items, "items", ml20mItems, "items in the catalogue")
	fs.IntVar(&o.k, "k", 10, "list length")
	fs.IntVar(&o.conns, "conns", 200, "connections of the closed-loop load")
	fs.DurationVar(&o.warmup, "warmup", time.Second, "unmeasured warm-up before each closed-loop round")
	fs.DurationVar(&o.duration, "duration", 5*time.Second, "measured time of each closed-loop round")
	fs.IntVar(&o.rounds, "rounds", 3, "closed-loop rounds per server (alternating)")
	fs.Float64Var(&o.rate, "rate", 10_000, "open-loop offered load, requests/s")
	fs.DurationVar(&o.openFor, "open-for", 10*time.Second, "duration of each open-loop run")
	fs.Uint64Var(&o.seed, "seed", 1, "seed of the synthetic lists and of the request order")
	fs.BoolVar(&o.memory, "memory", true, "measure the in-memory source and the baseline")
	fs.BoolVar(&o.cosmos, "cosmos", true, "also measure the Cosmos DB source against the local emulator")
	fs.BoolVar(&o.redis, "redis", true, "also measure the Redis source (warm cache) against the in-memory one, with a local redis-server")
	fs.IntVar(&o.cosmosN, "cosmos-users", 20_000, "users published to the Cosmos DB emulator")
	fs.Float64Var(&o.cosmosRate, "cosmos-rate", 1_000, "open-loop load against Cosmos DB without the cache, requests/s")
	fs.StringVar(&o.emulators, "emulators", "testdata/emulators", "directory of the emulator scripts and node_modules")
	fs.StringVar(&o.workDir, "dir", "", "working directory for the data (default: a temporary one, removed after)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.workDir == "" {
		d, err := os.MkdirTemp("", "bench-serve-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		o.workDir = d
	} else if err := os.MkdirAll(o.workDir, 0o755); err != nil {
		return err
	}
	fmt.Printf("bench-serve: %d CPUs (GOMAXPROCS %d), shared by the load generator, the servers and the emulator; %s\n",
		runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.Version())

	// The data.
	start := time.Now()
	meta := toplist.Meta{Model: "bench-synthetic", K: o.k, GeneratedAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	lists := synthLists(o.users, o.items, o.k, o.seed)
	topk := filepath.Join(o.workDir, "topk.parquet")
	if err := toplist.WriteFile(topk, meta, lists); err != nil {
		return err
	}
	fmt.Printf("data: %d users × top-%d of %d items, %s (%.1fs)\n", o.users, o.k, o.items, topk, time.Since(start).Seconds())
	if o.memory {
		if err := benchMemory(ctx, o, topk, lists); err != nil {
			return err
		}
	}
	if o.redis {
		if err := benchRedis(ctx, o, topk, meta, lists); err != nil {
			return fmt.Errorf("redis: %w", err)
		}
	}
	if o.cosmos {
		if err := benchCosmos(ctx, o, meta, lists); err != nil {
			return fmt.Errorf("cosmos: %w", err)
		}
	}
	fmt.Printf("\nAll numbers: %d CPUs shared by the load generator, the servers and the emulator (and, on a shared host, other work); compare within one run.\n", runtime.NumCPU())
	return nil
}

// benchMemory measures recs serve on the top-k file against the baseline.
func benchMemory(ctx context.Context, o options, topk string, lists []toplist.List) error {
	recs, err := startServer(ctx, "recs serve", o.recs, func(addr string) []string {
		return []string{"serve", "--from", topk, "--addr", addr, "--quiet", "--log-format", "json"}
	})
	if err != nil {
		return err
	}
	defer recs.proc.stop()
	self, err := os.Executable()
	if err != nil {
		return err
	}
	base, err := startServer(ctx, "baseline", self, func(addr string) []string {
		return []string{"baseline", "--from", topk, "--addr", addr}
	})
	if err != nil {
		return err
	}
	defer base.proc.stop()
	servers := []*server{recs, base}
	for _, s := range servers {
		if err := waitReady(ctx, s.addr, s.proc, 120*time.Second); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
	}

	users := make([]string, len(lists))
	for i, l := range lists {
		users[i] = l.User
	}
	if err := sameBodies(ctx, recs.addr, base.addr, users, o.seed); err != nil {
		return err
	}
	fmt.Println("check: recs serve and the baseline answer byte-identical bodies for 200 random users")
	paths := make([]string, len(users))
	for i, u := range users {
		paths[i] = "/v1/users/" + u + "/recommendations"
	}
	for _, s := range servers {
		s.reqs = loadgen.GETs(s.addr, paths)
	}

	recsMed, ratio, err := saturate(ctx, o, recs, base)
	if err != nil {
		return err
	}
	fmt.Printf("\nlatency: open loop at %.0f requests/s for %v, 200 connections, from each request's scheduled time\n", o.rate, o.openFor)
	recsOpen, err := openRun(ctx, recs.label(), recs.addr, recs.reqs, o.rate, o.openFor, o.seed)
	if err != nil {
		return err
	}
	if _, err := openRun(ctx, base.label(), base.addr, base.reqs, o.rate, o.openFor, o.seed); err != nil {
		return err
	}
	printBars(o, recsMed, ratio, recsOpen)
	return nil
}

// server is one server that benchMemory measures.
type server struct {
	name  string
	addr  string
	proc  *proc
	reqs  loadgen.Requests // GETs of every user's list
	rates []float64        // closed-loop rate of each round, requests/s
	cpu   []float64        // server CPU per request in each round, µs
}

// startServer starts bin with the arguments args gives for a free address.
func startServer(ctx context.Context, name, bin string, args func(addr string) []string) (*server, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	p, err := startProc(ctx, bin, nil, args(addr)...)
	if err != nil {
		return nil, err
	}
	return &server{name: name, addr: addr, proc: p}, nil
}

// label is the name padded to line up in the tables.
func (s *server) label() string { return fmt.Sprintf("%-10s", s.name) }

// saturate runs o.rounds closed-loop rounds on each server, alternating,
// and returns the median rate of recs and its ratio to base's.
func saturate(ctx context.Context, o options, recs, base *server) (recsMed, ratio float64, err error) {
	fmt.Printf("\nsaturation: closed loop, %d connections, random users, %d rounds of %v (after %v warm-up) per server\n",
		o.conns, o.rounds, o.duration, o.warmup)
	for r := range o.rounds {
		for _, s := range []*server{recs, base} {
			if err := s.round(ctx, o, o.seed+uint64(r), r+1); err != nil {
				return 0, 0, err
			}
		}
	}
	recsMed, baseMed := median(recs.rates), median(base.rates)
	ratio = recsMed / baseMed
	fmt.Printf("  median   recs serve %8.0f req/s   baseline %8.0f req/s   ratio %.1f%%\n", recsMed, baseMed, 100*ratio)
	fmt.Printf("  median server CPU per request: recs serve %.1f µs, baseline %.1f µs (ratio %.2f; less sensitive to other load on the host than req/s)\n",
		median(recs.cpu), median(base.cpu), median(recs.cpu)/median(base.cpu))
	return recsMed, ratio, nil
}

// round runs closed-loop round n on s with the given seed and records its
// rate and the server's CPU per request.
func (s *server) round(ctx context.Context, o options, seed uint64, n int) error {
	pid := s.proc.cmd.Process.Pid
	var cpu0, cpu1 time.Duration
	res := loadgen.ClosedHook(ctx, s.addr, s.reqs, o.conns, o.warmup, o.duration, seed,
		func() { cpu0 = procCPU(pid) }, func() { cpu1 = procCPU(pid) })
	if ctx.Err() != nil {
		return ctx.Err()
	}
	perReq := float64(cpu1-cpu0) / float64(time.Microsecond) / float64(res.Requests)
	s.rates = append(s.rates, res.Rate())
	s.cpu = append(s.cpu, perReq)
	fmt.Printf("  round %d  %s  %8.0f req/s  server CPU %5.1f µs/request  (%d responses, %d non-2xx, %d errors)\n",
		n, s.label(), res.Rate(), perReq, res.Requests, res.Non2xx, res.Errors)
	if res.Errors > 0 || res.Non2xx > 0 {
		return fmt.Errorf("%s: %d errors, %d non-2xx responses under load", s.label(), res.Errors, res.Non2xx)
	}
	return nil
}

// printBars prints recs serve's numbers against its bars (README, Performance).
func printBars(o options, recsMed, ratio float64, recsOpen loadgen.Result) {
	fmt.Println("\nbars (in-memory source, ML-20M-sized index):")
	verdict := func(ok bool) string {
		if ok {
			return "ok"
		}
		return "NOT MET"
	}
	fmt.Printf("  saturation ≥ 50,000 req/s:        %8.0f  %s\n", recsMed, verdict(recsMed >= 50_000))
	fmt.Printf("  ≥ 80%% of the map-of-bytes baseline: %6.1f%%  %s\n", 100*ratio, verdict(ratio >= 0.8))
	fmt.Printf("  median ≤ 1 ms at %.0f req/s:     %8s  %s\n", o.rate, fmtDur(recsOpen.Quantile(0.5)), verdict(recsOpen.Quantile(0.5) <= time.Millisecond))
	fmt.Printf("  p99 ≤ 10 ms at %.0f req/s:       %8s  %s\n", o.rate, fmtDur(recsOpen.Quantile(0.99)), verdict(recsOpen.Quantile(0.99) <= 10*time.Millisecond))
}

func openRun(ctx context.Context, name, addr string, reqs loadgen.Requests, rate float64, d time.Duration, seed uint64) (loadgen.Result, error) {
	res, err := loadgen.Open(ctx, addr, reqs, 200, rate, d, seed)
	if err != nil {
		return res, fmt.Errorf("%s: %w", name, err)
	}
	fmt.Printf("  %s  p50 %8s  p90 %8s  p99 %8s  p99.9 %8s  max %8s  (%d responses, %.0f/s achieved, %d sent >1ms late, %d non-2xx, %d errors)\n",
		name, fmtDur(res.Quantile(0.5)), fmtDur(res.Quantile(0.9)), fmtDur(res.Quantile(0.99)), fmtDur(res.Quantile(0.999)), fmtDur(res.Quantile(1)),
		res.Requests, res.Rate(), res.Late, res.Non2xx, res.Errors)
	if res.Errors > 0 || res.Non2xx > 0 {
		return res, fmt.Errorf("%s: %d errors, %d non-2xx responses", name, res.Errors, res.Non2xx)
	}
	return res, nil
}

// procCPU returns the user and system CPU time process pid has used, from
// /proc/PID/stat (in clock ticks of 1/100 s, the Linux USER_HZ).
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the command name (which may hold spaces) in parentheses.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64) // field 14: utime
	st, _ := strconv.ParseInt(f[12], 10, 64) // field 15: stime
	return time.Duration(ut+st) * 10 * time.Millisecond
}

func fmtDur(d time.Duration) string {
	return fmt.Sprintf("%.3fms", float64(d)/1e6)
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// synthLists returns users' top-k lists: user ids "1".."users" (as in
// MovieLens), items drawn without repetition from a long-tailed popularity
// (Zipf, s = 1.1) over 1..items, scores decreasing from about 5. Seeded.
func synthLists(users, items, k int, seed uint64) []toplist.List {
	rng := rand.New(rand.NewPCG(seed, 0x5e7e))
	zipf := rand.NewZipf(rng, 1.1, 10, uint64(items-1))
	lists := make([]toplist.List, users)
	for u := range lists {
		l := toplist.List{User: strconv.Itoa(u + 1), Items: make([]toplist.Item, 0, k)}
		score := 5 + rng.Float32()
		for len(l.Items) < k {
			id := strconv.FormatUint(zipf.Uint64()+1, 10)
			if slices.ContainsFunc(l.Items, func(it toplist.Item) bool { return it.ID == id }) {
				continue
			}
			score -= rng.Float32() * 0.2
			l.Items = append(l.Items, toplist.Item{ID: id, Score: score})
		}
		lists[u] = l
	}
	return lists
}

// sameBodies compares the two servers' responses for 200 random users.
func sameBodies(ctx context.Context, a, b string, users []string, seed uint64) error {
	rng := rand.New(rand.NewPCG(seed, 99))
	for range 200 {
		u := users[rng.IntN(len(users))]
		var bodies [2][]byte
		for i, addr := range []string{a, b} {
			req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+addr+"/v1/users/"+u+"/recommendations", nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return err
			}
			bodies[i], err = io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || resp.StatusCode != 200 {
				return fmt.Errorf("user %s from %s: %d %v", u, addr, resp.StatusCode, err)
			}
		}
		if !bytes.Equal(bodies[0], bodies[1]) {
			return fmt.Errorf("user %s: recs serve answers %s, the baseline %s", u, bodies[0], bodies[1])
		}
	}
	return nil
}

// baseline serves GET /v1/users/{id}/recommendations from a map of
// pre-encoded bodies (encoding/json, the same bytes recs serve writes) with
// a bare net/http server: the reference of the saturation ratio.
func baseline(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("baseline", flag.ContinueOnError)
	from := fs.String("from", "", "top-k file")
	addr := fs.String("addr", "127.0.0.1:0", "listen address")
	if err := fs.Parse(args); err != nil {
		return err
	}
	meta, lists, err := toplist.ReadFile(*from)
	if err != nil {
		return err
	}
	h, err := loadgen.Baseline(meta, lists)
	if err != nil {
		return err
	}
	srv := &http.Server{Addr: *addr, Handler: h}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// proc is a child process.
type proc struct {
	cmd  *exec.Cmd
	done chan struct{}
	out  *bytes.Buffer
}

func startProc(ctx context.Context, bin string, env []string, args ...string) (*proc, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	out := &bytes.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &proc{cmd: cmd, done: make(chan struct{}), out: out}
	go func() { cmd.Wait(); close(p.done) }()
	return p, nil
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM and waits (SIGKILL after 30 s).
func (p *proc) stop() {
	if p.exited() {
		return
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
	}
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// waitReady polls /readyz (recs serve) or any answer (the baseline) until
// the server answers 200, 404 for the baseline, or the process exits.
func waitReady(ctx context.Context, addr string, p *proc, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if p.exited() {
			return fmt.Errorf("exited: %s", p.out.String())
		}
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 || resp.StatusCode == 404 {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return fmt.Errorf("not ready after %v: %s", timeout, p.out.String())
}

var cosmosReady = regexp.MustCompile(`listening on (http://127\.0\.0\.1:\d+)`)

// benchCosmos publishes cosmosN users to the emulator and measures recs
// serve reading them by point reads, without and with the cache.
func benchCosmos(ctx context.Context, o options, meta toplist.Meta, lists []toplist.List) error {
	if _, err := os.Stat(filepath.Join(o.emulators, "node_modules")); err != nil {
		fmt.Printf("\ncosmos: skipped: %s/node_modules missing (make emulator-deps)\n", o.emulators)
		return nil
	}
	cmd := exec.CommandContext(ctx, "node", "cosmos.js", "0")
	cmd.Dir = o.emulators
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	stdin, err := cmd.StdinPipe() // the emulator exits when stdin closes
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() {
		stdin.Close()
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	}()
	sc := bufio.NewScanner(stdout)
	endpoint := ""
	for sc.Scan() {
		if m := cosmosReady.FindStringSubmatch(sc.Text()); m != nil {
			endpoint = m[1] + "/"
			break
		}
	}
	if endpoint == "" {
		return errors.New("the emulator did not start")
	}
	go io.Copy(io.Discard, stdout)
	const key = "C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw==" // the emulator's published key
	client, err := export.NewCosmosClient(endpoint, key, nil)
	if err != nil {
		return err
	}
	n := min(o.cosmosN, len(lists))
	start := time.Now()
	sink := &export.CosmosSink{Client: client, Database: "bench", Container: "user_recommendations"}
	st, err := sink.Publish(ctx, meta, export.Lists(lists[:n]))
	if err != nil {
		return err
	}
	fmt.Printf("\ncosmos: the emulator (@vercel/cosmosdb-server, Node.js, in memory) holds %d users' documents (published in %.1fs, %.0f docs/s)\n",
		n, time.Since(start).Seconds(), st.DocsPerSecond())

	paths := make([]string, n)
	for i := range paths {
		paths[i] = "/v1/users/" + lists[i].User + "/recommendations"
	}
	env := []string{"RECS_COSMOS_ENDPOINT=" + endpoint, "RECS_COSMOS_KEY=" + key}
	for _, c := range []struct {
		name  string
		cache int
		rate  float64
	}{{"no cache", 0, o.cosmosRate}, {fmt.Sprintf("cache %d", 2*n), 2 * n, o.rate}} {
		addr, err := freeAddr()
		if err != nil {
			return err
		}
		p, err := startProc(ctx, o.recs, env, "serve", "--from", "cosmos://bench/user_recommendations", "--addr", addr,
			"--cache-size", strconv.Itoa(c.cache), "--max-k", strconv.Itoa(o.k), "--quiet", "--log-format", "json")
		if err != nil {
			return err
		}
		if err := waitReady(ctx, addr, p, 60*time.Second); err != nil {
			p.stop()
			return err
		}
		reqs := loadgen.GETs(addr, paths)
		if c.cache > 0 {
			// Every user once: measure a warm cache, not its filling.
			w := loadgen.Each(ctx, addr, reqs, 50)
			fmt.Printf("  %-12s warmed the cache with %d users in %.1fs\n", c.name, w.Requests, w.Elapsed.Seconds())
		}
		res := loadgen.Closed(ctx, addr, reqs, o.conns, o.warmup, o.duration, o.seed)
		fmt.Printf("  %-12s saturation %8.0f req/s (%d conns; %d non-2xx, %d errors)\n", c.name, res.Rate(), o.conns, res.Non2xx, res.Errors)
		ores, err := loadgen.Open(ctx, addr, reqs, 200, c.rate, o.openFor, o.seed)
		if err != nil {
			p.stop()
			return err
		}
		fmt.Printf("  %-12s open loop at %.0f/s: p50 %s  p90 %s  p99 %s  max %s  (%.0f/s achieved, %d non-2xx, %d errors)\n",
			c.name, c.rate, fmtDur(ores.Quantile(0.5)), fmtDur(ores.Quantile(0.9)), fmtDur(ores.Quantile(0.99)), fmtDur(ores.Quantile(1)),
			ores.Rate(), ores.Non2xx, ores.Errors)
		p.stop()
	}
	return nil
}
