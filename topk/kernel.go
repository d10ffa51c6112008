package topk

import (
	"fmt"
	"strings"
	"sync/atomic"
)

// A kernel scores one tile: mr users against one panel of nr items, over the
// full rank, and reports which groups of g lanes hold a score above the
// user's threshold.
//
// Layouts (all float32):
//   - a: the users of the tile packed rank-major, a[p*mr+i] = factor p of
//     tile user i (rank*mr values);
//   - b: the items of the panel packed rank-major, b[p*nr+j] = factor p of
//     panel item j (rank*nr values);
//   - c: receives the scores row-major, c[i*nr+j] (mr*nr values); written
//     only when the returned mask is non-zero;
//   - thr: the current threshold of each tile user (mr values).
//
// Bit i*(nr/g)+h of the result is set when some c[i*nr+h*g+l], l < g, is
// greater than thr[i] (an ordered comparison: NaN never is). Each score is
// the sum over p = 0, 1, ..., rank-1 in that order, so a score does not
// depend on where its user or item sits in a tile.
type kernel struct {
	name      string
	mr, nr, g int
	tile      func(a, b, c, thr []float32, rank int) uint32
}

// generic is the portable kernel: 4 users × 4 items, scalar Go.
var generic = &kernel{name: "generic", mr: 4, nr: 4, g: 4, tile: tileGeneric}

// kernels lists the kernels usable on this machine, fastest first; the
// first is used. Set by init in the architecture's file.
var kernels = []*kernel{generic}

// chosen is the kernel UseKernel picked; nil means the fastest.
var chosen atomic.Pointer[kernel]

// best returns the kernel Each uses.
func best() *kernel {
	if k := chosen.Load(); k != nil {
		return k
	}
	return kernels[0]
}

// KernelName returns the name of the scoring kernel Each uses: "avx512",
// "avx2", "neon" or "generic".
func KernelName() string { return best().name }

// KernelTiers returns the names of the kernels this CPU supports, fastest
// first; the last is always "generic", the portable one.
func KernelTiers() []string {
	out := make([]string, len(kernels))
	for i, k := range kernels {
		out[i] = k.name
	}
	return out
}

// UseKernel makes Each use the named kernel: one of KernelTiers, "" or
// "auto" for the fastest, or "gonum" for the portable one (the name of the
// portable tier of package als; scoring has no gonum routine to call, so
// the portable scalar kernel stands in). A kernel the CPU lacks is an
// error. It is meant to be called once at start-up.
func UseKernel(name string) error {
	switch name {
	case "", "auto":
		chosen.Store(nil)
		return nil
	case "gonum":
		name = generic.name
	}
	for _, k := range kernels {
		if k.name == name {
			chosen.Store(k)
			return nil
		}
	}
	return fmt.Errorf("scoring kernel %q is not available on this CPU (it supports: %s)", name, strings.Join(KernelTiers(), ", "))
}

func tileGeneric(a, b, c, thr []float32, rank int) uint32 {
	var c00, c01, c02, c03, c10, c11, c12, c13 float32
	var c20, c21, c22, c23, c30, c31, c32, c33 float32
	a = a[:rank*4]
	b = b[:rank*4]
	for p := 0; p < rank; p++ {
		ap := a[p*4 : p*4+4 : p*4+4]
		bp := b[p*4 : p*4+4 : p*4+4]
		b0, b1, b2, b3 := bp[0], bp[1], bp[2], bp[3]
		a0 := ap[0]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		a1 := ap[1]
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		a2 := ap[2]
		c20 += a2 * b0
		c21 += a2 * b1
		c22 += a2 * b2
		c23 += a2 * b3
		a3 := ap[3]
		c30 += a3 * b0
		c31 += a3 * b1
		c32 += a3 * b2
		c33 += a3 * b3
	}
	t := thr[:4:4]
	var m uint32
	if c00 > t[0] || c01 > t[0] || c02 > t[0] || c03 > t[0] {
		m |= 1
	}
	if c10 > t[1] || c11 > t[1] || c12 > t[1] || c13 > t[1] {
		m |= 2
	}
	if c20 > t[2] || c21 > t[2] || c22 > t[2] || c23 > t[2] {
		m |= 4
	}
	if c30 > t[3] || c31 > t[3] || c32 > t[3] || c33 > t[3] {
		m |= 8
	}
	if m != 0 {
		c = c[:16:16]
		c[0], c[1], c[2], c[3] = c00, c01, c02, c03
		c[4], c[5], c[6], c[7] = c10, c11, c12, c13
		c[8], c[9], c[10], c[11] = c20, c21, c22, c23
		c[12], c[13], c[14], c[15] = c30, c31, c32, c33
	}
	return m
}
