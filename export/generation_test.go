package export

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"

	"github.com/recs-dev/recs/internal/errs"
	"github.com/recs-dev/recs/toplist"
)

func TestRetain(t *testing.T) {
	g := func(i int) string { return newGenerationID(time.Date(2024, 5, i, 2, 0, 0, 0, time.UTC)) }
	g1, g2, g3, g4 := g(1), g(2), g(3), g(4)
	for _, tc := range []struct {
		name       string
		old        *Manifest
		keep       int
		want       []string
		wantLegacy bool
	}{
		{"first publication", nil, 2, []string{g4}, false},
		{"over a pre-generation publication, keep 2", &Manifest{}, 2, []string{g4}, true},
		{"over a pre-generation publication, keep 1", &Manifest{}, 1, []string{g4}, false},
		{"keep 2", &Manifest{Generation: g3, Generations: []string{g3, g2}}, 2, []string{g4, g3}, false},
		{"keep 3", &Manifest{Generation: g3, Generations: []string{g3, g2}}, 3, []string{g4, g3, g2}, false},
		{"keep 1", &Manifest{Generation: g3, Generations: []string{g3, g2}}, 1, []string{g4}, false},
		{"0 means the default (2)", &Manifest{Generation: g3, Generations: []string{g3, g2, g1}}, 0, []string{g4, g3}, false},
		{"an old manifest without the list", &Manifest{Generation: g3}, 3, []string{g4, g3}, false},
		{"junk in the list is ignored", &Manifest{Generation: g3, Generations: []string{g3, "../x", g1}}, 3, []string{g4, g3, g1}, false},
	} {
		got, legacy := retain(g4, tc.old, tc.keep)
		if !reflect.DeepEqual(got, tc.want) || legacy != tc.wantLegacy {
			t.Errorf("%s: retain = %v, %v; want %v, %v", tc.name, got, legacy, tc.want, tc.wantLegacy)
		}
	}
	if id := newGenerationID(time.Now()); !isGenerationID(id) {
		t.Errorf("new generation id %q does not match the pattern", id)
	}
}

func TestReadManifestRejectsEscapingNames(t *testing.T) {
	for _, name := range []string{"../toplist.jsonl", "/etc/passwd", "a//b", "./x", "g/../../x", `a\b`, ""} {
		b := `{"format":"recs-toplist-manifest","version":1,"files":[{"name":` + string(toplist.AppendJSONString(nil, name)) + `,"format":"jsonl"}]}`
		if _, err := ReadManifest(strings.NewReader(b), "m.json"); err == nil {
			t.Errorf("file name %q accepted", name)
		}
	}
}

// readDirManifestT reads DIR/manifest.json.
func readDirManifestT(t *testing.T, dir string) *Manifest {
	t.Helper()
	m, err := readDirManifest(filepath.Join(dir, ManifestName))
	if err != nil || m == nil {
		t.Fatalf("manifest: %v, %v", m, err)
	}
	return m
}

func TestDirSinkGenerations(t *testing.T) {
	dir := t.TempDir()
	// A publication as recs wrote it before generations: data files beside
	// the manifest.
	legacy := genLists(50, 10, 30)
	if err := toplist.WriteFile(filepath.Join(dir, "toplist.jsonl"), testMeta, legacy); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, ManifestName), []byte(`{"format":"recs-toplist-manifest","version":1,"model":"old","users":50,"files":[{"name":"toplist.jsonl","format":"jsonl"}]}`), 0o644)

	s := &DirSink{Dir: dir, Formats: []toplist.Format{toplist.JSONL}}
	var mans []*Manifest
	for i := range 4 {
		lists := genLists(100+i, 10, uint64(40+i))
		if _, err := s.Publish(context.Background(), testMeta, Lists(lists)); err != nil {
			t.Fatal(err)
		}
		m := readDirManifestT(t, dir)
		mans = append(mans, m)
		// The files of the previous publication are untouched: a reader
		// holding its manifest still reads exactly what it names.
		if i > 0 {
			prev := mans[i-1]
			b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(prev.Files[0].Name)))
			if err != nil || int64(len(b)) != prev.Files[0].Bytes {
				t.Errorf("publication %d removed or changed the previous one's file: %v", i, err)
			}
		}
		_, legacyErr := os.Stat(filepath.Join(dir, "toplist.jsonl"))
		if (legacyErr == nil) != (i == 0) {
			t.Errorf("after publication %d the pre-generation file exists: %v (want only after the first)", i, legacyErr == nil)
		}
		var gens []string
		for _, n := range dirNames(t, dir) {
			if isGenerationID(n) {
				gens = append(gens, n)
			}
		}
		kept := slices.Sorted(slices.Values(m.Generations))
		if !reflect.DeepEqual(gens, kept) || m.Generations[0] != m.Generation || len(gens) != min(i+1, 2) {
			t.Errorf("after publication %d: folders %v, manifest keeps %v (current %s)", i, gens, m.Generations, m.Generation)
		}
	}
	assertNoTemp(t, dir)

	// Something that is not a recs manifest is never overwritten.
	other := t.TempDir()
	os.WriteFile(filepath.Join(other, ManifestName), []byte(`{"run_id":"x","status":"ok"}`), 0o644)
	_, err := (&DirSink{Dir: other}).Publish(context.Background(), testMeta, Lists(genLists(3, 10, 1)))
	if !errs.IsInput(err) || !strings.Contains(err.Error(), "refusing to publish over it") {
		t.Errorf("publishing over a foreign manifest.json: %v", err)
	}

	// One publication at a time per directory.
	unlock, err := lockDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Publish(context.Background(), testMeta, Lists(genLists(3, 10, 1)))
	unlock()
	if err == nil || !strings.Contains(err.Error(), "another publication into this directory is running") {
		t.Errorf("publishing while the lock is held: %v", err)
	}
}

