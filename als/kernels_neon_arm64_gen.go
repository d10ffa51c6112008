//go:build ignore

// This program generates kernels_neon_arm64.s, the NEON tier of the ALS
// kernels (see kernels.go for what each computes):
//
//	go run kernels_neon_arm64_gen.go -o kernels_neon_arm64.s
//
// (`GOARCH=arm64 go generate` in this directory runs it). Go's arm64
// assembler lacks a number of ASIMD floating-point instructions (FADD, FMUL,
// FDIV, FSQRT, FADDP, FCVTL and FMLA by element, among others); they are
// emitted as WORD with the GNU mnemonic in a comment, encoded by the
// functions below from the Arm ARM (DDI 0487, section C7.2). `go tool objdump` on a test binary
// disassembles them back to those mnemonics.
//
// Register use: R0–R17 and R19–R25 (R18 is the platform register, R26 the
// closure context, R27 the assembler's temporary); V0–V31 are all
// caller-saved in Go's ABI.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"log"
	"os"
)

var out bytes.Buffer

func emit(format string, args ...any) { fmt.Fprintf(&out, format+"\n", args...) }

func label(l string) { emit("\n%s:", l) }

func word(enc uint32, mnemonic string, args ...any) {
	emit("\tWORD $0x%08x // %s", enc, fmt.Sprintf(mnemonic, args...))
}

func rdn(d, n int) uint32     { return uint32(n)<<5 | uint32(d) }
func rdnm(d, n, m int) uint32 { return uint32(m)<<16 | rdn(d, n) }

// Vector arithmetic, Vd = Vn op Vm, on 2 doubles (d2) or 4 singles.
func faddD(d, n, m int) { word(0x4e60d400|rdnm(d, n, m), "FADD V%d.2D, V%d.2D, V%d.2D", d, n, m) }
func faddS(d, n, m int) { word(0x4e20d400|rdnm(d, n, m), "FADD V%d.4S, V%d.4S, V%d.4S", d, n, m) }
func fmulD(d, n, m int) { word(0x6e60dc00|rdnm(d, n, m), "FMUL V%d.2D, V%d.2D, V%d.2D", d, n, m) }
func fmulS(d, n, m int) { word(0x6e20dc00|rdnm(d, n, m), "FMUL V%d.4S, V%d.4S, V%d.4S", d, n, m) }
func fdivD(d, n, m int) { word(0x6e60fc00|rdnm(d, n, m), "FDIV V%d.2D, V%d.2D, V%d.2D", d, n, m) }
func fsqrtD(d, n int)   { word(0x6ee1f800|rdn(d, n), "FSQRT V%d.2D, V%d.2D", d, n) }

// faddpS is FADDP Vd.4S, Vn.4S, Vm.4S: [n0+n1, n2+n3, m0+m1, m2+m3].
func faddpS(d, n, m int) { word(0x6e20d400|rdnm(d, n, m), "FADDP V%d.4S, V%d.4S, V%d.4S", d, n, m) }

// faddpScalarS is FADDP Sd, Vn.2S: lane 0 of Vd = n0+n1, the rest zero.
func faddpScalarS(d, n int) { word(0x7e30d800|rdn(d, n), "FADDP S%d, V%d.2S", d, n) }

// fcvtl is FCVTL Vd.2D, Vn.2S (lanes 0, 1 of Vn); fcvtl2 is FCVTL2
// Vd.2D, Vn.4S (lanes 2, 3).
func fcvtl(d, n int)  { word(0x0e617800|rdn(d, n), "FCVTL V%d.2D, V%d.2S", d, n) }
func fcvtl2(d, n int) { word(0x4e617800|rdn(d, n), "FCVTL2 V%d.2D, V%d.4S", d, n) }

// fmlaElemD is FMLA Vd.2D, Vn.2D, Vm.D[i]: Vd += Vn·Vm[i].
func fmlaElemD(d, n, m, i int) {
	word(0x4fc01000|uint32(i)<<11|rdnm(d, n, m), "FMLA V%d.2D, V%d.2D, V%d.D[%d]", d, n, m, i)
}

// fmlaElemS is FMLA Vd.4S, Vn.4S, Vm.S[i]: Vd += Vn·Vm[i].
func fmlaElemS(d, n, m, i int) {
	word(0x4f801000|uint32(i&1)<<21|uint32(i>>1)<<11|rdnm(d, n, m), "FMLA V%d.4S, V%d.4S, V%d.S[%d]", d, n, m, i)
}

// vregs is the register list [Vv.T, ..., Vv+n-1.T] of VLD1/VST1.
func vregs(v, n int, t string) string {
	s := "["
	for i := 0; i < n; i++ {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("V%d.%s", v+i, t)
	}
	return s + "]"
}

func zero(from, n int) {
	for v := from; v < from+n; v++ {
		emit("\tVEOR V%d.B16, V%d.B16, V%d.B16", v, v, v)
	}
}

