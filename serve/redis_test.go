package serve

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/recs-dev/recs/export"
	"github.com/recs-dev/recs/internal/emulator"
	"github.com/recs-dev/recs/toplist"
)

var redisPrefixSeq atomic.Int64

// publishRedis publishes lists with `recs export`'s Redis sink under a
// fresh prefix (or prefix, when not empty) and returns a client and the
// prefix.
func publishRedis(t *testing.T, prefix string, meta toplist.Meta, lists []toplist.List, shape export.DocumentShape) (*redis.Client, string) {
	t.Helper()
	srv := emulator.Redis(t)
	c := redis.NewClient(&redis.Options{Addr: srv.Addr, Password: srv.Password})
	t.Cleanup(func() { c.Close() })
	if prefix == "" {
		prefix = fmt.Sprintf("serve-%d-%d", time.Now().UnixNano(), redisPrefixSeq.Add(1))
	}
	sink := &export.RedisSink{Client: c, Prefix: prefix, Shape: shape, Batch: 64}
	if _, err := sink.Publish(context.Background(), meta, export.Lists(lists)); err != nil {
		t.Fatal(err)
	}
	return c, prefix
}

// redisTestLists are testLists and n generated users (seeded).
func redisTestLists(n int) []toplist.List {
	lists := testLists()
	rng := rand.New(rand.NewPCG(3, 5))
	for u := range n {
		items := make([]toplist.Item, 3)
		for j := range items {
			items[j] = toplist.Item{ID: fmt.Sprint(rng.IntN(500) + j*500), Score: rng.Float32()*10 - 5}
		}
		lists = append(lists, toplist.List{User: fmt.Sprintf("user-%d", u), Items: items})
	}
	return lists
}

// TestRedisStoreSameBodiesAsIndex: a server over the Redis publication of
// some lists answers every request with exactly the bytes of a server over
// the in-memory index of the same lists (what `recs serve` builds from a
// run directory), with and without the cache, for single users at every k,
// unknown and invalid users, and batches.
func TestRedisStoreSameBodiesAsIndex(t *testing.T) {
	lists := redisTestLists(200)
	c, prefix := publishRedis(t, "", testMeta, lists, export.ShapeFull)
	idx, err := NewIndex(testMeta, lists)
	if err != nil {
		t.Fatal(err)
	}
	mem := NewServer(Config{})
	if err := mem.SetStore(idx); err != nil {
		t.Fatal(err)
	}
	memURL := startServer(t, mem).URL
	for _, cacheSize := range []int{0, 1000} {
		t.Run(fmt.Sprintf("cache=%d", cacheSize), func(t *testing.T) {
			srv := NewServer(Config{})
			st := NewRedisStore(RedisConfig{Client: c, Prefix: prefix, Source: "redis://test", CacheSize: cacheSize, Registerer: srv.Registry()})
			if err := st.Check(context.Background()); err != nil {
				t.Fatal(err)
			}
			if err := srv.SetStore(st); err != nil {
				t.Fatal(err)
			}
			if st.MaxK() != idx.MaxK() {
				t.Errorf("MaxK %d from the publication, the index has %d", st.MaxK(), idx.MaxK())
			}
			url := startServer(t, srv).URL
			for round := range 2 {
				for _, l := range lists {
					for _, q := range []string{"", "k=1", "k=2", "k=3", "k=4", "k=0"} {
						a, b := get(t, userURL(url, l.User, q)), get(t, userURL(memURL, l.User, q))
						if a.code != b.code || a.body != b.body {
							t.Fatalf("round %d, user %q %s: from Redis %d %s\nfrom memory %d %s", round, l.User, q, a.code, a.body, b.code, b.body)
						}
					}
				}
				for _, u := range []string{"nobody", "", strings.Repeat("x", 300)} {
					if a, b := get(t, userURL(url, u, "")), get(t, userURL(memURL, u, "")); a.code != b.code || a.body != b.body {
						t.Errorf("user %q: from Redis %d %s, from memory %d %s", u, a.code, a.body, b.code, b.body)
					}
				}
				body := fmt.Sprintf(`{"users":[%q,"nobody",%q],"k":2}`, lists[0].User, lists[len(lists)-1].User)
				a := do(t, "POST", url+"/v1/recommendations", body, "Content-Type", "application/json")
				b := do(t, "POST", memURL+"/v1/recommendations", body, "Content-Type", "application/json")
				if a.code != b.code || a.body != b.body {
					t.Errorf("batch: from Redis %d %s\nfrom memory %d %s", a.code, a.body, b.code, b.body)
				}
			}
			// With the cache every user is read once (found, plus one
			// absence), the second round comes from the cache.
			if cacheSize > 0 {
				if r := counterValue(t, st.reads); r != float64(len(lists)+1) {
					t.Errorf("%v Redis reads, want %d (each user once, and nobody)", r, len(lists)+1)
				}
			}
		})
	}
}

