//go:build !purego

#include "textflag.h"

// AVX2+FMA kernels of the ALS solvers (16 YMM registers of 4 float64 or 8
// float32). See kernels.go for what each computes; the gonum tier
// (kernels_gonum.go) is the reference, and TestTiersAgree checks these
// against it. kernels_avx2_amd64.go wraps them with the length checks
// that the assembly does not do, and builds the CG passes from rowDots
// and the axpy kernels.
//
// Determinism: every sum runs in an order fixed by the sizes (m, s, k)
// alone: no loop peels elements to reach an aligned address, and all loads
// and stores are unaligned ones, so results never depend on where the
// slices lie in memory.
//
// Hand-written, not generated with avo (github.com/mmcloughlin/avo), as a
// decision: an avo generator pays off when one program emits every width,
// but the AVX-512 tier is hand-written (regenerating it was outside this
// change) and the two tiers differ in structure, not only in width.
// AVX-512 keeps a 64-float row, p and both CG sums in 16 of its 32
// registers and masks the tails; with 16 registers AVX2 splits the CG pass
// into a dot sweep (eight rows at a time, reduced together by VHADDPS) and
// an axpy sweep, and tiles the Gram matrix 4×12 instead of 8×16. A
// generator for this tier alone would add a second Go module and a
// code-generation step while removing no duplication; the repeated tile
// bodies are preprocessor macros instead. Porting both x86 tiers to one
// avo generator is worth doing before a third x86 variant is added.

// Gram tile accumulators: row r of a 4×w tile of C lives in w/4 YMM
// registers; R15 walks the four rows of C (stride R8 bytes).
#define LOAD4x12 \
	MOVQ    R14, R15; \
	VMOVUPD (R15), Y0; VMOVUPD 32(R15), Y1; VMOVUPD 64(R15), Y2; ADDQ R8, R15; \
	VMOVUPD (R15), Y3; VMOVUPD 32(R15), Y4; VMOVUPD 64(R15), Y5; ADDQ R8, R15; \
	VMOVUPD (R15), Y6; VMOVUPD 32(R15), Y7; VMOVUPD 64(R15), Y8; ADDQ R8, R15; \
	VMOVUPD (R15), Y9; VMOVUPD 32(R15), Y10; VMOVUPD 64(R15), Y11

#define STORE4x12 \
	MOVQ    R14, R15; \
	VMOVUPD Y0, (R15); VMOVUPD Y1, 32(R15); VMOVUPD Y2, 64(R15); ADDQ R8, R15; \
	VMOVUPD Y3, (R15); VMOVUPD Y4, 32(R15); VMOVUPD Y5, 64(R15); ADDQ R8, R15; \
	VMOVUPD Y6, (R15); VMOVUPD Y7, 32(R15); VMOVUPD Y8, 64(R15); ADDQ R8, R15; \
	VMOVUPD Y9, (R15); VMOVUPD Y10, 32(R15); VMOVUPD Y11, 64(R15)

#define ZERO12 \
	VXORPD Y0, Y0, Y0; VXORPD Y1, Y1, Y1; VXORPD Y2, Y2, Y2; VXORPD Y3, Y3, Y3; \
	VXORPD Y4, Y4, Y4; VXORPD Y5, Y5, Y5; VXORPD Y6, Y6, Y6; VXORPD Y7, Y7, Y7; \
	VXORPD Y8, Y8, Y8; VXORPD Y9, Y9, Y9; VXORPD Y10, Y10, Y10; VXORPD Y11, Y11, Y11

#define LOAD4x8 \
	MOVQ    R14, R15; \
	VMOVUPD (R15), Y0; VMOVUPD 32(R15), Y1; ADDQ R8, R15; \
	VMOVUPD (R15), Y2; VMOVUPD 32(R15), Y3; ADDQ R8, R15; \
	VMOVUPD (R15), Y4; VMOVUPD 32(R15), Y5; ADDQ R8, R15; \
	VMOVUPD (R15), Y6; VMOVUPD 32(R15), Y7

#define STORE4x8 \
	MOVQ    R14, R15; \
	VMOVUPD Y0, (R15); VMOVUPD Y1, 32(R15); ADDQ R8, R15; \
	VMOVUPD Y2, (R15); VMOVUPD Y3, 32(R15); ADDQ R8, R15; \
	VMOVUPD Y4, (R15); VMOVUPD Y5, 32(R15); ADDQ R8, R15; \
	VMOVUPD Y6, (R15); VMOVUPD Y7, 32(R15)

#define LOAD4x4 \
	MOVQ    R14, R15; \
	VMOVUPD (R15), Y0; ADDQ R8, R15; \
	VMOVUPD (R15), Y1; ADDQ R8, R15; \
	VMOVUPD (R15), Y2; ADDQ R8, R15; \
	VMOVUPD (R15), Y3

