//go:build !purego

#include "textflag.h"

// AVX-512F kernels of the ALS solvers. See kernels.go for what each
// computes; the gonum tier (kernels_gonum.go) is the reference, and
// TestTiersAgree checks these against them.

// func gramLowerAVX512(c, b []float64, m, s int, zero bool)
//
// With zero set the accumulators start from 0 instead of from C.
// For every tile of 8 rows (r0..r0+7) by 16 columns (c0..c0+15) of C with
// c0 < r0+8 (which covers the lower triangle), the 16 accumulators
// C[r0+r][c0:c0+16] stay in Z0..Z15 while the m rows of B stream by: per
// row, two loads of B[j][c0:c0+16] and eight broadcasts of B[j][r0+r]
// feed 16 FMAs. The tiles on the diagonal whose right half lies wholly
// above it (c0 = r0) are done as 8×8 tiles instead.
TEXT ·gramLowerAVX512(SB), NOSPLIT, $0-65
	MOVQ c_base+0(FP), DI
	MOVQ b_base+24(FP), SI
	MOVQ m+48(FP), CX
	MOVQ s+56(FP), DX
	MOVQ DX, R8
	SHLQ $3, R8        // bytes per row
	XORQ R9, R9        // r0

growblk:
	CMPQ R9, DX
	JGE  gdone
	XORQ R10, R10      // c0

gcolblk:
	LEAQ 8(R9), AX
	CMPQ R10, AX
	JGE  gnextrow

	// R14 = &C[r0][c0]
	MOVQ R9, AX
	IMULQ DX, AX
	ADDQ R10, AX
	LEAQ (DI)(AX*8), R14
	CMPQ R10, R9
	JEQ  gdiag8

	MOVBQZX zero+64(FP), AX
	TESTQ AX, AX
	JEQ  gload
	VPXORQ Z0, Z0, Z0
	VPXORQ Z1, Z1, Z1
	VPXORQ Z2, Z2, Z2
	VPXORQ Z3, Z3, Z3
	VPXORQ Z4, Z4, Z4
	VPXORQ Z5, Z5, Z5
	VPXORQ Z6, Z6, Z6
	VPXORQ Z7, Z7, Z7
	VPXORQ Z8, Z8, Z8
	VPXORQ Z9, Z9, Z9
	VPXORQ Z10, Z10, Z10
	VPXORQ Z11, Z11, Z11
	VPXORQ Z12, Z12, Z12
	VPXORQ Z13, Z13, Z13
	VPXORQ Z14, Z14, Z14
	VPXORQ Z15, Z15, Z15
	JMP  gstart

gload:
	MOVQ R14, R15
	VMOVUPD (R15), Z0
	VMOVUPD 64(R15), Z1
	ADDQ R8, R15
	VMOVUPD (R15), Z2
	VMOVUPD 64(R15), Z3
	ADDQ R8, R15
	VMOVUPD (R15), Z4
	VMOVUPD 64(R15), Z5
	ADDQ R8, R15
	VMOVUPD (R15), Z6
	VMOVUPD 64(R15), Z7
	ADDQ R8, R15
	VMOVUPD (R15), Z8
	VMOVUPD 64(R15), Z9
	ADDQ R8, R15
	VMOVUPD (R15), Z10
	VMOVUPD 64(R15), Z11
	ADDQ R8, R15
	VMOVUPD (R15), Z12
	VMOVUPD 64(R15), Z13
	ADDQ R8, R15
	VMOVUPD (R15), Z14
	VMOVUPD 64(R15), Z15


gstart:
	LEAQ (SI)(R9*8), R11   // &B[0][r0]
	LEAQ (SI)(R10*8), R12  // &B[0][c0]
	MOVQ CX, R13
	TESTQ R13, R13
	JEQ  gstore

ginner:
	VMOVUPD (R12), Z16
	VMOVUPD 64(R12), Z17
	VBROADCASTSD (R11), Z18
	VBROADCASTSD 8(R11), Z19
	VBROADCASTSD 16(R11), Z20
	VBROADCASTSD 24(R11), Z21
	VFMADD231PD Z16, Z18, Z0
	VFMADD231PD Z17, Z18, Z1
	VFMADD231PD Z16, Z19, Z2
	VFMADD231PD Z17, Z19, Z3
	VFMADD231PD Z16, Z20, Z4
	VFMADD231PD Z17, Z20, Z5
	VFMADD231PD Z16, Z21, Z6
	VFMADD231PD Z17, Z21, Z7
	VBROADCASTSD 32(R11), Z22
	VBROADCASTSD 40(R11), Z23
	VBROADCASTSD 48(R11), Z24
	VBROADCASTSD 56(R11), Z25
	VFMADD231PD Z16, Z22, Z8
	VFMADD231PD Z17, Z22, Z9
	VFMADD231PD Z16, Z23, Z10
	VFMADD231PD Z17, Z23, Z11
	VFMADD231PD Z16, Z24, Z12
	VFMADD231PD Z17, Z24, Z13
	VFMADD231PD Z16, Z25, Z14
	VFMADD231PD Z17, Z25, Z15
	ADDQ R8, R11
	ADDQ R8, R12
	DECQ R13
	JNZ  ginner