// prefetchRow emits a PRFM of every 64-byte line of the s-float row whose
// address is in rowReg (clobbered), ending at rowReg + rowBytes (in end).
func prefetchRow(l, rowReg, bytesReg, end string) {
	emit("\tADD %s, %s, %s", bytesReg, rowReg, end)
	label(l)
	emit("\tPRFM (%s), PLDL1KEEP", rowReg)
	emit("\tADD $64, %s, %s", rowReg, rowReg)
	emit("\tCMP %s, %s", end, rowReg)
	emit("\tBLT %s", l)
}

// reduceRow sums the four accumulators V(v)..V(v+3) of one dot product into
// lane 0 of V(v), always in the order ((v0+v1)+(v2+v3)) and then lane
// pairs, so a dot product does not depend on which path computed it.
func reduceRow(v int) {
	faddS(v, v, v+1)
	faddS(v+2, v+2, v+3)
	faddS(v, v, v+2)
	faddpS(v, v, v)
	faddpScalarS(v, v)
}

func gramLower() {
	emit(`
// func gramLowerNEON(c, b []float64, m, s int, zero bool)
//
// For every tile of 4 rows (r0..r0+3) by 8 columns (c0..c0+7) of C with
// c0 < r0+4 (which covers the lower triangle), the 16 accumulators
// C[r0+r][c0+2q:c0+2q+2] stay in V(4r+q) while the m rows of B stream by:
// per row, B[j][c0:c0+8] goes to V16..V19 and B[j][r0:r0+4] to V20, V21,
// and 16 FMLA by element add the products. With zero set the accumulators
// start from 0 instead of from C. Entries above the diagonal that a tile
// covers get C's old value plus their part of BᵀB.
TEXT ·gramLowerNEON(SB), NOSPLIT, $0-65
	MOVD c_base+0(FP), R0
	MOVD b_base+24(FP), R1
	MOVD m+48(FP), R2
	MOVD s+56(FP), R3
	MOVBU zero+64(FP), R4
	LSL $3, R3, R5 // bytes per row
	MOVD ZR, R6    // r0`)
	label("growblk")
	emit("\tCMP R3, R6")
	emit("\tBGE gdone")
	emit("\tMOVD ZR, R7 // c0")
	label("gcolblk")
	emit("\tADD $4, R6, R8")
	emit("\tCMP R8, R7")
	emit("\tBGE gnextrow")
	emit("\tMUL R3, R6, R9")
	emit("\tADD R7, R9, R9")
	emit("\tADD R9<<3, R0, R9 // &C[r0][c0]")
	emit("\tCBZ R4, gload")
	zero(0, 16)
	emit("\tB gstart")
	label("gload")
	emit("\tMOVD R9, R10")
	for r := 0; r < 4; r++ {
		emit("\tVLD1 (R10), %s", vregs(4*r, 4, "D2"))
		if r < 3 {
			emit("\tADD R5, R10, R10")
		}
	}
	label("gstart")
	emit("\tADD R6<<3, R1, R11 // &B[0][r0]")
	emit("\tADD R7<<3, R1, R12 // &B[0][c0]")
	emit("\tCBZ R2, gstore")
	emit("\tMOVD R2, R13")
	label("ginner")
	emit("\tVLD1.P (R12)(R5), %s", vregs(16, 4, "D2"))
	emit("\tVLD1.P (R11)(R5), %s", vregs(20, 2, "D2"))
	for r := 0; r < 4; r++ {
		for q := 0; q < 4; q++ {
			fmlaElemD(4*r+q, 16+q, 20+r/2, r%2)
		}
	}
	emit("\tSUBS $1, R13, R13")
	emit("\tBNE ginner")
	label("gstore")
	emit("\tMOVD R9, R10")
	for r := 0; r < 4; r++ {
		emit("\tVST1 %s, (R10)", vregs(4*r, 4, "D2"))
		if r < 3 {
			emit("\tADD R5, R10, R10")
		}
	}
	emit("\tADD $8, R7, R7")
	emit("\tB gcolblk")
	label("gnextrow")
	emit("\tADD $4, R6, R6")
	emit("\tB growblk")
	label("gdone")
	emit("\tRET")
}