#define STORE4x4 \
	MOVQ    R14, R15; \
	VMOVUPD Y0, (R15); ADDQ R8, R15; \
	VMOVUPD Y1, (R15); ADDQ R8, R15; \
	VMOVUPD Y2, (R15); ADDQ R8, R15; \
	VMOVUPD Y3, (R15)

// R14 = &C[r0][c0] of the tile at row R9, column R10; ZF clear when the
// tile starts from zero (zero is set).
#define TILE_BEGIN \
	MOVQ    R9, AX; \
	IMULQ   DX, AX; \
	ADDQ    R10, AX; \
	LEAQ    (DI)(AX*8), R14; \
	MOVBQZX zero+64(FP), AX; \
	TESTQ   AX, AX

// R11 = &B[0][r0], R12 = &B[0][c0], R13 = m rows to stream.
#define TILE_STREAM \
	LEAQ (SI)(R9*8), R11; \
	LEAQ (SI)(R10*8), R12; \
	MOVQ CX, R13

// One row j of B into a 4×12 tile: B[j][c0:c0+12] in Y12..Y14 (addresses
// c0, c1, c2), times the broadcasts of B[j][r0..r0+3] (addresses x0..x3).
#define STEP4x12(c0, c1, c2, x0, x1, x2, x3) \
	VMOVUPD      c0, Y12; \
	VMOVUPD      c1, Y13; \
	VMOVUPD      c2, Y14; \
	VBROADCASTSD x0, Y15; \
	VFMADD231PD  Y12, Y15, Y0; \
	VFMADD231PD  Y13, Y15, Y1; \
	VFMADD231PD  Y14, Y15, Y2; \
	VBROADCASTSD x1, Y15; \
	VFMADD231PD  Y12, Y15, Y3; \
	VFMADD231PD  Y13, Y15, Y4; \
	VFMADD231PD  Y14, Y15, Y5; \
	VBROADCASTSD x2, Y15; \
	VFMADD231PD  Y12, Y15, Y6; \
	VFMADD231PD  Y13, Y15, Y7; \
	VFMADD231PD  Y14, Y15, Y8; \
	VBROADCASTSD x3, Y15; \
	VFMADD231PD  Y12, Y15, Y9; \
	VFMADD231PD  Y13, Y15, Y10; \
	VFMADD231PD  Y14, Y15, Y11

// func gramLowerAVX2(c, b []float64, m, s int, zero bool)
//
// With zero set the accumulators start from 0 instead of from C. Rows of C
// go in blocks of four (r0..r0+3); the columns 0..r0+3 that the lower
// triangle needs there are covered by 4×12 tiles, then one 4×8 or 4×4 tile
// for the rest (r0+4 is a multiple of 4). Each tile's accumulators stay in
// registers while the m rows of B stream by, two rows per iteration; per
// row, w/4 loads of B[j][c0:c0+w] and four broadcasts of B[j][r0..r0+3]
// feed w FMAs.
TEXT ·gramLowerAVX2(SB), NOSPLIT, $0-65
	MOVQ c_base+0(FP), DI
	MOVQ b_base+24(FP), SI
	MOVQ m+48(FP), CX
	MOVQ s+56(FP), DX
	MOVQ DX, R8
	SHLQ $3, R8        // bytes per row
	XORQ R9, R9        // r0

grow:
	CMPQ R9, DX
	JGE  gdone
	LEAQ 4(R9), BX     // columns this row block needs
	XORQ R10, R10      // c0

g12:
	LEAQ 12(R10), AX
	CMPQ AX, BX
	JGT  g8
	TILE_BEGIN
	JEQ  g12load
	ZERO12
	JMP  g12start

g12load:
	LOAD4x12

g12start:
	TILE_STREAM
	SHRQ $1, R13
	JEQ  g12one

g12two:
	STEP4x12((R12), 32(R12), 64(R12), (R11), 8(R11), 16(R11), 24(R11))
	STEP4x12((R12)(R8*1), 32(R12)(R8*1), 64(R12)(R8*1), (R11)(R8*1), 8(R11)(R8*1), 16(R11)(R8*1), 24(R11)(R8*1))
	LEAQ (R11)(R8*2), R11
	LEAQ (R12)(R8*2), R12
	DECQ R13
	JNZ  g12two

g12one:
	TESTQ $1, CX
	JEQ  g12store
	STEP4x12((R12), 32(R12), 64(R12), (R11), 8(R11), 16(R11), 24(R11))

g12store:
	STORE4x12
	ADDQ $12, R10
	JMP  g12

g8:
	LEAQ 8(R10), AX
	CMPQ AX, BX
	JGT  g4
	TILE_BEGIN
	JEQ  g8load
	ZERO12
	JMP  g8start