gstore:
	MOVQ R14, R15
	VMOVUPD Z0, (R15)
	VMOVUPD Z1, 64(R15)
	ADDQ R8, R15
	VMOVUPD Z2, (R15)
	VMOVUPD Z3, 64(R15)
	ADDQ R8, R15
	VMOVUPD Z4, (R15)
	VMOVUPD Z5, 64(R15)
	ADDQ R8, R15
	VMOVUPD Z6, (R15)
	VMOVUPD Z7, 64(R15)
	ADDQ R8, R15
	VMOVUPD Z8, (R15)
	VMOVUPD Z9, 64(R15)
	ADDQ R8, R15
	VMOVUPD Z10, (R15)
	VMOVUPD Z11, 64(R15)
	ADDQ R8, R15
	VMOVUPD Z12, (R15)
	VMOVUPD Z13, 64(R15)
	ADDQ R8, R15
	VMOVUPD Z14, (R15)
	VMOVUPD Z15, 64(R15)

	ADDQ $16, R10
	JMP  gcolblk

gnextrow:
	ADDQ $8, R9
	JMP  growblk

gdiag8:
	// 8×8 tile C[r0+r][r0:r0+8] in Z0..Z7.
	MOVBQZX zero+64(FP), AX
	TESTQ AX, AX
	JEQ  gdload
	VPXORQ Z0, Z0, Z0
	VPXORQ Z1, Z1, Z1
	VPXORQ Z2, Z2, Z2
	VPXORQ Z3, Z3, Z3
	VPXORQ Z4, Z4, Z4
	VPXORQ Z5, Z5, Z5
	VPXORQ Z6, Z6, Z6
	VPXORQ Z7, Z7, Z7
	JMP  gdstart

gdload:
	MOVQ R14, R15
	VMOVUPD (R15), Z0
	ADDQ R8, R15
	VMOVUPD (R15), Z1
	ADDQ R8, R15
	VMOVUPD (R15), Z2
	ADDQ R8, R15
	VMOVUPD (R15), Z3
	ADDQ R8, R15
	VMOVUPD (R15), Z4
	ADDQ R8, R15
	VMOVUPD (R15), Z5
	ADDQ R8, R15
	VMOVUPD (R15), Z6
	ADDQ R8, R15
	VMOVUPD (R15), Z7

gdstart:
	LEAQ (SI)(R9*8), R11   // &B[0][r0]
	MOVQ CX, R13
	TESTQ R13, R13
	JEQ  gdstore

gdinner:
	VMOVUPD (R11), Z16
	VBROADCASTSD (R11), Z18
	VBROADCASTSD 8(R11), Z19
	VBROADCASTSD 16(R11), Z20
	VBROADCASTSD 24(R11), Z21
	VFMADD231PD Z16, Z18, Z0
	VFMADD231PD Z16, Z19, Z1
	VFMADD231PD Z16, Z20, Z2
	VFMADD231PD Z16, Z21, Z3
	VBROADCASTSD 32(R11), Z22
	VBROADCASTSD 40(R11), Z23
	VBROADCASTSD 48(R11), Z24
	VBROADCASTSD 56(R11), Z25
	VFMADD231PD Z16, Z22, Z4
	VFMADD231PD Z16, Z23, Z5
	VFMADD231PD Z16, Z24, Z6
	VFMADD231PD Z16, Z25, Z7
	ADDQ R8, R11
	DECQ R13
	JNZ  gdinner

gdstore:
	MOVQ R14, R15
	VMOVUPD Z0, (R15)
	ADDQ R8, R15
	VMOVUPD Z1, (R15)
	ADDQ R8, R15
	VMOVUPD Z2, (R15)
	ADDQ R8, R15
	VMOVUPD Z3, (R15)
	ADDQ R8, R15
	VMOVUPD Z4, (R15)
	ADDQ R8, R15
	VMOVUPD Z5, (R15)
	ADDQ R8, R15
	VMOVUPD Z6, (R15)
	ADDQ R8, R15
	VMOVUPD Z7, (R15)
	ADDQ $16, R10
	JMP  gcolblk

gdone:
	VZEROUPPER
	RET

// func gatherRowsAVX512(dst []float64, src []float32, s int, idx []int32, scale, tgt, rhs []float64, pf []int32)
//
// Column blocks outer, rows inner: blocks of 64 columns while they last,
// rhs[c0:c0+64] in Z0..Z7, then blocks of 16, rhs[c0:c0+16] in Z0, Z1. A
// row's 64 columns take one index load and one broadcast of its target,
// where four blocks of 16 took four of each: the loop is bound by
// instructions, not memory (12.6% of an explicit ML-20M iteration at
// rank 64 with 16-column blocks; perf, Intel(R) Xeon(R) Processor). Each
// element of rhs gets its terms in row order either way, so the results
// are the same bits. During the first column block, the whole of row pf[j]
// is prefetched for each row j, so that the rows of later calls arrive
// from memory while this one computes.
TEXT ·gatherRowsAVX512(SB), NOSPLIT, $0-176
	MOVQ dst_base+0(FP), DI
	MOVQ src_base+24(FP), SI
	MOVQ s+48(FP), DX
	MOVQ idx_base+56(FP), R8
	MOVQ idx_len+64(FP), CX
	MOVQ scale_base+80(FP), R9
	MOVQ tgt_base+104(FP), R10
	MOVQ rhs_base+128(FP), R11
	MOVQ pf_base+152(FP), R14
	TESTQ CX, CX
	JEQ  rdone
	XORQ BX, BX        // c0

