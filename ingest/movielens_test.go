package ingest

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/recs-dev/recs/internal/errs"
)

// fakeGroupLens serves archives by name, counting requests; fail makes the
// first n archive requests answer 503.
type fakeGroupLens struct {
	files    map[string][]byte
	requests atomic.Int32
	fail     atomic.Int32
}

func (f *fakeGroupLens) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, "/datasets/movielens/")
	if strings.HasSuffix(name, ".zip") {
		f.requests.Add(1)
		if f.fail.Add(-1) >= 0 {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
	}
	b, ok := f.files[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Write(b)
}

func TestMovieLensDownload(t *testing.T) {
	archive := zipOf(t, "ml-10m/README.html", "readme", "ml-10m/ratings.dat", dat)
	sum := md5.Sum(archive)
	fake := &fakeGroupLens{files: map[string][]byte{
		"ml-10m.zip":          archive,
		"ml-10m.zip.md5":      []byte("MD5 (ml-10m.zip) = " + hex.EncodeToString(sum[:]) + "\n"),
		"ml-32m.zip":          archive,
		"ml-32m.zip.md5":      []byte(strings.Repeat("0", 32) + "  ml-32m.zip\n"),
		"ml-latest-small.zip": zipOf(t, "ml-latest-small/movies.csv", "x"),
		// The real 100k archive has a pinned size and SHA-256; this is not it.
		"ml-100k.zip": zipOf(t, "ml-100k/u.data", uData),
	}}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	cache := t.TempDir()
	o := DownloadOptions{BaseURL: srv.URL + "/datasets/movielens/", CacheDir: cache, RetryWait: time.Millisecond}
	ctx := context.Background()

	// First call downloads (after two 503s), second uses the cache.
	fake.fail.Store(2)
	p, cached, err := MovieLensPath(ctx, "10m", o)
	if err != nil || cached || p != filepath.Join(cache, "ml-10m.zip") {
		t.Fatalf("first call: %q cached=%v err=%v", p, cached, err)
	}
	if n := fake.requests.Load(); n != 3 {
		t.Errorf("%d archive requests, want 3 (two 503s then the file)", n)
	}
	p2, cached, err := MovieLensPath(ctx, "10m", o)
	if err != nil || !cached || p2 != p || fake.requests.Load() != 3 {
		t.Errorf("second call: %q cached=%v err=%v requests=%d; want the cache and no request", p2, cached, err, fake.requests.Load())
	}
	tab, rep, err := Read(ctx, []string{p}, Options{})
	if err != nil || !reflect.DeepEqual(rowsOf(tab), dRows) || rep.Sources[0].Name != p+"/ml-10m/ratings.dat" {
		t.Errorf("reading the cached archive: %v %+v", err, rep)
	}

	for _, tc := range []struct {
		name, want string
		service    bool
	}{
		{"32m", "MD5 ", true},                       // the published checksum disagrees
		{"latest-small", "no ratings file", true},   // the archive has no ratings
		{"100k", "has 4924029", true},               // the pinned size disagrees
		{"20m", "HTTP 404 Not Found", true},         // not on the server: no retry
		{"7m", `unknown MovieLens set "7m"`, false}, // not a MovieLens set
	} {
		before := fake.requests.Load()
		_, _, err := MovieLensPath(ctx, tc.name, o)
		if err == nil || !strings.Contains(err.Error(), tc.want) || errs.IsService(err) != tc.service {
			t.Errorf("%s: err %v, want one containing %q (service error %v)", tc.name, err, tc.want, tc.service)
		}
		if tc.name == "20m" && fake.requests.Load()-before != 1 {
			t.Errorf("404 was retried: %d requests", fake.requests.Load()-before)
		}
		if _, err := os.Stat(filepath.Join(cache, "ml-"+tc.name+".zip")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s: a failed download left a file in the cache (%v)", tc.name, err)
		}
	}
	// Nothing but the verified archive in the cache: no temporary files.
	ents, _ := os.ReadDir(cache)
	if len(ents) != 1 || ents[0].Name() != "ml-10m.zip" {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Errorf("cache holds %v, want only ml-10m.zip", names)
	}

	// A server that keeps failing: a service error after the retries.
	fake.fail.Store(100)
	before := fake.requests.Load()
	_, _, err = MovieLensPath(ctx, "32m", DownloadOptions{BaseURL: o.BaseURL, CacheDir: cache, Retries: 2, RetryWait: time.Millisecond})
	if !errs.IsService(err) || !strings.Contains(err.Error(), "503") || fake.requests.Load()-before != 3 {
		t.Errorf("err %v after %d requests; want a 503 service error after 3", err, fake.requests.Load()-before)
	}
}

func TestCacheDir(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", "/x/cache")
	if d, err := CacheDir(); err != nil || d != "/x/cache/recs" {
		t.Errorf("CacheDir = %q, %v", d, err)
	}
	t.Setenv("XDG_CACHE_HOME", "")
	t.Setenv("HOME", "/home/u")
	if d, err := CacheDir(); err != nil || d != "/home/u/.cache/recs" {
		t.Errorf("CacheDir = %q, %v", d, err)
	}
}