g8load:
	LOAD4x8

g8start:
	TILE_STREAM
	TESTQ R13, R13
	JEQ  g8store

g8inner:
	VMOVUPD      (R12), Y12
	VMOVUPD      32(R12), Y13
	VBROADCASTSD (R11), Y14
	VBROADCASTSD 8(R11), Y15
	VFMADD231PD  Y12, Y14, Y0
	VFMADD231PD  Y13, Y14, Y1
	VFMADD231PD  Y12, Y15, Y2
	VFMADD231PD  Y13, Y15, Y3
	VBROADCASTSD 16(R11), Y14
	VBROADCASTSD 24(R11), Y15
	VFMADD231PD  Y12, Y14, Y4
	VFMADD231PD  Y13, Y14, Y5
	VFMADD231PD  Y12, Y15, Y6
	VFMADD231PD  Y13, Y15, Y7
	ADDQ R8, R11
	ADDQ R8, R12
	DECQ R13
	JNZ  g8inner

g8store:
	STORE4x8
	ADDQ $8, R10

g4:
	CMPQ R10, BX
	JGE  gnext
	TILE_BEGIN
	JEQ  g4load
	ZERO12
	JMP  g4start

g4load:
	LOAD4x4

g4start:
	TILE_STREAM
	TESTQ R13, R13
	JEQ  g4store

g4inner:
	VMOVUPD      (R12), Y12
	VBROADCASTSD (R11), Y13
	VBROADCASTSD 8(R11), Y14
	VBROADCASTSD 16(R11), Y15
	VFMADD231PD  Y12, Y13, Y0
	VFMADD231PD  Y12, Y14, Y1
	VFMADD231PD  Y12, Y15, Y2
	VBROADCASTSD 24(R11), Y13
	VFMADD231PD  Y12, Y13, Y3
	ADDQ R8, R11
	ADDQ R8, R12
	DECQ R13
	JNZ  g4inner

g4store:
	STORE4x4

gnext:
	ADDQ $4, R9
	JMP  grow

gdone:
	VZEROUPPER
	RET

// func gatherRowsAVX2(dst []float64, src []float32, s int, idx []int32, scale, tgt, rhs []float64, pf []int32)
//
// Column blocks of 16 outer, rows inner: rhs[c0:c0+16] stays in Y0..Y3.
// During the first column block, the whole of row pf[j] is prefetched for
// each row j, so that the rows of later calls arrive from memory while this
// one computes.
TEXT ·gatherRowsAVX2(SB), NOSPLIT, $0-176
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
	VMOVUPD (R11)(BX*8), Y0
	VMOVUPD 32(R11)(BX*8), Y1
	VMOVUPD 64(R11)(BX*8), Y2
	VMOVUPD 96(R11)(BX*8), Y3
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
	VCVTPS2PD (AX), Y4
	VCVTPS2PD 16(AX), Y5
	VCVTPS2PD 32(AX), Y6
	VCVTPS2PD 48(AX), Y7
	VBROADCASTSD (R10)(R13*8), Y8
	VFMADD231PD Y4, Y8, Y0
	VFMADD231PD Y5, Y8, Y1
	VFMADD231PD Y6, Y8, Y2
	VFMADD231PD Y7, Y8, Y3
	TESTQ R9, R9
	JEQ  rstore
	VBROADCASTSD (R9)(R13*8), Y9
	VMULPD Y9, Y4, Y4
	VMULPD Y9, Y5, Y5
	VMULPD Y9, Y6, Y6
	VMULPD Y9, Y7, Y7

rstore:
	VMOVUPD Y4, (R12)
	VMOVUPD Y5, 32(R12)
	VMOVUPD Y6, 64(R12)
	VMOVUPD Y7, 96(R12)
	LEAQ (R12)(DX*8), R12
	INCQ R13
	CMPQ R13, CX
	JLT  rrows
	VMOVUPD Y0, (R11)(BX*8)
	VMOVUPD Y1, 32(R11)(BX*8)
	VMOVUPD Y2, 64(R11)(BX*8)
	VMOVUPD Y3, 96(R11)(BX*8)
	ADDQ $16, BX
	JMP  rcol

rdone:
	VZEROUPPER
	RET

DATA one<>+0(SB)/8, $1.0
GLOBL one<>(SB), RODATA|NOPTR, $8

