package als

import (
	"context"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
)

// SolveError is a data-dependent failure of one user's (item's) normal
// equations: a singular system or a non-finite solution. Fit returns it
// instead of writing a broken model.
type SolveError struct {
	Iter   int    // 1-based iteration
	Side   string // "user" or "item"
	ID     string // original id
	Reason string
}

func (e *SolveError) Error() string {
	return fmt.Sprintf("als: iteration %d: %s %q: %s", e.Iter, e.Side, e.ID, e.Reason)
}

// blockRows is the number of rows gathered at a time for the Gram matrix:
// 32 float64 rows of rank 64 take 16 KiB and stay in the L1 cache while
// every tile of the Gram kernel passes over them.
const blockRows = 32

// problem is the state of one fit.
type problem struct {
	p        Params
	k        int // unknowns per entity: Rank, +1 with biases
	s        int // row stride of factors and Gram matrices
	kern     *kernels
	mu       float64 // global mean rating (biases)
	threads  int
	scratch  []*scratch
	yty64    []float64 // YᵀY of the fixed side (implicit), s×s, full
	yty32    []float32 // the same in float32 (CG)
	progress func(done int)
}

// scratch is one worker's buffers, reused across solves.
type scratch struct {
	blk []float64 // blockRows × s
	tgt []float64 // blockRows
	scl []float64 // blockRows

	pack, inv, pb, rb, od []float64 // batched Cholesky: packed matrices, 1/pivots, rhs→x, rhs copy, original diagonals
	c0                    [lanes]float64
	grams, rhss           [lanes][]float64 // each lane's Gram matrix (s × s) and rhs (s); NNLS uses lane 0

	// CG, float32.
	blk32          []float32
	w32, t32, q32  []float32
	x, r, d, ad, b []float32

	// NNLS.
	full []float64
	nn   *nnlsWork
}

func newScratch(k, s int) *scratch {
	sc := &scratch{
		blk: make([]float64, blockRows*s),
		tgt: make([]float64, blockRows), scl: make([]float64, blockRows),
		pack: make([]float64, packedLen(k)), inv: make([]float64, k*lanes),
		pb: make([]float64, k*lanes), rb: make([]float64, k*lanes), od: make([]float64, k*lanes),
		x: make([]float32, s), r: make([]float32, s), d: make([]float32, s),
		ad: make([]float32, s), b: make([]float32, s),
	}
	for l := range lanes {
		sc.grams[l], sc.rhss[l] = make([]float64, s*s), make([]float64, s)
	}
	return sc
}