func gatherRows() {
	emit(`
// func gatherRowsNEON(dst []float64, src []float32, s int, idx []int32, scale, tgt, rhs []float64, pf []int32)
//
// Column blocks of 16 outer, rows inner: rhs[c0:c0+16] stays in V0..V7.
// Per row the 16 floats are widened to V20..V27 (exactly), added to rhs
// times tgt[j], multiplied by scale[j] (one rounding, as in Go) and stored.
// During the first column block, the whole of row pf[j] is prefetched for
// each row j, so that the rows of later calls arrive from memory while this
// one computes.
TEXT ·gatherRowsNEON(SB), NOSPLIT, $0-176
	MOVD dst_base+0(FP), R0
	MOVD src_base+24(FP), R1
	MOVD s+48(FP), R2
	MOVD idx_base+56(FP), R3
	MOVD idx_len+64(FP), R4
	MOVD scale_base+80(FP), R5
	MOVD tgt_base+104(FP), R6
	MOVD rhs_base+128(FP), R7
	MOVD pf_base+152(FP), R8
	MOVD pf_len+160(FP), R9
	LSL $3, R2, R13 // bytes per dst row
	CBZ R4, rdone
	MOVD ZR, R10    // c0`)
	label("rcol")
	emit("\tCMP R2, R10")
	emit("\tBGE rdone")
	emit("\tADD R10<<3, R7, R14 // &rhs[c0]")
	emit("\tVLD1 (R14), %s", vregs(0, 4, "D2"))
	emit("\tADD $64, R14, R15")
	emit("\tVLD1 (R15), %s", vregs(4, 4, "D2"))
	emit("\tADD R10<<3, R0, R12 // &dst[0][c0]")
	emit("\tMOVD ZR, R11 // j")
	label("rrows")
	emit("\tCBNZ R10, rnopf")
	emit("\tCMP R9, R11")
	emit("\tBGE rnopf")
	emit("\tMOVW (R8)(R11<<2), R14")
	emit("\tMUL R2, R14, R14")
	emit("\tADD R14<<2, R1, R14 // &src[pf[j]][0]")
	emit("\tLSL $2, R2, R16")
	prefetchRow("rpf", "R14", "R16", "R15")
	label("rnopf")
	emit("\tMOVW (R3)(R11<<2), R14")
	emit("\tMUL R2, R14, R14")
	emit("\tADD R10, R14, R14")
	emit("\tADD R14<<2, R1, R14 // &src[idx[j]][c0]")
	emit("\tVLD1 (R14), %s", vregs(16, 4, "S4"))
	for t := 0; t < 4; t++ {
		fcvtl(20+2*t, 16+t)
		fcvtl2(21+2*t, 16+t)
	}
	emit("\tADD R11<<3, R6, R15")
	emit("\tVLD1R (R15), [V28.D2] // tgt[j]")
	for t := 0; t < 8; t++ {
		emit("\tVFMLA V28.D2, V%d.D2, V%d.D2", 20+t, t)
	}
	emit("\tCBZ R5, rstore")
	emit("\tADD R11<<3, R5, R15")
	emit("\tVLD1R (R15), [V29.D2] // scale[j]")
	for t := 0; t < 8; t++ {
		fmulD(20+t, 20+t, 29)
	}
	label("rstore")
	emit("\tVST1 %s, (R12)", vregs(20, 4, "D2"))
	emit("\tADD $64, R12, R15")
	emit("\tVST1 %s, (R15)", vregs(24, 4, "D2"))
	emit("\tADD R13, R12, R12")
	emit("\tADD $1, R11, R11")
	emit("\tCMP R4, R11")
	emit("\tBLT rrows")
	emit("\tADD R10<<3, R7, R14")
	emit("\tVST1 %s, (R14)", vregs(0, 4, "D2"))
	emit("\tADD $64, R14, R15")
	emit("\tVST1 %s, (R15)", vregs(4, 4, "D2"))
	emit("\tADD $16, R10, R10")
	emit("\tB rcol")
	label("rdone")
	emit("\tRET")
}

