//go:build !noasm

#include "textflag.h"

// The AVX2 Gram tiles of als.go: four rows p..p+3 of A by m = 3,
// 2 or 1 vectors of four columns, over n ≥ 1 gathered rows. Each lane of
// an accumulator is one entry A[p+i][q+l], and per gathered row j it
// takes exactly one fma(wy_j[p+i], y_j[q+l], ·) in row order, so it is
// the portable chain of its entry. VFMADD231PD adds into the accumulator
// in place; the same loop written with simd/archsimd moves or spills
// accumulators every row (see topn_amd64.s).
//
// func alsGram4xM(a, src unsafe.Pointer, stride int, w, y unsafe.Pointer, n int)
//
// a and src point at entry [p][q] of A and of the starting matrix (src
// nil: start from zero; src may equal a), stride is the byte length of a
// row of A and of a gathered row, w points at wy_0[p] and y at y_0[q].
//
// Registers: AX a, SI src, BX stride, R8 3·stride, CX w, DX y, DI rows
// left; accumulators Y0–Y11 (row i, vector v in Y(3i+v) for m = 3, in
// Y(2i+v) for m = 2, Y(i) for m = 1), the row's y vectors Y12–Y14, the
// broadcast coordinate Y15.

// ROW3 and its kin run one vector row of the tile: the broadcast of
// wy_j[p+i] (at byte off of CX) times the y vectors, into its
// accumulators.
#define ROW3(off, a0, a1, a2) \
	VBROADCASTSD off(CX), Y15 \
	VFMADD231PD Y12, Y15, a0 \
	VFMADD231PD Y13, Y15, a1 \
	VFMADD231PD Y14, Y15, a2

#define ROW2(off, a0, a1) \
	VBROADCASTSD off(CX), Y15 \
	VFMADD231PD Y12, Y15, a0 \
	VFMADD231PD Y13, Y15, a1

#define ROW1(off, a0) \
	VBROADCASTSD off(CX), Y15 \
	VFMADD231PD Y12, Y15, a0

// MOVE3 loads the three vectors at base into a0–a2; STORE3 stores them.
#define MOVE3(base, a0, a1, a2) \
	VMOVUPD 0(base), a0 \
	VMOVUPD 32(base), a1 \
	VMOVUPD 64(base), a2

#define STORE3(base, a0, a1, a2) \
	VMOVUPD a0, 0(base) \
	VMOVUPD a1, 32(base) \
	VMOVUPD a2, 64(base)

#define PROLOGUE \
	MOVQ a+0(FP), AX \
	MOVQ src+8(FP), SI \
	MOVQ stride+16(FP), BX \
	MOVQ w+24(FP), CX \
	MOVQ y+32(FP), DX \
	MOVQ n+40(FP), DI \
	LEAQ (BX)(BX*2), R8

// func alsGram4x12(a, src unsafe.Pointer, stride int, w, y unsafe.Pointer, n int)
TEXT ·alsGram4x12(SB), NOSPLIT, $0-48
	PROLOGUE
	TESTQ SI, SI
	JZ    zero3
	MOVE3(SI, Y0, Y1, Y2)
	LEAQ  (SI)(BX*1), R9
	MOVE3(R9, Y3, Y4, Y5)
	LEAQ  (SI)(BX*2), R9
	MOVE3(R9, Y6, Y7, Y8)
	LEAQ  (SI)(R8*1), R9
	MOVE3(R9, Y9, Y10, Y11)
	JMP   loop3

zero3:
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3
	VXORPD Y4, Y4, Y4
	VXORPD Y5, Y5, Y5
	VXORPD Y6, Y6, Y6
	VXORPD Y7, Y7, Y7
	VXORPD Y8, Y8, Y8
	VXORPD Y9, Y9, Y9
	VXORPD Y10, Y10, Y10
	VXORPD Y11, Y11, Y11

	PCALIGN $16
loop3:
	MOVE3(DX, Y12, Y13, Y14)
	ROW3(0, Y0, Y1, Y2)
	ROW3(8, Y3, Y4, Y5)
	ROW3(16, Y6, Y7, Y8)
	ROW3(24, Y9, Y10, Y11)
	ADDQ BX, CX
	ADDQ BX, DX
	DECQ DI
	JNZ  loop3

	STORE3(AX, Y0, Y1, Y2)
	LEAQ (AX)(BX*1), R9
	STORE3(R9, Y3, Y4, Y5)
	LEAQ (AX)(BX*2), R9
	STORE3(R9, Y6, Y7, Y8)
	LEAQ (AX)(R8*1), R9
	STORE3(R9, Y9, Y10, Y11)
	VZEROUPPER
	RET

