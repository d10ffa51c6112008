package serve

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/recs-dev/recs/export"
	"github.com/recs-dev/recs/internal/emulator"
	"github.com/recs-dev/recs/toplist"
)

var cosmosDBSeq atomic.Int64

// publishCosmos starts (or reuses) the Cosmos DB emulator and publishes
// lists with `recs export`'s sink in shape into a fresh container; it
// returns a container client with the serving retry settings.
func publishCosmos(t *testing.T, meta toplist.Meta, lists []toplist.List, shape export.DocumentShape) (*emulator.CosmosServer, string, *azcosmos.ContainerClient) {
	t.Helper()
	e := emulator.Cosmos(t)
	db := fmt.Sprintf("serve%d_%d", time.Now().UnixNano(), cosmosDBSeq.Add(1))
	c, err := export.NewCosmosClient(e.Endpoint, e.Key, nil)
	if err != nil {
		t.Fatal(err)
	}
	sink := &export.CosmosSink{Client: c, Database: db, Container: "user_recommendations", Shape: shape}
	if _, err := sink.Publish(context.Background(), meta, export.Lists(lists)); err != nil {
		t.Fatal(err)
	}
	cc, err := OpenCosmosContainer(e.Endpoint, e.Key, db, "user_recommendations")
	if err != nil {
		t.Fatal(err)
	}
	return e, db, cc
}

func cosmosServer(t *testing.T, cc *azcosmos.ContainerClient, cacheSize int, cfg Config) (*Server, *CosmosStore, string) {
	t.Helper()
	srv := NewServer(cfg)
	st := NewCosmosStore(CosmosConfig{Container: cc, Source: "cosmos://test", MaxK: 3, CacheSize: cacheSize, Registerer: srv.Registry()})
	if err := st.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := srv.SetStore(st); err != nil {
		t.Fatal(err)
	}
	return srv, st, startServer(t, srv).URL
}

func counterValue(t *testing.T, c prometheus.Collector) float64 {
	t.Helper()
	ch := make(chan prometheus.Metric, 16)
	c.Collect(ch)
	close(ch)
	total := 0.0
	for m := range ch {
		pb := &dto.Metric{}
		if err := m.Write(pb); err != nil {
			t.Fatal(err)
		}
		total += pb.GetCounter().GetValue()
	}
	return total
}

// cosmosLists are testLists with ids Cosmos DB can store (no backslash).
func cosmosLists() []toplist.List {
	lists := testLists()
	lists[2].User = `odd "<id>" é`
	return lists
}

func TestCosmosStoreFullShape(t *testing.T) {
	lists := cosmosLists()
	_, _, cc := publishCosmos(t, testMeta, lists, export.ShapeFull)
	for _, cacheSize := range []int{0, 1000} {
		t.Run(fmt.Sprintf("cache=%d", cacheSize), func(t *testing.T) {
			srv, st, base := cosmosServer(t, cc, cacheSize, Config{})
			for round := 0; round < 2; round++ {
				for _, l := range lists {
					for _, k := range []int{1, 3} {
						r := get(t, userURL(base, l.User, fmt.Sprintf("k=%d", k)))
						if want := wantResponse(t, testMeta, l, k, false); r.code != 200 || r.body != want {
							t.Fatalf("user %q k=%d: %d\n got %s\nwant %s", l.User, k, r.code, r.body, want)
						}
					}
				}
				r := get(t, userURL(base, "nobody", ""))
				if r.code != 404 || !strings.Contains(r.body, `"unknown user"`) {
					t.Errorf("unknown user: %d %s", r.code, r.body)
				}
			}
			// 4 users × 2 k + 1 unknown, twice: 18 lookups. Without a cache
			// each is a read; with one, only the first of each user (5).
			reads := counterValue(t, st.reads)
			want := 18.0
			if cacheSize > 0 {
				want = 5
				if h := counterValue(t, st.hits); h != 13 {
					t.Errorf("cache hits %v, want 13", h)
				}
			}
			if reads != want {
				t.Errorf("cosmos reads %v, want %v", reads, want)
			}
			if r := get(t, userURL(base, "196", "k=4")); r.code != 400 || !strings.Contains(r.body, `"maxK":3`) {
				t.Errorf("k beyond MaxK: %d %s", r.code, r.body)
			}
			// Ids Cosmos DB cannot hold are unknown without a read.
			before := counterValue(t, st.reads)
			if r := get(t, userURL(base, "a/b", "")); r.code != 404 {
				t.Errorf("id with a slash: %d %s", r.code, r.body)
			}
			if counterValue(t, st.reads) != before {
				t.Error("an impossible id caused a read")
			}
			// A batch reads in parallel and keeps the order.
			r := do(t, "POST", base+"/v1/recommendations", `{"users":["186","nobody","196"],"k":1}`)
			want2 := `{"results":[` + strings.TrimSuffix(wantResponse(t, testMeta, lists[1], 1, false), "\n") +
				`,{"user":"nobody","error":"unknown user"},` + strings.TrimSuffix(wantResponse(t, testMeta, lists[0], 1, false), "\n") + "]}\n"
			if r.code != 200 || r.body != want2 {
				t.Errorf("batch: %d\n got %s\nwant %s", r.code, r.body, want2)
			}
			_ = srv
		})
	}
}

