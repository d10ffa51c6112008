package main

import (
	"strings"
	"testing"
)

// A stream as cmd/test2json writes it (abridged): package a passes one
// test and a subtest and skips one; package b fails a test; package c
// does not build.
const stream = `{"Action":"start","Package":"a"}
{"Action":"run","Package":"a","Test":"TestOne"}
{"Action":"output","Package":"a","Test":"TestOne","Output":"=== RUN   TestOne\n"}
{"Action":"run","Package":"a","Test":"TestOne/sub"}
{"Action":"pass","Package":"a","Test":"TestOne/sub","Elapsed":0.5}
{"Action":"pass","Package":"a","Test":"TestOne","Elapsed":0.75}
{"Action":"run","Package":"a","Test":"TestData"}
{"Action":"output","Package":"a","Test":"TestData","Output":"=== RUN   TestData\n"}
{"Action":"output","Package":"a","Test":"TestData","Output":"    x_test.go:9: no u.data (set $RECS_ML100K)\n"}
{"Action":"output","Package":"a","Test":"TestData","Output":"--- SKIP: TestData (0.00s)\n"}
{"Action":"skip","Package":"a","Test":"TestData","Elapsed":0}
{"Action":"pass","Package":"a","Elapsed":1.2}
{"Action":"run","Package":"b","Test":"TestBad"}
{"Action":"output","Package":"b","Test":"TestBad","Output":"    b_test.go:3: got 2, want 3\n"}
{"Action":"fail","Package":"b","Test":"TestBad","Elapsed":2}
{"Action":"fail","Package":"b","Elapsed":2.1}
{"ImportPath":"c","Action":"build-output","Output":"c/c.go:1: syntax error\n"}
{"Action":"output","Package":"c","Output":"FAIL\tc [build failed]\n"}
{"Action":"fail","Package":"c","Elapsed":0}
not json: passed through
`

func TestSummary(t *testing.T) {
	var out strings.Builder
	s := newSummary(&out)
	if err := s.read(strings.NewReader(stream)); err != nil {
		t.Fatal(err)
	}
	// Expected by counting the stream above: 2 passes (TestOne and its
	// subtest), TestBad failed and package c failed outside any test.
	if p, f, sk := s.counts(); p != 2 || f != 2 || sk != 1 {
		t.Errorf("counts = %d passed, %d failed, %d skipped; want 2, 2, 1", p, f, sk)
	}
	s.report(2)
	got := out.String()
	for _, want := range []string{
		"ok   a 1.2s\n",
		"--- FAIL: TestBad (b)\n    b_test.go:3: got 2, want 3\n",
		"FAIL b 2.1s\n",
		"FAIL c 0.0s\nFAIL\tc [build failed]\n",
		"not json: passed through\n",
		"SKIP a TestData: x_test.go:9: no u.data (set $RECS_ML100K)\n",
		"slowest tests:\n     2.00s b TestBad\n     0.75s a TestOne\n",
		// The end repeats each failure with its output, just before the count.
		"FAILED b TestBad:\n        b_test.go:3: got 2, want 3\nFAILED c (outside any test):\n    FAIL\tc [build failed]\n1 skipped\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if !strings.HasSuffix(got, "1 skipped\n2 passed, 2 failed\n") {
		t.Errorf("output does not end with the count:\n%s", got)
	}
}

func TestTail(t *testing.T) {
	var out strings.Builder
	for i := 1; i <= failTail+10; i++ {
		out.WriteString("line\n")
	}
	got := tail(out.String(), failTail)
	// failTail+10 lines in, so 10 are left out and failTail kept, plus the marker.
	if !strings.HasPrefix(got, "    [... 10 lines before]\n") || strings.Count(got, "\n") != failTail+1 {
		t.Errorf("tail = %q", got)
	}
}