// solveHalf recomputes the factors of dst from the fixed factors of src.
// Work is cut into dst.chunks, taken in order by the workers; each entity
// is solved by exactly one worker with no shared accumulation, so the
// result does not depend on the number of workers or their timing. When
// several entities fail, the error of the first (in chunk order) is
// returned, which is also independent of timing: chunks are handed out in
// increasing order and every chunk handed out is finished.
func (pr *problem) solveHalf(ctx context.Context, iter int, dst, src *side) error {
	pr.yty64, pr.yty32 = nil, nil
	if pr.p.Implicit {
		if err := pr.gramAll(ctx, src); err != nil {
			return err
		}
	}
	nch := len(dst.chunks) - 1
	errs := make([]error, nch)
	var next atomic.Int64
	var failed atomic.Bool
	var wg sync.WaitGroup
	for w := 0; w < pr.threads; w++ {
		sc := pr.scratch[w]
		wg.Go(func() {
			for !failed.Load() && ctx.Err() == nil {
				c := int(next.Add(1) - 1)
				if c >= nch {
					return
				}
				lo, hi := dst.chunks[c], dst.chunks[c+1]
				var err error
				switch {
				case pr.p.Nonnegative:
					err = pr.nnlsChunk(iter, dst, src, sc, lo, hi)
				case pr.p.Solver == SolverCG:
					err = pr.cgChunk(iter, dst, src, sc, lo, hi)
				default:
					err = pr.cholChunk(iter, dst, src, sc, lo, hi)
				}
				if err != nil {
					errs[c] = err
					failed.Store(true)
					return
				}
				if pr.progress != nil {
					pr.progress(hi - lo)
				}
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return ctx.Err()
}

// gramRows is the number of rows per piece of YᵀY.
const gramRows = 1024

// gramAll sets pr.yty64 (and pr.yty32 for CG) to YᵀY = Σ_e y_e·y_eᵀ over
// all entities of src. Pieces of gramRows rows are summed in piece order,
// so the result does not depend on the number of workers.
func (pr *problem) gramAll(ctx context.Context, src *side) error {
	s := pr.s
	n := src.n()
	np := (n + gramRows - 1) / gramRows
	parts := make([][]float64, np)
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < min(pr.threads, np); w++ {
		wg.Go(func() {
			blk := make([]float64, blockRows*s)
			idx := make([]int32, blockRows)
			zero := make([]float64, blockRows)
			rhs := make([]float64, s)
			for ctx.Err() == nil {
				c := int(next.Add(1) - 1)
				if c >= np {
					return
				}
				g := make([]float64, s*s)
				for a := c * gramRows; a < min(n, (c+1)*gramRows); a += blockRows {
					m := min(blockRows, n-a, (c+1)*gramRows-a)
					for j := 0; j < m; j++ {
						idx[j] = int32(a + j)
					}
					pr.kern.gatherRows(blk, src.fac, s, idx[:m], nil, zero[:m], rhs, nil)
					pr.kern.gramLower(g, blk, m, s, false)
				}
				parts[c] = g
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	g := make([]float64, s*s)
	for _, part := range parts {
		for i := 0; i < s; i++ {
			for j := 0; j <= i; j++ {
				g[i*s+j] += part[i*s+j]
			}
		}
	}
	for i := 0; i < s; i++ {
		for j := 0; j < i; j++ {
			g[j*s+i] = g[i*s+j]
		}
	}
	pr.yty64 = g
	if pr.p.Solver == SolverCG {
		pr.yty32 = make([]float32, s*s)
		for i, v := range g {
			pr.yty32[i] = float32(v)
		}
	}
	return nil
}

// weights fills sc.tgt (and sc.scl, implicit) for ratings vals of items
// idx and returns their contribution to the constant term of the loss:
// explicit, target r − μ − b_i and Σ target²; implicit, scale √(α|r|)
// (the weight c−1 of y·yᵀ), target c·p = (1+α|r|)·[r > 0] and Σ c·p².
func (pr *problem) weights(sc *scratch, src *side, idx []int32, vals []float32) float64 {
	var c0 float64
	if pr.p.Implicit {
		a := pr.p.Alpha
		for j, v := range vals {
			c1 := a * math.Abs(float64(v))
			sc.scl[j] = math.Sqrt(c1)
			if v > 0 {
				sc.tgt[j] = 1 + c1
				c0 += 1 + c1
			} else {
				sc.tgt[j] = 0
			}
		}
		return c0
	}
	for j, v := range vals {
		t := float64(v)
		if pr.p.Biases {
			t -= pr.mu + src.bias[idx[j]]
		}
		sc.tgt[j] = t
		c0 += t * t
	}
	return c0
}

// normal forms the normal equations of entity e of dst in gram (s × s,
// lower triangle, without YᵀY and regularisation) and rhs, and returns the
// constant term of its loss. Every entity has at least one rating.
func (pr *problem) normal(sc *scratch, gram, rhs []float64, dst, src *side, e int) float64 {
	s := pr.s
	clear(rhs)
	var scl []float64
	if pr.p.Implicit {
		scl = sc.scl
	}
	a, b := dst.indptr[e], dst.indptr[e+1]
	n := int64(len(dst.cols))
	var c0 float64
	for start := a; start < b; start += blockRows {
		end := min(start+blockRows, b)
		m := int(end - start)
		idx := dst.cols[start:end]
		c0 += pr.weights(sc, src, idx, dst.vals[start:end])
		if scl != nil {
			scl = sc.scl[:m]
		}
		// Prefetch the rows of the next block (of this entity or the next).
		pf := dst.cols[end:min(end+blockRows, n)]
		pr.kern.gatherRows(sc.blk, src.fac, s, idx, scl, sc.tgt[:m], rhs, pf)
		pr.kern.gramLower(gram, sc.blk, m, s, start == a)
	}
	return c0
}

// store writes the solution x (k values) of entity e and its loss terms:
// data loss c0 − xᵀb − xᵀres − reg·‖x‖² (res = b − A·x, nil when the
// solve is exact) and reg·‖x‖². The identity holds because the data loss
// is c0 − 2xᵀb + xᵀGx with A = G + reg·I.
func (pr *problem) store(iter int, dst *side, e int, x func(i int) float64, b func(i int) float64, res func(i int) float64, c0 float64) error {
	rank := pr.p.Rank
	f := dst.fac[e*pr.s : e*pr.s+rank]
	var xb, xr, xx float64
	for i := 0; i < pr.k; i++ {
		v := x(i)
		if math.IsNaN(v) || math.IsInf(v, 0) || math.IsInf(float64(float32(v)), 0) {
			return &SolveError{Iter: iter, Side: dst.name, ID: dst.ids[e],
				Reason: fmt.Sprintf("factor %d is %v (the normal equations are ill-conditioned; increase the regularisation)", i, v)}
		}
		xb += v * b(i)
		if res != nil {
			xr += v * res(i)
		}
		xx += v * v
	}
	for i := 0; i < rank; i++ {
		f[i] = float32(x(i))
	}
	if pr.p.Biases {
		dst.bias[e] = x(rank)
	}
	reg := dst.reg[e]
	dst.loss[e] = c0 - xb - xr - reg*xx
	dst.regl[e] = reg * xx
	return nil
}

// singularRel is the smallest pivot², relative to the diagonal entry it
// came from, that the Cholesky solve accepts. Smaller pivots mean the
// normal equations are singular to working precision (for instance λ = 0
// and fewer ratings than the rank).
const singularRel = 1e-13

func (pr *problem) cholChunk(iter int, dst, src *side, sc *scratch, lo, hi int) error {
	k, s := pr.k, pr.s
	for b0 := lo; b0 < hi; b0 += lanes {
		nl := min(lanes, hi-b0)
		for l := 0; l < nl; l++ {
			e := b0 + l
			gram, rhs := sc.grams[l], sc.rhss[l]
			sc.c0[l] = pr.normal(sc, gram, rhs, dst, src, e)
			reg := dst.reg[e]
			for i := 0; i < k; i++ {
				row := gram[i*s : i*s+i+1]
				if pr.yty64 != nil {
					for j, v := range pr.yty64[i*s : i*s+i+1] {
						row[j] += v
					}
				}
				row[i] += reg
				sc.pb[i*lanes+l] = rhs[i]
				sc.rb[i*lanes+l] = rhs[i]
				sc.od[i*lanes+l] = row[i]
			}
		}
		// Pack the lanes' lower triangles element by element, the lanes of
		// an element side by side: each cache line of the packed batch is
		// written once, whole, rather than one value at a time by each of
		// eight entities in turn.
		if nl == lanes {
			packFull(sc.pack, &sc.grams, k, s)
		} else {
			for i := 0; i < k; i++ {
				base := packedIndex(i, 0)
				for j := 0; j <= i; j++ {
					dst8 := sc.pack[base+j*lanes : base+j*lanes+lanes]
					for l := 0; l < nl; l++ {
						dst8[l] = sc.grams[l][i*s+j]
					}
				}
			}
		}
		for l := nl; l < lanes; l++ { // unused lanes: the identity
			for i := 0; i < k; i++ {
				p := packedIndex(i, 0) + l
				for j := 0; j < i; j++ {
					sc.pack[p+j*lanes] = 0
				}
				sc.pack[p+i*lanes] = 1
				sc.pb[i*lanes+l] = 0
			}
		}
		pr.kern.cholBatch(sc.pack, sc.inv, k)
		pr.kern.solveBatch(sc.pack, sc.inv, sc.pb, k)
		for l := 0; l < nl; l++ {
			e := b0 + l
			for i := 0; i < k; i++ {
				d := sc.pack[packedIndex(i, i)+l]
				if !(d > 0) || math.IsInf(d, 0) || d*d <= singularRel*sc.od[i*lanes+l] {
					return &SolveError{Iter: iter, Side: dst.name, ID: dst.ids[e],
						Reason: fmt.Sprintf("the normal equations are singular (pivot %d of %d; %d ratings, regularisation %g); increase the regularisation",
							i+1, k, dst.indptr[e+1]-dst.indptr[e], dst.reg[e])}
				}
			}
			if err := pr.store(iter, dst, e,
				func(i int) float64 { return sc.pb[i*lanes+l] },
				func(i int) float64 { return sc.rb[i*lanes+l] }, nil, sc.c0[l]); err != nil {
				return err
			}
		}
	}
	return nil
}

// packFull packs the lower triangles (order k, row stride s) of all
// eight lanes' Gram matrices into pack (see packedIndex). It is the loop
// of cholChunk written out for eight lanes, with each lane's row sliced
// once, so that the copy costs a load and a store per element rather than
// a slice header and bounds check per element and lane (7.6% of an
// explicit ML-20M iteration before; perf, Intel(R) Xeon(R) Processor).
func packFull(pack []float64, grams *[lanes][]float64, k, s int) {
	for i := 0; i < k; i++ {
		r := i * s
		g0, g1, g2, g3 := grams[0][r:r+i+1], grams[1][r:r+i+1], grams[2][r:r+i+1], grams[3][r:r+i+1]
		g4, g5, g6, g7 := grams[4][r:r+i+1], grams[5][r:r+i+1], grams[6][r:r+i+1], grams[7][r:r+i+1]
		row := pack[packedIndex(i, 0) : packedIndex(i, i)+lanes]
		for j := range g0 {
			d := row[j*lanes : j*lanes+lanes : j*lanes+lanes]
			d[0], d[1], d[2], d[3] = g0[j], g1[j], g2[j], g3[j]
			d[4], d[5], d[6], d[7] = g4[j], g5[j], g6[j], g7[j]
		}
	}
}

func (pr *problem) nnlsChunk(iter int, dst, src *side, sc *scratch, lo, hi int) error {
	k, s := pr.k, pr.s
	if sc.nn == nil {
		sc.nn = newNNLS(k)
		sc.full = make([]float64, k*k)
	}
	x := make([]float64, k)
	res := make([]float64, k)
	gram, rhs := sc.grams[0], sc.rhss[0]
	for e := lo; e < hi; e++ {
		c0 := pr.normal(sc, gram, rhs, dst, src, e)
		reg := dst.reg[e]
		for i := 0; i < k; i++ {
			for j := 0; j <= i; j++ {
				v := gram[i*s+j]
				if pr.yty64 != nil {
					v += pr.yty64[i*s+j]
				}
				sc.full[i*k+j], sc.full[j*k+i] = v, v
			}
			sc.full[i*k+i] += reg
		}
		if err := sc.nn.solve(sc.full, rhs[:k], x); err != nil {
			return &SolveError{Iter: iter, Side: dst.name, ID: dst.ids[e], Reason: err.Error()}
		}
		for i := 0; i < k; i++ {
			r := rhs[i]
			for j := 0; j < k; j++ {
				r -= sc.full[i*k+j] * x[j]
			}
			res[i] = r
		}
		if err := pr.store(iter, dst, e, func(i int) float64 { return x[i] },
			func(i int) float64 { return rhs[i] }, func(i int) float64 { return res[i] }, c0); err != nil {
			return err
		}
	}
	return nil
}

// cgChunk solves each entity by pr.p.CGSteps conjugate-gradient steps
// started from its current factors (benfred/implicit's solver). A·v is
// applied as YᵀY·v + reg·v + Σ_j w_j (y_j·v) y_j over the entity's
// gathered rows, never forming its k×k matrix.
func (pr *problem) cgChunk(iter int, dst, src *side, sc *scratch, lo, hi int) error {
	s, k, rank := pr.s, pr.k, pr.p.Rank
	for e := lo; e < hi; e++ {
		a0, b := dst.indptr[e], dst.indptr[e+1]
		n := int(b - a0)
		if cap(sc.blk32) < n*s {
			sc.blk32 = make([]float32, n*s*5/4+s)
			sc.w32 = make([]float32, n*5/4+1)
			sc.t32 = make([]float32, n*5/4+1)
			sc.q32 = make([]float32, n*5/4+1)
		}
		blk := sc.blk32[:n*s]
		w, t, q := sc.w32[:n], sc.t32[:n], sc.q32[:n]
		var c0 float64
		idx := dst.cols[a0:b]
		for j := 0; j < n; j++ {
			i := int(idx[j])
			v := dst.vals[a0+int64(j)]
			if pr.p.Implicit {
				c1 := pr.p.Alpha * math.Abs(float64(v))
				w[j] = float32(c1)
				if v > 0 {
					t[j] = float32(1 + c1)
					c0 += 1 + c1
				} else {
					t[j] = 0
				}
			} else {
				tv := float64(v)
				if pr.p.Biases {
					tv -= pr.mu + src.bias[i]
				}
				w[j] = 1
				t[j] = float32(tv)
				c0 += tv * tv
			}
		}
		reg := float32(dst.reg[e])
		x, r, d, ad, bv := sc.x, sc.r, sc.d, sc.ad, sc.b
		copy(x, dst.fac[e*s:e*s+s])
		if pr.p.Biases {
			x[rank] = float32(dst.bias[e])
		}
		// applyA sets out = A·v = Σ_j w_j (y_j·v) y_j + YᵀY·v + reg·v in one
		// pass over the rows, adding Σ_j a_j y_j to out1 in the same pass
		// when a is given. The first call also gathers the rows into blk,
		// prefetching cgAhead rows ahead (into the next entity at the end).
		first := true
		applyA := func(out, v, a, out1 []float32) {
			clear(out)
			if first {
				pf := dst.cols[min(a0+cgAhead, int64(len(dst.cols))):min(b+cgAhead, int64(len(dst.cols)))]
				pr.kern.cgGather(blk, src.fac, s, idx, pf, v, w, a, out1, out, q)
				first = false
			} else {
				pr.kern.cgPass(blk, n, s, v, w, a, out1, out, q)
			}
			if pr.yty32 != nil {
				pr.kern.axpyRows(out, pr.yty32, k, s, v)
			}
			for i := 0; i < k; i++ {
				out[i] += reg * v[i]
			}
		}
		clear(bv)
		applyA(ad, x, t, bv) // bv = b = Σ_j c_j p_j y_j (explicit: r_j y_j)
		for i := range r {
			r[i] = bv[i] - ad[i]
		}
		copy(d, r)
		rs := dot32(r[:k], r[:k])
		for step := 0; step < pr.p.CGSteps && rs >= 1e-20; step++ {
			applyA(ad, d, nil, nil)
			dad := dot32(d[:k], ad[:k])
			if !(dad > 0) {
				break // A is positive definite: only rounding gets here
			}
			alpha := float32(rs / dad)
			for i := 0; i < k; i++ {
				x[i] += alpha * d[i]
				r[i] -= alpha * ad[i]
			}
			rsNew := dot32(r[:k], r[:k])
			if rsNew < 1e-20 {
				break
			}
			beta := float32(rsNew / rs)
			for i := 0; i < k; i++ {
				d[i] = r[i] + beta*d[i]
			}
			rs = rsNew
		}
		if err := pr.store(iter, dst, e, func(i int) float64 { return float64(x[i]) },
			func(i int) float64 { return float64(bv[i]) }, func(i int) float64 { return float64(r[i]) }, c0); err != nil {
			return err
		}
	}
	return nil
}

// cgAhead is how many rows ahead copyRows prefetches.
const cgAhead = 16

// dot32 is x·y accumulated in float64.
func dot32(x, y []float32) float64 {
	y = y[:len(x)]
	var s0, s1 float64
	i := 0
	for ; i+2 <= len(x); i += 2 {
		s0 += float64(x[i]) * float64(y[i])
		s1 += float64(x[i+1]) * float64(y[i+1])
	}
	if i < len(x) {
		s0 += float64(x[i]) * float64(y[i])
	}
	return s0 + s1
}
