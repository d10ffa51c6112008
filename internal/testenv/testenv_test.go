package testenv

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// recorder stands in for a test: it records how Missing ended it.
type recorder struct {
	testing.TB
	how, msg string
}

func (r *recorder) Helper() {}
func (r *recorder) Fatalf(format string, args ...any) {
	r.how, r.msg = "fail", fmt.Sprintf(format, args...)
	panic(r)
}
func (r *recorder) Skipf(format string, args ...any) {
	r.how, r.msg = "skip", fmt.Sprintf(format, args...)
	panic(r)
}

// run calls f with a recorder and reports how it ended ("" if it returned).
func run(t *testing.T, f func(tb testing.TB)) (how, msg string) {
	r := &recorder{TB: t}
	func() {
		defer func() {
			if p := recover(); p != nil && p != r {
				panic(p)
			}
		}()
		f(r)
	}()
	return r.how, r.msg
}

func TestInCI(t *testing.T) {
	for v, want := range map[string]bool{"": false, "0": false, "false": false, "FALSE": false,
		"1": true, "true": true, "yes": true, "github-actions": true} {
		t.Setenv("CI", v)
		if got := InCI(); got != want {
			t.Errorf("CI=%q: InCI() = %v, want %v", v, got, want)
		}
	}
}

func TestMissingFailsOnlyInCI(t *testing.T) {
	t.Setenv("CI", "true")
	if how, msg := run(t, func(tb testing.TB) { Missing(tb, "no %s", "u.data") }); how != "fail" || !strings.HasPrefix(msg, "no u.data") {
		t.Errorf("in CI: %s %q, want a failure naming the input", how, msg)
	}
	t.Setenv("CI", "")
	if how, msg := run(t, func(tb testing.TB) { Missing(tb, "no %s", "u.data") }); how != "skip" || !strings.HasPrefix(msg, "no u.data") {
		t.Errorf("outside CI: %s %q, want a skip naming the input", how, msg)
	}
}

func TestModuleRoot(t *testing.T) {
	r := ModuleRoot(t)
	b, err := os.ReadFile(filepath.Join(r, "go.mod"))
	if err != nil || !strings.Contains(string(b), "module github.com/recs-dev/recs\n") {
		t.Fatalf("ModuleRoot() = %s: go.mod %v", r, err)
	}
	if wd, _ := os.Getwd(); wd != filepath.Join(r, "internal", "testenv") {
		t.Errorf("ModuleRoot() = %s, but the test runs in %s", r, wd)
	}
}

// TestInputs: the environment variables win (a file or its directory), a
// variable naming nothing fails even outside CI, and without the variable
// the shared/ default is used or reported missing.
func TestInputs(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "u.data")
	if err := os.WriteFile(data, []byte("196\t242\t3\t881250949\n186\t302\t3.5\t891717742\n196\t302\t5\t881250950\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("CI", "")
	for _, v := range []string{data, dir} {
		t.Setenv("RECS_ML100K", v)
		if got := ML100K(t); got != data {
			t.Errorf("RECS_ML100K=%s: ML100K() = %s, want %s", v, got, data)
		}
	}
	tab := ML100KTable(t)
	// Expected: three rows in file order; users 196, 186 and items 242,
	// 302 numbered by first appearance.
	if tab.Len() != 3 || strings.Join(tab.UserIDs, ",") != "196,186" || strings.Join(tab.ItemIDs, ",") != "242,302" ||
		tab.Ratings[1] != 3.5 || tab.Times[2] != 881250950 || tab.Users[2] != 0 || tab.Items[2] != 1 {
		t.Errorf("table = %+v", tab)
	}

	t.Setenv("RECS_ML100K", filepath.Join(dir, "absent"))
	if how, _ := run(t, func(tb testing.TB) { ML100K(tb) }); how != "fail" {
		t.Errorf("RECS_ML100K naming nothing: %q, want a failure outside CI too", how)
	}

	t.Setenv("RECS_ML100K", "")
	want := filepath.Join(filepath.Dir(ModuleRoot(t)), "shared", "data", "ml-100k", "u.data")
	how, msg := run(t, func(tb testing.TB) {
		if got := ML100K(tb); got != want {
			t.Errorf("ML100K() = %s, want the shared default %s", got, want)
		}
	})
	if _, err := os.Stat(want); err == nil && how != "" {
		t.Errorf("shared default present, yet ML100K ended the test: %s %s", how, msg)
	} else if err != nil && (how != "skip" || !strings.Contains(msg, want)) {
		t.Errorf("shared default absent: %s %q, want a skip naming %s", how, msg, want)
	}

	if err := os.WriteFile(filepath.Join(dir, "bad.data"), []byte("196\t242\tx\t1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("RECS_ML100K", filepath.Join(dir, "bad.data"))
	if how, msg := run(t, func(tb testing.TB) { ML100KTable(tb) }); how != "fail" || !strings.Contains(msg, "bad.data:1: rating") {
		t.Errorf("malformed line: %s %q, want a failure naming file and line", how, msg)
	}
}

func TestPythonMissingModule(t *testing.T) {
	t.Setenv("CI", "")
	how, msg := run(t, func(tb testing.TB) { Python(tb, "recs_no_such_module") })
	if how != "skip" || !strings.Contains(msg, "recs_no_such_module") {
		t.Errorf("Python with an absent module: %s %q, want a skip naming it", how, msg)
	}
}
