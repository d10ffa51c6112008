package als

import (
	"math"
	"strings"
	"testing"
)

// panicOf runs f and returns what it panicked with as text ("" when it
// returned normally).
func panicOf(f func()) (msg string) {
	defer func() {
		if r := recover(); r != nil {
			msg = "panic"
			switch v := r.(type) {
			case string:
				msg = v
			case error:
				msg = v.Error()
			}
		}
	}()
	f()
	return ""
}

// TestRowsBelow: the index check of the assembly kernels accepts exactly
// the indices in [0, n), including at the int32 extremes, where the check
// it replaced computed (r+1)·s in int32 and let math.MaxInt32 through.
func TestRowsBelow(t *testing.T) {
	for _, tc := range []struct {
		rows []int32
		n    uint
		want bool
	}{
		{nil, 0, true},
		{[]int32{0}, 0, false},
		{[]int32{0, 1, 2}, 3, true},
		{[]int32{0, 3, 1}, 3, false},
		{[]int32{-1}, 3, false},
		{[]int32{math.MinInt32}, 3, false},
		{[]int32{math.MaxInt32}, 3, false},
		{[]int32{math.MaxInt32 - 1}, math.MaxInt32, true},
		{[]int32{math.MaxInt32}, math.MaxInt32, false},
	} {
		if got := rowsBelow(tc.rows, tc.n); got != tc.want {
			t.Errorf("rowsBelow(%v, %d) = %v, want %v", tc.rows, tc.n, got, tc.want)
		}
	}
}

// TestKernelChecks: every tier's row kernels refuse a row index outside
// src (negative, one past the end, the largest int32) with a panic before
// reading anything, and the assembly tiers also refuse a bad prefetch
// index, whose rows they touch too; valid arguments pass. The gonum tier
// panics through Go's own bounds checks instead.
func TestKernelChecks(t *testing.T) {
	const s, rows, m = 16, 5, 3
	src := make([]float32, rows*s)
	for _, kern := range kernelSets() {
		assembly := kern.name != "gonum"
		calls := map[string]func(idx, pf []int32){
			"gatherRows": func(idx, pf []int32) {
				kern.gatherRows(make([]float64, m*s), src, s, idx, nil, make([]float64, m), make([]float64, s), pf)
			},
			"copyRows": func(idx, pf []int32) {
				kern.copyRows(make([]float32, m*s), src, s, idx, pf)
			},
			"cgGather": func(idx, pf []int32) {
				kern.cgGather(make([]float32, m*s), src, s, idx, pf, make([]float32, s), make([]float32, m),
					nil, nil, make([]float32, s), make([]float32, m))
			},
		}
		for name, call := range calls {
			good := []int32{0, rows - 1, 2}
			if msg := panicOf(func() { call(good, good) }); msg != "" {
				t.Errorf("%s/%s: valid rows: panic %q", kern.name, name, msg)
			}
			for _, bad := range []int32{-1, rows, math.MaxInt32, math.MinInt32} {
				idx := []int32{0, bad, 1}
				msg := panicOf(func() { call(idx, good) })
				if msg == "" {
					t.Errorf("%s/%s: row %d of %d rows: no panic", kern.name, name, bad, rows)
				} else if assembly && !strings.Contains(msg, "row index out of range") {
					t.Errorf("%s/%s: row %d: panic %q, want the row check's", kern.name, name, bad, msg)
				}
				if !assembly {
					continue
				}
				msg = panicOf(func() { call(good, idx) })
				if !strings.Contains(msg, "row index out of range") {
					t.Errorf("%s/%s: prefetch row %d of %d rows: panic %q, want the row check's", kern.name, name, bad, rows, msg)
				}
			}
		}
	}
}