// func cholBatchAVX2(a, inv []float64, k int)
//
// Left-looking Cholesky of 8 packed matrices at once, one per lane (each
// element of the packed layout is two YMM registers: lanes 0–3, 4–7).
// Column j: L[j][j] = √(A[j][j] − Σ_q L[j][q]²) (even and odd q in two
// sums), then rows below four at a time,
// L[i][j] = (A[i][j] − Σ_q L[i][q]·L[j][q]) · (1/L[j][j]).
TEXT ·cholBatchAVX2(SB), NOSPLIT, $0-56
	MOVQ a_base+0(FP), DI
	MOVQ inv_base+24(FP), SI
	MOVQ k+48(FP), DX
	VBROADCASTSD one<>(SB), Y12
	XORQ R8, R8            // j
	MOVQ DI, R9            // &row j
	XORQ R15, R15          // j*64

ccol:
	CMPQ R8, DX
	JGE  cdone
	VMOVUPD (R9)(R15*1), Y0
	VMOVUPD 32(R9)(R15*1), Y1
	VXORPD Y8, Y8, Y8
	VXORPD Y9, Y9, Y9
	XORQ BX, BX
	MOVQ R15, AX
	ANDQ $-128, AX         // even part of j*64 (pairs of columns)

cdiag2:
	CMPQ BX, AX
	JGE  cdiag1
	VMOVUPD (R9)(BX*1), Y2
	VMOVUPD 32(R9)(BX*1), Y3
	VMOVUPD 64(R9)(BX*1), Y10
	VMOVUPD 96(R9)(BX*1), Y11
	VFNMADD231PD Y2, Y2, Y0
	VFNMADD231PD Y3, Y3, Y1
	VFNMADD231PD Y10, Y10, Y8
	VFNMADD231PD Y11, Y11, Y9
	ADDQ $128, BX
	JMP  cdiag2

cdiag1:
	CMPQ BX, R15
	JGE  cdiagend
	VMOVUPD (R9)(BX*1), Y2
	VMOVUPD 32(R9)(BX*1), Y3
	VFNMADD231PD Y2, Y2, Y0
	VFNMADD231PD Y3, Y3, Y1

cdiagend:
	VADDPD Y8, Y0, Y0
	VADDPD Y9, Y1, Y1
	VSQRTPD Y0, Y0
	VSQRTPD Y1, Y1
	VMOVUPD Y0, (R9)(R15*1)
	VMOVUPD Y1, 32(R9)(R15*1)
	VDIVPD Y0, Y12, Y2      // 1/L[j][j]
	VDIVPD Y1, Y12, Y3
	VMOVUPD Y2, (SI)(R15*1)
	VMOVUPD Y3, 32(SI)(R15*1)

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
	VMOVUPD (R11)(R15*1), Y4
	VMOVUPD 32(R11)(R15*1), Y5
	VMOVUPD (R12)(R15*1), Y6
	VMOVUPD 32(R12)(R15*1), Y7
	VMOVUPD (R13)(R15*1), Y8
	VMOVUPD 32(R13)(R15*1), Y9
	VMOVUPD (R14)(R15*1), Y10
	VMOVUPD 32(R14)(R15*1), Y11
	XORQ BX, BX

crow4q:
	CMPQ BX, R15
	JGE  crow4end
	VMOVUPD (R9)(BX*1), Y0
	VMOVUPD 32(R9)(BX*1), Y1
	VFNMADD231PD (R11)(BX*1), Y0, Y4
	VFNMADD231PD 32(R11)(BX*1), Y1, Y5
	VFNMADD231PD (R12)(BX*1), Y0, Y6
	VFNMADD231PD 32(R12)(BX*1), Y1, Y7
	VFNMADD231PD (R13)(BX*1), Y0, Y8
	VFNMADD231PD 32(R13)(BX*1), Y1, Y9
	VFNMADD231PD (R14)(BX*1), Y0, Y10
	VFNMADD231PD 32(R14)(BX*1), Y1, Y11
	ADDQ $64, BX
	JMP  crow4q

crow4end:
	VMULPD Y2, Y4, Y4
	VMULPD Y3, Y5, Y5
	VMULPD Y2, Y6, Y6
	VMULPD Y3, Y7, Y7
	VMULPD Y2, Y8, Y8
	VMULPD Y3, Y9, Y9
	VMULPD Y2, Y10, Y10
	VMULPD Y3, Y11, Y11
	VMOVUPD Y4, (R11)(R15*1)
	VMOVUPD Y5, 32(R11)(R15*1)
	VMOVUPD Y6, (R12)(R15*1)
	VMOVUPD Y7, 32(R12)(R15*1)
	VMOVUPD Y8, (R13)(R15*1)
	VMOVUPD Y9, 32(R13)(R15*1)
	VMOVUPD Y10, (R14)(R15*1)
	VMOVUPD Y11, 32(R14)(R15*1)
	LEAQ 4(R10), AX
	SHLQ $6, AX
	LEAQ (R14)(AX*1), R11
	ADDQ $4, R10
	JMP  crow4

crow1:
	CMPQ R10, DX
	JGE  cnext
	VMOVUPD (R11)(R15*1), Y4
	VMOVUPD 32(R11)(R15*1), Y5
	XORQ BX, BX

