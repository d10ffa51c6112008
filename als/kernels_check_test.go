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
		{[]int32{math.MaxInt32}, 1 << 31, true},
		{[]int32{-1}, 1 << 40, false},
		{[]int32{1, 2, 3, 4, 5, 6, 7, -1, 8}, 1 << 40, false},
		{[]int32{1, 2, 3, 4, 5, 6, 7, 9, 8}, 9, false},
		{[]int32{1, 2, 3, 4, 5, 6, 7, 8, 0}, 9, true},
		{[]int32{9, 2, 3, 4, 5, 6, 7, 8, 0}, 9, false},
		{[]int32{}, 0, true},
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

// TestKernelLengthChecks: every assembly tier's kernels refuse a buffer
// shorter than their contract in kernels.go, or a stride that is not a
// positive multiple of 16, with a panic naming the problem, before the
// assembly reads or writes past it; the same calls with full buffers pass.
func TestKernelLengthChecks(t *testing.T) {
	const s, m, k = 16, 4, 10
	f64 := func(n int) []float64 { return make([]float64, n) }
	f32 := func(n int) []float32 { return make([]float32, n) }
	spd := func() []float64 { // eight identity matrices of order k, packed
		a := f64(packedLen(k))
		for i := 0; i < k; i++ {
			for l := 0; l < lanes; l++ {
				a[packedIndex(i, i)+l] = 1
			}
		}
		return a
	}
	for _, kern := range kernelSets() {
		if kern.name == "gonum" {
			continue // no checks of its own: Go's bounds checks guard it
		}
		for _, tc := range []struct {
			name  string
			call  func(short bool) // short: one buffer one element too short
			panic string
		}{
			{"gramLower", func(short bool) {
				c := f64(s * s)
				if short {
					c = c[:s*s-1]
				}
				kern.gramLower(c, f64(m*s), m, s, true)
			}, "short buffer"},
			{"gramLower/stride", func(short bool) {
				st := s
				if short {
					st = 12
				}
				kern.gramLower(f64(st*st), f64(m*st), m, st, true)
			}, "multiple of 16"},
			{"cholBatch", func(short bool) {
				inv := f64(k * lanes)
				if short {
					inv = inv[:len(inv)-1]
				}
				kern.cholBatch(spd(), inv, k)
			}, "short buffer"},
			{"solveBatch", func(short bool) {
				b := f64(k * lanes)
				if short {
					b = b[:len(b)-1]
				}
				a, inv := spd(), f64(k*lanes)
				kern.cholBatch(a, inv, k)
				kern.solveBatch(a, inv, b, k)
			}, "short buffer"},
			{"gatherRows", func(short bool) {
				rhs := f64(s)
				if short {
					rhs = rhs[:s-1]
				}
				kern.gatherRows(f64(m*s), f32(m*s), s, []int32{0, 1, 2, 3}, nil, f64(m), rhs, nil)
			}, "short buffer"},
			{"copyRows", func(short bool) {
				dst := f32(m * s)
				if short {
					dst = dst[:m*s-1]
				}
				kern.copyRows(dst, f32(m*s), s, []int32{0, 1, 2, 3}, nil)
			}, "short buffer"},
			{"dotRows", func(short bool) {
				q := f32(m)
				if short {
					q = q[:m-1]
				}
				kern.dotRows(q, f32(m*s), m, s, f32(s))
			}, "short buffer"},
			{"axpyRows", func(short bool) {
				coef := f32(m)
				if short {
					coef = coef[:m-1]
				}
				kern.axpyRows(f32(s), f32(m*s), m, s, coef)
			}, "short buffer"},
			{"cgPass", func(short bool) {
				w := f32(m)
				if short {
					w = w[:m-1]
				}
				kern.cgPass(f32(m*s), m, s, f32(s), w, nil, nil, f32(s), f32(m))
			}, "short buffer"},
		} {
			if msg := panicOf(func() { tc.call(false) }); msg != "" {
				t.Errorf("%s/%s: full buffers: panic %q", kern.name, tc.name, msg)
			}
			if msg := panicOf(func() { tc.call(true) }); !strings.Contains(msg, tc.panic) {
				t.Errorf("%s/%s: short buffer: panic %q, want one containing %q", kern.name, tc.name, msg, tc.panic)
			}
		}
	}
}