rcol:
	CMPQ BX, DX
	JGE  rdone
	MOVQ DX, AX
	SUBQ BX, AX
	CMPQ AX, $64
	JLT  rcol16

	// 64 columns c0..c0+63.
	VMOVUPD (R11)(BX*8), Z0
	VMOVUPD 64(R11)(BX*8), Z1
	VMOVUPD 128(R11)(BX*8), Z2
	VMOVUPD 192(R11)(BX*8), Z3
	VMOVUPD 256(R11)(BX*8), Z4
	VMOVUPD 320(R11)(BX*8), Z5
	VMOVUPD 384(R11)(BX*8), Z6
	VMOVUPD 448(R11)(BX*8), Z7
	LEAQ (DI)(BX*8), R12   // &dst[0][c0]
	XORQ R13, R13          // j

wrows:
	TESTQ BX, BX
	JNE  wnopf
	CMPQ R13, pf_len+160(FP)
	JGE  wnopf
	MOVLQSX (R14)(R13*4), AX
	IMULQ DX, AX
	LEAQ (SI)(AX*4), AX    // &src[pf[j]][0]
	LEAQ (AX)(DX*4), R15   // end of the row

wpf:
	PREFETCHT0 (AX)
	ADDQ $64, AX
	CMPQ AX, R15
	JLT  wpf

wnopf:
	MOVLQSX (R8)(R13*4), AX
	IMULQ DX, AX
	ADDQ BX, AX
	LEAQ (SI)(AX*4), AX    // &src[idx[j]][c0]
	VCVTPS2PD (AX), Z8
	VCVTPS2PD 32(AX), Z9
	VCVTPS2PD 64(AX), Z10
	VCVTPS2PD 96(AX), Z11
	VCVTPS2PD 128(AX), Z12
	VCVTPS2PD 160(AX), Z13
	VCVTPS2PD 192(AX), Z14
	VCVTPS2PD 224(AX), Z15
	VBROADCASTSD (R10)(R13*8), Z16
	VFMADD231PD Z8, Z16, Z0
	VFMADD231PD Z9, Z16, Z1
	VFMADD231PD Z10, Z16, Z2
	VFMADD231PD Z11, Z16, Z3
	VFMADD231PD Z12, Z16, Z4
	VFMADD231PD Z13, Z16, Z5
	VFMADD231PD Z14, Z16, Z6
	VFMADD231PD Z15, Z16, Z7
	TESTQ R9, R9
	JEQ  wstore
	VBROADCASTSD (R9)(R13*8), Z17
	VMULPD Z17, Z8, Z8
	VMULPD Z17, Z9, Z9
	VMULPD Z17, Z10, Z10
	VMULPD Z17, Z11, Z11
	VMULPD Z17, Z12, Z12
	VMULPD Z17, Z13, Z13
	VMULPD Z17, Z14, Z14
	VMULPD Z17, Z15, Z15

wstore:
	VMOVUPD Z8, (R12)
	VMOVUPD Z9, 64(R12)
	VMOVUPD Z10, 128(R12)
	VMOVUPD Z11, 192(R12)
	VMOVUPD Z12, 256(R12)
	VMOVUPD Z13, 320(R12)
	VMOVUPD Z14, 384(R12)
	VMOVUPD Z15, 448(R12)
	LEAQ (R12)(DX*8), R12
	INCQ R13
	CMPQ R13, CX
	JLT  wrows
	VMOVUPD Z0, (R11)(BX*8)
	VMOVUPD Z1, 64(R11)(BX*8)
	VMOVUPD Z2, 128(R11)(BX*8)
	VMOVUPD Z3, 192(R11)(BX*8)
	VMOVUPD Z4, 256(R11)(BX*8)
	VMOVUPD Z5, 320(R11)(BX*8)
	VMOVUPD Z6, 384(R11)(BX*8)
	VMOVUPD Z7, 448(R11)(BX*8)
	ADDQ $64, BX
	JMP  rcol

rcol16:
	// 16 columns c0..c0+15.
	VMOVUPD (R11)(BX*8), Z0
	VMOVUPD 64(R11)(BX*8), Z1
	LEAQ (DI)(BX*8), R12   // &dst[0][c0]
	XORQ R13, R13          // j

rrows:
	TESTQ BX, BX
	JNE  rnopf
	CMPQ R13, pf_len+160(FP)
	JGE  rnopf
	MOVLQSX (R14)(R13*4), AX
	IMULQ DX, AX
	LEAQ (SI)(AX*4), AX    // &src[pf[j]][0]
	LEAQ (AX)(DX*4), R15   // end of the row

rpf:
	PREFETCHT0 (AX)
	ADDQ $64, AX
	CMPQ AX, R15
	JLT  rpf