crow1q:
	CMPQ BX, R15
	JGE  crow1end
	VMOVUPD (R9)(BX*1), Y0
	VMOVUPD 32(R9)(BX*1), Y1
	VFNMADD231PD (R11)(BX*1), Y0, Y4
	VFNMADD231PD 32(R11)(BX*1), Y1, Y5
	ADDQ $64, BX
	JMP  crow1q

crow1end:
	VMULPD Y2, Y4, Y4
	VMULPD Y3, Y5, Y5
	VMOVUPD Y4, (R11)(R15*1)
	VMOVUPD Y5, 32(R11)(R15*1)
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

// func solveBatchAVX2(a, inv, b []float64, k int)
//
// Forward substitution with L, then backward with Lᵀ, eight lanes at once
// (two YMM registers per element).
TEXT ·solveBatchAVX2(SB), NOSPLIT, $0-80
	MOVQ a_base+0(FP), DI
	MOVQ inv_base+24(FP), SI
	MOVQ b_base+48(FP), R8
	MOVQ k+72(FP), DX
	TESTQ DX, DX
	JEQ  sdone
	// Forward: y_i = (b_i − Σ_{q<i} L[i][q]·y_q) / L[i][i], even and odd q
	// in two sums.
	XORQ R10, R10          // i
	MOVQ DI, R11           // &row i
	XORQ R15, R15          // i*64

sfwd:
	CMPQ R10, DX
	JGE  sback
	VMOVUPD (R8)(R15*1), Y0
	VMOVUPD 32(R8)(R15*1), Y1
	VXORPD Y8, Y8, Y8
	VXORPD Y9, Y9, Y9
	XORQ BX, BX
	MOVQ R15, AX
	ANDQ $-128, AX

sfwd2:
	CMPQ BX, AX
	JGE  sfwd1
	VMOVUPD (R8)(BX*1), Y2
	VMOVUPD 32(R8)(BX*1), Y3
	VMOVUPD 64(R8)(BX*1), Y10
	VMOVUPD 96(R8)(BX*1), Y11
	VFNMADD231PD (R11)(BX*1), Y2, Y0
	VFNMADD231PD 32(R11)(BX*1), Y3, Y1
	VFNMADD231PD 64(R11)(BX*1), Y10, Y8
	VFNMADD231PD 96(R11)(BX*1), Y11, Y9
	ADDQ $128, BX
	JMP  sfwd2

sfwd1:
	CMPQ BX, R15
	JGE  sfwdend
	VMOVUPD (R8)(BX*1), Y2
	VMOVUPD 32(R8)(BX*1), Y3
	VFNMADD231PD (R11)(BX*1), Y2, Y0
	VFNMADD231PD 32(R11)(BX*1), Y3, Y1

sfwdend:
	VADDPD Y8, Y0, Y0
	VADDPD Y9, Y1, Y1
	VMULPD (SI)(R15*1), Y0, Y0
	VMULPD 32(SI)(R15*1), Y1, Y1
	VMOVUPD Y0, (R8)(R15*1)
	VMOVUPD Y1, 32(R8)(R15*1)
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
	VMOVUPD (R8)(R15*1), Y0
	VMOVUPD 32(R8)(R15*1), Y1
	VMULPD (SI)(R15*1), Y0, Y0
	VMULPD 32(SI)(R15*1), Y1, Y1
	VMOVUPD Y0, (R8)(R15*1)
	VMOVUPD Y1, 32(R8)(R15*1)
	XORQ BX, BX

sbq:
	CMPQ BX, R15
	JGE  sbnext
	VMOVUPD (R8)(BX*1), Y2
	VMOVUPD 32(R8)(BX*1), Y3
	VFNMADD231PD (R11)(BX*1), Y0, Y2
	VFNMADD231PD 32(R11)(BX*1), Y1, Y3
	VMOVUPD Y2, (R8)(BX*1)
	VMOVUPD Y3, 32(R8)(BX*1)
	ADDQ $64, BX
	JMP  sbq

sbnext:
	DECQ R10
	SUBQ $64, R15
	JMP  sbrow

sdone:
	VZEROUPPER
	RET

// One block of 8 columns (at byte offset off) of eight rows: rows 0–2 at
// R12 + {0,1,2}·R9, rows 3–5 at R14 + …, rows 6–7 at R15 + …; p's block
// at R13 in Y8; row r's sum in Yr.
#define DOT8ROWS(off) \
	VMOVUPS     off(R13), Y8; \
	VFMADD231PS off(R12), Y8, Y0; \
	VFMADD231PS off(R12)(R9*1), Y8, Y1; \
	VFMADD231PS off(R12)(R9*2), Y8, Y2; \
	VFMADD231PS off(R14), Y8, Y3; \
	VFMADD231PS off(R14)(R9*1), Y8, Y4; \
	VFMADD231PS off(R14)(R9*2), Y8, Y5; \
	VFMADD231PS off(R15), Y8, Y6; \
	VFMADD231PS off(R15)(R9*1), Y8, Y7