// TestRedisStoreFollowsThePointer: after a new publication (which deletes
// the generation in use: keep 1) a user missing from the old generation
// makes the store move to the new one at once; a poll (Watch) moves it
// too, and the server takes the new model from it.
func TestRedisStoreFollowsThePointer(t *testing.T) {
	lists := redisTestLists(20)
	c, prefix := publishRedis(t, "", testMeta, lists, export.ShapeFull)
	srv := NewServer(Config{})
	st := NewRedisStore(RedisConfig{Client: c, Prefix: prefix, Source: "redis://test"})
	if err := st.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	changes := make(chan string, 4)
	st.OnChange(func(from, to string) {
		if from != "" {
			srv.SetStore(st)
			changes <- to
		}
	})
	if err := srv.SetStore(st); err != nil {
		t.Fatal(err)
	}
	url := startServer(t, srv).URL
	first := st.Generation()

	meta2 := toplist.Meta{Model: "als-second", K: 3, GeneratedAt: testMeta.GeneratedAt.Add(time.Hour)}
	lists2 := redisTestLists(30)[4:] // the generated users only: 196 and the others are gone
	publishRedis(t, prefix, meta2, lists2, export.ShapeFull)
	if n, _ := c.Exists(context.Background(), export.RedisLayout{Prefix: prefix}.User(first, "user-3")).Result(); n != 0 {
		t.Fatal("the first generation was not deleted by the second publication")
	}
	// No poll yet: the store still names the first generation. The read
	// finds user-3 missing there, sees the pointer moved, and answers from
	// the second generation.
	l := lists2[3]
	if r := get(t, userURL(url, l.User, "")); r.code != 200 || r.body != wantResponse(t, meta2, l, 3, false) {
		t.Fatalf("user %s after the switch: %d %s\nwant %s", l.User, r.code, r.body, wantResponse(t, meta2, l, 3, false))
	}
	select {
	case to := <-changes:
		if to == first || to != st.Generation() {
			t.Errorf("moved to %q; the store names %q, first was %q", to, st.Generation(), first)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the store did not report the new generation")
	}
	if info, _ := srv.Info(); info.Model != "als-second" || info.Users != len(lists2) {
		t.Errorf("the server reports model %q with %d users, want als-second with %d", info.Model, info.Users, len(lists2))
	}
	if r := get(t, userURL(url, "196", "")); r.code != 404 {
		t.Errorf("a user only in the old generation: %d %s, want 404", r.code, r.body)
	}

	// A third publication, found by Watch.
	meta3 := toplist.Meta{Model: "als-third", K: 3, GeneratedAt: testMeta.GeneratedAt.Add(2 * time.Hour)}
	publishRedis(t, prefix, meta3, lists2, export.ShapeFull)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go st.Watch(ctx, 20*time.Millisecond)
	select {
	case <-changes:
	case <-time.After(10 * time.Second):
		t.Fatal("Watch did not find the third generation")
	}
	if r := get(t, userURL(url, l.User, "k=2")); r.body != wantResponse(t, meta3, l, 2, false) {
		t.Errorf("after Watch: %s, want %s", r.body, wantResponse(t, meta3, l, 2, false))
	}
}

func TestRedisStoreNoPublication(t *testing.T) {
	srv := emulator.Redis(t)
	c := redis.NewClient(&redis.Options{Addr: srv.Addr, Password: srv.Password})
	defer c.Close()
	st := NewRedisStore(RedisConfig{Client: c, Prefix: "never-published", Source: "redis://test prefix never-published"})
	err := st.Check(context.Background())
	if err == nil || !strings.Contains(err.Error(), "no publication") {
		t.Fatalf("Check of an empty prefix: %v", err)
	}
}

func TestRedisStoreReferenceShape(t *testing.T) {
	lists := redisTestLists(5)
	c, prefix := publishRedis(t, "", testMeta, lists, export.ShapeReference)
	st := NewRedisStore(RedisConfig{Client: c, Prefix: prefix, Source: "redis://test"})
	if err := st.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	rec, ok, err := st.Lookup(context.Background(), "196")
	if err != nil || !ok {
		t.Fatalf("lookup: %v %v", ok, err)
	}
	// No scores, no model: the reference architecture's document has none.
	if got, want := recordBytes(rec, 2), `{"user":"196","items":[{"id":"242"},{"id":"302"}]}`+"\n"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}