// func alsGram4x8(a, src unsafe.Pointer, stride int, w, y unsafe.Pointer, n int)
TEXT ·alsGram4x8(SB), NOSPLIT, $0-48
	PROLOGUE
	TESTQ SI, SI
	JZ    zero2
	VMOVUPD 0(SI), Y0
	VMOVUPD 32(SI), Y1
	VMOVUPD 0(SI)(BX*1), Y2
	VMOVUPD 32(SI)(BX*1), Y3
	VMOVUPD 0(SI)(BX*2), Y4
	VMOVUPD 32(SI)(BX*2), Y5
	VMOVUPD 0(SI)(R8*1), Y6
	VMOVUPD 32(SI)(R8*1), Y7
	JMP     loop2

zero2:
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3
	VXORPD Y4, Y4, Y4
	VXORPD Y5, Y5, Y5
	VXORPD Y6, Y6, Y6
	VXORPD Y7, Y7, Y7

	PCALIGN $16
loop2:
	VMOVUPD 0(DX), Y12
	VMOVUPD 32(DX), Y13
	ROW2(0, Y0, Y1)
	ROW2(8, Y2, Y3)
	ROW2(16, Y4, Y5)
	ROW2(24, Y6, Y7)
	ADDQ BX, CX
	ADDQ BX, DX
	DECQ DI
	JNZ  loop2

	VMOVUPD Y0, 0(AX)
	VMOVUPD Y1, 32(AX)
	VMOVUPD Y2, 0(AX)(BX*1)
	VMOVUPD Y3, 32(AX)(BX*1)
	VMOVUPD Y4, 0(AX)(BX*2)
	VMOVUPD Y5, 32(AX)(BX*2)
	VMOVUPD Y6, 0(AX)(R8*1)
	VMOVUPD Y7, 32(AX)(R8*1)
	VZEROUPPER
	RET

// func alsGram4x4(a, src unsafe.Pointer, stride int, w, y unsafe.Pointer, n int)
TEXT ·alsGram4x4(SB), NOSPLIT, $0-48
	PROLOGUE
	TESTQ SI, SI
	JZ    zero1
	VMOVUPD 0(SI), Y0
	VMOVUPD 0(SI)(BX*1), Y1
	VMOVUPD 0(SI)(BX*2), Y2
	VMOVUPD 0(SI)(R8*1), Y3
	JMP     loop1

zero1:
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3

	PCALIGN $16
loop1:
	VMOVUPD 0(DX), Y12
	ROW1(0, Y0)
	ROW1(8, Y1)
	ROW1(16, Y2)
	ROW1(24, Y3)
	ADDQ BX, CX
	ADDQ BX, DX
	DECQ DI
	JNZ  loop1

	VMOVUPD Y0, 0(AX)
	VMOVUPD Y1, 0(AX)(BX*1)
	VMOVUPD Y2, 0(AX)(BX*2)
	VMOVUPD Y3, 0(AX)(R8*1)
	VZEROUPPER
	RET

// func alsDot8(a, b *float64, n int) float64
//
// dot of a and b over n ≥ 1 blocks of eight: the chains 0–3 in Y0 and
// 4–7 in Y1, each lane fma(a_k, b_k, ·) over its k in order, then
// ((p0+p4)+(p2+p6)) + ((p1+p5)+(p3+p7)) as dotGo sums them.
TEXT ·alsDot8(SB), NOSPLIT, $0-32
	MOVQ a+0(FP), SI
	MOVQ b+8(FP), DI
	MOVQ n+16(FP), CX
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1

dotloop:
	VMOVUPD     0(SI), Y2
	VMOVUPD     32(SI), Y3
	VFMADD231PD 0(DI), Y2, Y0
	VFMADD231PD 32(DI), Y3, Y1
	ADDQ        $64, SI
	ADDQ        $64, DI
	DECQ        CX
	JNZ         dotloop

	VADDPD       Y1, Y0, Y0     // p0+p4, p1+p5, p2+p6, p3+p7
	VEXTRACTF128 $1, Y0, X1
	VADDPD       X1, X0, X0     // (p0+p4)+(p2+p6), (p1+p5)+(p3+p7)
	VUNPCKHPD    X0, X0, X1
	VADDSD       X1, X0, X0
	VZEROUPPER
	MOVSD        X0, ret+24(FP)
	RET