// func rowDotsAVX2(q, b []float32, m, s int, p, w, src []float32, idx, pf []int32)
//
// q[j] = (y_j·p[:s])·w[j] for the m rows y_j of b (w nil: unscaled). When
// idx is not nil the rows are first gathered: row idx[j] of src is copied
// into row j of b, eight rows at a time just before their dot products
// (row pf[j], when j < len(pf), is prefetched first), so that the copy
// and the arithmetic interleave and the prefetches have time to land.
// Each row's products are summed in one YMM register, block by block of 8
// columns, and its 8 lanes are added as ((0+1)+(2+3)) + ((4+5)+(6+7)),
// whether the row is one of 8 done together (one register each, reduced
// together by VHADDPS) or one of the last m mod 8 rows done alone: every
// q[j] depends only on row j, p and w[j].
TEXT ·rowDotsAVX2(SB), NOSPLIT, $0-184
	MOVQ q_base+0(FP), DI
	MOVQ b_base+24(FP), SI
	MOVQ m+48(FP), CX
	MOVQ s+56(FP), DX
	MOVQ p_base+64(FP), R8
	MOVQ w_base+88(FP), R10
	MOVQ DX, R9
	SHLQ $2, R9            // bytes per row
	MOVQ DX, BX
	SHRQ $4, BX            // pairs of 8-column blocks per row (s/16 ≥ 1)

dtloop:
	TESTQ CX, CX
	JEQ  dtdone
	MOVQ $1, R13           // rows in this group: 8, or 1 for the last m mod 8
	CMPQ CX, $8
	JLT  dtgroup
	MOVQ $8, R13

dtgroup:
	CMPQ idx_base+136(FP), $0
	JEQ  dtdot
	MOVQ m+48(FP), R11
	SUBQ CX, R11           // j
	MOVQ SI, R12           // &b[j]

dtcopy:
	CMPQ R11, pf_len+168(FP)
	JGE  dtload
	MOVQ pf_base+160(FP), AX
	MOVLQSX (AX)(R11*4), AX
	IMULQ DX, AX
	MOVQ src_base+112(FP), R14
	LEAQ (R14)(AX*4), AX   // &src[pf[j]]
	LEAQ (AX)(R9*1), R15

dtpf:
	PREFETCHT0 (AX)
	ADDQ $64, AX
	CMPQ AX, R15
	JLT  dtpf

dtload:
	MOVQ idx_base+136(FP), AX
	MOVLQSX (AX)(R11*4), AX
	IMULQ DX, AX
	MOVQ src_base+112(FP), R14
	LEAQ (R14)(AX*4), AX   // &src[idx[j]]
	XORQ R15, R15

dtcol:
	VMOVUPS (AX)(R15*1), Y8
	VMOVUPS 32(AX)(R15*1), Y9
	VMOVUPS Y8, (R12)(R15*1)
	VMOVUPS Y9, 32(R12)(R15*1)
	ADDQ $64, R15
	CMPQ R15, R9
	JLT  dtcol
	ADDQ R9, R12
	INCQ R11
	DECQ R13
	JNZ  dtcopy

dtdot:
	CMPQ CX, $8
	JLT  dt1
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	MOVQ SI, R12
	LEAQ (R12)(R9*2), R14
	ADDQ R9, R14           // row 3
	LEAQ (R14)(R9*2), R15
	ADDQ R9, R15           // row 6
	MOVQ R8, R13
	MOVQ BX, R11

dt8c:
	DOT8ROWS(0)
	DOT8ROWS(32)
	ADDQ $64, R12
	ADDQ $64, R14
	ADDQ $64, R15
	ADDQ $64, R13
	DECQ R11
	JNZ  dt8c
	// Y0 = [row 0..3 sums of lanes 0–3 | of lanes 4–7], Y4 likewise for
	// rows 4..7; then low + high halves.
	VHADDPS Y1, Y0, Y0
	VHADDPS Y3, Y2, Y2
	VHADDPS Y2, Y0, Y0
	VHADDPS Y5, Y4, Y4
	VHADDPS Y7, Y6, Y6
	VHADDPS Y6, Y4, Y4
	VPERM2F128 $0x20, Y4, Y0, Y1
	VPERM2F128 $0x31, Y4, Y0, Y2
	VADDPS Y2, Y1, Y1
	TESTQ R10, R10
	JEQ  dt8st
	VMULPS (R10), Y1, Y1
	ADDQ $32, R10

