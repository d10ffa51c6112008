package export_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"github.com/recs-dev/recs/cli"
	"github.com/recs-dev/recs/export"
	"github.com/recs-dev/recs/internal/azure"
	"github.com/recs-dev/recs/internal/emulator"
	"github.com/recs-dev/recs/serve"
	"github.com/recs-dev/recs/toplist"
)

// TestMain lets the crash tests run `recs export` as a child process of
// this test binary: with RECS_CRASH_CHILD=1 the binary is recs (cli.Main
// with the child's arguments), and with RECS_CRASH_AT=PREFIX*SUFFIX it
// SIGKILLs itself at the first publication moment whose name matches (see
// export.SetCrashHook). A real SIGKILL runs no deferred cleanup and no
// signal handler, so what the child leaves behind is exactly what a crash
// leaves; the hook only chooses the moment, where a kill from outside
// could not hit "right after toplist.jsonl is committed" reliably. Kills
// at random moments come from the parent (crashRandom).
func TestMain(m *testing.M) {
	if os.Getenv("RECS_CRASH_CHILD") == "1" {
		if at := os.Getenv("RECS_CRASH_AT"); at != "" {
			pre, suf, _ := strings.Cut(at, "*")
			export.SetCrashHook(func(point string) {
				if len(point) >= len(pre)+len(suf) && strings.HasPrefix(point, pre) && strings.HasSuffix(point, suf) {
					syscall.Kill(os.Getpid(), syscall.SIGKILL)
					select {}
				}
			})
		}
		os.Exit(cli.Main())
	}
	os.Exit(m.Run())
}

// crashTarget is a place `recs export` re-publishes to, and how to read
// back what is there.
type crashTarget struct {
	name string
	args []string // recs export flags after the input file
	env  []string
	// manifest returns the manifest's bytes (nil if absent).
	manifest func(t *testing.T) []byte
	// file returns a published file's bytes, or an error if it is gone.
	file func(name string) ([]byte, error)
	// names lists every file or blob of the publication, relative to it,
	// leaving out the manifest and the directory's lock file.
	names func(t *testing.T) []string
	// load reads the publication as `recs serve` does.
	load func(t *testing.T) (*serve.Index, error)
}

// childRun runs `recs export` in a child process. With crashAt it must die
// of SIGKILL at that moment; with killAfter > 0 the parent SIGKILLs it
// then (if it is still running). It reports whether the child was killed.
func childRun(t *testing.T, tg *crashTarget, input, crashAt string, killAfter time.Duration) bool {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"export", input}, tg.args...)...)
	cmd.Env = append(append(os.Environ(), "RECS_CRASH_CHILD=1", "RECS_CRASH_AT="+crashAt, "RECS_LOG_FORMAT=text"), tg.env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if killAfter > 0 {
		timer := time.AfterFunc(killAfter, func() { cmd.Process.Signal(syscall.SIGKILL) })
		defer timer.Stop()
	}
	err := cmd.Wait()
	ws, _ := cmd.ProcessState.Sys().(syscall.WaitStatus)
	killed := ws.Signaled() && ws.Signal() == syscall.SIGKILL
	switch {
	case crashAt != "" && !killed:
		t.Fatalf("%s: the child was to die at %q but ended with %v:\n%s", tg.name, crashAt, err, out.String())
	case !killed && err != nil:
		t.Fatalf("%s: recs export failed: %v\n%s", tg.name, err, out.String())
	}
	return killed
}