func TestCosmosStoreReferenceShape(t *testing.T) {
	// The reference architecture's documents: {"id","MovieId":[…]}, no
	// scores, no model; the items keep their order and have no score.
	lists := testLists()[:2]
	_, _, cc := publishCosmos(t, testMeta, lists, export.ShapeReference)
	pop := NewPopular([]toplist.Item{{ID: "50", Score: 583}})
	_, _, base := cosmosServer(t, cc, 100, Config{Fallback: true, Popular: pop})
	r := get(t, userURL(base, "196", "k=2"))
	if want := `{"user":"196","items":[{"id":"242"},{"id":"302"}]}` + "\n"; r.code != 200 || r.body != want {
		t.Errorf("reference shape: %d\n got %s\nwant %s", r.code, r.body, want)
	}
	r = get(t, userURL(base, "newcomer", ""))
	if want := `{"user":"newcomer","items":[{"id":"50","score":583}],"fallback":true}` + "\n"; r.code != 200 || r.body != want {
		t.Errorf("fallback: %d\n got %s\nwant %s", r.code, r.body, want)
	}
}

func TestEncodeDocument(t *testing.T) {
	cases := []struct {
		doc, want, err string
	}{
		{`{"id":"1","MovieId":[1,"2",3.5e1]}`, `{"user":"1","items":[{"id":"1"},{"id":"2"},{"id":"3.5e1"}]}`, ""},
		{`{"id":"1","items":[{"id":"a","score":1.5},{"id":7,"score":-2}],"model":"m","generatedAt":"2026-01-02T03:04:05Z","_etag":"x"}`,
			`{"user":"1","items":[{"id":"a","score":1.5},{"id":"7","score":-2}],"model":"m","generatedAt":"2026-01-02T03:04:05Z"}`, ""},
		{`{"id":"1","items":[{"id":"a"},{"id":"b"},{"id":"c"},{"id":"d"}]}`, `{"user":"1","items":[{"id":"a"},{"id":"b"},{"id":"c"}]}`, ""},
		{`{"id":"2","items":[]}`, "", "differs"},
		{`{"id":"1"}`, "", "neither"},
		{`{"id":"1","items":[{"id":""}]}`, "", "empty item id"},
		{`{"id":"1","items":[{"id":true}]}`, "", "neither a string nor a number"},
		{`{"id":"1","items":[{"id":"a","score":1e300}]}`, "", "out of range"},
		{`[1]`, "", "not a recommendations document"},
	}
	for _, c := range cases {
		rec, err := encodeDocument("1", []byte(c.doc), 3)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: %v, want %q", c.doc, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.doc, err)
			continue
		}
		if got := recordBytes(rec, 3); got != c.want+"\n" {
			t.Errorf("%s:\n got %s\nwant %s", c.doc, got, c.want)
		}
	}
}

// TestCosmosUnavailable points the store at a port where nothing listens:
// Check fails, lookups answer 503, and neither the responses nor the logs
// contain the key.
func TestCosmosUnavailable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	key := emulator.CosmosKey
	cc, err := OpenCosmosContainer("http://"+addr+"/", key, "db", "c")
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	var mu sync.Mutex
	srv := NewServer(Config{Log: slog.New(slog.NewTextHandler(lockedWriter{&logs, &mu}, nil))})
	st := NewCosmosStore(CosmosConfig{Container: cc, Source: "cosmos://db/c", Timeout: 2 * time.Second, Secrets: []string{key}})
	if err := st.Check(context.Background()); err == nil || strings.Contains(err.Error(), key) {
		t.Errorf("Check: %v; want an error without the key", err)
	}
	srv.SetStore(st)
	base := startServer(t, srv).URL
	r := get(t, userURL(base, "196", ""))
	if r.code != 503 || r.hdr.Get("Retry-After") == "" || strings.Contains(r.body, addr) {
		t.Errorf("lookup with Cosmos down: %d %s", r.code, r.body)
	}
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(logs.String(), "lookup failed") {
		t.Errorf("the failure was not logged: %s", logs.String())
	}
	if strings.Contains(logs.String(), key) || strings.Contains(logs.String(), key[:20]) {
		t.Error("the logs contain the Cosmos key")
	}
}

type lockedWriter struct {
	b  *bytes.Buffer
	mu *sync.Mutex
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func TestLRU(t *testing.T) {
	c := newLRU(lruShards*2, time.Minute) // 2 per shard
	now := time.Unix(1000, 0)
	c.now = func() time.Time { return now }
	rec := Record{head: 1}
	// Find three keys of one shard: the third evicts the least recently used.
	var keys []string
	for i := 0; len(keys) < 3; i++ {
		k := fmt.Sprint(i)
		if c.shard(k) == c.shard("0") {
			keys = append(keys, k)
		}
	}
	c.put(keys[0], rec, true)
	c.put(keys[1], rec, false)
	if _, _, ok := c.get(keys[0]); !ok { // keys[0] is now the most recent
		t.Fatal("keys[0] missing")
	}
	c.put(keys[2], rec, true)
	if _, _, ok := c.get(keys[1]); ok {
		t.Error("keys[1] (least recently used) survived")
	}
	if r, found, ok := c.get(keys[0]); !ok || !found || r.head != 1 {
		t.Error("keys[0] lost")
	}
	if _, found, ok := c.get(keys[2]); !ok || !found {
		t.Error("keys[2] lost")
	}
	if n := c.len(); n != 2 {
		t.Errorf("len %d, want 2", n)
	}
	// TTL: an entry is served until, not at, its expiry.
	now = now.Add(time.Minute - time.Nanosecond)
	if _, _, ok := c.get(keys[2]); !ok {
		t.Error("expired early")
	}
	now = now.Add(time.Nanosecond)
	if _, _, ok := c.get(keys[2]); ok {
		t.Error("served after its TTL")
	}
	if n := c.len(); n != 1 {
		t.Errorf("len %d after expiry, want 1", n)
	}
}
