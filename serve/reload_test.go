package serve

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/recs-dev/recs/ratings"
	"github.com/recs-dev/recs/rundir"
	"github.com/recs-dev/recs/toplist"
)

// writeRun writes a run directory ROOT/NAME holding a top-k file of users
// lists, all items tagged with generation gen (item ids "g<gen>-<j>", model
// "gen-<gen>"), so a response mixing two runs is detectable, and a training
// split when train is not nil.
func writeRun(t *testing.T, root, name string, gen, users, k int, train *ratings.Table) string {
	t.Helper()
	dir := filepath.Join(root, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	meta := toplist.Meta{Model: fmt.Sprintf("gen-%d", gen), K: k, GeneratedAt: time.Date(2026, 1, 1, 0, gen, 0, 0, time.UTC)}
	lists := make([]toplist.List, users)
	for u := range lists {
		lists[u].User = strconv.Itoa(u)
		for j := range k {
			lists[u].Items = append(lists[u].Items, toplist.Item{ID: fmt.Sprintf("g%d-%d", gen, j), Score: float32(k - j)})
		}
	}
	if err := toplist.WriteFile(filepath.Join(dir, "topk.jsonl"), meta, lists); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{"topk": "topk.jsonl"}
	if train != nil {
		if err := ratings.WriteFile(filepath.Join(dir, rundir.TrainFile), train); err != nil {
			t.Fatal(err)
		}
		files["train"] = rundir.TrainFile
	}
	man, _ := json.Marshal(rundir.Manifest{RunID: name, Status: "ok", Files: files})
	if err := os.WriteFile(filepath.Join(dir, rundir.ManifestFile), man, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// switchLatest points ROOT/latest at name atomically, as recs train does.
func switchLatest(t *testing.T, root, name string) {
	t.Helper()
	tmp := filepath.Join(root, ".latest-tmp")
	os.Remove(tmp)
	if err := os.Symlink(name, tmp); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(root, rundir.LatestLink)); err != nil {
		t.Fatal(err)
	}
}

func TestFileSourceKinds(t *testing.T) {
	root := t.TempDir()
	b := ratings.NewBuilder(false)
	for _, r := range [][2]string{{"1", "g0-5"}, {"2", "g0-5"}, {"1", "g0-9"}} {
		b.Add(r[0], r[1], 5, 0)
	}
	run := writeRun(t, root, "20260101T000000Z-aaaaaa", 0, 5, 3, b.Table())
	switchLatest(t, root, "20260101T000000Z-aaaaaa")
	ctx := context.Background()
	for _, path := range []string{run, root, filepath.Join(root, "latest"), filepath.Join(run, "topk.jsonl")} {
		src := &FileSource{Path: path, Popular: true}
		idx, v, err := src.Load(ctx)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if idx.Len() != 5 || idx.MaxK() != 3 || idx.Meta().Model != "gen-0" {
			t.Errorf("%s: %d users k %d model %q", path, idx.Len(), idx.MaxK(), idx.Meta().Model)
		}
		if v2, _ := src.Version(ctx); v2 != v {
			t.Errorf("%s: Version %q differs from the loaded %q", path, v2, v)
		}
		isFile := strings.HasSuffix(path, ".jsonl")
		if pop := idx.Popular(); isFile != (pop == nil) {
			t.Errorf("%s: popular %v; want one for run directories only", path, pop)
		} else if pop != nil && string(pop.cut(3)) != `{"id":"g0-5","score":2},{"id":"g0-9","score":1}` {
			t.Errorf("%s: popular %s", path, pop.cut(3))
		}
	}
	for path, want := range map[string]string{
		filepath.Join(root, "nope"): "no such file",
		t.TempDir():                 "not a run directory",
	} {
		if _, _, err := (&FileSource{Path: path}).Load(ctx); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", path, err, want)
		}
	}
	// A run whose gate failed is refused.
	bad := writeRun(t, root, "bad", 1, 1, 1, nil)
	man, _ := json.Marshal(rundir.Manifest{Status: "regression", Files: map[string]string{"topk": "topk.jsonl"}})
	os.WriteFile(filepath.Join(bad, rundir.ManifestFile), man, 0o644)
	if _, _, err := (&FileSource{Path: bad}).Load(ctx); err == nil || !strings.Contains(err.Error(), "regression") {
		t.Errorf("regressed run: %v", err)
	}
}

// TestReloadUnderLoad switches runs/latest 10 times while clients hammer
// the server with single and batch requests, and checks that no request
// fails and none sees a mix of two runs (every item of a response, and of
// every result of a batch, carries the generation its model names).
func TestReloadUnderLoad(t *testing.T) {
	const users, k, swaps = 2000, 5, 10
	root := t.TempDir()
	writeRun(t, root, "run-00", 0, users, k, nil)
	switchLatest(t, root, "run-00")

	src := &FileSource{Path: filepath.Join(root, "latest")}
	idx, v, err := src.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	srv := NewServer(Config{})
	srv.SetStore(idx)
	ts := startServer(t, srv)
	swapped := make(chan string, swaps)
	rl := &Reloader{Loader: src, Server: srv, Interval: 5 * time.Millisecond, Current: v,
		OnSwap: func(v string) { swapped <- v }}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go rl.Run(ctx)

	var requests, failures atomic.Int64
	var served [swaps + 1]atomic.Int64 // responses by generation
	var firstFailure atomic.Value
	fail := func(format string, args ...any) {
		if failures.Add(1) == 1 {
			firstFailure.Store(fmt.Sprintf(format, args...))
		}
	}
	check := func(body []byte) (gen int) {
		var r struct {
			User  string
			Model string
			Items []toplist.Item
		}
		if err := json.Unmarshal(body, &r); err != nil {
			fail("bad JSON %s: %v", body, err)
			return -1
		}
		if _, err := fmt.Sscanf(r.Model, "gen-%d", &gen); err != nil || len(r.Items) == 0 || gen < 0 || gen > swaps {
			fail("bad response %s", body)
			return -1
		}
		served[gen].Add(1)
		for _, it := range r.Items {
			if !strings.HasPrefix(it.ID, fmt.Sprintf("g%d-", gen)) {
				fail("mixed response: model %s item %s", r.Model, it.ID)
			}
		}
		return gen
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	client := ts.Client()
	for c := range 8 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(c), 7))
			lastGen := 0
			for {
				select {
				case <-stop:
					return
				default:
				}
				requests.Add(1)
				var gen int
				if c%2 == 0 {
					resp, err := client.Get(userURL(ts.URL, strconv.Itoa(rng.IntN(users)), "k=3"))
					if err != nil {
						fail("GET: %v", err)
						continue
					}
					body := readAll(resp)
					if resp.StatusCode != 200 {
						fail("GET: %d %s", resp.StatusCode, body)
						continue
					}
					gen = check(body)
				} else {
					resp, err := client.Post(ts.URL+"/v1/recommendations", "application/json",
						strings.NewReader(fmt.Sprintf(`{"users":["%d","%d","%d"]}`, rng.IntN(users), rng.IntN(users), rng.IntN(users))))
					if err != nil {
						fail("POST: %v", err)
						continue
					}
					body := readAll(resp)
					var br struct{ Results []json.RawMessage }
					if resp.StatusCode != 200 || json.Unmarshal(body, &br) != nil || len(br.Results) != 3 {
						fail("POST: %d %s", resp.StatusCode, body)
						continue
					}
					gen = check(br.Results[0])
					for _, r := range br.Results[1:] {
						if g := check(r); g != gen {
							fail("batch mixes generations %d and %d", gen, g)
						}
					}
				}
				if gen < lastGen {
					fail("generation went back from %d to %d", lastGen, gen)
				}
				lastGen = gen
			}
		})
	}
	for i := 1; i <= swaps; i++ {
		name := fmt.Sprintf("run-%02d", i)
		writeRun(t, root, name, i, users, k, nil)
		switchLatest(t, root, name)
		select {
		case v := <-swapped:
			if !strings.Contains(v, name) {
				t.Fatalf("swap %d loaded %s", i, v)
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("swap %d: no reload within 20s", i)
		}
		// Let requests run against this generation: wait until clients
		// have been answered from it (counted, not timed).
		for give := time.Now().Add(20 * time.Second); served[i].Load() < 5; time.Sleep(time.Millisecond) {
			if time.Now().After(give) {
				t.Fatalf("generation %d: %d responses within 20s", i, served[i].Load())
			}
		}
	}
	close(stop)
	wg.Wait()
	if n := failures.Load(); n > 0 {
		t.Fatalf("%d of %d requests failed; first: %v", n, requests.Load(), firstFailure.Load())
	}
	if got := srv.Store().Info().Model; got != fmt.Sprintf("gen-%d", swaps) {
		t.Errorf("serving %s after %d swaps", got, swaps)
	}
	t.Logf("%d requests, %d swaps, no failures", requests.Load(), swaps)
	if requests.Load() < 5*swaps {
		t.Errorf("only %d requests ran during the swaps", requests.Load())
	}
}

