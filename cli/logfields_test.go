package cli

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestLogVocabulary: the JSON log lines of fit, train and tune use one
// vocabulary (README "Log lines"): per iteration "iter", "of", "loss" and
// "seconds"; per trial "id", "rung", "seconds", "done" and "of"; every
// duration is a JSON number under "seconds" or a "*_seconds" key, never a
// string or an "*_s" key.
func TestLogVocabulary(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "r.csv")
	if code, _, stderr := runArgs(t, "synth", "--users", "120", "--items", "80", "--ratings", "3000", "--seed", "3", "-o", data); code != ExitOK {
		t.Fatalf("synth: exit %d: %s", code, stderr)
	}
	split := filepath.Join(dir, "split")
	if code, _, stderr := runArgs(t, "split", data, "-o", split); code != ExitOK {
		t.Fatalf("split: exit %d: %s", code, stderr)
	}
	runs := map[string][]string{
		"fit":   {"--log-format", "json", "fit", filepath.Join(split, "train.parquet"), "-o", filepath.Join(dir, "m"), "--max-iter", "3"},
		"train": {"--log-format", "json", "train", data, "--runs", filepath.Join(dir, "runs"), "--max-iter", "3"},
		"tune": {"--log-format", "json", "tune", "--train", filepath.Join(split, "train.parquet"), "-o", filepath.Join(dir, "tune"),
			"--strategy", "random", "--budget", "3"},
	}
	want := map[string][]string{
		"iteration": {"iter", "of", "loss", "seconds"},
		"trial":     {"id", "rung", "seconds", "done", "of"},
	}
	for name, args := range runs {
		code, _, stderr := runArgs(t, args...)
		if code != ExitOK {
			t.Fatalf("%s: exit %d: %s", name, code, stderr)
		}
		seen := map[string]int{}
		for _, line := range strings.Split(strings.TrimSpace(stderr), "\n") {
			var rec map[string]any
			if err := json.Unmarshal([]byte(line), &rec); err != nil {
				t.Fatalf("%s: log line is not JSON: %q", name, line)
			}
			msg, _ := rec["msg"].(string)
			for k, v := range rec {
				if strings.HasSuffix(k, "_s") {
					t.Errorf("%s %q: duration key %q; want seconds or *_seconds", name, msg, k)
				}
				if k == "seconds" || strings.HasSuffix(k, "_seconds") {
					if _, ok := v.(float64); !ok {
						t.Errorf("%s %q: %s = %#v, want a JSON number", name, msg, k, v)
					}
				}
			}
			keys, ok := want[msg]
			if !ok {
				continue
			}
			seen[msg]++
			for _, k := range keys {
				if _, ok := rec[k].(float64); !ok && k != "id" {
					t.Errorf("%s %q line lacks numeric %q: %s", name, msg, k, line)
				}
				if _, ok := rec[k]; !ok {
					t.Errorf("%s %q line lacks %q: %s", name, msg, k, line)
				}
			}
		}
		wantMsg := "iteration"
		if name == "tune" {
			wantMsg = "trial"
		}
		if seen[wantMsg] == 0 {
			t.Errorf("%s wrote no %q log line", name, wantMsg)
		}
	}
}
