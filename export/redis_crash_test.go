package export_test

import (
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/recs-dev/recs/export"
	"github.com/recs-dev/recs/internal/emulator"
	"github.com/recs-dev/recs/toplist"
)

// readInput returns the meta and lists of a top-k file.
func readInput(t *testing.T, path string) (toplist.Meta, []toplist.List) {
	t.Helper()
	rd, err := toplist.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	var lists []toplist.List
	for {
		l, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		lists = append(lists, l)
	}
	return rd.Meta(), lists
}

// TestCrashRepublishRedis SIGKILLs `recs export --to redis` at every named
// moment of a publication (after the generation is registered, after a
// few pipelines, before and after the pointer switch, in the middle of
// deleting an old generation) and at random moments. After every kill the
// pointer must name a complete generation of one of the two models: every
// user exactly once, each document its list. Then the killed export's
// lease is taken to have expired (its key deleted: what Redis does when
// nobody renews it), and the next complete export must leave exactly one
// generation and nothing else.
func TestCrashRepublishRedis(t *testing.T) {
	srv := emulator.Redis(t)
	c := redis.NewClient(&redis.Options{Addr: srv.Addr, Password: srv.Password})
	defer c.Close()
	ctx := context.Background()
	dir := t.TempDir()
	inputs, _, _ := writeInputs(t, dir, 5000)
	type input struct {
		meta  toplist.Meta
		lists []toplist.List
	}
	byModel := map[string]input{}
	for _, p := range inputs {
		m, lists := readInput(t, p)
		byModel[m.Model] = input{m, lists}
	}
	prefix := redisTestPrefix(t)
	l := export.RedisLayout{Prefix: prefix}
	tg := &crashTarget{name: "redis", args: []string{"--to", "redis", "--redis-url", srv.URL(0), "--redis-prefix", prefix},
		env: []string{"RECS_REDIS_PASSWORD=" + srv.Password}}

	consistent := func(when string) string {
		t.Helper()
		gen, err := c.Get(ctx, l.Current()).Result()
		if err != nil {
			t.Fatalf("%s: pointer: %v", when, err)
		}
		g, err := export.ReadRedisGeneration(ctx, c, l, gen)
		if err != nil || g == nil {
			t.Fatalf("%s: the live generation %s has no metadata (%v)", when, gen, err)
		}
		in, ok := byModel[g.Model]
		if !ok {
			t.Fatalf("%s: live generation of model %q", when, g.Model)
		}
		checkLiveGeneration(t, c, prefix, in.meta, in.lists)
		return gen
	}
	expireLeases := func() {
		gens, _ := c.ZRange(ctx, l.Generations(), 0, -1).Result()
		for _, g := range gens {
			c.Del(ctx, l.Lease(g))
		}
	}
	clean := func() {
		t.Helper()
		gen := consistent("after a complete run")
		if gens, _ := c.ZRange(ctx, l.Generations(), 0, -1).Result(); !slices.Equal(gens, []string{gen}) {
			t.Errorf("generations %v after a complete run, want [%s]", gens, gen)
		}
		if pub, _ := c.LRange(ctx, l.Published(), 0, -1).Result(); !slices.Equal(pub, []string{gen}) {
			t.Errorf("published %v after a complete run, want [%s]", pub, gen)
		}
		users := scanKeys(t, c, prefix+":*")
		control := scanKeys(t, c, "{"+prefix+"}:*")
		g, _ := export.ReadRedisGeneration(ctx, c, l, gen)
		if int64(len(users)) != g.Users || len(control) != 4 {
			t.Errorf("after a complete run %d user keys and %v; want %d users of %s and its metadata, current, published, generations",
				len(users), control, g.Users, gen)
		}
	}

	run := 0
	next := func() string { run++; return inputs[run%2] }
	childRun(t, tg, next(), "", 0)
	clean()
	points := []string{
		"redis registered",    // the lease is taken, nothing written
		"redis batch 3",       // three pipelines of 1,000 written (of 5)
		"redis before switch", // every user and the metadata written
		"redis after switch",  // switched, the old generation still there
		"redis removing *",    // the old generation half deleted
	}
	for _, p := range points {
		childRun(t, tg, next(), p, 0)
		consistent("killed at " + p)
		expireLeases()
		childRun(t, tg, next(), "", 0)
		clean()
	}

	// Random moments, uniform over a complete run (measured here).
	start := time.Now()
	childRun(t, tg, next(), "", 0)
	full := time.Since(start)
	rng := rand.New(rand.NewPCG(17, 2024))
	kills, killed := 6, 0
	if testing.Short() {
		kills = 2
	}
	for range kills {
		if childRun(t, tg, next(), "", time.Duration(rng.Int64N(int64(full)))+time.Millisecond) {
			killed++
		}
		consistent("after a random kill")
	}
	expireLeases()
	childRun(t, tg, next(), "", 0)
	clean()
	t.Logf("%d named kill points; %d of %d random kills landed before the end of a %v run", len(points), killed, kills, full.Round(time.Millisecond))
}

// TestRedisExportWrongPassword runs `recs export --to redis` with a wrong
// password, from the environment and inside the URL: exit 4 (a service
// failure), and neither password anywhere in what it prints.
func TestRedisExportWrongPassword(t *testing.T) {
	srv := emulator.Redis(t)
	dir := t.TempDir()
	inputs, _, _ := writeInputs(t, dir, 10)
	const wrong = "s3cret-but-wrong-7f2a"
	for _, tc := range []struct {
		name string
		url  string
		env  []string
	}{
		{"env", srv.URL(0), []string{"RECS_REDIS_PASSWORD=" + wrong}},
		{"url", "redis://:" + wrong + "@" + srv.Addr + "/0", nil},
		{"url user", "redis://someone:" + wrong + "@" + srv.Addr + "/0", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "export", inputs[0], "--to", "redis", "--redis-url", tc.url, "--redis-prefix", redisTestPrefix(t))
			cmd.Env = append(append(os.Environ(), "RECS_CRASH_CHILD=1", "RECS_REDIS_PASSWORD="), tc.env...)
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			err := cmd.Run()
			ws, _ := cmd.ProcessState.Sys().(syscall.WaitStatus)
			if err == nil || ws.ExitStatus() != 4 {
				t.Fatalf("exit status %d (%v), want 4:\n%s", ws.ExitStatus(), err, out.String())
			}
			if s := out.String(); strings.Contains(s, wrong) || strings.Contains(s, srv.Password) {
				t.Errorf("the output carries a password:\n%s", s)
			}
			if !strings.Contains(out.String(), "WRONGPASS") {
				t.Errorf("the output does not say the password was rejected:\n%s", out.String())
			}
		})
	}
}