dt8st:
	VMOVUPS Y1, (DI)
	ADDQ $32, DI
	LEAQ (SI)(R9*8), SI
	SUBQ $8, CX
	JMP  dtloop

dt1:
	VXORPS Y0, Y0, Y0
	MOVQ SI, R12
	MOVQ R8, R13
	MOVQ BX, R11

dt1c:
	VMOVUPS (R13), Y8
	VFMADD231PS (R12), Y8, Y0
	VMOVUPS 32(R13), Y8
	VFMADD231PS 32(R12), Y8, Y0
	ADDQ $64, R12
	ADDQ $64, R13
	DECQ R11
	JNZ  dt1c
	VHADDPS Y0, Y0, Y0
	VHADDPS Y0, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDSS X1, X0, X0
	TESTQ R10, R10
	JEQ  dt1st
	VMULSS (R10), X0, X0
	ADDQ $4, R10

dt1st:
	VMOVSS X0, (DI)
	ADDQ $4, DI
	ADDQ R9, SI
	DECQ CX
	JMP  dtloop

dtdone:
	VZEROUPPER
	RET

// func copyRowsAVX2(dst, src []float32, s int, idx, pf []int32)
//
// dst[j] = src[idx[j]] for whole rows of s floats; before copying row j the
// whole of row pf[j] (when j < len(pf)) is prefetched.
TEXT ·copyRowsAVX2(SB), NOSPLIT, $0-104
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
	VMOVUPS (AX)(BX*4), Y0
	VMOVUPS 32(AX)(BX*4), Y1
	VMOVUPS Y0, (DI)(BX*4)
	VMOVUPS Y1, 32(DI)(BX*4)
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

// func axpyRowsAVX2(out, b []float32, m, s int, coef []float32)
//
// Column blocks of 64 (eight YMM sums) with the rows inner; a remaining
// block of 16 columns sums the even rows and the odd rows apart (to have
// four independent sums), then adds the two.
TEXT ·axpyRowsAVX2(SB), NOSPLIT, $0-88
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

a64:
	LEAQ 64(BX), AX
	CMPQ AX, DX
	JGT  a16
	VMOVUPS (DI)(BX*4), Y0
	VMOVUPS 32(DI)(BX*4), Y1
	VMOVUPS 64(DI)(BX*4), Y2
	VMOVUPS 96(DI)(BX*4), Y3
	VMOVUPS 128(DI)(BX*4), Y4
	VMOVUPS 160(DI)(BX*4), Y5
	VMOVUPS 192(DI)(BX*4), Y6
	VMOVUPS 224(DI)(BX*4), Y7
	LEAQ (SI)(BX*4), R11
	XORQ R10, R10

a64j:
	VBROADCASTSS (R8)(R10*4), Y8
	VFMADD231PS (R11), Y8, Y0
	VFMADD231PS 32(R11), Y8, Y1
	VFMADD231PS 64(R11), Y8, Y2
	VFMADD231PS 96(R11), Y8, Y3
	VFMADD231PS 128(R11), Y8, Y4
	VFMADD231PS 160(R11), Y8, Y5
	VFMADD231PS 192(R11), Y8, Y6
	VFMADD231PS 224(R11), Y8, Y7
	ADDQ R9, R11
	INCQ R10
	CMPQ R10, CX
	JLT  a64j
	VMOVUPS Y0, (DI)(BX*4)
	VMOVUPS Y1, 32(DI)(BX*4)
	VMOVUPS Y2, 64(DI)(BX*4)
	VMOVUPS Y3, 96(DI)(BX*4)
	VMOVUPS Y4, 128(DI)(BX*4)
	VMOVUPS Y5, 160(DI)(BX*4)
	VMOVUPS Y6, 192(DI)(BX*4)
	VMOVUPS Y7, 224(DI)(BX*4)
	ADDQ $64, BX
	JMP  a64

a16:
	CMPQ BX, DX
	JGE  adone
	VMOVUPS (DI)(BX*4), Y0
	VMOVUPS 32(DI)(BX*4), Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	LEAQ (SI)(BX*4), R11
	XORQ R10, R10
	MOVQ CX, R12
	ANDQ $-2, R12

a16j2:
	CMPQ R10, R12
	JGE  a16j1
	VBROADCASTSS (R8)(R10*4), Y8
	VBROADCASTSS 4(R8)(R10*4), Y9
	VFMADD231PS (R11), Y8, Y0
	VFMADD231PS 32(R11), Y8, Y1
	VFMADD231PS (R11)(R9*1), Y9, Y2
	VFMADD231PS 32(R11)(R9*1), Y9, Y3
	LEAQ (R11)(R9*2), R11
	ADDQ $2, R10
	JMP  a16j2

