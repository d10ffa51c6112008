package cli

import (
	"bytes"
	"context"
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
