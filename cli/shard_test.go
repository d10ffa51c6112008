package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"github.com/recs-dev/recs/export"
	"github.com/recs-dev/recs/internal/azure"
	"github.com/recs-dev/recs/internal/emulator"
	"github.com/recs-dev/recs/serve"
	"github.com/recs-dev/recs/toplist"
)

// shardedModel synthesises ml-100k-shaped ratings (943 users), fits a small
// model and writes the unsharded top-10 of every user to all.jsonl.
func shardedModel(t *testing.T, dir string) (model, ratings, all string) {
	t.Helper()
	ratings = filepath.Join(dir, "ratings.csv")
	model = filepath.Join(dir, "model")
	all = filepath.Join(dir, "all.jsonl")
	for _, args := range [][]string{
		{"synth", "--preset", "ml-100k", "--seed", "7", "-o", ratings},
		{"fit", ratings, "-o", model, "--rank", "8", "--max-iter", "3", "--seed", "1"},
		{"recommend", "--model", model, "--k", "10", "--exclude", ratings, "-o", all},
	} {
		if code, _, stderr := runArgs(t, args...); code != ExitOK {
			t.Fatalf("recs %v: exit %d\n%s", args, code, stderr)
		}
	}
	return model, ratings, all
}

// listLines returns the list lines of a JSON lines top-k file (its header
// dropped), sorted.
func listLines(t *testing.T, data []byte) []string {
	t.Helper()
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) == 0 || !strings.Contains(lines[0], `"format":"recs-toplist"`) {
		t.Fatalf("not a top-k JSON lines file: %.80q", data)
	}
	out := lines[1:]
	slices.Sort(out)
	return out
}

func blobExists(t *testing.T, c *container.Client, name string) bool {
	t.Helper()
	_, err := c.NewBlobClient(name).GetProperties(context.Background(), nil)
	if bloberror.HasCode(err, bloberror.BlobNotFound, bloberror.ContainerNotFound) {
		return false
	}
	if err != nil {
		t.Fatal(err)
	}
	return true
}

