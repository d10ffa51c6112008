package export_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/recs-dev/recs/export"
	"github.com/recs-dev/recs/internal/emulator"
	"github.com/recs-dev/recs/internal/errs"
	"github.com/recs-dev/recs/toplist"
)

// redisTestClient returns a client of the test redis-server (password
// auth) and the server.
func redisTestClient(t *testing.T) (*redis.Client, *emulator.RedisServer) {
	t.Helper()
	srv := emulator.Redis(t)
	c := redis.NewClient(&redis.Options{Addr: srv.Addr, Password: srv.Password})
	t.Cleanup(func() { c.Close() })
	return c, srv
}

// redisTestPrefix returns a prefix no other test uses on the shared server.
func redisTestPrefix(t *testing.T) string {
	var b [4]byte
	rand.Read(b[:])
	return "t-" + strings.ToLower(strings.NewReplacer("/", "-", "_", "-").Replace(t.Name())) + "-" + hex.EncodeToString(b[:])
}

// redisLists returns n users' lists (users u<first>…) of k distinct items
// with decreasing scores, from a seeded generator.
func redisLists(n, first, k int, seed uint64) []toplist.List {
	rng := mrand.New(mrand.NewPCG(seed, 7))
	out := make([]toplist.List, n)
	for u := range out {
		items := make([]toplist.Item, k)
		perm := rng.Perm(1000)
		for j := range items {
			items[j] = toplist.Item{ID: fmt.Sprint(perm[j] + 1), Score: float32(k-j) + rng.Float32()*0.5}
		}
		out[u] = toplist.List{User: fmt.Sprintf("u%06d", first+u), Items: items}
	}
	return out
}

// scanKeys returns every key matching pattern.
func scanKeys(t *testing.T, c *redis.Client, pattern string) []string {
	t.Helper()
	var keys []string
	iter := c.Scan(context.Background(), 0, pattern, 1000).Iterator()
	for iter.Next(context.Background()) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(keys)
	return slices.Compact(keys)
}

// redisDoc is the full shape, decoded independently of the writer.
type redisDoc struct {
	ID    string `json:"id"`
	Items []struct {
		ID    string  `json:"id"`
		Score float64 `json:"score"`
	} `json:"items"`
	Model       string    `json:"model"`
	GeneratedAt time.Time `json:"generatedAt"`
}

// checkLiveGeneration verifies that the pointer names a generation with
// metadata for meta and exactly the users of lists, each once, each
// document equal to its list (ids in order, scores equal as float32: the
// writer prints the shortest decimal that reads back as the same float32),
// and no other user. It returns the generation.
func checkLiveGeneration(t *testing.T, c *redis.Client, prefix string, meta toplist.Meta, lists []toplist.List) string {
	t.Helper()
	ctx := context.Background()
	l := export.RedisLayout{Prefix: prefix}
	gen, err := c.Get(ctx, l.Current()).Result()
	if err != nil {
		t.Fatalf("pointer %s: %v", l.Current(), err)
	}
	g, err := export.ReadRedisGeneration(ctx, c, l, gen)
	if err != nil || g == nil {
		t.Fatalf("metadata of live generation %s: %v (present: %v)", gen, err, g != nil)
	}
	if g.Model != meta.Model || g.Users != int64(len(lists)) || !g.GeneratedAt.Equal(meta.GeneratedAt) || g.UserPrefix != l.UserPrefix(gen) {
		t.Errorf("metadata %+v; want model %q, %d users, generated %v", g, meta.Model, len(lists), meta.GeneratedAt)
	}
	keys := scanKeys(t, c, l.UserPrefix(gen)+"*")
	if len(keys) != len(lists) {
		t.Errorf("live generation %s holds %d user keys, want %d (every user exactly once)", gen, len(keys), len(lists))
	}
	want := make([]string, len(lists))
	for i, li := range lists {
		want[i] = l.User(gen, li.User)
	}
	vals, err := c.MGet(ctx, want...).Result()
	if err != nil {
		t.Fatal(err)
	}
	bad := 0
	for i, v := range vals {
		s, ok := v.(string)
		if !ok {
			t.Errorf("user %s missing from the live generation", lists[i].User)
			bad++
		} else if err := sameList(s, lists[i], meta); err != nil {
			t.Errorf("user %s: %v", lists[i].User, err)
			bad++
		}
		if bad > 5 {
			t.Fatal("too many errors")
		}
	}
	return gen
}