// func alsScale4(dy, dw, y *float64, w float64, n int)
//
// dy[k] = y[k] and dw[k] = w·y[k], each product rounded, for k < 4n,
// n ≥ 1.
TEXT ·alsScale4(SB), NOSPLIT, $0-40
	MOVQ         dy+0(FP), DI
	MOVQ         dw+8(FP), SI
	MOVQ         y+16(FP), DX
	VBROADCASTSD w+24(FP), Y1
	MOVQ         n+32(FP), CX

scaleloop:
	VMOVUPD (DX), Y0
	VMOVUPD Y0, (DI)
	VMULPD  Y1, Y0, Y0
	VMOVUPD Y0, (SI)
	ADDQ    $32, DX
	ADDQ    $32, DI
	ADDQ    $32, SI
	DECQ    CX
	JNZ     scaleloop
	VZEROUPPER
	RET

// The batched factorisation of als.go on the packed layout of
// ALSBatch: eight systems, entry (p, q) of all eight at byte
// 64·(off[p] + q − p) of a, as two vectors of four lanes. Each lane runs
// cholesky and cholSolve of its system in their order. VFNMADD231PD
// computes −(x·y) + z with one rounding, which is fma(−x, y, z): negation
// is exact.

// func alsCholBatch4(a unsafe.Pointer, r int, off *int)
//
// cholesky by rows of U (the up-looking order of the same arithmetic): for
// i < r, A[i][j] = fma(−U[k][i], U[k][j], A[i][j]) for j ≥ i over k < i in
// order, which is the chain the right-looking cholesky gives each entry;
// then U[i][i] = √A[i][i] and U[i][j] = A[i][j]/U[i][i] for j > i. A tile
// of six entries of row i (twelve half vectors) stays in Y0–Y11 over k, so
// nothing is stored per k. A tile past the end of the row reads the
// entries after it (the caller pads a), and stores only the row's own. A
// lane whose pivot is not positive goes on with NaNs; the caller checks
// the pivots.
//
// Registers: AX a, R8 r, R9 off, CX i, BX (i, i), DX 64(r−i), R12
// 64(j0−i) for the tile's first entry j0, R10 (k, i), R13 64(r−k−1), the
// step from (k, ·) to (k+1, ·), R11 steps left, SI 64 × entries left from
// j0, DI (i, j0); U[k][i] in Y12 (lanes 0–3) and Y13 (4–7).
TEXT ·alsCholBatch4(SB), NOSPLIT, $0-24
	MOVQ a+0(FP), AX
	MOVQ r+8(FP), R8
	MOVQ off+16(FP), R9
	XORQ CX, CX

cholrow:
	CMPQ CX, R8
	JGE  choldone
	MOVQ (R9)(CX*8), BX
	SHLQ $6, BX
	ADDQ AX, BX
	MOVQ R8, DX
	SUBQ CX, DX
	SHLQ $6, DX
	XORQ R12, R12

choltile:
	VMOVUPD 0(BX)(R12*1), Y0
	VMOVUPD 32(BX)(R12*1), Y1
	VMOVUPD 64(BX)(R12*1), Y2
	VMOVUPD 96(BX)(R12*1), Y3
	VMOVUPD 128(BX)(R12*1), Y4
	VMOVUPD 160(BX)(R12*1), Y5
	VMOVUPD 192(BX)(R12*1), Y6
	VMOVUPD 224(BX)(R12*1), Y7
	VMOVUPD 256(BX)(R12*1), Y8
	VMOVUPD 288(BX)(R12*1), Y9
	VMOVUPD 320(BX)(R12*1), Y10
	VMOVUPD 352(BX)(R12*1), Y11
	TESTQ CX, CX
	JZ    cholstore
	MOVQ  CX, R10
	SHLQ  $6, R10
	ADDQ  AX, R10
	LEAQ  -1(R8), R13
	SHLQ  $6, R13
	MOVQ  CX, R11

cholk:
	VMOVUPD (R10), Y12
	VMOVUPD 32(R10), Y13
	VFNMADD231PD 0(R10)(R12*1), Y12, Y0
	VFNMADD231PD 32(R10)(R12*1), Y13, Y1
	VFNMADD231PD 64(R10)(R12*1), Y12, Y2
	VFNMADD231PD 96(R10)(R12*1), Y13, Y3
	VFNMADD231PD 128(R10)(R12*1), Y12, Y4
	VFNMADD231PD 160(R10)(R12*1), Y13, Y5
	VFNMADD231PD 192(R10)(R12*1), Y12, Y6
	VFNMADD231PD 224(R10)(R12*1), Y13, Y7
	VFNMADD231PD 256(R10)(R12*1), Y12, Y8
	VFNMADD231PD 288(R10)(R12*1), Y13, Y9
	VFNMADD231PD 320(R10)(R12*1), Y12, Y10
	VFNMADD231PD 352(R10)(R12*1), Y13, Y11
	ADDQ R13, R10
	SUBQ $64, R13
	DECQ R11
	JNZ  cholk