func cholBatch() {
	emit(`
// func cholBatchNEON(a, inv []float64, k int)
//
// Left-looking Cholesky of 8 packed matrices at once, one per lane (each
// element of the packed layout is four 2-lane registers). Column j:
// L[j][j] = √(A[j][j] − Σ_q L[j][q]²) with two accumulators (q even, odd),
// then the rows below four at a time (accumulators V0..V15),
// L[i][j] = (A[i][j] − Σ_q L[i][q]·L[j][q]) · (1/L[j][j]). A lane that is
// not positive definite takes the square root of a negative number: NaN,
// which spreads through the rest of its lane only.
TEXT ·cholBatchNEON(SB), NOSPLIT, $0-56
	MOVD a_base+0(FP), R0
	MOVD inv_base+24(FP), R1
	MOVD k+48(FP), R2
	MOVD $0x3FF0000000000000, R3
	VDUP R3, V31.D2 // 1.0
	MOVD ZR, R3     // j
	MOVD R0, R4     // &row j
	MOVD ZR, R5     // j*64`)
	label("ccol")
	emit("\tCMP R2, R3")
	emit("\tBGE cdone")
	emit("\tADD R5, R4, R6 // &A[j][j]")
	emit("\tVLD1 (R6), %s", vregs(0, 4, "D2"))
	zero(4, 4)
	emit("\tMOVD R4, R7")
	emit("\tAND $-128, R5, R8")
	emit("\tADD R4, R8, R8 // end of the pairs of columns")
	label("cdiag2")
	emit("\tCMP R8, R7")
	emit("\tBGE cdiag1")
	emit("\tVLD1.P 64(R7), %s", vregs(16, 4, "D2"))
	emit("\tVLD1.P 64(R7), %s", vregs(20, 4, "D2"))
	for t := 0; t < 4; t++ {
		emit("\tVFMLS V%d.D2, V%d.D2, V%d.D2", 16+t, 16+t, t)
		emit("\tVFMLS V%d.D2, V%d.D2, V%d.D2", 20+t, 20+t, 4+t)
	}
	emit("\tB cdiag2")
	label("cdiag1")
	emit("\tCMP R6, R7")
	emit("\tBGE cdiagend")
	emit("\tVLD1 (R7), %s", vregs(16, 4, "D2"))
	for t := 0; t < 4; t++ {
		emit("\tVFMLS V%d.D2, V%d.D2, V%d.D2", 16+t, 16+t, t)
	}
	label("cdiagend")
	for t := 0; t < 4; t++ {
		faddD(t, t, 4+t)
	}
	for t := 0; t < 4; t++ {
		fsqrtD(8+t, t)
	}
	emit("\tVST1 %s, (R6)", vregs(8, 4, "D2"))
	for t := 0; t < 4; t++ {
		fdivD(24+t, 31, 8+t)
	}
	emit("\tADD R5, R1, R9")
	emit("\tVST1 %s, (R9) // inv[j]", vregs(24, 4, "D2"))

	emit("\tADD $1, R3, R10 // i")
	emit("\tADD R10<<6, R4, R11 // &row i")
	label("crow4")
	emit("\tADD $3, R10, R12")
	emit("\tCMP R2, R12")
	emit("\tBGE crow1")
	emit("\tADD $1, R10, R16")
	emit("\tADD R16<<6, R11, R12 // &row i+1")
	emit("\tADD $2, R10, R16")
	emit("\tADD R16<<6, R12, R13 // &row i+2")
	emit("\tADD $3, R10, R16")
	emit("\tADD R16<<6, R13, R14 // &row i+3")
	rows := []string{"R11", "R12", "R13", "R14"}
	cur := []string{"R19", "R20", "R21", "R22"}
	cholRows := func(n int, pfx string) {
		for r := 0; r < n; r++ {
			emit("\tADD R5, %s, R16", rows[r])
			emit("\tVLD1 (R16), %s", vregs(4*r, 4, "D2"))
			emit("\tMOVD %s, %s", rows[r], cur[r])
		}
		emit("\tMOVD R4, R23")
		label(pfx + "q")
		emit("\tCMP R6, R23")
		emit("\tBGE %send", pfx)
		emit("\tVLD1.P 64(R23), %s // L[j][q]", vregs(16, 4, "D2"))
		for r := 0; r < n; r++ {
			emit("\tVLD1.P 64(%s), %s", cur[r], vregs(20, 4, "D2"))
			for t := 0; t < 4; t++ {
				emit("\tVFMLS V%d.D2, V%d.D2, V%d.D2", 20+t, 16+t, 4*r+t)
			}
		}
		emit("\tB %sq", pfx)
		label(pfx + "end")
		for r := 0; r < n; r++ {
			for t := 0; t < 4; t++ {
				fmulD(4*r+t, 4*r+t, 24+t)
			}
			emit("\tADD R5, %s, R16", rows[r])
			emit("\tVST1 %s, (R16)", vregs(4*r, 4, "D2"))
		}
	}
	cholRows(4, "crow4")
	emit("\tADD $4, R10, R16")
	emit("\tADD R16<<6, R14, R11 // &row i+4")
	emit("\tADD $4, R10, R10")
	emit("\tB crow4")
	label("crow1")
	emit("\tCMP R2, R10")
	emit("\tBGE cnext")
	cholRows(1, "crow1")
	emit("\tADD $1, R10, R10")
	emit("\tADD R10<<6, R11, R11")
	emit("\tB crow1")
	label("cnext")
	emit("\tADD $1, R3, R3")
	emit("\tADD R3<<6, R4, R4 // &row j+1")
	emit("\tADD $64, R5, R5")
	emit("\tB ccol")
	label("cdone")
	emit("\tRET")
}