func sameList(doc string, l toplist.List, meta toplist.Meta) error {
	var d redisDoc
	if err := json.Unmarshal([]byte(doc), &d); err != nil {
		return err
	}
	if d.ID != l.User || d.Model != meta.Model || !d.GeneratedAt.Equal(meta.GeneratedAt) || len(d.Items) != len(l.Items) {
		return fmt.Errorf("document %s does not match list of %d items", doc, len(l.Items))
	}
	for j, it := range d.Items {
		if it.ID != l.Items[j].ID || float32(it.Score) != l.Items[j].Score {
			return fmt.Errorf("item %d is %s %v, want %s %v", j, it.ID, it.Score, l.Items[j].ID, l.Items[j].Score)
		}
	}
	return nil
}

var redisMeta = toplist.Meta{Model: "als-redis-1", K: 10, GeneratedAt: time.Date(2024, 5, 1, 2, 3, 4, 500_000_000, time.UTC)}

func TestRedisPublishTwice(t *testing.T) {
	c, _ := redisTestClient(t)
	prefix := redisTestPrefix(t)
	l := export.RedisLayout{Prefix: prefix}
	ctx := context.Background()

	// 2,500 users in batches of 300 (a partial last batch), then a second
	// run of another model whose users overlap the first's only in part.
	a := redisLists(2500, 0, 10, 1)
	sink := &export.RedisSink{Client: c, Prefix: prefix, Batch: 300, Concurrency: 3}
	st, err := sink.Publish(ctx, redisMeta, export.Lists(a))
	if err != nil {
		t.Fatal(err)
	}
	if st.Documents != 2500 || st.Bytes <= 0 {
		t.Errorf("stats %+v: want 2500 documents", st)
	}
	gen1 := checkLiveGeneration(t, c, prefix, redisMeta, a)

	metaB := toplist.Meta{Model: "als-redis-2", K: 10, GeneratedAt: redisMeta.GeneratedAt.Add(24 * time.Hour)}
	b := redisLists(2000, 1200, 10, 2)
	if _, err := sink.Publish(ctx, metaB, export.Lists(b)); err != nil {
		t.Fatal(err)
	}
	gen2 := checkLiveGeneration(t, c, prefix, metaB, b)
	if gen2 == gen1 {
		t.Fatalf("the second publication reused generation %s", gen1)
	}
	// KeepGenerations 0 = 1: the first generation is gone, every key of it.
	if left := scanKeys(t, c, prefix+":"+gen1+":*"); len(left) != 0 {
		t.Errorf("%d keys of the previous generation left, e.g. %s", len(left), left[0])
	}
	if n, _ := c.Exists(ctx, l.Meta(gen1), l.Lease(gen1), l.Lease(gen2)).Result(); n != 0 {
		t.Errorf("%d of the first generation's metadata and the leases left", n)
	}
	if pub, _ := c.LRange(ctx, l.Published(), 0, -1).Result(); !slices.Equal(pub, []string{gen2}) {
		t.Errorf("published %v, want [%s]", pub, gen2)
	}
	if gens, _ := c.ZRange(ctx, l.Generations(), 0, -1).Result(); !slices.Equal(gens, []string{gen2}) {
		t.Errorf("generations %v, want [%s]", gens, gen2)
	}
	// Everything under the prefix: the users of gen2, its metadata and the
	// three shared keys.
	all := append(scanKeys(t, c, prefix+":*"), scanKeys(t, c, "{"+prefix+"}:*")...)
	if len(all) != len(b)+4 {
		t.Errorf("%d keys under the prefix, want %d users + meta + current, published, generations", len(all), len(b))
	}
}

func TestRedisKeepGenerations(t *testing.T) {
	c, _ := redisTestClient(t)
	prefix := redisTestPrefix(t)
	l := export.RedisLayout{Prefix: prefix}
	ctx := context.Background()
	sink := &export.RedisSink{Client: c, Prefix: prefix, KeepGenerations: 2}
	var gens []string
	for i := range 3 {
		lists := redisLists(300, i*100, 5, uint64(10+i))
		meta := toplist.Meta{Model: fmt.Sprintf("m%d", i), K: 5, GeneratedAt: redisMeta.GeneratedAt}
		if _, err := sink.Publish(ctx, meta, export.Lists(lists)); err != nil {
			t.Fatal(err)
		}
		gens = append(gens, checkLiveGeneration(t, c, prefix, meta, lists))
	}
	// The newest two stay whole (300 users each), the first is gone.
	for i, g := range gens {
		want := 300
		if i == 0 {
			want = 0
		}
		if n := len(scanKeys(t, c, l.UserPrefix(g)+"*")); n != want {
			t.Errorf("generation %d (%s) holds %d users, want %d", i, g, n, want)
		}
	}
	if pub, _ := c.LRange(ctx, l.Published(), 0, -1).Result(); !slices.Equal(pub, []string{gens[2], gens[1]}) {
		t.Errorf("published %v, want %v", pub, []string{gens[2], gens[1]})
	}
}