rnopf:
	MOVLQSX (R8)(R13*4), AX
	IMULQ DX, AX
	ADDQ BX, AX
	LEAQ (SI)(AX*4), AX    // &src[idx[j]][c0]
	VCVTPS2PD (AX), Z2
	VCVTPS2PD 32(AX), Z3
	VBROADCASTSD (R10)(R13*8), Z4
	VFMADD231PD Z2, Z4, Z0
	VFMADD231PD Z3, Z4, Z1
	TESTQ R9, R9
	JEQ  rstore
	VBROADCASTSD (R9)(R13*8), Z5
	VMULPD Z5, Z2, Z2
	VMULPD Z5, Z3, Z3

rstore:
	VMOVUPD Z2, (R12)
	VMOVUPD Z3, 64(R12)
	LEAQ (R12)(DX*8), R12
	INCQ R13
	CMPQ R13, CX
	JLT  rrows
	VMOVUPD Z0, (R11)(BX*8)
	VMOVUPD Z1, 64(R11)(BX*8)
	ADDQ $16, BX
	JMP  rcol

rdone:
	VZEROUPPER
	RET

// func cholBatchAVX512(a, inv []float64, k int)
//
// Left-looking Cholesky of 8 packed matrices at once, one per lane (each
// element of the packed layout is one ZMM register wide). Column j:
// L[j][j] = √(A[j][j] − Σ_q L[j][q]²), then rows below four at a time,
// L[i][j] = (A[i][j] − Σ_q L[i][q]·L[j][q]) / L[j][j].
TEXT ·cholBatchAVX512(SB), NOSPLIT, $0-56
	MOVQ a_base+0(FP), DI
	MOVQ inv_base+24(FP), SI
	MOVQ k+48(FP), DX
	MOVQ $0x3FF0000000000000, AX
	VPBROADCASTQ AX, Z31   // 1.0
	XORQ R8, R8            // j
	MOVQ DI, R9            // &row j
	XORQ R15, R15          // j*64

ccol:
	CMPQ R8, DX
	JGE  cdone
	// Diagonal, two accumulators.
	VMOVUPD (R9)(R15*1), Z0
	VPXORQ Z8, Z8, Z8
	XORQ BX, BX
	MOVQ R15, AX
	ANDQ $-128, AX         // even part of j*64 (pairs of columns)

cdiag2:
	CMPQ BX, AX
	JGE  cdiag1
	VMOVUPD (R9)(BX*1), Z1
	VMOVUPD 64(R9)(BX*1), Z9
	VFNMADD231PD Z1, Z1, Z0
	VFNMADD231PD Z9, Z9, Z8
	ADDQ $128, BX
	JMP  cdiag2

cdiag1:
	CMPQ BX, R15
	JGE  cdiagend
	VMOVUPD (R9)(BX*1), Z1
	VFNMADD231PD Z1, Z1, Z0

cdiagend:
	VADDPD Z8, Z0, Z0
	VSQRTPD Z0, Z2
	VMOVUPD Z2, (R9)(R15*1)
	VDIVPD Z2, Z31, Z3      // 1/L[j][j]
	VMOVUPD Z3, (SI)(R15*1)

	// Rows i = j+1 .. k-1.
	LEAQ 1(R8), R10        // i
	MOVQ R10, AX
	SHLQ $6, AX
	LEAQ (R9)(AX*1), R11   // &row j+1 = &row j + (j+1)*64

crow4:
	LEAQ 3(R10), AX
	CMPQ AX, DX
	JGE  crow1
	LEAQ 1(R10), AX
	SHLQ $6, AX
	LEAQ (R11)(AX*1), R12
	LEAQ 2(R10), AX
	SHLQ $6, AX
	LEAQ (R12)(AX*1), R13
	LEAQ 3(R10), AX
	SHLQ $6, AX
	LEAQ (R13)(AX*1), R14
	VMOVUPD (R11)(R15*1), Z4
	VMOVUPD (R12)(R15*1), Z5
	VMOVUPD (R13)(R15*1), Z6
	VMOVUPD (R14)(R15*1), Z7
	XORQ BX, BX

crow4q:
	CMPQ BX, R15
	JGE  crow4end
	VMOVUPD (R9)(BX*1), Z1
	VFNMADD231PD (R11)(BX*1), Z1, Z4
	VFNMADD231PD (R12)(BX*1), Z1, Z5
	VFNMADD231PD (R13)(BX*1), Z1, Z6
	VFNMADD231PD (R14)(BX*1), Z1, Z7
	ADDQ $64, BX
	JMP  crow4q

crow4end:
	VMULPD Z3, Z4, Z4
	VMULPD Z3, Z5, Z5
	VMULPD Z3, Z6, Z6
	VMULPD Z3, Z7, Z7
	VMOVUPD Z4, (R11)(R15*1)
	VMOVUPD Z5, (R12)(R15*1)
	VMOVUPD Z6, (R13)(R15*1)
	VMOVUPD Z7, (R14)(R15*1)
	LEAQ 4(R10), AX
	SHLQ $6, AX
	LEAQ (R14)(AX*1), R11
	ADDQ $4, R10
	JMP  crow4

