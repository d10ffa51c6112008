package cli

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/recs-dev/recs/internal/testenv"
)

// TestMain lets testscript run the recs command from the test binary,
// with the same signal handling as the real one.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"recs": func() { os.Exit(Main()) },
	})
}

// TestScripts runs the end-to-end scripts in testdata/script: each drives
// the real recs command through a pipeline and checks its output and exit
// code. Scripts see $SHARED (the shared/ folder, possibly absent).
//
// `recs` in a script is $RECS_BIN when set (`make test` builds bin/recs
// once, as shipped, for every script), else this test binary re-executed.
func TestScripts(t *testing.T) {
	bin := ""
	if p := testenv.RecsBinary(t); p != "" {
		// testscript finds commands on $PATH by name: put a "recs" first.
		bin = t.TempDir()
		if err := os.Symlink(p, filepath.Join(bin, "recs")); err != nil {
			t.Fatal(err)
		}
	}
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(e *testscript.Env) error {
			if bin != "" {
				e.Setenv("PATH", bin+string(filepath.ListSeparator)+e.Getenv("PATH"))
			}
			e.Setenv("CI", os.Getenv("CI"))
			// The scripts match text log lines; auto (JSON off a
			// terminal) is tested in root_test.go.
			e.Setenv("RECS_LOG_FORMAT", "text")
			return nil
		},
	})
}