func solveBatch() {
	emit(`
// func solveBatchNEON(a, inv, b []float64, k int)
//
// Forward: y_i = (b_i − Σ_{q<i} L[i][q]·y_q) · (1/L[i][i]), two accumulators
// (q even, odd). Backward over the rows of L from the last: x_i = y_i ·
// (1/L[i][i]), then y_q −= L[i][q]·x_i for q < i.
TEXT ·solveBatchNEON(SB), NOSPLIT, $0-80
	MOVD a_base+0(FP), R0
	MOVD inv_base+24(FP), R1
	MOVD b_base+48(FP), R2
	MOVD k+72(FP), R3
	CBZ R3, sdone
	MOVD ZR, R4 // i
	MOVD R0, R5 // &row i
	MOVD ZR, R6 // i*64`)
	label("sfwd")
	emit("\tCMP R3, R4")
	emit("\tBGE sback")
	emit("\tADD R6, R2, R7 // &b_i")
	emit("\tVLD1 (R7), %s", vregs(0, 4, "D2"))
	zero(4, 4)
	emit("\tMOVD R5, R8")
	emit("\tMOVD R2, R9")
	emit("\tAND $-128, R6, R10")
	emit("\tADD R5, R10, R10 // end of the pairs of columns")
	label("sfwd2")
	emit("\tCMP R10, R8")
	emit("\tBGE sfwd1")
	emit("\tVLD1.P 64(R8), %s", vregs(16, 4, "D2"))
	emit("\tVLD1.P 64(R9), %s", vregs(20, 4, "D2"))
	emit("\tVLD1.P 64(R8), %s", vregs(24, 4, "D2"))
	emit("\tVLD1.P 64(R9), %s", vregs(28, 4, "D2"))
	for t := 0; t < 4; t++ {
		emit("\tVFMLS V%d.D2, V%d.D2, V%d.D2", 20+t, 16+t, t)
		emit("\tVFMLS V%d.D2, V%d.D2, V%d.D2", 28+t, 24+t, 4+t)
	}
	emit("\tB sfwd2")
	label("sfwd1")
	emit("\tADD R6, R5, R11 // &L[i][i]")
	emit("\tCMP R11, R8")
	emit("\tBGE sfwdend")
	emit("\tVLD1 (R8), %s", vregs(16, 4, "D2"))
	emit("\tVLD1 (R9), %s", vregs(20, 4, "D2"))
	for t := 0; t < 4; t++ {
		emit("\tVFMLS V%d.D2, V%d.D2, V%d.D2", 20+t, 16+t, t)
	}
	label("sfwdend")
	for t := 0; t < 4; t++ {
		faddD(t, t, 4+t)
	}
	emit("\tADD R6, R1, R12")
	emit("\tVLD1 (R12), %s", vregs(16, 4, "D2"))
	for t := 0; t < 4; t++ {
		fmulD(t, t, 16+t)
	}
	emit("\tVST1 %s, (R7)", vregs(0, 4, "D2"))
	emit("\tADD $1, R4, R4")
	emit("\tADD R4<<6, R5, R5 // &row i+1")
	emit("\tADD $64, R6, R6")
	emit("\tB sfwd")
	label("sback")
	emit("\t// R4 = k, R5 = past the last row, R6 = k*64.")
	label("sbrow")
	emit("\tSUBS $1, R4, R4")
	emit("\tBLT sdone")
	emit("\tSUB $64, R6, R6")
	emit("\tADD $1, R4, R7")
	emit("\tSUB R7<<6, R5, R5 // &row i")
	emit("\tADD R6, R2, R8 // &b_i")
	emit("\tVLD1 (R8), %s", vregs(0, 4, "D2"))
	emit("\tADD R6, R1, R9")
	emit("\tVLD1 (R9), %s", vregs(16, 4, "D2"))
	for t := 0; t < 4; t++ {
		fmulD(t, t, 16+t)
	}
	emit("\tVST1 %s, (R8)", vregs(0, 4, "D2"))
	emit("\tMOVD R5, R10")
	emit("\tMOVD R2, R11")
	label("sbq")
	emit("\tCMP R8, R11")
	emit("\tBGE sbrow")
	emit("\tVLD1 (R11), %s", vregs(16, 4, "D2"))
	emit("\tVLD1.P 64(R10), %s", vregs(20, 4, "D2"))
	for t := 0; t < 4; t++ {
		emit("\tVFMLS V%d.D2, V%d.D2, V%d.D2", 20+t, t, 16+t)
	}
	emit("\tVST1.P %s, 64(R11)", vregs(16, 4, "D2"))
	emit("\tB sbq")
	label("sdone")
	emit("\tRET")
}

func copyRows() {
	emit(`
// func copyRowsNEON(dst, src []float32, s int, idx, pf []int32)
//
// dst[j] = src[idx[j]] for whole rows of s floats, 64 bytes at a time;
// before copying row j the whole of row pf[j] (when j < len(pf)) is
// prefetched.
TEXT ·copyRowsNEON(SB), NOSPLIT, $0-104
	MOVD dst_base+0(FP), R0
	MOVD src_base+24(FP), R1
	MOVD s+48(FP), R2
	MOVD idx_base+56(FP), R3
	MOVD idx_len+64(FP), R4
	MOVD pf_base+80(FP), R5
	MOVD pf_len+88(FP), R6
	CBZ R4, cpdone
	LSL $2, R2, R8 // bytes per row
	MOVD ZR, R7    // j`)
	label("cprow")
	emit("\tCMP R6, R7")
	emit("\tBGE cpcopy")
	emit("\tMOVW (R5)(R7<<2), R9")
	emit("\tMUL R2, R9, R9")
	emit("\tADD R9<<2, R1, R9")
	prefetchRow("cppf", "R9", "R8", "R10")
	label("cpcopy")
	emit("\tMOVW (R3)(R7<<2), R9")
	emit("\tMUL R2, R9, R9")
	emit("\tADD R9<<2, R1, R9")
	emit("\tADD R8, R9, R10")
	label("cpcol")
	emit("\tVLD1.P 64(R9), %s", vregs(0, 4, "S4"))
	emit("\tVST1.P %s, 64(R0)", vregs(0, 4, "S4"))
	emit("\tCMP R10, R9")
	emit("\tBLT cpcol")
	emit("\tADD $1, R7, R7")
	emit("\tCMP R4, R7")
	emit("\tBLT cprow")
	label("cpdone")
	emit("\tRET")
}

