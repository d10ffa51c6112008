package export

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/recs-dev/recs/toplist"
)

func TestDirSink(t *testing.T) {
	lists := genLists(300, 10, 1)
	dir := t.TempDir()
	var live Counters
	s := &DirSink{Dir: dir, Prefix: "run-1", Formats: []toplist.Format{toplist.JSONL, toplist.JSONLGzip, toplist.Parquet}, Progress: &live}
	st, err := s.Publish(context.Background(), testMeta, Lists(lists))
	if err != nil {
		t.Fatal(err)
	}
	if st.Documents != 300 || live.Documents.Load() != 300 {
		t.Errorf("Documents = %d (live %d), want 300", st.Documents, live.Documents.Load())
	}
	f, err := os.Open(filepath.Join(dir, "run-1", ManifestName))
	if err != nil {
		t.Fatal(err)
	}
	m, err := ReadManifest(f, ManifestName)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	// 300 users × 10 items each, by construction of genLists.
	if m.Users != 300 || m.Items != 3000 || m.Model != testMeta.Model || m.K != 10 || !m.GeneratedAt.Equal(testMeta.GeneratedAt) {
		t.Errorf("manifest = %+v", m)
	}
	if len(m.Files) != 3 {
		t.Fatalf("manifest lists %d files, want 3", len(m.Files))
	}
	var total int64
	for _, mf := range m.Files {
		path := filepath.Join(dir, "run-1", mf.Name)
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		if hex.EncodeToString(sum[:]) != mf.SHA256 || int64(len(b)) != mf.Bytes {
			t.Errorf("%s: sha256/bytes differ from the manifest", mf.Name)
		}
		total += mf.Bytes
		meta, got, err := toplist.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if meta.Model != testMeta.Model || !reflect.DeepEqual(got, lists) {
			t.Errorf("%s: lists differ from those published", mf.Name)
		}
	}
	if st.Bytes <= total {
		t.Errorf("Stats.Bytes = %d, want the data files (%d) plus the manifest", st.Bytes, total)
	}
	assertNoTemp(t, filepath.Join(dir, "run-1"))
}

func TestDirSinkFailureLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	boom := errors.New("source broke")
	s := &DirSink{Dir: dir}
	_, err := s.Publish(context.Background(), testMeta, &failingSource{lists: genLists(50, 10, 2), err: boom})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want the source's error", err)
	}
	if names := dirNames(t, dir); len(names) != 1 || names[0] != lockName {
		t.Errorf("a failed publish left %v; want only the lock file", names)
	}
	// A cancelled context stops the publication the same way.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Publish(ctx, testMeta, Lists(genLists(5000, 10, 3))); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if names := dirNames(t, dir); len(names) != 1 || names[0] != lockName {
		t.Errorf("a cancelled publish left %v", names)
	}
}

func TestDirSinkPrefixMustStayInside(t *testing.T) {
	for _, p := range []string{"../x", "a/../../b", ".."} {
		s := &DirSink{Dir: t.TempDir(), Prefix: p}
		if _, err := s.Publish(context.Background(), testMeta, Lists(nil)); err == nil {
			t.Errorf("prefix %q accepted", p)
		}
	}
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

func assertNoTemp(t *testing.T, dir string) {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if filepath.Ext(e.Name()) != "" && e.Name()[0] == '.' && e.Name() != lockName {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
}