// checkConsistent verifies that the manifest names files that exist with
// exactly its sizes and SHA-256, that it is one of the models published,
// and that a reader (`recs serve`'s loader) gets its lists. It returns the
// manifest.
func checkConsistent(t *testing.T, tg *crashTarget, models []string, users map[string]int) *export.Manifest {
	t.Helper()
	b := tg.manifest(t)
	if b == nil {
		t.Fatalf("%s: no manifest", tg.name)
	}
	m, err := export.ReadManifest(bytes.NewReader(b), export.ManifestName)
	if err != nil {
		t.Fatalf("%s: %v", tg.name, err)
	}
	if !slices.Contains(models, m.Model) || m.Users != int64(users[m.Model]) {
		t.Errorf("%s: manifest of model %q with %d users; published were %v (%v)", tg.name, m.Model, m.Users, models, users)
	}
	if len(m.Files) != 3 {
		t.Errorf("%s: manifest names %d files, want 3", tg.name, len(m.Files))
	}
	for _, f := range m.Files {
		data, err := tg.file(f.Name)
		if err != nil {
			t.Errorf("%s: the manifest names %s: %v", tg.name, f.Name, err)
			continue
		}
		sum := sha256.Sum256(data)
		if int64(len(data)) != f.Bytes || hex.EncodeToString(sum[:]) != f.SHA256 {
			t.Errorf("%s: %s holds %d bytes, SHA-256 %x; the manifest says %d bytes, %s", tg.name, f.Name, len(data), sum[:6], f.Bytes, f.SHA256[:12])
		}
	}
	idx, err := tg.load(t)
	if err != nil {
		t.Errorf("%s: a reader cannot load the publication: %v", tg.name, err)
	} else if info := idx.Info(); info.Model != m.Model || info.Users != int(m.Users) {
		t.Errorf("%s: the reader loaded model %q, %d users; the manifest says %q, %d", tg.name, info.Model, info.Users, m.Model, m.Users)
	}
	return m
}

// checkClean verifies that after a complete run only the manifest and the
// files of the generations it keeps are left: no leftovers of killed runs.
func checkClean(t *testing.T, tg *crashTarget, m *export.Manifest, keep int) {
	t.Helper()
	if len(m.Generations) == 0 || m.Generations[0] != m.Generation || len(m.Generations) > keep {
		t.Errorf("%s: generations %v, current %q, keep %d", tg.name, m.Generations, m.Generation, keep)
	}
	var want []string
	for _, g := range m.Generations {
		for _, f := range []string{"toplist.jsonl", "toplist.jsonl.gz", "toplist.parquet"} {
			want = append(want, g+"/"+f)
		}
	}
	sort.Strings(want)
	if got := tg.names(t); !slices.Equal(got, want) {
		t.Errorf("%s: after a complete run the publication holds\n%v\nwant\n%v", tg.name, got, want)
	}
}

// writeInputs writes two top-k files of different models and sizes, so a
// manifest that named the other's bytes would be caught.
func writeInputs(t *testing.T, dir string, n int) (paths, models []string, users map[string]int) {
	t.Helper()
	users = map[string]int{}
	for i, model := range []string{"als-crash-a", "als-crash-b"} {
		rng := rand.New(rand.NewPCG(uint64(i+1), 99))
		nu := n + i*37
		lists := make([]toplist.List, nu)
		for u := range lists {
			items := make([]toplist.Item, 10)
			for j := range items {
				items[j] = toplist.Item{ID: fmt.Sprint(rng.IntN(5000) + j*5000), Score: float32(10 - j)}
			}
			lists[u] = toplist.List{User: fmt.Sprintf("u%06d", u), Items: items}
		}
		p := filepath.Join(dir, model+".parquet")
		if err := toplist.WriteFile(p, toplist.Meta{Model: model, K: 10, GeneratedAt: time.Date(2024, 5, 1, 2, 0, 0, 0, time.UTC)}, lists); err != nil {
			t.Fatal(err)
		}
		paths, models, users[model] = append(paths, p), append(models, model), nu
	}
	return paths, models, users
}

// crashScenarios kills re-publications of tg at every named moment and at
// random ones; after each kill the publication must be consistent, and the
// next (complete) run must succeed and leave no leftovers.
func crashScenarios(t *testing.T, tg *crashTarget, inputs, models []string, users map[string]int) {
	const keep = 2
	// Two complete publications first: every later run replaces one and,
	// past the switch, removes the oldest generation.
	for i := range 2 {
		childRun(t, tg, inputs[i], "", 0)
	}
	checkClean(t, tg, checkConsistent(t, tg, models, users), keep)

	run := 0
	next := func() string { run++; return inputs[run%2] }
	points := []string{
		"committed *toplist.jsonl",    // the first data file is complete
		"committed *toplist.jsonl.gz", // the second
		"committed *toplist.parquet",  // every data file, not the manifest
		"before manifest",
		"after manifest", // switched, nothing cleaned up yet
		"removed *",      // the first old file or folder deleted
	}
	for _, p := range points {
		childRun(t, tg, next(), p, 0)
		checkConsistent(t, tg, models, users)
		childRun(t, tg, next(), "", 0)
		checkClean(t, tg, checkConsistent(t, tg, models, users), keep)
	}

	// Random moments, uniform over the length of a complete run (measured
	// here, so the test holds on any machine; where each kill lands does
	// not matter, only that every state left behind is consistent).
	start := time.Now()
	childRun(t, tg, next(), "", 0)
	full := time.Since(start)
	rng := rand.New(rand.NewPCG(13, 2024))
	kills := 8
	if testing.Short() {
		kills = 3
	}
	killed := 0
	for range kills {
		if childRun(t, tg, next(), "", time.Duration(rng.Int64N(int64(full)))+time.Millisecond) {
			killed++
		}
		checkConsistent(t, tg, models, users)
	}
	childRun(t, tg, next(), "", 0)
	checkClean(t, tg, checkConsistent(t, tg, models, users), keep)
	t.Logf("%s: %d named kill points; %d of %d random kills landed before the end of a %v run", tg.name, len(points), killed, kills, full.Round(time.Millisecond))
}