func downloadBlob(t *testing.T, c *container.Client, name string) []byte {
	t.Helper()
	resp, err := c.NewBlobClient(name).DownloadStream(context.Background(), nil)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestShardedRecommendExportBlob tests sharding end to end: four
// `recommend --shard I/4` runs, each published with `export --to blob
// --shard I/4` into Azurite, then `export --finalize 4`. The manifest
// appears only after all four parts exist; the lists of the parts it names
// are, as sorted JSON lines, byte for byte those of one unsharded
// recommend of the same model; `recs serve`'s Blob source reads them all.
// A publication missing a shard fails to finalize with exit 4 and leaves
// no manifest; --finalize --wait picks the part up when it arrives.
func TestShardedRecommendExportBlob(t *testing.T) {
	az := emulator.Azurite(t)
	dir := t.TempDir()
	model, ratings, all := shardedModel(t, dir)
	allBytes, err := os.ReadFile(all)
	if err != nil {
		t.Fatal(err)
	}
	want := listLines(t, allBytes)
	if len(want) != 943 {
		t.Fatalf("unsharded run: %d lists, want 943 (the ml-100k preset's users)", len(want))
	}

	parts := make([]string, 4)
	users := 0
	for i := range parts {
		parts[i] = filepath.Join(dir, fmt.Sprintf("part-%d.jsonl", i))
		code, stdout, stderr := runArgs(t, "recommend", "--model", model, "--k", "10", "--exclude", ratings,
			"--shard", fmt.Sprintf("%d/4", i), "-o", parts[i], "--json")
		var res recommendResult
		if code != ExitOK || json.Unmarshal([]byte(stdout), &res) != nil {
			t.Fatalf("recommend --shard %d/4: exit %d, %q\n%s", i, code, stdout, stderr)
		}
		// Every list of the part is of a user of shard i.
		_, lists, err := toplist.ReadFile(parts[i])
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range lists {
			if toplist.ShardOf(l.User, 4) != i {
				t.Fatalf("part %d holds user %s of shard %d", i, l.User, toplist.ShardOf(l.User, 4))
			}
		}
		if res.Users != int64(len(lists)) || res.Shard != fmt.Sprintf("%d/4", i) {
			t.Errorf("recommend --shard %d/4 --json: %+v, file has %d lists", i, res, len(lists))
		}
		users += len(lists)
	}
	if users != 943 {
		t.Errorf("the four shards hold %d lists, want 943", users)
	}

	name := fmt.Sprintf("shard%d", time.Now().UnixNano()%1e9)
	t.Setenv("AZURE_STORAGE_CONNECTION_STRING", az.ConnectionString())
	c, err := container.NewClientFromConnectionString(az.ConnectionString(), name, nil)
	if err != nil {
		t.Fatal(err)
	}
	to := []string{"--to", "blob", "--blob-container", name, "--prefix", "nightly", "--publication", "job-1"}
	finalize := append([]string{"export", "--finalize", "4"}, to...)
	for i, p := range parts {
		if i == 3 {
			// Three of four parts: finalize fails (exit 4), names the
			// missing shard and switches nothing.
			code, stdout, stderr := runArgs(t, finalize...)
			if code != ExitService || !strings.Contains(stderr, "1 of 4 shard parts missing (shards 3)") {
				t.Errorf("finalize with shard 3 missing: exit %d, want %d\nstdout %s\nstderr %s", code, ExitService, stdout, stderr)
			}
			if blobExists(t, c, "nightly/manifest.json") {
				t.Fatal("a failed finalize left a manifest")
			}
		}
		args := append([]string{"export", p, "--shard", fmt.Sprintf("%d/4", i)}, to...)
		if code, stdout, stderr := runArgs(t, args...); code != ExitOK || !strings.Contains(stdout, "0 lists of other shards skipped") {
			t.Fatalf("export --shard %d/4: exit %d\n%s\n%s", i, code, stdout, stderr)
		}
		if blobExists(t, c, "nightly/manifest.json") {
			t.Fatalf("a manifest appeared after part %d, before --finalize", i)
		}
		if !blobExists(t, c, fmt.Sprintf("nightly/sharded-job-1/part-%05d-of-00004.json", i)) {
			t.Fatalf("part record %d missing", i)
		}
	}
	code, stdout, stderr := runArgs(t, append(finalize, "--json")...)
	var fin finalizeResult
	if code != ExitOK || json.Unmarshal([]byte(stdout), &fin) != nil {
		t.Fatalf("finalize: exit %d %q\n%s", code, stdout, stderr)
	}
	m, err := export.ReadManifest(bytes.NewReader(downloadBlob(t, c, "nightly/manifest.json")), "manifest.json")
	if err != nil {
		t.Fatal(err)
	}
	if m.Version != 2 || m.Shards != 4 || m.Users != 943 || m.Generation != "sharded-job-1" || fin.Already || fin.Users != 943 {
		t.Errorf("manifest: version %d, %d shards, %d users, generation %q; result %+v", m.Version, m.Shards, m.Users, m.Generation, fin)
	}
	// 2 formats (jsonl, parquet) × 4 shards, each checked by a reader:
	// size and SHA-256 as named, lists as the unsharded run's.
	jsonl := m.Parts(toplist.JSONL)
	if len(m.Files) != 8 || len(jsonl) != 4 || len(m.Parts(toplist.Parquet)) != 4 {
		t.Fatalf("manifest files: %+v", m.Files)
	}
	var got []string
	for i, f := range jsonl {
		if !strings.HasPrefix(f.Name, fmt.Sprintf("sharded-job-1/part-%05d-of-00004-", i)) {
			t.Errorf("part %d is %s", i, f.Name)
		}
		b := downloadBlob(t, c, "nightly/"+f.Name)
		if int64(len(b)) != f.Bytes {
			t.Errorf("%s: %d bytes, manifest says %d", f.Name, len(b), f.Bytes)
		}
		got = append(got, listLines(t, b)...)
	}
	slices.Sort(got)
	if g, w := strings.Join(got, "\n"), strings.Join(want, "\n"); g != w {
		t.Errorf("the union of the parts differs from the unsharded run (%d lines against %d)", len(got), len(want))
	}
	// serve reads the whole publication from its parts.
	src, err := serve.NewBlobSource(azure.BlobLocation{Container: name}.WithDefaults(), "nightly")
	if err != nil {
		t.Fatal(err)
	}
	idx, _, err := src.Load(context.Background())
	if err != nil || idx.Len() != 943 {
		t.Fatalf("serve's Blob source: %v, %d lists", err, idx.Len())
	}

	// Finalize again (a retried job) does nothing; a shard of a published
	// publication is refused (exit 3) and changes nothing.
	if code, stdout, stderr := runArgs(t, finalize...); code != ExitOK || !strings.Contains(stdout, "already finalized") {
		t.Errorf("second finalize: exit %d %q\n%s", code, stdout, stderr)
	}
	if code, _, stderr := runArgs(t, append([]string{"export", parts[0], "--shard", "0/4"}, to...)...); code != ExitInput || !strings.Contains(stderr, "already published") {
		t.Errorf("shard of a published publication: exit %d\n%s", code, stderr)
	}

	// Another publication under its own prefix, shard 2 missing: exit 4,
	// no manifest. Then finalize --wait, with the part arriving meanwhile.
	to2 := []string{"--to", "blob", "--blob-container", name, "--prefix", "other", "--publication", "job-2"}
	for _, i := range []int{0, 1, 3} {
		if code, _, stderr := runArgs(t, append([]string{"export", all, "--shard", fmt.Sprintf("%d/4", i)}, to2...)...); code != ExitOK {
			t.Fatalf("export --shard %d/4: exit %d\n%s", i, code, stderr)
		}
	}
	code, _, stderr = runArgs(t, append([]string{"export", "--finalize", "4"}, to2...)...)
	if code != ExitService || !strings.Contains(stderr, "shards 2") {
		t.Errorf("finalize without shard 2: exit %d, want %d\n%s", code, ExitService, stderr)
	}
	if blobExists(t, c, "other/manifest.json") {
		t.Fatal("finalize without shard 2 left a manifest")
	}
	finalizePoll = 50 * time.Millisecond
	defer func() { finalizePoll = 10 * time.Second }()
	done := make(chan int)
	var wout bytes.Buffer
	werr := &syncBuffer{}
	go func() {
		env := &Env{In: bytes.NewReader(nil), Out: &wout, Err: werr}
		done <- Run(context.Background(), env, append([]string{"export", "--finalize", "4", "--wait", "2m"}, to2...))
	}()
	// The part is written only once the waiting finalize has found it
	// missing (it logs so), so the wait is exercised whatever the timing.
	for !strings.Contains(werr.String(), "waiting for shard parts") {
		select {
		case code := <-done:
			t.Fatalf("finalize --wait ended (exit %d) before the part was written:\n%s", code, werr.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	if code, _, stderr := runArgs(t, append([]string{"export", all, "--shard", "2/4"}, to2...)...); code != ExitOK {
		t.Fatalf("export --shard 2/4: exit %d\n%s", code, stderr)
	}
	waitOut, waitErr := "", ""
	if code := <-done; code != ExitOK {
		t.Errorf("finalize --wait: exit %d\n%s\n%s", code, wout.String(), werr.String())
	}
	waitOut, waitErr = wout.String(), werr.String()
	if !strings.Contains(waitOut, "finalized publication job-2") {
		t.Errorf("finalize --wait: %q", waitOut)
	}
	m2, err := export.ReadManifest(bytes.NewReader(downloadBlob(t, c, "other/manifest.json")), "manifest.json")
	if err != nil || m2.Users != 943 {
		t.Errorf("job-2 manifest: %v, %+v", err, m2)
	}
	noSecrets(t, []string{az.Key}, stdout, stderr, waitOut, waitErr)
}

// syncBuffer is a bytes.Buffer safe for one writer and concurrent readers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestShardedExportCosmos: four concurrent
// `export --to cosmos --shard I/4` of one top-k file write every user's
// document exactly once (each list's items and scores bit for bit), each
// shard its own users, each with its own checkpoint.
func TestShardedExportCosmos(t *testing.T) {
	emu := emulator.Cosmos(t)
	dir := t.TempDir()
	path, lists := writeTopK(t, dir, 400)
	t.Setenv("RECS_COSMOS_ENDPOINT", emu.Endpoint)
	t.Setenv("RECS_COSMOS_KEY", emu.Key)
	db := fmt.Sprintf("shard-%d", time.Now().UnixNano())

	perShard := make([]int64, 4)
	for _, l := range lists {
		perShard[toplist.ShardOf(l.User, 4)]++
	}
	var wg sync.WaitGroup
	results := make([]exportResult, 4)
	errsOut := make([]error, 4)
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, stdout, stderr := runArgs(t, "export", path, "--to", "cosmos", "--database", db, "--shard", fmt.Sprintf("%d/4", i),
				"--concurrency", "4", "--json")
			if code != ExitOK {
				errsOut[i] = fmt.Errorf("shard %d: exit %d\n%s", i, code, stderr)
				return
			}
			if err := json.Unmarshal([]byte(stdout), &results[i]); err != nil {
				errsOut[i] = err
			}
			noSecrets(t, []string{emu.Key}, stdout, stderr)
		}()
	}
	wg.Wait()
	if err := errors.Join(errsOut...); err != nil {
		t.Fatal(err)
	}
	for i, r := range results {
		if r.Documents != perShard[i] || r.OtherShards != 400-perShard[i] || r.Shard != fmt.Sprintf("%d/4", i) {
			t.Errorf("shard %d: %d documents, %d lists of other shards; want %d and %d", i, r.Documents, r.OtherShards, perShard[i], 400-perShard[i])
		}
		ck, err := export.ReadCheckpoint(fmt.Sprintf("%s.shard-%d-of-4.checkpoint.json", path, i))
		if err != nil || ck == nil || !ck.Complete || ck.Done != perShard[i] {
			t.Errorf("shard %d checkpoint: %+v, %v", i, ck, err)
		}
	}
	client, err := export.NewCosmosClient(emu.Endpoint, emu.Key, nil)
	if err != nil {
		t.Fatal(err)
	}
	cc, err := client.NewContainer(db, export.DefaultContainer)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	pager := cc.NewQueryItemsPager("SELECT * FROM c", azcosmos.NewPartitionKey(), nil)
	byUser := map[string]toplist.List{}
	for _, l := range lists {
		byUser[l.User] = l
	}
	for pager.More() {
		page, err := pager.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, raw := range page.Items {
			var d struct {
				ID    string         `json:"id"`
				Items []toplist.Item `json:"items"`
			}
			if err := json.Unmarshal(raw, &d); err != nil {
				t.Fatal(err)
			}
			seen[d.ID]++
			if l, ok := byUser[d.ID]; !ok || !slices.Equal(l.Items, d.Items) {
				t.Errorf("document %s: items %+v, want %+v", d.ID, d.Items, l.Items)
			}
		}
	}
	if len(seen) != 400 {
		t.Errorf("%d users have documents, want 400", len(seen))
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("user %s: %d documents", id, n)
		}
	}
}

// TestExportShardFlags covers the usage errors of the sharding flags.
func TestExportShardFlags(t *testing.T) {
	dir := t.TempDir()
	path, _ := writeTopK(t, dir, 5)
	t.Setenv("RECS_COSMOS_ENDPOINT", "")
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"export", path, "--to", "dir", "--dir", dir, "--shard", "4/4", "--publication", "p"}, "I must be 0 to N-1"},
		{[]string{"export", path, "--to", "dir", "--dir", dir, "--shard", "0/4"}, "needs --publication"},
		{[]string{"export", path, "--to", "dir", "--dir", dir, "--publication", "p"}, "--publication needs --shard"},
		{[]string{"export", path, "--to", "dir", "--dir", dir, "--shard", "0/4", "--publication", "a/b"}, "publication id"},
		{[]string{"export", path, "--to", "dir", "--dir", dir, "--finalize", "4", "--publication", "p"}, "--finalize takes no TOPK"},
		{[]string{"export", "--to", "dir", "--dir", dir, "--finalize", "4"}, "--finalize needs --publication"},
		{[]string{"export", "--to", "dir", "--dir", dir, "--finalize", "0", "--publication", "p"}, "want the number of shards"},
		{[]string{"export", "--to", "dir", "--dir", dir, "--finalize", "2", "--shard", "0/2", "--publication", "p"}, "exclude each other"},
		{[]string{"export", "--to", "cosmos", "--finalize", "2", "--publication", "p"}, "--to blob or dir"},
		{[]string{"export", path, "--to", "cosmos", "--cosmos-endpoint", "http://x/", "--shard", "0/2", "--publication", "p"}, "does not apply to --to cosmos"},
		{[]string{"export", path, "--to", "dir", "--dir", dir, "--wait", "1m"}, "--wait applies to --finalize only"},
		{[]string{"export", "--to", "dir", "--dir", dir}, "TOPK must not be empty"},
		{[]string{"recommend", "--model", dir, "-o", path, "--shard", "1/0"}, "N must be 1 to"},
	} {
		code, _, stderr := runArgs(t, tc.args...)
		if code != ExitUsage || !strings.Contains(stderr, tc.msg) {
			t.Errorf("recs %v: exit %d, want %d with %q; stderr:\n%s", tc.args, code, ExitUsage, tc.msg, stderr)
		}
	}
}
