package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func runArgs(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	env := &Env{In: bytes.NewReader(nil), Out: &out, Err: &errb}
	code = Run(context.Background(), env, args)
	return code, out.String(), errb.String()
}

func TestExitCodes(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want int
	}{
		{[]string{"version"}, ExitOK},
		{[]string{"no-such-command"}, ExitUsage},
		{[]string{"--log-format", "xml", "version"}, ExitUsage},
		{[]string{"--no-such-flag"}, ExitUsage},
		{[]string{"version", "extra"}, ExitUsage},
	} {
		code, _, stderr := runArgs(t, tc.args...)
		if code != tc.want {
			t.Errorf("recs %v: exit %d, want %d (stderr %q)", tc.args, code, tc.want, stderr)
		}
	}
}

// TestErrorLine: an interruption reads "interrupted", keeping what the
// error said before Go's "context canceled"; other errors print as they are.
func TestErrorLine(t *testing.T) {
	for _, tc := range []struct {
		code int
		err  error
		want string
	}{
		{ExitInterrupted, context.Canceled, "interrupted"},
		{ExitInterrupted, fmt.Errorf("fit: iteration 2: %w", context.Canceled), "interrupted (fit: iteration 2)"},
		{ExitInterrupted, errors.New("upload part 3: stream closed"), "interrupted (upload part 3: stream closed)"},
		{ExitInput, errors.New("bad.csv:3: rating \"abc\" is not a number"), "bad.csv:3: rating \"abc\" is not a number"},
		{ExitError, context.Canceled, "context canceled"},
	} {
		if got := errorLine(tc.code, tc.err); got != tc.want {
			t.Errorf("errorLine(%d, %q) = %q, want %q", tc.code, tc.err, got, tc.want)
		}
	}
}

// TestLogFormatAuto: off a terminal, logs are JSON lines by default.
func TestLogFormatAuto(t *testing.T) {
	t.Setenv("RECS_LOG_FORMAT", "")
	code, _, stderr := runArgs(t, "synth", "--users", "50", "--items", "100", "--ratings", "1500", "-o", t.TempDir()+"/r.csv")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, line := range strings.Split(strings.TrimSpace(stderr), "\n") {
		if !json.Valid([]byte(line)) {
			t.Errorf("log line is not JSON: %q", line)
		}
	}
	code, _, stderr = runArgs(t, "--log-format", "text", "synth", "--users", "50", "--items", "100", "--ratings", "1500", "-o", t.TempDir()+"/r.csv")
	if code != ExitOK || !strings.Contains(stderr, "msg=synthesised") {
		t.Errorf("--log-format text: exit %d, stderr %q", code, stderr)
	}
}