func TestRedisTTLAndReferenceShape(t *testing.T) {
	c, _ := redisTestClient(t)
	prefix := redisTestPrefix(t)
	l := export.RedisLayout{Prefix: prefix}
	ctx := context.Background()
	lists := redisLists(50, 0, 3, 3)
	sink := &export.RedisSink{Client: c, Prefix: prefix, Shape: export.ShapeReference, TTL: 3600}
	if _, err := sink.Publish(ctx, redisMeta, export.Lists(lists)); err != nil {
		t.Fatal(err)
	}
	gen, _ := c.Get(ctx, l.Current()).Result()
	key := l.User(gen, lists[7].User)
	doc, err := c.Get(ctx, key).Result()
	if err != nil {
		t.Fatal(err)
	}
	// The reference architecture's shape; no "ttl" member: Redis expires the key.
	want := fmt.Sprintf(`{"id":%q,"MovieId":[%q,%q,%q]}`, lists[7].User, lists[7].Items[0].ID, lists[7].Items[1].ID, lists[7].Items[2].ID)
	if doc != want {
		t.Errorf("document %s, want %s", doc, want)
	}
	// The TTL was set at the write, so what is left is at most 3600 s and,
	// on any machine that finishes this test within the hour, more than 0.
	if ttl, _ := c.TTL(ctx, key).Result(); ttl <= 0 || ttl > time.Hour {
		t.Errorf("TTL of a user key %v, want in (0, 1h]", ttl)
	}
	if ttl, _ := c.TTL(ctx, l.Meta(gen)).Result(); ttl != -1 {
		t.Errorf("TTL of the metadata %v, want none (-1)", ttl)
	}
}

// gateSource yields lists, stopping before list at until release is closed.
type gateSource struct {
	lists   []toplist.List
	i, at   int
	reached chan struct{}
	release chan struct{}
}

func (g *gateSource) Next() (toplist.List, error) {
	if g.i == g.at {
		close(g.reached)
		<-g.release
	}
	if g.i >= len(g.lists) {
		return toplist.List{}, io.EOF
	}
	g.i++
	return g.lists[g.i-1], nil
}

// TestRedisConcurrentPublishers: an export that is writing (its lease held)
// loses nothing to another export's cleanup, and when the other switched
// the pointer first, it publishes nothing and removes what it wrote.
func TestRedisConcurrentPublishers(t *testing.T) {
	c, _ := redisTestClient(t)
	prefix := redisTestPrefix(t)
	l := export.RedisLayout{Prefix: prefix}
	ctx := context.Background()
	slow := &gateSource{lists: redisLists(1000, 0, 5, 4), at: 600, reached: make(chan struct{}), release: make(chan struct{})}
	done := make(chan error, 1)
	go func() {
		_, err := (&export.RedisSink{Client: c, Prefix: prefix, Batch: 100}).Publish(ctx, redisMeta, slow)
		done <- err
	}()
	<-slow.reached
	// The slow export has written its first 600 users (six whole batches
	// of 100 have been handed to the writers; wait until they are there).
	gens, _ := c.ZRange(ctx, l.Generations(), 0, -1).Result()
	if len(gens) != 1 {
		t.Fatalf("generations %v, want the slow export's one", gens)
	}
	slowGen := gens[0]
	deadline := time.Now().Add(30 * time.Second)
	for len(scanKeys(t, c, l.UserPrefix(slowGen)+"*")) < 600 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}

	fast := redisLists(400, 5000, 5, 5)
	metaFast := toplist.Meta{Model: "fast", K: 5, GeneratedAt: redisMeta.GeneratedAt}
	if _, err := (&export.RedisSink{Client: c, Prefix: prefix}).Publish(ctx, metaFast, export.Lists(fast)); err != nil {
		t.Fatal(err)
	}
	checkLiveGeneration(t, c, prefix, metaFast, fast)
	if n := len(scanKeys(t, c, l.UserPrefix(slowGen)+"*")); n != 600 {
		t.Errorf("the other export's cleanup left %d of the 600 users the slow export had written", n)
	}

	close(slow.release)
	err := <-done
	if err == nil || !errs.IsService(err) || !strings.Contains(err.Error(), "another export switched") {
		t.Fatalf("the slow export returned %v; want a service error saying another export switched the pointer", err)
	}
	checkLiveGeneration(t, c, prefix, metaFast, fast)
	if n := len(scanKeys(t, c, prefix+":"+slowGen+":*")) + len(scanKeys(t, c, "{"+prefix+"}:"+slowGen+":*")); n != 0 {
		t.Errorf("the failed export left %d keys of its generation", n)
	}
	if gens, _ := c.ZRange(ctx, l.Generations(), 0, -1).Result(); len(gens) != 1 {
		t.Errorf("generations %v, want only the live one", gens)
	}
}