a16j1:
	CMPQ R10, CX
	JGE  a16end
	VBROADCASTSS (R8)(R10*4), Y8
	VFMADD231PS (R11), Y8, Y0
	VFMADD231PS 32(R11), Y8, Y1

a16end:
	VADDPS Y2, Y0, Y0
	VADDPS Y3, Y1, Y1
	VMOVUPS Y0, (DI)(BX*4)
	VMOVUPS Y1, 32(DI)(BX*4)
	ADDQ $16, BX
	JMP  a16

adone:
	VZEROUPPER
	RET

// func axpy2RowsAVX2(out1, out2, b []float32, m, s int, c1, c2 []float32)
//
// out1 += Σ_j c1[j]·b[j,:s] and out2 += Σ_j c2[j]·b[j,:s] in one sweep:
// column blocks of 32 (out1 in Y0..Y3, out2 in Y4..Y7), each row loaded
// once into Y8..Y11; a remaining block of 16 columns likewise in halves.
TEXT ·axpy2RowsAVX2(SB), NOSPLIT, $0-136
	MOVQ out1_base+0(FP), DI
	MOVQ out2_base+24(FP), R12
	MOVQ b_base+48(FP), SI
	MOVQ m+72(FP), CX
	MOVQ s+80(FP), DX
	MOVQ c1_base+88(FP), R8
	MOVQ c2_base+112(FP), R13
	TESTQ CX, CX
	JEQ  xdone
	MOVQ DX, R9
	SHLQ $2, R9            // bytes per row
	XORQ BX, BX            // c0

x32:
	LEAQ 32(BX), AX
	CMPQ AX, DX
	JGT  x16
	VMOVUPS (DI)(BX*4), Y0
	VMOVUPS 32(DI)(BX*4), Y1
	VMOVUPS 64(DI)(BX*4), Y2
	VMOVUPS 96(DI)(BX*4), Y3
	VMOVUPS (R12)(BX*4), Y4
	VMOVUPS 32(R12)(BX*4), Y5
	VMOVUPS 64(R12)(BX*4), Y6
	VMOVUPS 96(R12)(BX*4), Y7
	LEAQ (SI)(BX*4), R11
	XORQ R10, R10

x32j:
	VMOVUPS (R11), Y8
	VMOVUPS 32(R11), Y9
	VMOVUPS 64(R11), Y10
	VMOVUPS 96(R11), Y11
	VBROADCASTSS (R8)(R10*4), Y12
	VBROADCASTSS (R13)(R10*4), Y13
	VFMADD231PS Y8, Y12, Y0
	VFMADD231PS Y9, Y12, Y1
	VFMADD231PS Y10, Y12, Y2
	VFMADD231PS Y11, Y12, Y3
	VFMADD231PS Y8, Y13, Y4
	VFMADD231PS Y9, Y13, Y5
	VFMADD231PS Y10, Y13, Y6
	VFMADD231PS Y11, Y13, Y7
	ADDQ R9, R11
	INCQ R10
	CMPQ R10, CX
	JLT  x32j
	VMOVUPS Y0, (DI)(BX*4)
	VMOVUPS Y1, 32(DI)(BX*4)
	VMOVUPS Y2, 64(DI)(BX*4)
	VMOVUPS Y3, 96(DI)(BX*4)
	VMOVUPS Y4, (R12)(BX*4)
	VMOVUPS Y5, 32(R12)(BX*4)
	VMOVUPS Y6, 64(R12)(BX*4)
	VMOVUPS Y7, 96(R12)(BX*4)
	ADDQ $32, BX
	JMP  x32

x16:
	CMPQ BX, DX
	JGE  xdone
	VMOVUPS (DI)(BX*4), Y0
	VMOVUPS 32(DI)(BX*4), Y1
	VMOVUPS (R12)(BX*4), Y4
	VMOVUPS 32(R12)(BX*4), Y5
	LEAQ (SI)(BX*4), R11
	XORQ R10, R10

x16j:
	VMOVUPS (R11), Y8
	VMOVUPS 32(R11), Y9
	VBROADCASTSS (R8)(R10*4), Y12
	VBROADCASTSS (R13)(R10*4), Y13
	VFMADD231PS Y8, Y12, Y0
	VFMADD231PS Y9, Y12, Y1
	VFMADD231PS Y8, Y13, Y4
	VFMADD231PS Y9, Y13, Y5
	ADDQ R9, R11
	INCQ R10
	CMPQ R10, CX
	JLT  x16j
	VMOVUPS Y0, (DI)(BX*4)
	VMOVUPS Y1, 32(DI)(BX*4)
	VMOVUPS Y4, (R12)(BX*4)
	VMOVUPS Y5, 32(R12)(BX*4)
	ADDQ $16, BX

xdone:
	VZEROUPPER
	RET