var crashFormats = []string{"--formats", "jsonl,jsonl.gz,parquet", "--keep-generations", "2"}

func TestCrashRepublishDir(t *testing.T) {
	dir := t.TempDir()
	inputs, models, users := writeInputs(t, dir, 20000)
	pub := filepath.Join(dir, "pub")
	tg := &crashTarget{
		name: "dir",
		args: append([]string{"--to", "dir", "--dir", pub}, crashFormats...),
		manifest: func(t *testing.T) []byte {
			b, err := os.ReadFile(filepath.Join(pub, export.ManifestName))
			if errors.Is(err, os.ErrNotExist) {
				return nil
			}
			if err != nil {
				t.Fatal(err)
			}
			return b
		},
		file: func(name string) ([]byte, error) { return os.ReadFile(filepath.Join(pub, filepath.FromSlash(name))) },
		names: func(t *testing.T) []string {
			var names []string
			err := filepath.WalkDir(pub, func(p string, d os.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				rel, _ := filepath.Rel(pub, p)
				if rel != export.ManifestName && rel != ".recs-publish.lock" {
					names = append(names, filepath.ToSlash(rel))
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			sort.Strings(names)
			return names
		},
		load: func(t *testing.T) (*serve.Index, error) {
			idx, _, err := (&serve.FileSource{Path: pub}).Load(context.Background())
			return idx, err
		},
	}
	crashScenarios(t, tg, inputs, models, users)
}

func TestCrashRepublishBlob(t *testing.T) {
	az := emulator.Azurite(t)
	dir := t.TempDir()
	inputs, models, users := writeInputs(t, dir, 20000)
	name := fmt.Sprintf("crash%d", time.Now().UnixNano()%1e9)
	cc, err := container.NewClientFromConnectionString(az.ConnectionString(), name, nil)
	if err != nil {
		t.Fatal(err)
	}
	const prefix = "nightly/"
	get := func(blobName string) ([]byte, error) {
		resp, err := cc.NewBlobClient(prefix+blobName).DownloadStream(context.Background(), nil)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		return io.ReadAll(resp.Body)
	}
	tg := &crashTarget{
		name: "blob",
		args: append([]string{"--to", "blob", "--blob-container", name, "--prefix", "nightly"}, crashFormats...),
		env:  []string{"AZURE_STORAGE_CONNECTION_STRING=" + az.ConnectionString()},
		manifest: func(t *testing.T) []byte {
			b, err := get(export.ManifestName)
			if err != nil {
				t.Fatalf("manifest: %v", err)
			}
			return b
		},
		file: get,
		names: func(t *testing.T) []string {
			var names []string
			p := prefix
			pager := cc.NewListBlobsFlatPager(&container.ListBlobsFlatOptions{Prefix: &p})
			for pager.More() {
				page, err := pager.NextPage(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				for _, b := range page.Segment.BlobItems {
					if n := strings.TrimPrefix(*b.Name, prefix); n != export.ManifestName {
						names = append(names, n)
					}
				}
			}
			sort.Strings(names)
			return names
		},
		load: func(t *testing.T) (*serve.Index, error) {
			src, err := serve.NewBlobSource(azure.BlobLocation{Container: name, ConnectionString: az.ConnectionString()}, prefix)
			if err != nil {
				return nil, err
			}
			src.TempDir = t.TempDir()
			idx, _, err := src.Load(context.Background())
			return idx, err
		},
	}
	crashScenarios(t, tg, inputs, models, users)
}