crow1:
	CMPQ R10, DX
	JGE  cnext
	VMOVUPD (R11)(R15*1), Z4
	XORQ BX, BX

crow1q:
	CMPQ BX, R15
	JGE  crow1end
	VMOVUPD (R9)(BX*1), Z1
	VFNMADD231PD (R11)(BX*1), Z1, Z4
	ADDQ $64, BX
	JMP  crow1q

crow1end:
	VMULPD Z3, Z4, Z4
	VMOVUPD Z4, (R11)(R15*1)
	LEAQ 1(R10), AX
	SHLQ $6, AX
	ADDQ AX, R11
	INCQ R10
	JMP  crow1

cnext:
	LEAQ 1(R8), AX
	SHLQ $6, AX
	ADDQ AX, R9            // &row j+1
	INCQ R8
	ADDQ $64, R15
	JMP  ccol

cdone:
	VZEROUPPER
	RET

// func solveBatchAVX512(a, inv, b []float64, k int)
TEXT ·solveBatchAVX512(SB), NOSPLIT, $0-80
	MOVQ a_base+0(FP), DI
	MOVQ inv_base+24(FP), SI
	MOVQ b_base+48(FP), R8
	MOVQ k+72(FP), DX
	TESTQ DX, DX
	JEQ  sdone
	// Forward: y_i = (b_i − Σ_{q<i} L[i][q]·y_q) / L[i][i].
	XORQ R10, R10          // i
	MOVQ DI, R11           // &row i
	XORQ R15, R15          // i*64

sfwd:
	CMPQ R10, DX
	JGE  sback
	VMOVUPD (R8)(R15*1), Z0
	VPXORQ Z8, Z8, Z8
	XORQ BX, BX
	MOVQ R15, AX
	ANDQ $-128, AX

sfwd2:
	CMPQ BX, AX
	JGE  sfwd1
	VMOVUPD (R8)(BX*1), Z1
	VMOVUPD 64(R8)(BX*1), Z9
	VFNMADD231PD (R11)(BX*1), Z1, Z0
	VFNMADD231PD 64(R11)(BX*1), Z9, Z8
	ADDQ $128, BX
	JMP  sfwd2

sfwd1:
	CMPQ BX, R15
	JGE  sfwdend
	VMOVUPD (R8)(BX*1), Z1
	VFNMADD231PD (R11)(BX*1), Z1, Z0

sfwdend:
	VADDPD Z8, Z0, Z0
	VMULPD (SI)(R15*1), Z0, Z0
	VMOVUPD Z0, (R8)(R15*1)
	LEAQ 1(R10), AX
	SHLQ $6, AX
	ADDQ AX, R11
	INCQ R10
	ADDQ $64, R15
	JMP  sfwd

sback:
	// Backward over rows of L from the last: x_i = y_i / L[i][i], then
	// y_q −= L[i][q]·x_i for q < i. R11 points past the last row.
	DECQ R10
	SUBQ $64, R15

sbrow:
	TESTQ R10, R10
	JL   sdone
	MOVQ R10, AX
	INCQ AX
	SHLQ $6, AX
	SUBQ AX, R11           // &row i
	VMOVUPD (R8)(R15*1), Z0
	VMULPD (SI)(R15*1), Z0, Z0
	VMOVUPD Z0, (R8)(R15*1)
	XORQ BX, BX

sbq:
	CMPQ BX, R15
	JGE  sbnext
	VMOVUPD (R8)(BX*1), Z1
	VFNMADD231PD (R11)(BX*1), Z0, Z1
	VMOVUPD Z1, (R8)(BX*1)
	ADDQ $64, BX
	JMP  sbq

sbnext:
	DECQ R10
	SUBQ $64, R15
	JMP  sbrow

sdone:
	VZEROUPPER
	RET

// func dotRowsAVX512(q, b []float32, m, s int, p []float32)
TEXT ·dotRowsAVX512(SB), NOSPLIT, $0-88
	MOVQ q_base+0(FP), DI
	MOVQ b_base+24(FP), SI
	MOVQ m+48(FP), CX
	MOVQ s+56(FP), DX
	MOVQ p_base+64(FP), R8
	TESTQ CX, CX
	JEQ  ddone
	MOVQ DX, R9
	SHLQ $2, R9            // bytes per row
	MOVQ DX, R10
	ANDQ $-32, R10         // columns in pairs of ZMM

drow:
	VPXORQ Z0, Z0, Z0
	VPXORQ Z1, Z1, Z1
	XORQ BX, BX

dpair:
	CMPQ BX, R10
	JGE  dsingle
	VMOVUPS (SI)(BX*4), Z2
	VMOVUPS 64(SI)(BX*4), Z3
	VFMADD231PS (R8)(BX*4), Z2, Z0
	VFMADD231PS 64(R8)(BX*4), Z3, Z1
	ADDQ $32, BX
	JMP  dpair

dsingle:
	CMPQ BX, DX
	JGE  dreduce
	VMOVUPS (SI)(BX*4), Z2
	VFMADD231PS (R8)(BX*4), Z2, Z0