func dotRows() {
	emit(`
// func dotRowsNEON(q, b []float32, m, s int, p []float32)
//
// Four rows at a time share each load of p; each row keeps four
// accumulators (columns 16c+4t..16c+4t+3 in V(4r+t)), reduced in a fixed
// order, so q[j] does not depend on which path computed it.
TEXT ·dotRowsNEON(SB), NOSPLIT, $0-88
	MOVD q_base+0(FP), R0
	MOVD b_base+24(FP), R1
	MOVD m+48(FP), R2
	MOVD s+56(FP), R3
	MOVD p_base+64(FP), R4
	CBZ R2, ddone
	LSL $2, R3, R5 // bytes per row`)
	label("drow4")
	emit("\tCMP $4, R2")
	emit("\tBLT drow1")
	emit("\tMOVD R1, R6")
	emit("\tADD R5, R6, R7")
	emit("\tADD R5, R7, R8")
	emit("\tADD R5, R8, R9")
	zero(0, 16)
	emit("\tMOVD R4, R10")
	emit("\tADD R5, R4, R11")
	label("dcol4")
	emit("\tVLD1.P 64(R10), %s", vregs(16, 4, "S4"))
	for r, reg := range []string{"R6", "R7", "R8", "R9"} {
		v := 20 + 4*(r%2)
		emit("\tVLD1.P 64(%s), %s", reg, vregs(v, 4, "S4"))
		for t := 0; t < 4; t++ {
			emit("\tVFMLA V%d.S4, V%d.S4, V%d.S4", 16+t, v+t, 4*r+t)
		}
	}
	emit("\tCMP R11, R10")
	emit("\tBLT dcol4")
	for r := 0; r < 4; r++ {
		reduceRow(4 * r)
	}
	for r := 1; r < 4; r++ {
		emit("\tVMOV V%d.S[0], V0.S[%d]", 4*r, r)
	}
	emit("\tVST1.P [V0.S4], 16(R0)")
	emit("\tMOVD R9, R1")
	emit("\tSUB $4, R2, R2")
	emit("\tB drow4")
	label("drow1")
	emit("\tCBZ R2, ddone")
	zero(0, 4)
	emit("\tMOVD R4, R10")
	emit("\tADD R5, R4, R11")
	label("dcol1")
	emit("\tVLD1.P 64(R10), %s", vregs(16, 4, "S4"))
	emit("\tVLD1.P 64(R1), %s", vregs(20, 4, "S4"))
	for t := 0; t < 4; t++ {
		emit("\tVFMLA V%d.S4, V%d.S4, V%d.S4", 16+t, 20+t, t)
	}
	emit("\tCMP R11, R10")
	emit("\tBLT dcol1")
	reduceRow(0)
	emit("\tFMOVS F0, (R0)")
	emit("\tADD $4, R0, R0")
	emit("\tSUB $1, R2, R2")
	emit("\tB drow1")
	label("ddone")
	emit("\tRET")
}

func axpyRows() {
	emit(`
// func axpyRowsNEON(out, b []float32, m, s int, coef []float32)
//
// Column blocks of 64 (accumulators V0..V15), then of 16 (V0..V3), rows
// inner with coef[j] broadcast to V31: every out[c] is out[c] + Σ_j
// coef[j]·b[j][c], one fused multiply-add per row in the order of j.
TEXT ·axpyRowsNEON(SB), NOSPLIT, $0-88
	MOVD out_base+0(FP), R0
	MOVD b_base+24(FP), R1
	MOVD m+48(FP), R2
	MOVD s+56(FP), R3
	MOVD coef_base+64(FP), R4
	CBZ R2, adone
	LSL $2, R3, R5 // bytes per row
	MOVD ZR, R6    // c0, in bytes`)
	label("ablk64")
	emit("\tADD $256, R6, R7")
	emit("\tCMP R5, R7")
	emit("\tBGT ablk16")
	emit("\tADD R6, R0, R8")
	emit("\tMOVD R8, R9")
	for i := 0; i < 4; i++ {
		emit("\tVLD1.P 64(R9), %s", vregs(4*i, 4, "S4"))
	}
	emit("\tADD R6, R1, R10")
	emit("\tMOVD R4, R11")
	emit("\tMOVD R2, R12")
	label("ablk64j")
	emit("\tVLD1R.P 4(R11), [V31.S4]")
	emit("\tMOVD R10, R13")
	for i := 0; i < 4; i++ {
		v := 16 + 4*(i%2)
		emit("\tVLD1.P 64(R13), %s", vregs(v, 4, "S4"))
		for t := 0; t < 4; t++ {
			emit("\tVFMLA V31.S4, V%d.S4, V%d.S4", v+t, 4*i+t)
		}
	}
	emit("\tADD R5, R10, R10")
	emit("\tSUBS $1, R12, R12")
	emit("\tBNE ablk64j")
	for i := 0; i < 4; i++ {
		emit("\tVST1.P %s, 64(R8)", vregs(4*i, 4, "S4"))
	}
	emit("\tMOVD R7, R6")
	emit("\tB ablk64")
	label("ablk16")
	emit("\tCMP R5, R6")
	emit("\tBGE adone")
	emit("\tADD R6, R0, R8")
	emit("\tVLD1 (R8), %s", vregs(0, 4, "S4"))
	emit("\tADD R6, R1, R10")
	emit("\tMOVD R4, R11")
	emit("\tMOVD R2, R12")
	label("ablk16j")
	emit("\tVLD1R.P 4(R11), [V31.S4]")
	emit("\tVLD1.P (R10)(R5), %s", vregs(16, 4, "S4"))
	for t := 0; t < 4; t++ {
		emit("\tVFMLA V31.S4, V%d.S4, V%d.S4", 16+t, t)
	}
	emit("\tSUBS $1, R12, R12")
	emit("\tBNE ablk16j")
	emit("\tVST1 %s, (R8)", vregs(0, 4, "S4"))
	emit("\tADD $64, R6, R6")
	emit("\tB ablk16")
	label("adone")
	emit("\tRET")
}

