package export

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/recs-dev/recs/internal/emulator"
	"github.com/recs-dev/recs/toplist"
)

// TestCosmosAuthRejected runs `recs export --to cosmos` (this test binary
// as recs, see TestMain in crash_test.go) through the fault proxy answering
// 401 or 403, as Cosmos DB does for a wrong or insufficient key (the
// emulator accepts any key). It must exit 4 with a message saying the key
// was rejected, send no retries, and never show the key.
func TestCosmosAuthRejected(t *testing.T) {
	emu := emulator.Cosmos(t)
	dir := t.TempDir()
	input := filepath.Join(dir, "top.parquet")
	if err := toplist.WriteFile(input, testMeta, genLists(500, 10, 80)); err != nil {
		t.Fatal(err)
	}
	const concurrency = 4
	for _, tc := range []struct {
		status   int
		docsOnly bool
		want     string
		// Most requests the proxy may see: the account read and the
		// database creation when every request fails (each tried once);
		// with only document writes refused, the writes in flight when the
		// first answer arrived, at most the concurrency window.
		maxRequests int64
	}{
		{http.StatusUnauthorized, false, "the key was rejected by 127.0.0.1", 2},
		{http.StatusForbidden, false, "the key was rejected by 127.0.0.1", 2},
		{http.StatusForbidden, true, "(403 Forbidden): it is valid but not allowed", concurrency},
		{http.StatusUnauthorized, true, "(401 Unauthorized): check that it is a current key", concurrency},
	} {
		t.Run(fmt.Sprintf("%d/docsOnly=%v", tc.status, tc.docsOnly), func(t *testing.T) {
			proxy, endpoint := newFaultProxy(t, emu.Endpoint, 1)
			proxy.authStatus.Store(int32(tc.status))
			proxy.authDocsOnly.Store(tc.docsOnly)
			cmd := exec.Command(os.Args[0], "export", input, "--to", "cosmos", "--database", uniqueDB(t),
				"--concurrency", fmt.Sprint(concurrency), "--max-retries", "5", "--request-timeout", "5s",
				"--checkpoint", filepath.Join(dir, "ck.json"))
			cmd.Env = append(os.Environ(), "RECS_CRASH_CHILD=1", "RECS_COSMOS_ENDPOINT="+endpoint, "RECS_COSMOS_KEY="+emulator.CosmosKey)
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			start := time.Now()
			err := cmd.Run()
			code := -1
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			} else if err == nil {
				code = 0
			}
			t.Logf("%v, %d rejected requests, output:\n%s", time.Since(start).Round(time.Millisecond), proxy.nAuth.Load(), out.String())
			if code != 4 {
				t.Errorf("exit code %d, want 4 (an external service failed)", code)
			}
			if !strings.Contains(out.String(), tc.want) {
				t.Errorf("output does not say %q", tc.want)
			}
			if n := proxy.nAuth.Load(); n < 1 || n > tc.maxRequests {
				t.Errorf("%d requests were rejected, want 1 to %d: a rejected key must not be retried", n, tc.maxRequests)
			}
			if proxy.nForwarded.Load() != 0 {
				t.Errorf("%d document writes reached the emulator", proxy.nForwarded.Load())
			}
			for _, secret := range []string{emulator.CosmosKey, emulator.CosmosKey[:20]} {
				if strings.Contains(out.String(), secret) {
					t.Errorf("the output contains the key")
				}
			}
			if strings.Contains(out.String(), "retries=") && !strings.Contains(out.String(), "retries=0") {
				t.Errorf("the output reports retries")
			}
		})
	}
}