dreduce:
	VADDPS Z1, Z0, Z0
	VEXTRACTF64X4 $1, Z0, Y1
	VADDPS Y1, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS X1, X0, X0
	VPERMILPS $0x4E, X0, X1
	VADDPS X1, X0, X0
	VPERMILPS $0xB1, X0, X1
	VADDSS X1, X0, X0
	VMOVSS X0, (DI)
	ADDQ $4, DI
	ADDQ R9, SI
	DECQ CX
	JNZ  drow

ddone:
	VZEROUPPER
	RET

// func axpyRowsAVX512(out, b []float32, m, s int, coef []float32)
TEXT ·axpyRowsAVX512(SB), NOSPLIT, $0-88
	MOVQ out_base+0(FP), DI
	MOVQ b_base+24(FP), SI
	MOVQ m+48(FP), CX
	MOVQ s+56(FP), DX
	MOVQ coef_base+64(FP), R8
	TESTQ CX, CX
	JEQ  adone
	MOVQ DX, R9
	SHLQ $2, R9            // bytes per row
	XORQ BX, BX            // c0

ablk4:
	LEAQ 64(BX), AX
	CMPQ AX, DX
	JGT  ablk1
	VMOVUPS (DI)(BX*4), Z0
	VMOVUPS 64(DI)(BX*4), Z1
	VMOVUPS 128(DI)(BX*4), Z2
	VMOVUPS 192(DI)(BX*4), Z3
	LEAQ (SI)(BX*4), R11
	XORQ R10, R10

ablk4j:
	VBROADCASTSS (R8)(R10*4), Z4
	VFMADD231PS (R11), Z4, Z0
	VFMADD231PS 64(R11), Z4, Z1
	VFMADD231PS 128(R11), Z4, Z2
	VFMADD231PS 192(R11), Z4, Z3
	ADDQ R9, R11
	INCQ R10
	CMPQ R10, CX
	JLT  ablk4j
	VMOVUPS Z0, (DI)(BX*4)
	VMOVUPS Z1, 64(DI)(BX*4)
	VMOVUPS Z2, 128(DI)(BX*4)
	VMOVUPS Z3, 192(DI)(BX*4)
	ADDQ $64, BX
	JMP  ablk4

ablk1:
	CMPQ BX, DX
	JGE  adone
	VMOVUPS (DI)(BX*4), Z0
	VPXORQ Z1, Z1, Z1
	LEAQ (SI)(BX*4), R11
	XORQ R10, R10
	MOVQ CX, R12
	ANDQ $-2, R12

ablk1j2:
	CMPQ R10, R12
	JGE  ablk1j1
	VBROADCASTSS (R8)(R10*4), Z4
	VBROADCASTSS 4(R8)(R10*4), Z5
	VFMADD231PS (R11), Z4, Z0
	VFMADD231PS (R11)(R9*1), Z5, Z1
	LEAQ (R11)(R9*2), R11
	ADDQ $2, R10
	JMP  ablk1j2

ablk1j1:
	CMPQ R10, CX
	JGE  ablk1end
	VBROADCASTSS (R8)(R10*4), Z4
	VFMADD231PS (R11), Z4, Z0

ablk1end:
	VADDPS Z1, Z0, Z0
	VMOVUPS Z0, (DI)(BX*4)
	ADDQ $16, BX
	JMP  ablk1

adone:
	VZEROUPPER
	RET

// func copyRowsAVX512(dst, src []float32, s int, idx, pf []int32)
//
// dst[j] = src[idx[j]] for whole rows of s floats; before copying row j the
// whole of row pf[j] (when j < len(pf)) is prefetched.
TEXT ·copyRowsAVX512(SB), NOSPLIT, $0-104
	MOVQ dst_base+0(FP), DI
	MOVQ src_base+24(FP), SI
	MOVQ s+48(FP), DX
	MOVQ idx_base+56(FP), R8
	MOVQ idx_len+64(FP), CX
	MOVQ pf_base+80(FP), R9
	MOVQ pf_len+88(FP), R10
	XORQ R13, R13          // j
	TESTQ CX, CX
	JEQ  cpdone

cprow:
	CMPQ R13, R10
	JGE  cpcopy
	MOVLQSX (R9)(R13*4), AX
	IMULQ DX, AX
	LEAQ (SI)(AX*4), AX
	LEAQ (AX)(DX*4), R11

cppf:
	PREFETCHT0 (AX)
	ADDQ $64, AX
	CMPQ AX, R11
	JLT  cppf

cpcopy:
	MOVLQSX (R8)(R13*4), AX
	IMULQ DX, AX
	LEAQ (SI)(AX*4), AX
	XORQ BX, BX

cpcol:
	VMOVUPS (AX)(BX*4), Z0
	VMOVUPS Z0, (DI)(BX*4)
	ADDQ $16, BX
	CMPQ BX, DX
	JLT  cpcol
	LEAQ (DI)(DX*4), DI
	INCQ R13
	CMPQ R13, CX
	JLT  cprow

cpdone:
	VZEROUPPER
	RET

