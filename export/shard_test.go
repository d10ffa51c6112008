package export

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/recs-dev/recs/internal/errs"
	"github.com/recs-dev/recs/toplist"
)

// readDirPublication reads the manifest of dir and every list of the files
// of format f it names, checking each file's size against the manifest.
func readDirPublication(t *testing.T, dir string, f toplist.Format) (*Manifest, []toplist.List) {
	t.Helper()
	fh, err := os.Open(filepath.Join(dir, ManifestName))
	if err != nil {
		t.Fatal(err)
	}
	m, err := ReadManifest(fh, ManifestName)
	fh.Close()
	if err != nil {
		t.Fatal(err)
	}
	var lists []toplist.List
	for _, mf := range m.Parts(f) {
		path := filepath.Join(dir, filepath.FromSlash(mf.Name))
		if fi, err := os.Stat(path); err != nil || fi.Size() != mf.Bytes {
			t.Fatalf("%s: %v (manifest: %d bytes)", mf.Name, err, mf.Bytes)
		}
		_, l, err := toplist.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		lists = append(lists, l...)
	}
	return m, lists
}

func byUser(l []toplist.List) []toplist.List {
	sort.Slice(l, func(a, b int) bool { return l[a].User < l[b].User })
	return l
}

// TestDirShardedPublication: three shards of four written (each from the
// whole list set: a part keeps only its shard's users), finalize fails
// with an IncompleteError that maps to a service error (exit 4) and
// switches nothing; after the fourth, finalize publishes a version-2
// manifest whose parts hold every list exactly once; a shard run twice
// leaves only the newer attempt; finalize again is a no-op; a shard of
// the published id is refused.
func TestDirShardedPublication(t *testing.T) {
	lists := genLists(500, 5, 3)
	dir := t.TempDir()
	ctx := context.Background()
	formats := []toplist.Format{toplist.JSONL, toplist.Parquet}
	part := func(i int) Stats {
		t.Helper()
		s := &DirSink{Dir: dir, Formats: formats, Shard: toplist.Shard{Index: i, Count: 4}, Publication: "pub-a"}
		st, err := s.Publish(ctx, testMeta, Lists(lists))
		if err != nil {
			t.Fatalf("part %d: %v", i, err)
		}
		return st
	}
	fin := &DirSink{Dir: dir, Formats: formats}
	for _, i := range []int{0, 1, 3} {
		st := part(i)
		if st.Part == nil || st.Part.Users != st.Documents {
			t.Errorf("part %d: stats %+v", i, st)
		}
	}
	part(1) // a retried shard: a second attempt, superseding the first
	_, err := fin.Finalize(ctx, "pub-a", 4)
	var inc *IncompleteError
	if !errors.As(err, &inc) || !errs.IsService(err) || !reflect.DeepEqual(inc.Missing, []int{2}) {
		t.Fatalf("finalize with shard 2 missing: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, ManifestName)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("manifest after a failed finalize: %v", err)
	}
	part(2)
	st, err := fin.Finalize(ctx, "pub-a", 4)
	if err != nil {
		t.Fatal(err)
	}
	m, got := readDirPublication(t, dir, toplist.Parquet)
	if m.Version != 2 || m.Shards != 4 || m.Users != 500 || m.Items != 2500 || m.Generation != "sharded-pub-a" ||
		!reflect.DeepEqual(m.Generations, []string{"sharded-pub-a"}) || len(m.Files) != 8 || st.Documents != 500 {
		t.Errorf("manifest %+v, stats %+v", m, st)
	}
	if !reflect.DeepEqual(byUser(got), byUser(slices.Clone(lists))) {
		t.Error("the parquet parts do not hold exactly the lists published")
	}
	if _, gotJ := readDirPublication(t, dir, toplist.JSONL); !reflect.DeepEqual(byUser(gotJ), byUser(slices.Clone(lists))) {
		t.Error("the JSON lines parts do not hold exactly the lists published")
	}
	// Only the files the manifest names (and the part records) remain in
	// the generation: shard 1's first attempt is gone.
	ents, _ := os.ReadDir(filepath.Join(dir, "sharded-pub-a"))
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if len(names) != 12 {
		t.Errorf("generation holds %v, want 8 data files and 4 part records", names)
	}
	// Idempotent finalize; no writing into a published generation.
	st2, err := fin.Finalize(ctx, "pub-a", 4)
	if err != nil || st2.Manifest == nil || !st2.Manifest.PublishedAt.Equal(m.PublishedAt) {
		t.Errorf("second finalize: %v, %+v", err, st2.Manifest)
	}
	s := &DirSink{Dir: dir, Formats: formats, Shard: toplist.Shard{Index: 0, Count: 4}, Publication: "pub-a"}
	if _, err := s.Publish(ctx, testMeta, Lists(lists)); !errs.IsInput(err) || !strings.Contains(err.Error(), "already published") {
		t.Errorf("shard of a published publication: %v", err)
	}
}

// TestDirShardedVerification: a data file changed after its part record
// was written, or removed, fails the finalize (nothing switched) and names
// the file; parts of different models are refused.
func TestDirShardedVerification(t *testing.T) {
	lists := genLists(60, 3, 5)
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		spoil  func(t *testing.T, file string)
		expect string
	}{
		{"changed", func(t *testing.T, file string) {
			b, _ := os.ReadFile(file)
			b[len(b)-2] ^= 1
			os.WriteFile(file, b, 0o644)
		}, "do not match their part records"},
		{"removed", func(t *testing.T, file string) { os.Remove(file) }, "is missing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			var spoilt string
			for i := 0; i < 2; i++ {
				s := &DirSink{Dir: dir, Formats: []toplist.Format{toplist.JSONL}, Shard: toplist.Shard{Index: i, Count: 2}, Publication: "p"}
				st, err := s.Publish(ctx, testMeta, Lists(lists))
				if err != nil {
					t.Fatal(err)
				}
				spoilt = st.Part.Files[0].Name
			}
			tc.spoil(t, filepath.Join(dir, filepath.FromSlash(spoilt)))
			_, err := (&DirSink{Dir: dir}).Finalize(ctx, "p", 2)
			var inc *IncompleteError
			if !errors.As(err, &inc) || len(inc.Bad) != 1 || !strings.Contains(err.Error(), tc.expect) || !strings.Contains(err.Error(), spoilt) {
				t.Errorf("finalize: %v", err)
			}
			if _, err := os.Stat(filepath.Join(dir, ManifestName)); err == nil {
				t.Error("manifest written over a bad part")
			}
		})
	}
	dir := t.TempDir()
	for i, model := range []string{"als-1", "als-2"} {
		s := &DirSink{Dir: dir, Shard: toplist.Shard{Index: i, Count: 2}, Publication: "p"}
		meta := testMeta
		meta.Model = model
		if _, err := s.Publish(ctx, meta, Lists(lists)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := (&DirSink{Dir: dir}).Finalize(ctx, "p", 2); !errs.IsInput(err) || !strings.Contains(err.Error(), "same model") {
		t.Errorf("parts of two models: %v", err)
	}
}

// TestShardedCleanup: an unsharded publication leaves a sharded
// generation that is still being written (recent writes) alone and deletes
// one abandoned long ago (its files dated before the start minus
// pendingMargin); a finalize's own generation then rotates out of
// KeepGenerations like any other.
func TestShardedCleanup(t *testing.T) {
	lists := genLists(40, 3, 9)
	ctx := context.Background()
	dir := t.TempDir()
	for _, id := range []string{"old", "fresh"} {
		s := &DirSink{Dir: dir, Shard: toplist.Shard{Index: 0, Count: 2}, Publication: id}
		if _, err := s.Publish(ctx, testMeta, Lists(lists)); err != nil {
			t.Fatal(err)
		}
	}
	long := time.Now().Add(-2 * pendingMargin)
	old := filepath.Join(dir, "sharded-old")
	ents, _ := os.ReadDir(old)
	for _, e := range ents {
		os.Chtimes(filepath.Join(old, e.Name()), long, long)
	}
	os.Chtimes(old, long, long)
	if _, err := (&DirSink{Dir: dir}).Publish(ctx, testMeta, Lists(lists)); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(old); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("abandoned sharded generation kept: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "sharded-fresh")); err != nil {
		t.Errorf("sharded generation being written was deleted: %v", err)
	}
	// Finish "fresh", then publish twice more (keep 2): it rotates out.
	s := &DirSink{Dir: dir, Shard: toplist.Shard{Index: 1, Count: 2}, Publication: "fresh"}
	if _, err := s.Publish(ctx, testMeta, Lists(lists)); err != nil {
		t.Fatal(err)
	}
	if _, err := (&DirSink{Dir: dir}).Finalize(ctx, "fresh", 2); err != nil {
		t.Fatal(err)
	}
	m, got := readDirPublication(t, dir, toplist.JSONL)
	if len(got) != 40 || len(m.Generations) != 2 || m.Generations[0] != "sharded-fresh" {
		t.Errorf("after finalize: %d lists, generations %v", len(got), m.Generations)
	}
	for i := 0; i < 2; i++ {
		if _, err := (&DirSink{Dir: dir}).Publish(ctx, testMeta, Lists(lists)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "sharded-fresh")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("sharded generation beyond --keep-generations kept: %v", err)
	}
}

// TestShardedManifestReaders: a version-2 manifest's File refuses to pick
// one part for the whole, Parts and Readable return them all.
func TestShardedManifestReaders(t *testing.T) {
	m := &Manifest{Files: []ManifestFile{
		{Name: "g/a.jsonl", Format: toplist.JSONL}, {Name: "g/a.parquet", Format: toplist.Parquet},
		{Name: "g/b.jsonl", Format: toplist.JSONL}, {Name: "g/b.parquet", Format: toplist.Parquet}}}
	if _, ok := m.File(toplist.Parquet); ok {
		t.Error("File picked one part of a sharded publication")
	}
	if r := m.Readable(); len(r) != 2 || r[0].Name != "g/a.parquet" || r[1].Name != "g/b.parquet" {
		t.Errorf("Readable = %+v", r)
	}
	if _, err := ReadManifest(strings.NewReader(`{"format":"recs-toplist-manifest","version":3,"files":[]}`), "m"); err == nil {
		t.Error("version 3 accepted")
	}
}

// TestBlobShardedCleanup, on Azurite: parts of a sharded publication that
// a manifest does not name survive an unsharded publication while recent,
// and are deleted once abandoned (pendingMargin turned negative stands in
// for time passing: Blob Storage sets Last-Modified itself); the
// generation of a finalized sharded publication rotates out of
// KeepGenerations with the next publications.
func TestBlobShardedCleanup(t *testing.T) {
	c, _, _, _ := newTestContainer(t)
	ctx := context.Background()
	lists := genLists(50, 3, 11)
	names := func() (out []string) {
		t.Helper()
		pager := c.NewListBlobsFlatPager(nil)
		for pager.More() {
			page, err := pager.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, b := range page.Segment.BlobItems {
				out = append(out, *b.Name)
			}
		}
		return out
	}
	has := func(prefix string) bool {
		return slices.ContainsFunc(names(), func(n string) bool { return strings.HasPrefix(n, prefix) })
	}
	for i := 0; i < 2; i++ {
		s := &BlobSink{Container: c, Prefix: "p", CreateContainer: true, Shard: toplist.Shard{Index: i, Count: 2}, Publication: "job-9"}
		if _, err := s.Publish(ctx, testMeta, Lists(lists)); err != nil {
			t.Fatal(err)
		}
	}
	if has("p/" + ManifestName) {
		t.Fatal("a manifest before --finalize")
	}
	pub := &BlobSink{Container: c, Prefix: "p"}
	if _, err := pub.Publish(ctx, testMeta, Lists(lists)); err != nil {
		t.Fatal(err)
	}
	if !has("p/sharded-job-9/part-00001-of-00002.json") {
		t.Fatal("a recent sharded generation was deleted by an unsharded publication")
	}
	st, err := pub.Finalize(ctx, "job-9", 2)
	if err != nil {
		t.Fatal(err)
	}
	if st.Manifest.Users != 50 || !reflect.DeepEqual(st.Manifest.Generations[:1], []string{"sharded-job-9"}) {
		t.Errorf("finalized manifest %+v", st.Manifest)
	}
	// An abandoned publication's part, then two publications: the
	// finalized generation rotates out (retired), the abandoned one goes.
	s := &BlobSink{Container: c, Prefix: "p", Shard: toplist.Shard{Index: 0, Count: 3}, Publication: "job-10"}
	if _, err := s.Publish(ctx, testMeta, Lists(lists)); err != nil {
		t.Fatal(err)
	}
	if _, err := pub.Publish(ctx, testMeta, Lists(lists)); err != nil {
		t.Fatal(err)
	}
	if !has("p/sharded-job-9/") || !has("p/sharded-job-10/") {
		t.Fatalf("kept generation or recent part deleted: %v", names())
	}
	defer func(m time.Duration) { pendingMargin = m }(pendingMargin)
	pendingMargin = -time.Hour
	if _, err := pub.Publish(ctx, testMeta, Lists(lists)); err != nil {
		t.Fatal(err)
	}
	if has("p/sharded-job-9/") || has("p/sharded-job-10/") {
		t.Errorf("retired or abandoned sharded generation left: %v", names())
	}
}
