package cli

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSplitExitCodes runs `recs split` in-process and checks the exit codes
// documented in root.go: 2 for usage errors, 3 for bad input, 0 otherwise.
func TestSplitExitCodes(t *testing.T) {
	dir := t.TempDir()
	withTimes := filepath.Join(dir, "r.tsv")
	noTimes := filepath.Join(dir, "nt.tsv")
	if err := os.WriteFile(withTimes, []byte("1\t10\t4\t1\n1\t20\t3\t2\n2\t10\t5\t3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(noTimes, []byte("1\t10\t4\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	tests := []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"split", withTimes, "-o", out}, ExitOK, ""},
		{[]string{"split", withTimes, "-o", out, "--method", "chrono", "--ratios", "1,1,2"}, ExitOK, ""},
		{[]string{"split", withTimes}, ExitUsage, "-o DIR is required"},
		{[]string{"split", withTimes, "-o", out, "--ratio", "1"}, ExitUsage, "--ratio: ratio 1: a single ratio must be between 0 and 1"},
		{[]string{"split", withTimes, "-o", out, "--ratios", "1,-1"}, ExitUsage, "--ratios: ratio -1"},
		{[]string{"split", withTimes, "-o", out, "--method", "sorted"}, ExitUsage, `--method "sorted"`},
		{[]string{"split", withTimes, "-o", out, "--leave-last", "1", "--by", "item"}, ExitUsage, "works per user"},
		{[]string{"split", noTimes, "-o", out, "--method", "chrono"}, ExitInput, "nt.tsv: --method chrono needs timestamps"},
		{[]string{"split", filepath.Join(dir, "missing.tsv"), "-o", out}, ExitInput, "missing.tsv"},
	}
	for _, tc := range tests {
		var stdout, stderr bytes.Buffer
		env := &Env{In: strings.NewReader(""), Out: &stdout, Err: &stderr}
		env.Log = slog.New(slog.NewTextHandler(&stderr, nil))
		code := Run(context.Background(), env, tc.args)
		if code != tc.code {
			t.Errorf("%v: exit %d, want %d; stderr %s", tc.args[1:], code, tc.code, stderr.String())
		}
		if tc.msg != "" && !strings.Contains(stderr.String(), tc.msg) {
			t.Errorf("%v: stderr %q lacks %q", tc.args[1:], stderr.String(), tc.msg)
		}
	}
	// The successful three-part run left split_0..2 next to train/test.
	for _, f := range []string{"train.parquet", "test.parquet", "split_0.parquet", "split_1.parquet", "split_2.parquet"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
}

// A cancelled context stops before anything is renamed into place.
func TestSplitCancelled(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "r.tsv")
	if err := os.WriteFile(in, []byte("1\t10\t4\t1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var stderr bytes.Buffer
	env := &Env{In: strings.NewReader(""), Out: &bytes.Buffer{}, Err: &stderr}
	env.Log = slog.New(slog.NewTextHandler(&stderr, nil))
	out := filepath.Join(dir, "out")
	if code := Run(ctx, env, []string{"split", in, "-o", out}); code != ExitInterrupted {
		t.Errorf("exit %d, want %d (%s)", code, ExitInterrupted, stderr.String())
	}
	if msg := stderr.String(); !strings.Contains(msg, "recs: interrupted") || strings.Contains(msg, "context canceled") {
		t.Errorf("stderr %q: want it to say the run was interrupted, without Go's \"context canceled\"", msg)
	}
	ents, _ := os.ReadDir(out)
	if len(ents) != 0 {
		t.Errorf("%d files left in the output directory", len(ents))
	}
}
