package als

// The assembly kernels do not check their arguments; each assembly tier
// wraps its kernels with checked, so that a bad length panics in Go
// instead of reading or writing out of bounds.

// checked returns the kernel set raw of an assembly tier with each of its
// first seven kernels (the assembly ones, which trust their arguments)
// behind the checks of its arguments below. Its cgPass and cgGather, which
// each tier builds in Go, are taken as they are: they check their own.
func checked(raw kernels) kernels {
	return kernels{
		name: raw.name,
		gatherRows: func(dst []float64, src []float32, s int, idx []int32, scale, tgt, rhs []float64, pf []int32) {
			checkGather(dst, src, s, idx, scale, tgt, rhs, pf)
			raw.gatherRows(dst, src, s, idx, scale, tgt, rhs, pf)
		},
		gramLower: func(c, b []float64, m, s int, zero bool) {
			checkGram(c, b, m, s)
			raw.gramLower(c, b, m, s, zero)
		},
		cholBatch: func(a, inv []float64, k int) {
			checkChol(a, inv, k)
			raw.cholBatch(a, inv, k)
		},
		solveBatch: func(a, inv, b []float64, k int) {
			checkSolve(a, inv, b, k)
			raw.solveBatch(a, inv, b, k)
		},
		copyRows: func(dst, src []float32, s int, idx, pf []int32) {
			checkCopy("copyRows", dst, src, s, idx, pf)
			raw.copyRows(dst, src, s, idx, pf)
		},
		dotRows: func(q, b []float32, m, s int, p []float32) {
			checkDot(q, b, m, s, p)
			raw.dotRows(q, b, m, s, p)
		},
		axpyRows: func(out, b []float32, m, s int, coef []float32) {
			checkAxpy(out, b, m, s, coef)
			raw.axpyRows(out, b, m, s, coef)
		},
		cgPass:   raw.cgPass,
		cgGather: raw.cgGather,
	}
}

// The checks below guard the assembly kernels of every tier, which
// trust their arguments: each panics, naming the kernel, unless the slices
// are long enough and the row indices in range for the contract in
// kernels.go.

func checkStride(s int) {
	if s <= 0 || s%16 != 0 {
		panic("als: row stride must be a positive multiple of 16")
	}
}

// checkRows checks that the rows of every list are rows of src. It runs
// on every row index a kernel reads, so it is one unsigned comparison per
// index with the row count: negative indices wrap to huge ones and fail
// too. (It used to compute (r+1)·s per index, in int32 for r+1, which let
// math.MaxInt32 through; and it was 4.2% of the perf samples of an
// implicit avx2 ML-20M fit. Whole fits, 13 alternating pairs: the new
// check faster in 12, by 1–8%, median s/it 0.96 → 0.93; BenchmarkCG's
// gather, where the loads wait on memory anyway, shows no change in
// benchstat (n=6). Intel(R) Xeon(R) Processor, 2 cores.)
func checkRows(kernel string, src []float32, s int, lists ...[]int32) {
	n := uint(len(src) / s)
	for _, rows := range lists {
		if !rowsBelow(rows, n) {
			panic("als: " + kernel + ": row index out of range")
		}
	}
}

// rowsBelow reports whether every r in rows is in [0, n).
func rowsBelow(rows []int32, n uint) bool {
	for _, r := range rows {
		if uint(r) >= n {
			return false
		}
	}
	return true
}

func checkGather(dst []float64, src []float32, s int, idx []int32, scale, tgt, rhs []float64, pf []int32) {
	checkStride(s)
	m := len(idx)
	if len(dst) < m*s || len(tgt) < m || len(rhs) < s || (scale != nil && len(scale) < m) {
		panic("als: gatherRows: short buffer")
	}
	checkRows("gatherRows", src, s, idx, pf)
}

func checkGram(c, b []float64, m, s int) {
	checkStride(s)
	if m < 0 || len(c) < s*s || len(b) < m*s {
		panic("als: gramLower: short buffer")
	}
}

func checkChol(a, inv []float64, k int) {
	if k < 0 || len(a) < packedLen(k) || len(inv) < k*lanes {
		panic("als: cholBatch: short buffer")
	}
}

func checkSolve(a, inv, b []float64, k int) {
	if k < 0 || len(a) < packedLen(k) || len(inv) < k*lanes || len(b) < k*lanes {
		panic("als: solveBatch: short buffer")
	}
}

// checkCopy checks the arguments of a row copy into dst (copyRows and the
// gathering half of cgGather).
func checkCopy(kernel string, dst, src []float32, s int, idx, pf []int32) {
	checkStride(s)
	if len(dst) < len(idx)*s {
		panic("als: " + kernel + ": short buffer")
	}
	checkRows(kernel, src, s, idx, pf)
}

func checkDot(q, b []float32, m, s int, p []float32) {
	checkStride(s)
	if m < 0 || len(q) < m || len(b) < m*s || len(p) < s {
		panic("als: dotRows: short buffer")
	}
}

func checkAxpy(out, b []float32, m, s int, coef []float32) {
	checkStride(s)
	if m < 0 || len(out) < s || len(b) < m*s || len(coef) < m {
		panic("als: axpyRows: short buffer")
	}
}

// checkCG checks the arguments of a CG pass over the m rows of b; q, when
// not nil, is scratch the kernel writes and must hold m values.
func checkCG(kernel string, b []float32, m, s int, p, w, a, out1, out2, q []float32) {
	checkStride(s)
	if m < 0 || len(b) < m*s || len(p) < s || len(w) < m || len(out2) < s ||
		(len(a) > 0 && (len(a) < m || len(out1) < s)) || (q != nil && len(q) < m) {
		panic("als: " + kernel + ": short buffer")
	}
}