cholstore:
	LEAQ    (BX)(R12*1), DI
	MOVQ    DX, SI
	SUBQ    R12, SI
	VMOVUPD Y0, (DI)
	VMOVUPD Y1, 32(DI)
	CMPQ    SI, $128
	JLT     choltiled
	VMOVUPD Y2, 64(DI)
	VMOVUPD Y3, 96(DI)
	CMPQ    SI, $192
	JLT     choltiled
	VMOVUPD Y4, 128(DI)
	VMOVUPD Y5, 160(DI)
	CMPQ    SI, $256
	JLT     choltiled
	VMOVUPD Y6, 192(DI)
	VMOVUPD Y7, 224(DI)
	CMPQ    SI, $320
	JLT     choltiled
	VMOVUPD Y8, 256(DI)
	VMOVUPD Y9, 288(DI)
	CMPQ    SI, $384
	JLT     choltiled
	VMOVUPD Y10, 320(DI)
	VMOVUPD Y11, 352(DI)

choltiled:
	ADDQ $384, R12
	CMPQ R12, DX
	JLT  choltile

	// U[i][i] = √A[i][i]; U[i][j] = A[i][j] / U[i][i].
	VSQRTPD (BX), Y0
	VSQRTPD 32(BX), Y1
	VMOVUPD Y0, (BX)
	VMOVUPD Y1, 32(BX)
	MOVQ    $64, R13

choldiv:
	CMPQ    R13, DX
	JGE     cholnext
	VMOVUPD (BX)(R13*1), Y2
	VMOVUPD 32(BX)(R13*1), Y3
	VDIVPD  Y0, Y2, Y2
	VDIVPD  Y1, Y3, Y3
	VMOVUPD Y2, (BX)(R13*1)
	VMOVUPD Y3, 32(BX)(R13*1)
	ADDQ    $64, R13
	JMP     choldiv

cholnext:
	INCQ CX
	JMP  cholrow

choldone:
	VZEROUPPER
	RET

// func alsSolveBatch4(a, b unsafe.Pointer, r int, off *int)
//
// cholSolve lane by lane: Uᵀz = b by rows of U (z_k = b_k/U[k][k], then
// b_j = fma(−z_k, U[k][j], b_j) for j > k), then Ux = z by columns of U
// from the last (x_k = z_k/U[k][k], then b_i = fma(−x_k, U[i][k], b_i) for
// i < k); b (64 bytes an entry) becomes x.
//
// Registers: AX a, SI b, R8 r, R9 off, CX k, BX (k, k), DI the entry of b,
// R10 the entry of a, R11 entries left, R12 i.
TEXT ·alsSolveBatch4(SB), NOSPLIT, $0-32
	MOVQ a+0(FP), AX
	MOVQ b+8(FP), SI
	MOVQ r+16(FP), R8
	MOVQ off+24(FP), R9
	XORQ CX, CX

fwdk:
	CMPQ    CX, R8
	JGE     back
	MOVQ    (R9)(CX*8), BX
	SHLQ    $6, BX
	ADDQ    AX, BX
	MOVQ    CX, DI
	SHLQ    $6, DI
	ADDQ    SI, DI
	VMOVUPD (DI), Y0
	VMOVUPD 32(DI), Y1
	VDIVPD  (BX), Y0, Y0
	VDIVPD  32(BX), Y1, Y1
	VMOVUPD Y0, (DI)
	VMOVUPD Y1, 32(DI)
	LEAQ    64(BX), R10
	MOVQ    R8, R11
	SUBQ    CX, R11
	DECQ    R11

fwdj:
	TESTQ        R11, R11
	JZ           fwdnext
	ADDQ         $64, DI
	VMOVUPD      (DI), Y4
	VMOVUPD      32(DI), Y5
	VFNMADD231PD (R10), Y0, Y4
	VFNMADD231PD 32(R10), Y1, Y5
	VMOVUPD      Y4, (DI)
	VMOVUPD      Y5, 32(DI)
	ADDQ         $64, R10
	DECQ         R11
	JMP          fwdj