// TestReloadFailureKeepsOld breaks the source and checks the server keeps
// serving the previous index and counts the failure.
func TestReloadFailureKeepsOld(t *testing.T) {
	root := t.TempDir()
	writeRun(t, root, "run-a", 0, 10, 2, nil)
	switchLatest(t, root, "run-a")
	src := &FileSource{Path: filepath.Join(root, "latest")}
	idx, v, err := src.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	srv := NewServer(Config{})
	srv.SetStore(idx)
	rl := &Reloader{Loader: src, Server: srv, Current: v}

	bad := filepath.Join(root, "run-b")
	os.MkdirAll(bad, 0o755)
	os.WriteFile(filepath.Join(bad, "topk.jsonl"), []byte("{\"format\":\"recs-toplist\",\"version\":1,\"k\":2}\n{\"user\":\"1\",\"items\":[{\"id\":\"x\",\"score\":1}]}\nnot json\n"), 0o644)
	man, _ := json.Marshal(rundir.Manifest{Status: "ok", Files: map[string]string{"topk": "topk.jsonl"}})
	os.WriteFile(filepath.Join(bad, rundir.ManifestFile), man, 0o644)
	switchLatest(t, root, "run-b")
	swapped, err := rl.ReloadNow(context.Background())
	if swapped || err == nil || !strings.Contains(err.Error(), "topk.jsonl:3") {
		t.Fatalf("ReloadNow: %v %v, want a failure naming topk.jsonl line 3", swapped, err)
	}
	if srv.Store() != Store(idx) {
		t.Error("the failed reload replaced the index")
	}
	if got := readMetric(t, srv, `recs_serve_reloads_total{result="error"}`); got != "1" {
		t.Errorf("reload errors counted %s, want 1", got)
	}
	// Unchanged version: nothing to do.
	switchLatest(t, root, "run-a")
	if swapped, err := rl.ReloadNow(context.Background()); swapped || err != nil {
		t.Errorf("ReloadNow of the served version: %v %v", swapped, err)
	}
}

func readMetric(t *testing.T, srv *Server, name string) string {
	t.Helper()
	ts := startServer(t, srv)
	body := get(t, ts.URL+"/metrics").body
	for _, line := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			return v
		}
	}
	return "absent"
}

func readAll(resp *http.Response) []byte {
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return b
}