// func cgPassAVX512(b []float32, m, s int, p, w, a, out1, out2 []float32)
//
// For s ≤ 64: per row y_j of b (stride s), d = y_j·p, out2 += (w_j·d)·y_j
// and, when a is not empty, out1 += a_j·y_j; the row is loaded once into
// Z8..Z11 (masked to s columns), p stays in Z24..Z27 and the sums in
// Z0..Z7. K1..K4 mask the four 16-float blocks that exist.
TEXT ·cgPassAVX512(SB), NOSPLIT, $0-160
	MOVQ b_base+0(FP), SI
	MOVQ m+24(FP), CX
	MOVQ s+32(FP), DX
	MOVQ p_base+40(FP), R8
	MOVQ w_base+64(FP), R9
	MOVQ a_base+88(FP), R10
	MOVQ a_len+96(FP), R11
	MOVQ out1_base+112(FP), R12
	MOVQ out2_base+136(FP), R13

	// Masks: block i (0..3) exists when 16·i < s.
	MOVQ $0xFFFF, AX
	XORQ BX, BX
	CMPQ DX, $0
	CMOVQGT AX, BX
	KMOVW BX, K1
	XORQ BX, BX
	CMPQ DX, $16
	CMOVQGT AX, BX
	KMOVW BX, K2
	XORQ BX, BX
	CMPQ DX, $32
	CMOVQGT AX, BX
	KMOVW BX, K3
	XORQ BX, BX
	CMPQ DX, $48
	CMOVQGT AX, BX
	KMOVW BX, K4

	VMOVUPS.Z (R8), K1, Z24
	VMOVUPS.Z 64(R8), K2, Z25
	VMOVUPS.Z 128(R8), K3, Z26
	VMOVUPS.Z 192(R8), K4, Z27
	VMOVUPS.Z (R13), K1, Z0
	VMOVUPS.Z 64(R13), K2, Z1
	VMOVUPS.Z 128(R13), K3, Z2
	VMOVUPS.Z 192(R13), K4, Z3
	VPXORQ Z4, Z4, Z4
	VPXORQ Z5, Z5, Z5
	VPXORQ Z6, Z6, Z6
	VPXORQ Z7, Z7, Z7
	TESTQ R11, R11
	JEQ  cgnoa
	VMOVUPS.Z (R12), K1, Z4
	VMOVUPS.Z 64(R12), K2, Z5
	VMOVUPS.Z 128(R12), K3, Z6
	VMOVUPS.Z 192(R12), K4, Z7

cgnoa:
	MOVQ DX, R14
	SHLQ $2, R14           // bytes per row
	XORQ BX, BX            // j
	TESTQ CX, CX
	JEQ  cgstore

cgrow:
	VMOVUPS.Z (SI), K1, Z8
	VMOVUPS.Z 64(SI), K2, Z9
	VMOVUPS.Z 128(SI), K3, Z10
	VMOVUPS.Z 192(SI), K4, Z11
	VMULPS Z8, Z24, Z12
	VMULPS Z9, Z25, Z13
	VFMADD231PS Z10, Z26, Z12
	VFMADD231PS Z11, Z27, Z13
	VADDPS Z13, Z12, Z12
	VEXTRACTF64X4 $1, Z12, Y13
	VADDPS Y13, Y12, Y12
	VEXTRACTF128 $1, Y12, X13
	VADDPS X13, X12, X12
	VPERMILPS $0x4E, X12, X13
	VADDPS X13, X12, X12
	VPERMILPS $0xB1, X12, X13
	VADDSS X13, X12, X12
	VMULSS (R9)(BX*4), X12, X12
	VBROADCASTSS X12, Z12
	VFMADD231PS Z8, Z12, Z0
	VFMADD231PS Z9, Z12, Z1
	VFMADD231PS Z10, Z12, Z2
	VFMADD231PS Z11, Z12, Z3
	CMPQ BX, R11
	JGE  cgnext
	VBROADCASTSS (R10)(BX*4), Z14
	VFMADD231PS Z8, Z14, Z4
	VFMADD231PS Z9, Z14, Z5
	VFMADD231PS Z10, Z14, Z6
	VFMADD231PS Z11, Z14, Z7

cgnext:
	ADDQ R14, SI
	INCQ BX
	CMPQ BX, CX
	JLT  cgrow

cgstore:
	VMOVUPS Z0, K1, (R13)
	VMOVUPS Z1, K2, 64(R13)
	VMOVUPS Z2, K3, 128(R13)
	VMOVUPS Z3, K4, 192(R13)
	TESTQ R11, R11
	JEQ  cgdone
	VMOVUPS Z4, K1, (R12)
	VMOVUPS Z5, K2, 64(R12)
	VMOVUPS Z6, K3, 128(R12)
	VMOVUPS Z7, K4, 192(R12)

cgdone:
	VZEROUPPER
	RET

