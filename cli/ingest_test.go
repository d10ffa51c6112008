package cli

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// TestIngestExitCodes checks the documented exit codes of recs ingest and
// that no output file is left behind on failure.
func TestIngestExitCodes(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "u.data")
	bad := filepath.Join(dir, "bad.data")
	os.WriteFile(good, []byte("1\t2\t3\t4\n"), 0o644)
	os.WriteFile(bad, []byte("1\t2\t3\t4\n1\t2\tNaN\t4\n"), 0o644)
	out := filepath.Join(dir, "out.parquet")
	for _, tc := range []struct {
		args []string
		want int
	}{
		{[]string{"ingest", good, "-o", out}, ExitOK},
		{[]string{"ingest", bad, "-o", out + "2"}, ExitInput},
		{[]string{"ingest", filepath.Join(dir, "missing"), "-o", out + "2"}, ExitInput},
		{[]string{"ingest", good}, ExitUsage},
		{[]string{"ingest", good, "-o", "-"}, ExitUsage},
		{[]string{"ingest", good, "-o", out + "2", "--format", "xml"}, ExitUsage},
		{[]string{"ingest", good, "-o", out + "2", "--movielens", "5m"}, ExitUsage},
		{[]string{"ingest", "-", "-", "-o", out + "2"}, ExitUsage},
		{[]string{"synth", "-o", filepath.Join(dir, "s.csv"), "--users", "10", "--ratings", "10"}, ExitUsage},
		{[]string{"synth", "-o", filepath.Join(dir, "s.csv.gz")}, ExitUsage},
		{[]string{"synth"}, ExitUsage},
	} {
		code, _, stderr := runArgs(t, tc.args...)
		if code != tc.want {
			t.Errorf("recs %v: exit %d, want %d (stderr %q)", tc.args, code, tc.want, stderr)
		}
	}
	if _, err := os.Stat(out); err != nil {
		t.Errorf("the good run wrote nothing: %v", err)
	}
	if _, err := os.Stat(out + "2"); !os.IsNotExist(err) {
		t.Errorf("a failed run left %s (%v)", out+"2", err)
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temporary file left: %s", e.Name())
		}
	}
}

// TestIngestMovieLens downloads from a local server standing in for
// GroupLens ($RECS_MOVIELENS_URL), caches under $XDG_CACHE_HOME/recs and
// reads the cache the second time.
func TestIngestMovieLens(t *testing.T) {
	var zb bytes.Buffer
	zw := zip.NewWriter(&zb)
	f, _ := zw.Create("ml-10m/ratings.dat")
	f.Write([]byte("1::122::5::838985046\n1::185::4.5::838983525\n2::122::3::838983392\n"))
	zw.Close()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/ml-10m.zip" {
			http.NotFound(w, r)
			return
		}
		hits.Add(1)
		w.Write(zb.Bytes())
	}))
	defer srv.Close()
	cache := t.TempDir()
	t.Setenv("RECS_MOVIELENS_URL", srv.URL)
	t.Setenv("XDG_CACHE_HOME", cache)
	out := filepath.Join(t.TempDir(), "ml.parquet")
	for run := 1; run <= 2; run++ {
		code, stdout, stderr := runArgs(t, "ingest", "--movielens", "10m", "-o", out, "--json")
		if code != ExitOK {
			t.Fatalf("run %d: exit %d: %s", run, code, stderr)
		}
		var s struct {
			Ratings int `json:"ratings"`
			Users   int `json:"users"`
			Items   int `json:"items"`
		}
		if err := json.Unmarshal([]byte(stdout), &s); err != nil || s.Ratings != 3 || s.Users != 2 || s.Items != 2 {
			t.Errorf("run %d: summary %s (%v); want 3 ratings, 2 users, 2 items", run, stdout, err)
		}
	}
	if hits.Load() != 1 {
		t.Errorf("%d downloads, want 1 (the second run reads the cache)", hits.Load())
	}
	if _, err := os.Stat(filepath.Join(cache, "recs", "ml-10m.zip")); err != nil {
		t.Errorf("not cached: %v", err)
	}
	// A set the server does not have: a service error, exit 4.
	code, _, stderr := runArgs(t, "ingest", "--movielens", "32m", "-o", out+"2")
	if code != ExitService || !strings.Contains(stderr, "404") {
		t.Errorf("missing set: exit %d (%s), want %d", code, stderr, ExitService)
	}
}

// TestTrainMovieLensOffline: `recs train --movielens` with the archive
// server unreachable logs every retry (no silent wait), exits 4 with a hint
// to use a local copy, and its failed run says what it tried: the
// MovieLens input and the configured split.
func TestTrainMovieLensOffline(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	cache := t.TempDir()
	t.Setenv("RECS_MOVIELENS_URL", srv.URL)
	t.Setenv("XDG_CACHE_HOME", cache)
	runs := filepath.Join(t.TempDir(), "runs")
	code, _, stderr := runArgs(t, "--log-format", "json", "train", "--movielens", "100k", "--runs", runs)
	if code != ExitService {
		t.Fatalf("exit %d, want %d: %s", code, ExitService, stderr)
	}
	// ingest.DownloadOptions retries 3 times after the first attempt.
	if n := strings.Count(stderr, `"msg":"download failed, retrying"`); n != 3 {
		t.Errorf("%d retry log lines, want 3:\n%s", n, stderr)
	}
	if want := filepath.Join(cache, "recs", "ml-100k.zip"); !strings.Contains(stderr, "without network: put the archive at "+want) {
		t.Errorf("no hint to use a local copy in:\n%s", stderr)
	}
	mans, _ := filepath.Glob(filepath.Join(runs, "*", "manifest.json"))
	if len(mans) != 1 {
		t.Fatalf("%d run manifests, want 1", len(mans))
	}
	b, _ := os.ReadFile(mans[0])
	var m struct {
		Status string `json:"status"`
		Inputs []struct {
			Source string `json:"source"`
		} `json:"inputs"`
		Split struct {
			Method string `json:"method"`
		} `json:"split"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if m.Status != "failed" || len(m.Inputs) != 1 || m.Inputs[0].Source != "movielens:100k" || m.Split.Method != "stratified" {
		t.Errorf("failed run's manifest: %s", b)
	}
}
