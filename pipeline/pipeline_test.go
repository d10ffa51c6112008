package pipeline

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/recs-dev/recs/als"
	"github.com/recs-dev/recs/internal/errs"
	"github.com/recs-dev/recs/rundir"
	"github.com/recs-dev/recs/synth"
	"github.com/recs-dev/recs/toplist"
)

// smallData writes a small synthetic ratings file and returns its path.
func smallData(t *testing.T) string {
	t.Helper()
	cfg := synth.Config{Users: 200, Items: 150, Ratings: 6000, Seed: 5}
	path := filepath.Join(t.TempDir(), "ratings.csv")
	if err := synth.WriteFile(context.Background(), path, cfg, synth.Format("csv")); err != nil {
		t.Fatal(err)
	}
	return path
}

func testConfig(input, root string) Config {
	c := Defaults()
	c.Input.Sources = []string{input}
	c.Runs.Root = root
	c.ALS.MaxIter = 4
	return c
}

// TestDeterministic: the same configuration and seed give byte-identical
// metrics documents and identical top-k lists, whatever the thread count.
func TestDeterministic(t *testing.T) {
	in := smallData(t)
	var metrics [][]byte
	var lists [][]toplist.List
	for i, threads := range []int{1, 2, 3} {
		c := testConfig(in, filepath.Join(t.TempDir(), "runs"))
		c.ALS.Threads = threads
		res, err := Run(context.Background(), c, "test", Hooks{})
		if err != nil {
			t.Fatalf("run %d: %v", i, err)
		}
		b, err := os.ReadFile(filepath.Join(res.Dir, rundir.MetricsFile))
		if err != nil {
			t.Fatal(err)
		}
		_, l, err := toplist.ReadFile(filepath.Join(res.Dir, rundir.TopKFile))
		if err != nil {
			t.Fatal(err)
		}
		metrics, lists = append(metrics, b), append(lists, l)
	}
	for i := 1; i < len(metrics); i++ {
		if !bytes.Equal(metrics[0], metrics[i]) {
			t.Errorf("metrics.json of run %d differs from run 0", i)
		}
		if !reflect.DeepEqual(lists[0], lists[i]) {
			t.Errorf("top-k lists of run %d differ from run 0", i)
		}
	}
	if len(lists[0]) == 0 {
		t.Fatal("no lists")
	}
}

// TestInterruptedRunLeavesNothing cancels a run during the fit: no run
// directory, no temporary directory, latest unchanged.
func TestInterruptedRunLeavesNothing(t *testing.T) {
	in := smallData(t)
	root := filepath.Join(t.TempDir(), "runs")
	c := testConfig(in, root)
	first, err := Run(context.Background(), c, "test", Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c.ALS.MaxIter = 50
	_, err = Run(ctx, c, "test", Hooks{Iteration: func(it als.Iteration) {
		if it.Iter == 2 {
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	latest, err := ResolveLatest(root)
	if err != nil || latest != first.Dir {
		t.Errorf("latest = %q (%v), want %q", latest, err, first.Dir)
	}
	ents, _ := os.ReadDir(root)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	// .lock, latest and the first run only.
	if len(names) != 3 {
		t.Errorf("run root holds %v, want .lock, the first run and latest", names)
	}
}

// TestBadInputRecordsFailedRun: bad input fails with an input error and a
// recorded run; latest does not move.
func TestBadInputRecordsFailedRun(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte("userId,movieId,rating,timestamp\n1,2,abc,3\n"), 0o644)
	root := filepath.Join(dir, "runs")
	res, err := Run(context.Background(), testConfig(bad, root), "test", Hooks{})
	if !errs.IsInput(err) {
		t.Fatalf("err = %v, want an input error", err)
	}
	if res == nil || res.Manifest.Status != "failed" || res.Manifest.ExitCode != 3 {
		t.Fatalf("result %+v, want a recorded failed run with exit code 3", res)
	}
	if _, err := ResolveLatest(root); err == nil {
		t.Error("latest exists after a failed first run")
	}
}

func TestLock(t *testing.T) {
	root := t.TempDir()
	l, err := AcquireLock(root)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := AcquireLock(root); !errors.Is(err, ErrLocked) {
		t.Fatalf("second lock: %v, want ErrLocked", err)
	}
	l.Release()
	l2, err := AcquireLock(root)
	if err != nil {
		t.Fatalf("lock after release: %v", err)
	}
	l2.Release()
}

func TestPruneKeepsLatest(t *testing.T) {
	root := t.TempDir()
	names := []string{"20260101T000000Z-aaaaaa", "20260102T000000Z-bbbbbb", "20260103T000000Z-cccccc", "20260104T000000Z-dddddd"}
	for _, n := range names {
		os.Mkdir(filepath.Join(root, n), 0o755)
	}
	// latest points at the oldest: it must survive a prune to 2.
	if err := switchLatest(root, names[0]); err != nil {
		t.Fatal(err)
	}
	removed, err := prune(root, 2)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(removed, []string{names[1]}) {
		t.Errorf("removed %v, want [%s]", removed, names[1])
	}
	for _, n := range []string{names[0], names[2], names[3]} {
		if _, err := os.Stat(filepath.Join(root, n)); err != nil {
			t.Errorf("%s removed", n)
		}
	}
}

// TestConfigYAMLHasNoSAS: the configuration written into a run directory
// (and printed by --print-config) drops URL queries, where SAS tokens live.
func TestConfigYAMLHasNoSAS(t *testing.T) {
	c := Defaults()
	c.Input.Sources = []string{"https://acct.blob.core.windows.net/c/ratings.csv?sv=2024&sig=SECRETSIG", "local.csv"}
	c.Publish.BlobURL = "https://acct.blob.core.windows.net/out/nightly?sig=OTHERSECRET"
	y := string(c.YAML())
	for _, secret := range []string{"SECRETSIG", "OTHERSECRET", "sv=2024"} {
		if bytes.Contains([]byte(y), []byte(secret)) {
			t.Errorf("YAML shows %q:\n%s", secret, y)
		}
	}
	if !bytes.Contains([]byte(y), []byte("https://acct.blob.core.windows.net/c/ratings.csv")) || !bytes.Contains([]byte(y), []byte("local.csv")) {
		t.Errorf("YAML lost the sources:\n%s", y)
	}
	if c.Input.Sources[0] == "https://acct.blob.core.windows.net/c/ratings.csv" {
		t.Error("YAML modified the configuration it printed")
	}
}
