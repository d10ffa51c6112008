// Package testenv finds the inputs that recs tests expect to find beside
// the module, and decides what it means when one is missing.
//
// Two inputs live outside the repository: MovieLens 100k's u.data and
// numpy_als.py, an independent NumPy implementation of Spark's ALS. The
// project's machines keep them in a shared/ folder next to the module
// (../shared/data/ml-100k/u.data and ../shared/peers/numpy_als.py from the
// module root); $RECS_ML100K (u.data or its directory) and $RECS_NUMPY_ALS
// point elsewhere.
//
// A missing input skips the test with the reason, unless the CI
// environment variable is set (GitHub Actions and most CI systems set
// CI=true), where it fails: CI never passes by skipping the claims it was
// meant to check. An input named by an environment variable that does not
// exist fails everywhere; someone asked for it.
package testenv

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/recs-dev/recs/ratings"
)

// InCI reports whether the CI environment variable is set to anything but
// a false value ("", "0", "false").
func InCI() bool {
	v := os.Getenv("CI")
	if v == "" {
		return false
	}
	if b, err := strconv.ParseBool(v); err == nil {
		return b
	}
	return true
}

// Missing ends the test because an input is absent: a failure in CI, a
// skip elsewhere. The message says what is missing and how to provide it.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if InCI() {
		t.Fatalf("%s (CI is set, so a missing input is a failure)", msg)
	}
	t.Skipf("%s (skipped; with CI=1 this fails)", msg)
}

const modulePath = "github.com/recs-dev/recs"

var root struct {
	once sync.Once
	dir  string
	err  error
}

// ModuleRoot returns the directory of the recs go.mod, found by walking up
// from the working directory (a test runs in its package's directory).
func ModuleRoot(t testing.TB) string {
	t.Helper()
	root.once.Do(func() { root.dir, root.err = findRoot() })
	if root.err != nil {
		t.Fatal(root.err)
	}
	return root.dir
}

func findRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; d = filepath.Dir(d) {
		if b, err := os.ReadFile(filepath.Join(d, "go.mod")); err == nil && strings.Contains(string(b), "module "+modulePath+"\n") {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("testenv: no go.mod of %s above %s", modulePath, wd)
		}
	}
}

// Shared returns the shared/ folder beside the module root (it may not
// exist).
func Shared(t testing.TB) string {
	t.Helper()
	return filepath.Join(filepath.Dir(ModuleRoot(t)), "shared")
}

// input resolves a file named by the environment variable env (a file, or
// a directory holding base) or else found at def.
func input(t testing.TB, what, env, base, def string) string {
	t.Helper()
	if p := os.Getenv(env); p != "" {
		if fi, err := os.Stat(p); err == nil && fi.IsDir() {
			p = filepath.Join(p, base)
		}
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("%s: $%s names %s: %v", what, env, p, err)
		}
		return p
	}
	if _, err := os.Stat(def); err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("%s: %v", what, err)
		}
		Missing(t, "%s: no %s (set $%s to its path)", what, def, env)
	}
	return def
}

// ML100K returns the path of MovieLens 100k's u.data: $RECS_ML100K (the
// file or its directory), else ../shared/data/ml-100k/u.data from the
// module root.
func ML100K(t testing.TB) string {
	t.Helper()
	return input(t, "MovieLens 100k", "RECS_ML100K", "u.data",
		filepath.Join(Shared(t), "data", "ml-100k", "u.data"))
}

// ML100KTable reads ML100K into a table with timestamps, ids numbered in
// order of first appearance and rows in file order (ratings.Builder's
// rules), failing the test on a malformed line.
func ML100KTable(t testing.TB) *ratings.Table {
	t.Helper()
	path := ML100K(t)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := ratings.NewBuilder(true)
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		fs := strings.Split(sc.Text(), "\t")
		if len(fs) != 4 {
			t.Fatalf("%s:%d: %d tab-separated fields, want 4", path, line, len(fs))
		}
		r, err := strconv.ParseFloat(fs[2], 32)
		if err != nil {
			t.Fatalf("%s:%d: rating: %v", path, line, err)
		}
		ts, err := strconv.ParseInt(fs[3], 10, 64)
		if err != nil {
			t.Fatalf("%s:%d: timestamp: %v", path, line, err)
		}
		b.Add(fs[0], fs[1], float32(r), ts)
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return b.Table()
}

// NumPyALS returns the path of numpy_als.py: $RECS_NUMPY_ALS, else
// ../shared/peers/numpy_als.py from the module root.
func NumPyALS(t testing.TB) string {
	t.Helper()
	return input(t, "the NumPy ALS reference", "RECS_NUMPY_ALS", "numpy_als.py",
		filepath.Join(Shared(t), "peers", "numpy_als.py"))
}

// Python returns a python3 that can import every module named (none: any
// python3). /usr/bin/python3 is preferred over one found on PATH, since
// Debian's python3-* packages (what `make test` installs) go there.
func Python(t testing.TB, modules ...string) string {
	t.Helper()
	var tried []string
	for _, name := range []string{"/usr/bin/python3", "python3"} {
		p, err := exec.LookPath(name)
		if err != nil {
			continue
		}
		if len(modules) == 0 {
			return p
		}
		out, err := exec.Command(p, "-c", "import "+strings.Join(modules, ", ")).CombinedOutput()
		if err == nil {
			return p
		}
		tried = append(tried, fmt.Sprintf("%s: %s", p, strings.TrimSpace(lastLine(out))))
	}
	if len(tried) == 0 {
		Missing(t, "python3 not found (install Debian's python3-numpy: scripts/test-deps.sh)")
	}
	Missing(t, "no python3 that imports %s (%s; install Debian's python3-numpy: scripts/test-deps.sh)",
		strings.Join(modules, ", "), strings.Join(tried, "; "))
	return ""
}

func lastLine(b []byte) string {
	s := strings.TrimSpace(string(b))
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// RecsBinary returns $RECS_BIN, a recs binary built once for the tests
// that run the command as a separate program (`make test` sets it to the
// `make build` output), or "" when it is not set; a $RECS_BIN that is not
// an executable file fails the test.
func RecsBinary(t testing.TB) string {
	t.Helper()
	p := os.Getenv("RECS_BIN")
	if p == "" {
		return ""
	}
	p, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(p)
	if err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
		t.Fatalf("$RECS_BIN=%s is not an executable file (%v)", p, err)
	}
	return p
}