// TestRedisLeaseLost: a publisher whose lease is gone (it stalled longer
// than the lease; here the key is deleted, which is what its expiry does)
// must not switch the pointer.
func TestRedisLeaseLost(t *testing.T) {
	c, _ := redisTestClient(t)
	prefix := redisTestPrefix(t)
	l := export.RedisLayout{Prefix: prefix}
	ctx := context.Background()
	first := redisLists(100, 0, 5, 6)
	sink := &export.RedisSink{Client: c, Prefix: prefix}
	if _, err := sink.Publish(ctx, redisMeta, export.Lists(first)); err != nil {
		t.Fatal(err)
	}
	src := &gateSource{lists: redisLists(200, 0, 5, 7), at: 150, reached: make(chan struct{}), release: make(chan struct{})}
	done := make(chan error, 1)
	go func() {
		_, err := sink.Publish(ctx, toplist.Meta{Model: "stalled", K: 5}, src)
		done <- err
	}()
	<-src.reached
	gens, _ := c.ZRange(ctx, l.Generations(), 0, -1).Result()
	for _, g := range gens {
		c.Del(ctx, l.Lease(g))
	}
	close(src.release)
	if err := <-done; err == nil || !strings.Contains(err.Error(), "lease expired") {
		t.Fatalf("the stalled export returned %v, want a lost lease", err)
	}
	checkLiveGeneration(t, c, prefix, redisMeta, first)
}

func TestRedisInterruptedRemovesItsGeneration(t *testing.T) {
	c, _ := redisTestClient(t)
	prefix := redisTestPrefix(t)
	first := redisLists(100, 0, 5, 8)
	sink := &export.RedisSink{Client: c, Prefix: prefix, Batch: 10}
	if _, err := sink.Publish(context.Background(), redisMeta, export.Lists(first)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	src := &gateSource{lists: redisLists(300, 0, 5, 9), at: 250, reached: make(chan struct{}), release: make(chan struct{})}
	go func() { <-src.reached; cancel(); close(src.release) }()
	_, err := sink.Publish(ctx, toplist.Meta{Model: "interrupted", K: 5}, src)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted export returned %v, want context.Canceled", err)
	}
	gen := checkLiveGeneration(t, c, prefix, redisMeta, first)
	all := append(scanKeys(t, c, prefix+":*"), scanKeys(t, c, "{"+prefix+"}:*")...)
	if len(all) != len(first)+4 {
		t.Errorf("after the interrupted export %d keys under the prefix, want only generation %s (%d) and the shared keys", len(all), gen, len(first)+4)
	}
}

func TestRedisWrongPasswordIsAServiceErrorWithoutTheSecret(t *testing.T) {
	srv := emulator.Redis(t)
	const secret = "wrong-password-4c1d9e"
	c := redis.NewClient(&redis.Options{Addr: srv.Addr, Password: secret})
	defer c.Close()
	sink := &export.RedisSink{Client: c, Prefix: redisTestPrefix(t), Describe: srv.URL(0), Scrub: func(err error) error { return err }}
	_, err := sink.Publish(context.Background(), redisMeta, export.Lists(redisLists(3, 0, 2, 1)))
	if err == nil || !errs.IsService(err) {
		t.Fatalf("publish with a wrong password returned %v, want a service error", err)
	}
	if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), srv.Password) {
		t.Errorf("the error carries a password: %v", err)
	}
	if !strings.Contains(err.Error(), "WRONGPASS") || !strings.Contains(err.Error(), "RECS_REDIS_PASSWORD") {
		t.Errorf("the error does not say what to do: %v", err)
	}
}
