package cli

import (
	"os"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
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
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(e *testscript.Env) error {
			e.Setenv("CI", os.Getenv("CI"))
			// The scripts match text log lines; auto (JSON off a
			// terminal) is tested in root_test.go.
			e.Setenv("RECS_LOG_FORMAT", "text")
			return nil
		},
	})
}
