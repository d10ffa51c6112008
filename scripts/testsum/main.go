// Command testsum reads `go test -json` output (the files named, else
// stdin) and prints what a person needs from it: as it comes, one line per
// package (ok or FAIL, with its time) and the output of every failed test;
// at the end every skipped test with its reason, the slowest tests with
// -slow N, every failure again with the last lines of its output (so the
// tail of a long CI log shows what failed), and last one line counting tests (subtests included; a package
// that fails outside any test, such as a build error, counts as one failed
// test):
//
//	3 skipped
//	412 passed, 0 failed
//
// It exits 1 when anything failed, so `go test -json ./... | testsum` can
// stand in for `go test ./...` (with `set -o pipefail`, go test's own
// status counts too). -progress=false prints only the end; -tally=false
// only the progress.
package main

import (
	"bufio"
	"cmp"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

func main() {
	slow := flag.Int("slow", 0, "also list the `N` slowest tests")
	progress := flag.Bool("progress", true, "print package results and failed tests as they come")
	tally := flag.Bool("tally", true, "print the skips and the count at the end")
	flag.Parse()
	s := newSummary(os.Stdout)
	if !*progress {
		s.progress = io.Discard
	}
	if flag.NArg() == 0 {
		if err := s.read(os.Stdin); err != nil {
			fmt.Fprintln(os.Stderr, "testsum:", err)
			os.Exit(2)
		}
	}
	for _, name := range flag.Args() {
		f, err := os.Open(name)
		if err == nil {
			err = s.read(f)
			f.Close()
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "testsum:", err)
			os.Exit(2)
		}
	}
	if *tally {
		s.report(*slow)
	}
	if _, failed, _ := s.counts(); failed > 0 {
		os.Exit(1)
	}
}

// event is one line of `go test -json` (cmd/test2json).
type event struct {
	Action  string
	Package string
	Test    string
	Elapsed float64
	Output  string
}

type key struct{ pkg, test string }

type result struct {
	key
	action  string
	elapsed float64
}

type summary struct {
	out      io.Writer
	progress io.Writer                // out, or io.Discard
	output   map[key]*strings.Builder // output so far of running tests and packages, and of skipped tests
	results  []result                 // finished tests
	pkgFail  map[string]bool          // packages that failed outside any test
	testFail map[string]int           // failed tests per package
	failures []failure                // failed tests and packages, in order
}

// failure is a failed test (or a package that failed outside any test)
// with what it printed.
type failure struct {
	key
	output string
}

func newSummary(out io.Writer) *summary {
	return &summary{out: out, progress: out, output: map[key]*strings.Builder{},
		pkgFail: map[string]bool{}, testFail: map[string]int{}}
}

func (s *summary) read(r io.Reader) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var e event
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &e) != nil {
			fmt.Fprintf(s.progress, "%s\n", line) // not an event (a build message): pass through
			continue
		}
		s.add(e)
	}
	return sc.Err()
}

func (s *summary) add(e event) {
	k := key{e.Package, e.Test}
	switch e.Action {
	case "output", "build-output":
		b := s.output[k]
		if b == nil {
			b = &strings.Builder{}
			s.output[k] = b
		}
		b.WriteString(e.Output)
	case "pass", "fail", "skip":
		if e.Test != "" {
			s.results = append(s.results, result{k, e.Action, e.Elapsed})
			if e.Action == "fail" {
				s.testFail[e.Package]++
				out := s.text(k)
				s.failures = append(s.failures, failure{k, out})
				fmt.Fprintf(s.progress, "--- FAIL: %s (%s)\n%s", e.Test, e.Package, out)
			}
			if e.Action != "skip" {
				delete(s.output, k)
			}
			return
		}
		switch {
		case e.Package == "":
		case e.Action == "pass":
			fmt.Fprintf(s.progress, "ok   %s %.1fs\n", e.Package, e.Elapsed)
		case e.Action == "fail":
			fmt.Fprintf(s.progress, "FAIL %s %.1fs\n", e.Package, e.Elapsed)
			if s.testFail[e.Package] == 0 {
				// A build error, a panic or a timeout outside any test:
				// show what the package printed.
				s.pkgFail[e.Package] = true
				out := s.text(k)
				s.failures = append(s.failures, failure{k, out})
				fmt.Fprint(s.progress, out)
			}
		}
		delete(s.output, k)
	}
}

// text is what test or package k has printed so far.
func (s *summary) text(k key) string {
	if b := s.output[k]; b != nil {
		return b.String()
	}
	return ""
}

// counts returns the tests passed, failed and skipped so far.
func (s *summary) counts() (passed, failed, skipped int) {
	for _, r := range s.results {
		switch r.action {
		case "pass":
			passed++
		case "fail":
			failed++
		case "skip":
			skipped++
		}
	}
	return passed, failed + len(s.pkgFail), skipped
}

// report prints the skips with their reasons, the slowest tests and the
// count.
func (s *summary) report(slow int) {
	passed, failed, skipped := s.counts()
	for _, r := range s.results {
		if r.action == "skip" {
			var out string
			if b := s.output[r.key]; b != nil {
				out = b.String()
			}
			fmt.Fprintf(s.out, "SKIP %s %s: %s\n", r.pkg, r.test, skipReason(out))
		}
	}
	if slow > 0 {
		rs := slices.Clone(s.results)
		slices.SortStableFunc(rs, func(a, b result) int { return cmp.Compare(b.elapsed, a.elapsed) })
		fmt.Fprintf(s.out, "slowest tests:\n")
		for _, r := range rs[:min(slow, len(rs))] {
			fmt.Fprintf(s.out, "  %7.2fs %s %s\n", r.elapsed, r.pkg, r.test)
		}
	}
	for _, f := range s.failures {
		name := f.test
		if name == "" {
			name = "(outside any test)"
		}
		fmt.Fprintf(s.out, "FAILED %s %s:\n%s", f.pkg, name, tail(f.output, failTail))
	}
	if skipped > 0 {
		fmt.Fprintf(s.out, "%d skipped\n", skipped)
	}
	fmt.Fprintf(s.out, "%d passed, %d failed\n", passed, failed)
}

// failTail is how many lines of a failure's output the end report repeats.
const failTail = 40

// tail returns the last n lines of out, each indented, ending in a newline.
func tail(out string, n int) string {
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	var b strings.Builder
	if len(lines) > n {
		fmt.Fprintf(&b, "    [... %d lines before]\n", len(lines)-n)
		lines = lines[len(lines)-n:]
	}
	for _, l := range lines {
		b.WriteString("    " + l + "\n")
	}
	return b.String()
}

// skipReason returns the message of a skipped test's output: its lines
// other than the === and --- markers, joined.
func skipReason(out string) string {
	var msg []string
	for _, l := range strings.Split(out, "\n") {
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(t, "=== ") || strings.HasPrefix(t, "--- SKIP") {
			continue
		}
		msg = append(msg, t)
	}
	if len(msg) == 0 {
		return "(no reason given)"
	}
	return strings.Join(msg, " ")
}
