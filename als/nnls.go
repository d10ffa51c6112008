package als

import (
	"errors"
	"math"
)

// nnlsWork solves min ½·xᵀAx − bᵀx subject to x ≥ 0 for a symmetric
// positive definite k×k matrix A: the regularised normal equations of one
// user with the non-negativity constraint of Spark's nonnegative=true. The
// problem is strictly convex, so its minimiser is unique and any correct
// method finds the same point; this is the active-set method of Lawson and
// Hanson ("Solving Least Squares Problems", 1974, ch. 23) written for the
// normal equations. Each inner step solves the free subsystem by Cholesky:
// O(k³) per step, at most 3k outer steps.
type nnlsWork struct {
	k       int
	free    []bool
	w, z    []float64
	sub     []float64 // factor of the free subsystem
	rhs     []float64
	freeIdx []int
}

func newNNLS(k int) *nnlsWork {
	return &nnlsWork{k: k, free: make([]bool, k), w: make([]float64, k), z: make([]float64, k),
		sub: make([]float64, k*k), rhs: make([]float64, k), freeIdx: make([]int, 0, k)}
}

var errNNLS = errors.New("the non-negative least-squares solve did not converge")

// solve writes the minimiser into x. a is k×k row-major and not modified.
func (nw *nnlsWork) solve(a, b, x []float64) error {
	k := nw.k
	for i := range x[:k] {
		x[i] = 0
		nw.free[i] = false
	}
	var scale float64
	for _, v := range b[:k] {
		scale = math.Max(scale, math.Abs(v))
	}
	tol := 1e-12 * (1 + scale)
	for outer := 0; outer < 3*k+3; outer++ {
		// w = b − A·x, the negative gradient.
		best, bi := tol, -1
		for i := 0; i < k; i++ {
			g := b[i]
			for j := 0; j < k; j++ {
				g -= a[i*k+j] * x[j]
			}
			nw.w[i] = g
			if !nw.free[i] && g > best {
				best, bi = g, i
			}
		}
		if bi < 0 {
			return nil // KKT: every bound variable has a non-positive multiplier
		}
		nw.free[bi] = true
		for inner := 0; inner < 3*k+3; inner++ {
			if err := nw.solveFree(a, b); err != nil {
				return err
			}
			alpha, feasible := 1.0, true
			for i := 0; i < k; i++ {
				if nw.free[i] && nw.z[i] <= 0 {
					feasible = false
					if d := x[i] - nw.z[i]; d > 0 {
						alpha = math.Min(alpha, x[i]/d)
					} else {
						alpha = 0
					}
				}
			}
			if feasible {
				copy(x[:k], nw.z[:k])
				break
			}
			for i := 0; i < k; i++ {
				if nw.free[i] {
					x[i] += alpha * (nw.z[i] - x[i])
					if x[i] <= tol {
						x[i] = 0
						nw.free[i] = false
					}
				}
			}
			if inner == 3*k+2 {
				return errNNLS
			}
		}
	}
	return errNNLS
}

// solveFree sets z to the solution of A_FF z_F = b_F on the free set F and
// 0 elsewhere.
func (nw *nnlsWork) solveFree(a, b []float64) error {
	k := nw.k
	f := nw.freeIdx[:0]
	for i := 0; i < k; i++ {
		nw.z[i] = 0
		if nw.free[i] {
			f = append(f, i)
		}
	}
	m := len(f)
	l := nw.sub[:m*m]
	for r, i := range f {
		for c, j := range f[:r+1] {
			l[r*m+c] = a[i*k+j]
		}
		nw.rhs[r] = b[i]
	}
	// In-place Cholesky of the lower triangle.
	for j := 0; j < m; j++ {
		d := l[j*m+j]
		for q := 0; q < j; q++ {
			d -= l[j*m+q] * l[j*m+q]
		}
		if !(d > singularRel*a[f[j]*k+f[j]]) {
			return errors.New("the non-negative least-squares subproblem is singular; increase the regularisation")
		}
		d = math.Sqrt(d)
		l[j*m+j] = d
		for i := j + 1; i < m; i++ {
			v := l[i*m+j]
			for q := 0; q < j; q++ {
				v -= l[i*m+q] * l[j*m+q]
			}
			l[i*m+j] = v / d
		}
	}
	y := nw.rhs[:m]
	for i := 0; i < m; i++ {
		v := y[i]
		for q := 0; q < i; q++ {
			v -= l[i*m+q] * y[q]
		}
		y[i] = v / l[i*m+i]
	}
	for i := m - 1; i >= 0; i-- {
		v := y[i]
		for q := i + 1; q < m; q++ {
			v -= l[q*m+i] * y[q]
		}
		y[i] = v / l[i*m+i]
	}
	for r, i := range f {
		nw.z[i] = y[r]
	}
	nw.freeIdx = f
	return nil
}