fwdnext:
	INCQ CX
	JMP  fwdk

back:
	MOVQ R8, CX

backk:
	DECQ    CX
	JL      solvedone
	MOVQ    (R9)(CX*8), BX
	SHLQ    $6, BX
	ADDQ    AX, BX
	MOVQ    CX, DI
	SHLQ    $6, DI
	ADDQ    SI, DI
	VMOVUPD (DI), Y0
	VMOVUPD 32(DI), Y1
	VDIVPD  (BX), Y0, Y0
	VDIVPD  32(BX), Y1, Y1
	VMOVUPD Y0, (DI)
	VMOVUPD Y1, 32(DI)
	XORQ    R12, R12
	MOVQ    SI, DI

backi:
	CMPQ         R12, CX
	JGE          backk
	MOVQ         (R9)(R12*8), R10
	ADDQ         CX, R10
	SUBQ         R12, R10
	SHLQ         $6, R10
	ADDQ         AX, R10
	VMOVUPD      (DI), Y4
	VMOVUPD      32(DI), Y5
	VFNMADD231PD (R10), Y0, Y4
	VFNMADD231PD 32(R10), Y1, Y5
	VMOVUPD      Y4, (DI)
	VMOVUPD      Y5, 32(DI)
	ADDQ         $64, DI
	INCQ         R12
	JMP          backi

solvedone:
	VZEROUPPER
	RET

// func alsRhs32(b, z, y unsafe.Pointer, stride, n int)
//
// The right-hand side of accVec for 32 entries of b: b[q] = fma(z_j,
// y_j[q], b[q]) over the n ≥ 1 gathered rows in order, eight accumulators
// Y0–Y7; z_j is at z + 8j, y_j at y + stride·j.
TEXT ·alsRhs32(SB), NOSPLIT, $0-40
	MOVQ    b+0(FP), AX
	MOVQ    z+8(FP), CX
	MOVQ    y+16(FP), DX
	MOVQ    stride+24(FP), BX
	MOVQ    n+32(FP), DI
	VMOVUPD 0(AX), Y0
	VMOVUPD 32(AX), Y1
	VMOVUPD 64(AX), Y2
	VMOVUPD 96(AX), Y3
	VMOVUPD 128(AX), Y4
	VMOVUPD 160(AX), Y5
	VMOVUPD 192(AX), Y6
	VMOVUPD 224(AX), Y7

rhs32loop:
	VBROADCASTSD (CX), Y15
	VFMADD231PD  0(DX), Y15, Y0
	VFMADD231PD  32(DX), Y15, Y1
	VFMADD231PD  64(DX), Y15, Y2
	VFMADD231PD  96(DX), Y15, Y3
	VFMADD231PD  128(DX), Y15, Y4
	VFMADD231PD  160(DX), Y15, Y5
	VFMADD231PD  192(DX), Y15, Y6
	VFMADD231PD  224(DX), Y15, Y7
	ADDQ         $8, CX
	ADDQ         BX, DX
	DECQ         DI
	JNZ          rhs32loop

	VMOVUPD Y0, 0(AX)
	VMOVUPD Y1, 32(AX)
	VMOVUPD Y2, 64(AX)
	VMOVUPD Y3, 96(AX)
	VMOVUPD Y4, 128(AX)
	VMOVUPD Y5, 160(AX)
	VMOVUPD Y6, 192(AX)
	VMOVUPD Y7, 224(AX)
	VZEROUPPER
	RET

// func alsRhs8(b, z, y unsafe.Pointer, stride, n int)
//
// rhs32 for 8 entries of b.
TEXT ·alsRhs8(SB), NOSPLIT, $0-40
	MOVQ    b+0(FP), AX
	MOVQ    z+8(FP), CX
	MOVQ    y+16(FP), DX
	MOVQ    stride+24(FP), BX
	MOVQ    n+32(FP), DI
	VMOVUPD 0(AX), Y0
	VMOVUPD 32(AX), Y1

rhs8loop:
	VBROADCASTSD (CX), Y15
	VFMADD231PD  0(DX), Y15, Y0
	VFMADD231PD  32(DX), Y15, Y1
	ADDQ         $8, CX
	ADDQ         BX, DX
	DECQ         DI
	JNZ          rhs8loop

	VMOVUPD Y0, 0(AX)
	VMOVUPD Y1, 32(AX)
	VZEROUPPER
	RET