// func cgGatherAVX512(dst, src []float32, s int, idx, pf []int32, p, w, a, out1, out2 []float32)
//
// cgPassAVX512 on the rows y_j = src[idx[j]], which are also copied to
// dst[j]; row pf[j] is prefetched before row j is read.
TEXT ·cgGatherAVX512(SB), NOSPLIT, $0-224
	MOVQ dst_base+0(FP), DI
	MOVQ src_base+24(FP), SI
	MOVQ s+48(FP), DX
	MOVQ idx_len+64(FP), CX
	MOVQ p_base+104(FP), R8
	MOVQ w_base+128(FP), R9
	MOVQ a_base+152(FP), R10
	MOVQ a_len+160(FP), R11
	MOVQ out1_base+176(FP), R12
	MOVQ out2_base+200(FP), R13

	// Masks: block i (0..3) exists when 16·i < s.
	MOVQ $0xFFFF, AX
	XORQ BX, BX
	CMPQ DX, $0
	CMOVQGT AX, BX
	KMOVW BX, K1
	XORQ BX, BX
	CMPQ DX, $16
	CMOVQGT AX, BX
	KMOVW BX, K2
	XORQ BX, BX
	CMPQ DX, $32
	CMOVQGT AX, BX
	KMOVW BX, K3
	XORQ BX, BX
	CMPQ DX, $48
	CMOVQGT AX, BX
	KMOVW BX, K4

	VMOVUPS.Z (R8), K1, Z24
	VMOVUPS.Z 64(R8), K2, Z25
	VMOVUPS.Z 128(R8), K3, Z26
	VMOVUPS.Z 192(R8), K4, Z27
	VMOVUPS.Z (R13), K1, Z0
	VMOVUPS.Z 64(R13), K2, Z1
	VMOVUPS.Z 128(R13), K3, Z2
	VMOVUPS.Z 192(R13), K4, Z3
	VPXORQ Z4, Z4, Z4
	VPXORQ Z5, Z5, Z5
	VPXORQ Z6, Z6, Z6
	VPXORQ Z7, Z7, Z7
	TESTQ R11, R11
	JEQ  ggnoa
	VMOVUPS.Z (R12), K1, Z4
	VMOVUPS.Z 64(R12), K2, Z5
	VMOVUPS.Z 128(R12), K3, Z6
	VMOVUPS.Z 192(R12), K4, Z7

ggnoa:
	MOVQ DX, R14
	SHLQ $2, R14           // bytes per row
	XORQ BX, BX            // j
	TESTQ CX, CX
	JEQ  ggstore

ggrow:
	CMPQ BX, pf_len+88(FP)
	JGE  ggload
	MOVQ pf_base+80(FP), AX
	MOVLQSX (AX)(BX*4), AX
	IMULQ DX, AX
	LEAQ (SI)(AX*4), AX
	LEAQ (AX)(DX*4), R15

ggpf:
	PREFETCHT0 (AX)
	ADDQ $64, AX
	CMPQ AX, R15
	JLT  ggpf

ggload:
	MOVQ idx_base+56(FP), AX
	MOVLQSX (AX)(BX*4), AX
	IMULQ DX, AX
	LEAQ (SI)(AX*4), AX    // &src[idx[j]]
	VMOVUPS.Z (AX), K1, Z8
	VMOVUPS.Z 64(AX), K2, Z9
	VMOVUPS.Z 128(AX), K3, Z10
	VMOVUPS.Z 192(AX), K4, Z11
	VMOVUPS Z8, K1, (DI)
	VMOVUPS Z9, K2, 64(DI)
	VMOVUPS Z10, K3, 128(DI)
	VMOVUPS Z11, K4, 192(DI)
	VMULPS Z8, Z24, Z12
	VMULPS Z9, Z25, Z13
	VFMADD231PS Z10, Z26, Z12
	VFMADD231PS Z11, Z27, Z13
	VADDPS Z13, Z12, Z12
	VEXTRACTF64X4 $1, Z12, Y13
	VADDPS Y13, Y12, Y12
	VEXTRACTF128 $1, Y12, X13
	VADDPS X13, X12, X12
	VPERMILPS $0x4E, X12, X13
	VADDPS X13, X12, X12
	VPERMILPS $0xB1, X12, X13
	VADDSS X13, X12, X12
	VMULSS (R9)(BX*4), X12, X12
	VBROADCASTSS X12, Z12
	VFMADD231PS Z8, Z12, Z0
	VFMADD231PS Z9, Z12, Z1
	VFMADD231PS Z10, Z12, Z2
	VFMADD231PS Z11, Z12, Z3
	CMPQ BX, R11
	JGE  ggnext
	VBROADCASTSS (R10)(BX*4), Z14
	VFMADD231PS Z8, Z14, Z4
	VFMADD231PS Z9, Z14, Z5
	VFMADD231PS Z10, Z14, Z6
	VFMADD231PS Z11, Z14, Z7

ggnext:
	ADDQ R14, DI
	INCQ BX
	CMPQ BX, CX
	JLT  ggrow

ggstore:
	VMOVUPS Z0, K1, (R13)
	VMOVUPS Z1, K2, 64(R13)
	VMOVUPS Z2, K3, 128(R13)
	VMOVUPS Z3, K4, 192(R13)
	TESTQ R11, R11
	JEQ  ggdone
	VMOVUPS Z4, K1, (R12)
	VMOVUPS Z5, K2, 64(R12)
	VMOVUPS Z6, K3, 128(R12)
	VMOVUPS Z7, K4, 192(R12)

ggdone:
	VZEROUPPER
	RET