// switchingSource publishes another run to the same place when half of its
// lists were read, so that the outer run finds the manifest replaced.
type switchingSource struct {
	ListSource
	n, at int
	other func()
}

func (s *switchingSource) Next() (toplist.List, error) {
	if s.n++; s.n == s.at {
		s.other()
	}
	return s.ListSource.Next()
}

func TestBlobSinkGenerations(t *testing.T) {
	c, _, _, _ := newTestContainer(t)
	s := &BlobSink{Container: c, Prefix: "p", Formats: []toplist.Format{toplist.JSONL}}
	// A pre-generation publication.
	var buf bytes.Buffer
	w, _ := toplist.NewWriter(&buf, toplist.JSONL, testMeta)
	for _, l := range genLists(20, 10, 50) {
		w.Write(l)
	}
	w.Close()
	for name, body := range map[string][]byte{"p/toplist.jsonl": buf.Bytes(),
		"p/manifest.json": []byte(`{"format":"recs-toplist-manifest","version":1,"model":"old","users":20,"files":[{"name":"toplist.jsonl","format":"jsonl"}]}`)} {
		if _, err := c.NewBlockBlobClient(name).Upload(context.Background(), streaming.NopCloser(bytes.NewReader(body)), nil); err != nil {
			t.Fatal(err)
		}
	}
	var lists []toplist.List
	for i := range 3 {
		lists = genLists(200+i, 10, uint64(60+i))
		if _, err := s.Publish(context.Background(), testMeta, Lists(lists)); err != nil {
			t.Fatal(err)
		}
		m := checkPublished(t, c, "p/", lists)
		names := listBlobs(t, c, "p/")
		var want []string
		if i == 0 {
			want = append(want, "p/toplist.jsonl")
		}
		for _, g := range slices.Backward(m.Generations) {
			want = append(want, "p/"+g+"/toplist.jsonl")
		}
		want = append(want, "p/manifest.json")
		slices.Sort(want)
		if !reflect.DeepEqual(names, want) || len(m.Generations) != min(i+1, 2) {
			t.Errorf("after publication %d: blobs %v, want %v", i, names, want)
		}
	}

	// Another publication switches the manifest while this one runs: this
	// one fails, removes its own blobs, and the other's stands.
	winner := genLists(30, 10, 70)
	src := &switchingSource{ListSource: Lists(genLists(500, 10, 71)), at: 250, other: func() {
		if _, err := s.Publish(context.Background(), testMeta, Lists(winner)); err != nil {
			t.Errorf("inner publication: %v", err)
		}
	}}
	_, err := s.Publish(context.Background(), testMeta, src)
	if !errs.IsService(err) || !strings.Contains(err.Error(), "was replaced by another publication while this one ran") {
		t.Fatalf("outer publication: %v", err)
	}
	m := checkPublished(t, c, "p/", winner)
	for _, n := range listBlobs(t, c, "p/") {
		if n != "p/manifest.json" && !slices.ContainsFunc(m.Generations, func(g string) bool { return strings.HasPrefix(n, "p/"+g+"/") }) {
			t.Errorf("blob %s belongs to no kept generation", n)
		}
	}
}