// cg emits cgPassNEON (gather false) or cgGatherNEON (gather true).
//
// Registers: R0 rows base (b, or src), R1 rows left, R2 s, R3 p, R4 w
// (advancing), R5 a (advancing), R6 out1, R7 out2, R8 bytes per row, R9 the
// first row of the chunk in b (or dst); gather only: R10 idx (advancing),
// R11 pf, R12 len(pf), R13 j. R14–R17 walk the rows of a chunk, R19–R22 the
// dst rows they are copied to; R23–R25 are scratch.
func cg(gather bool) {
	p := "cp" // label prefix
	if gather {
		p = "cg"
	}
	if gather {
		emit(`
// func cgGatherNEON(dst, src []float32, s int, idx, pf []int32, p, w, a, out1, out2 []float32)
//
// cgPassNEON on the rows y_j = src[idx[j]], which are copied to dst[j] as
// the first sweep reads them (the second reads the copies); row pf[j] is
// prefetched before row j is read.
TEXT ·cgGatherNEON(SB), NOSPLIT, $0-224
	MOVD dst_base+0(FP), R9
	MOVD src_base+24(FP), R0
	MOVD s+48(FP), R2
	MOVD idx_base+56(FP), R10
	MOVD idx_len+64(FP), R1
	MOVD pf_base+80(FP), R11
	MOVD pf_len+88(FP), R12
	MOVD p_base+104(FP), R3
	MOVD w_base+128(FP), R4
	MOVD a_base+152(FP), R5
	MOVD a_len+160(FP), R24
	MOVD out1_base+176(FP), R6
	MOVD out2_base+200(FP), R7
	MOVD ZR, R13`)
	} else {
		emit(`
// func cgPassNEON(b []float32, m, s int, p, w, a, out1, out2 []float32)
//
// Rows in chunks of four (then one at a time). First sweep: the dot
// products d_j = y_j·p of the chunk's rows, sharing each load of p (four
// accumulators per row, reduced as in dotRowsNEON), and the coefficients
// w_j·d_j in V28, a_j in V29. Second sweep over the same rows, now in L1:
// out2 += (w_j·d_j)·y_j and, when a is not empty, out1 += a_j·y_j, by FMLA
// by element, 16 columns at a time. Every output is its input plus one
// fused multiply-add per row in the order of j, whatever the chunking.
TEXT ·cgPassNEON(SB), NOSPLIT, $0-160
	MOVD b_base+0(FP), R0
	MOVD m+24(FP), R1
	MOVD s+32(FP), R2
	MOVD p_base+40(FP), R3
	MOVD w_base+64(FP), R4
	MOVD a_base+88(FP), R5
	MOVD a_len+96(FP), R24
	MOVD out1_base+112(FP), R6
	MOVD out2_base+136(FP), R7
	MOVD R0, R9`)
	}
	emit("\tLSL $2, R2, R8 // bytes per row")
	emit("\tCBZ R1, %sdone", p)
	emit("\tCBZ R24, %snoa4", p)
	rows := []string{"R14", "R15", "R16", "R17"}
	dsts := []string{"R19", "R20", "R21", "R22"}
	for _, hasA := range []bool{true, false} {
		v := p + "a"
		if !hasA {
			v = p + "noa"
		}
		for _, n := range []int{4, 1} {
			l := fmt.Sprintf("%s%d", v, n)
			label(l)
			if n == 4 {
				emit("\tCMP $4, R1")
				emit("\tBLT %s1", v)
			} else {
				emit("\tCBZ R1, %sdone", p)
			}
			// First sweep.
			for r := 0; r < n; r++ {
				if gather {
					emit("\tADD $%d, R13, R23", r)
					emit("\tCMP R12, R23")
					emit("\tBGE %spf%d", l, r)
					emit("\tMOVW (R11)(R23<<2), R23")
					emit("\tMUL R2, R23, R23")
					emit("\tADD R23<<2, R0, R23")
					prefetchRow(fmt.Sprintf("%spfl%d", l, r), "R23", "R8", "R25")
					label(fmt.Sprintf("%spf%d", l, r))
				}
			}
			for r := 0; r < n; r++ {
				if gather {
					emit("\tMOVW %d(R10), R23", 4*r)
					emit("\tMUL R2, R23, R23")
					emit("\tADD R23<<2, R0, %s", rows[r])
					if r == 0 {
						emit("\tMOVD R9, %s", dsts[r])
					} else {
						emit("\tADD R8, %s, %s", dsts[r-1], dsts[r])
					}
				} else if r == 0 {
					emit("\tMOVD R9, %s", rows[r])
				} else {
					emit("\tADD R8, %s, %s", rows[r-1], rows[r])
				}
			}
			zero(0, 4*n)
			emit("\tMOVD R3, R23")
			emit("\tADD R8, R3, R25")
			label(l + "dot")
			emit("\tVLD1.P 64(R23), %s", vregs(16, 4, "S4"))
			for r := 0; r < n; r++ {
				y := 20 + 4*(r%2)
				emit("\tVLD1.P 64(%s), %s", rows[r], vregs(y, 4, "S4"))
				if gather {
					emit("\tVST1.P %s, 64(%s)", vregs(y, 4, "S4"), dsts[r])
				}
				for t := 0; t < 4; t++ {
					emit("\tVFMLA V%d.S4, V%d.S4, V%d.S4", 16+t, y+t, 4*r+t)
				}
			}
			emit("\tCMP R25, R23")
			emit("\tBLT %sdot", l)
			for r := 0; r < n; r++ {
				reduceRow(4 * r)
			}
			if n == 4 {
				for r := 1; r < 4; r++ {
					emit("\tVMOV V%d.S[0], V0.S[%d]", 4*r, r)
				}
				emit("\tVLD1.P 16(R4), [V30.S4] // w[j:j+4]")
				if hasA {
					emit("\tVLD1.P 16(R5), [V29.S4] // a[j:j+4]")
				}
			} else {
				emit("\tVLD1R.P 4(R4), [V30.S4] // w[j]")
				if hasA {
					emit("\tVLD1R.P 4(R5), [V29.S4] // a[j]")
				}
			}
			fmulS(28, 0, 30)
			// Second sweep.
			for r := 0; r < n; r++ {
				if r == 0 {
					emit("\tMOVD R9, %s", rows[r])
				} else {
					emit("\tADD R8, %s, %s", rows[r-1], rows[r])
				}
			}
			emit("\tMOVD R7, R23")
			emit("\tMOVD R6, R24")
			emit("\tADD R8, R7, R25")
			label(l + "axpy")
			emit("\tVLD1 (R23), %s", vregs(0, 4, "S4"))
			if hasA {
				emit("\tVLD1 (R24), %s", vregs(4, 4, "S4"))
			}
			for r := 0; r < n; r++ {
				y := 16 + 4*(r%2)
				emit("\tVLD1.P 64(%s), %s", rows[r], vregs(y, 4, "S4"))
				for t := 0; t < 4; t++ {
					fmlaElemS(t, y+t, 28, r)
				}
				if hasA {
					for t := 0; t < 4; t++ {
						fmlaElemS(4+t, y+t, 29, r)
					}
				}
			}
			emit("\tVST1.P %s, 64(R23)", vregs(0, 4, "S4"))
			if hasA {
				emit("\tVST1.P %s, 64(R24)", vregs(4, 4, "S4"))
			}
			emit("\tCMP R25, R23")
			emit("\tBLT %saxpy", l)
			// Next chunk.
			emit("\tMOVD %s, R9", rows[n-1])
			emit("\tSUB $%d, R1, R1", n)
			if gather {
				emit("\tADD $%d, R10, R10", 4*n)
				emit("\tADD $%d, R13, R13", n)
			}
			emit("\tB %s", l)
		}
	}
	label(p + "done")
	emit("\tRET")
}

func main() {
	o := flag.String("o", "kernels_neon_arm64.s", "output file")
	flag.Parse()
	emit(`// Code generated by kernels_neon_arm64_gen.go; DO NOT EDIT.

//go:build !purego

#include "textflag.h"

// NEON (ASIMD) kernels of the ALS solvers. See kernels.go for what each
// computes; the gonum tier (kernels_gonum.go) is the reference, and
// TestTiersAgree checks these against it. The Gram matrix and the batched
// Cholesky work in float64 (2 lanes), the CG kernels in float32 (4 lanes).
// No result depends on where a buffer sits in memory.`)
	gramLower()
	gatherRows()
	cholBatch()
	solveBatch()
	copyRows()
	dotRows()
	axpyRows()
	cg(false)
	cg(true)
	if err := os.WriteFile(*o, out.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
}
