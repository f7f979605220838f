//go:build goexperiment.simd

#include "textflag.h"

// The AVX2 assignment kernel of kernel_avx2.go. Centres lie in the lanes:
// ct holds, for each group of eight centres, coordinate j of the eight in
// a row of eight float64s, group after group (ng groups of d rows); hv
// holds ½‖c‖² of the same centres (+Inf for the padding past k). Each lane
// of an accumulator runs one centre's FMA chain over the coordinates of one
// data row in order from zero, so its dot product, and the score
// ½‖c‖² − x·c, are the portable kernel's bits. VFMADD231PD adds into the
// accumulator in place; nothing moves between coordinates.

// Constants for the argmin: +Inf in every lane, the lane numbers and the
// step between a row's vectors of four scores.
DATA kmInf<>+0(SB)/8, $0x7ff0000000000000
DATA kmInf<>+8(SB)/8, $0x7ff0000000000000
DATA kmInf<>+16(SB)/8, $0x7ff0000000000000
DATA kmInf<>+24(SB)/8, $0x7ff0000000000000
GLOBL kmInf<>(SB), RODATA|NOPTR, $32

DATA kmLanes<>+0(SB)/8, $0
DATA kmLanes<>+8(SB)/8, $1
DATA kmLanes<>+16(SB)/8, $2
DATA kmLanes<>+24(SB)/8, $3
GLOBL kmLanes<>(SB), RODATA|NOPTR, $32

DATA kmFour<>+0(SB)/8, $4
DATA kmFour<>+8(SB)/8, $4
DATA kmFour<>+16(SB)/8, $4
DATA kmFour<>+24(SB)/8, $4
GLOBL kmFour<>(SB), RODATA|NOPTR, $32

// func labelsAVX2(lab *int64, x *float64, n4, d int, ct, hv *float64, ng int, sc *float64) int
//
// labelsAVX2 labels 4·n4 rows of x (row-major, d ≥ 1 columns) with the
// first centre of the smallest score, and returns how many rows it labelled
// −1 instead because a score was NaN. sc is scratch for 4·8·ng scores.
//
// Per tile of four rows: for each group, eight accumulators (four rows ×
// two vectors of four centres) over the coordinates, then the scores to
// sc. Then per row the argmin: each lane keeps the strict < scan from +Inf
// of the centres ≡ lane (mod 4), in centre order (VMINPD returns its
// second source unless the first is less: the scan's update exactly), and
// the lanes are reduced by smallest score, then smallest centre, which is
// the first centre of the smallest score over all of them.
TEXT ·labelsAVX2(SB), NOSPLIT, $0-72
	MOVQ lab+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n4+16(FP), R13
	MOVQ d+24(FP), R8
	SHLQ $3, R8              // R8: a row's bytes
	LEAQ 0(R8)(R8*2), R9     // R9: three rows' bytes
	MOVQ $0, R12             // NaN rows
	TESTQ R13, R13
	JZ   done

tile:
	MOVQ ct+32(FP), DX
	MOVQ hv+40(FP), BX
	MOVQ sc+56(FP), R10
	MOVQ ng+48(FP), R11

group:
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3
	VXORPD Y4, Y4, Y4
	VXORPD Y5, Y5, Y5
	VXORPD Y6, Y6, Y6
	VXORPD Y7, Y7, Y7
	MOVQ SI, AX              // AX: coordinate j of the tile's first row
	MOVQ d+24(FP), CX
	PCALIGN $16

coord:
	VMOVUPD 0(DX), Y8
	VMOVUPD 32(DX), Y9
	VBROADCASTSD 0(AX), Y10
	VFMADD231PD Y10, Y8, Y0
	VFMADD231PD Y10, Y9, Y1
	VBROADCASTSD 0(AX)(R8*1), Y11
	VFMADD231PD Y11, Y8, Y2
	VFMADD231PD Y11, Y9, Y3
	VBROADCASTSD 0(AX)(R8*2), Y12
	VFMADD231PD Y12, Y8, Y4
	VFMADD231PD Y12, Y9, Y5
	VBROADCASTSD 0(AX)(R9*1), Y13
	VFMADD231PD Y13, Y8, Y6
	VFMADD231PD Y13, Y9, Y7
	ADDQ $8, AX
	ADDQ $64, DX
	DECQ CX
	JNZ  coord

	// Scores ½‖c‖² − x·c, row r of the tile at sc + r·8·ng·8 + group·64.
	VMOVUPD 0(BX), Y8
	VMOVUPD 32(BX), Y9
	MOVQ ng+48(FP), CX
	SHLQ $6, CX              // CX: a row's score bytes
	VSUBPD Y0, Y8, Y0
	VSUBPD Y1, Y9, Y1
	VMOVUPD Y0, 0(R10)
	VMOVUPD Y1, 32(R10)
	VSUBPD Y2, Y8, Y2
	VSUBPD Y3, Y9, Y3
	VMOVUPD Y2, 0(R10)(CX*1)
	VMOVUPD Y3, 32(R10)(CX*1)
	VSUBPD Y4, Y8, Y4
	VSUBPD Y5, Y9, Y5
	VMOVUPD Y4, 0(R10)(CX*2)
	VMOVUPD Y5, 32(R10)(CX*2)
	LEAQ 0(R10)(CX*2), AX
	VSUBPD Y6, Y8, Y6
	VSUBPD Y7, Y9, Y7
	VMOVUPD Y6, 0(AX)(CX*1)
	VMOVUPD Y7, 32(AX)(CX*1)
	ADDQ $64, BX
	ADDQ $64, R10
	DECQ R11
	JNZ  group

	// The argmin of each of the tile's four rows.
	VMOVUPD kmFour<>(SB), Y15
	MOVQ sc+56(FP), R10
	MOVQ $4, R11

row:
	VMOVUPD kmInf<>(SB), Y0  // best score per lane
	VXORPD Y1, Y1, Y1        // its centre
	VMOVUPD kmLanes<>(SB), Y2 // the centres of the next vector
	VXORPD Y3, Y3, Y3        // NaN seen, per lane
	MOVQ ng+48(FP), CX
	SHLQ $1, CX              // vectors of four scores in a row

scan:
	VMOVUPD 0(R10), Y8
	VCMPPD $0x11, Y0, Y8, Y9 // Y9 = Y8 < Y0 (ordered, quiet)
	VCMPPD $3, Y8, Y8, Y10   // Y10 = Y8 is NaN
	VBLENDVPD Y9, Y2, Y1, Y1 // Y1 = Y9 ? Y2 : Y1
	VMINPD Y0, Y8, Y0        // Y0 = Y8 < Y0 ? Y8 : Y0
	VORPD Y10, Y3, Y3
	VPADDQ Y15, Y2, Y2
	ADDQ $32, R10
	DECQ CX
	JNZ  scan

	// Lanes (0, 1) against (2, 3), then 0 against 1: the other lane wins
	// if its score is less, or equal with a smaller centre.
	VPERM2F128 $1, Y0, Y0, Y4
	VPERM2F128 $1, Y1, Y1, Y5
	VCMPPD $0x11, Y0, Y4, Y6 // Y6 = Y4 < Y0
	VCMPPD $0, Y0, Y4, Y7    // Y7 = Y4 == Y0
	VPCMPGTQ Y5, Y1, Y8      // Y8 = Y1 > Y5
	VPAND Y8, Y7, Y7
	VPOR Y7, Y6, Y6
	VBLENDVPD Y6, Y4, Y0, Y0
	VBLENDVPD Y6, Y5, Y1, Y1
	VPERMILPD $5, Y0, Y4
	VPERMILPD $5, Y1, Y5
	VCMPPD $0x11, Y0, Y4, Y6
	VCMPPD $0, Y0, Y4, Y7
	VPCMPGTQ Y5, Y1, Y8
	VPAND Y8, Y7, Y7
	VPOR Y7, Y6, Y6
	VBLENDVPD Y6, Y5, Y1, Y1
	VMOVQ X1, AX
	VMOVMSKPD Y3, CX
	TESTQ CX, CX
	JZ   store
	MOVQ $-1, AX
	INCQ R12

store:
	MOVQ AX, 0(DI)
	ADDQ $8, DI
	DECQ R11
	JNZ  row

	LEAQ 0(SI)(R8*4), SI
	DECQ R13
	JNZ  tile

done:
	VZEROUPPER
	MOVQ R12, ret+64(FP)
	RET

// func distAVX2(dist *float64, x, c *float64, lab *int64, n4, d int)
//
// distAVX2 sets dist[i] = Σ_j fma(t, t, ·) with t = x_i[j] − c_l[j], l =
// lab[i], in order from j = 0 (sqDist's chain), for 4·n4 rows: the
// differences of four rows are taken four coordinates at a time in row
// order, transposed so that each lane holds one row, and added in
// coordinate order; the last d mod 4 coordinates one at a time.
TEXT ·distAVX2(SB), NOSPLIT, $0-48
	MOVQ dist+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ lab+24(FP), R13
	MOVQ n4+32(FP), R12
	MOVQ d+40(FP), R8
	SHLQ $3, R8              // a row's bytes
	TESTQ R12, R12
	JZ   ddone

dtile:
	// Centre rows of the tile's labels in AX, BX, CX, DX.
	MOVQ c+16(FP), R9
	MOVQ 0(R13), AX
	IMULQ R8, AX
	ADDQ R9, AX
	MOVQ 8(R13), BX
	IMULQ R8, BX
	ADDQ R9, BX
	MOVQ 16(R13), CX
	IMULQ R8, CX
	ADDQ R9, CX
	MOVQ 24(R13), DX
	IMULQ R8, DX
	ADDQ R9, DX
	MOVQ SI, R10             // row 0; rows 1–3 at R10 + R8·{1, 2, 3}
	LEAQ 0(R8)(R8*2), R9
	VXORPD Y8, Y8, Y8
	MOVQ d+40(FP), R11
	CMPQ R11, $4
	JLT  dtail

dquad:
	VMOVUPD 0(R10), Y0
	VSUBPD 0(AX), Y0, Y0
	VMOVUPD 0(R10)(R8*1), Y1
	VSUBPD 0(BX), Y1, Y1
	VMOVUPD 0(R10)(R8*2), Y2
	VSUBPD 0(CX), Y2, Y2
	VMOVUPD 0(R10)(R9*1), Y3
	VSUBPD 0(DX), Y3, Y3
	VUNPCKLPD Y1, Y0, Y4     // t0[0] t1[0] t0[2] t1[2]
	VUNPCKHPD Y1, Y0, Y5     // t0[1] t1[1] t0[3] t1[3]
	VUNPCKLPD Y3, Y2, Y6
	VUNPCKHPD Y3, Y2, Y7
	VPERM2F128 $0x20, Y6, Y4, Y0 // coordinate 0 of the four rows
	VPERM2F128 $0x20, Y7, Y5, Y1 // 1
	VPERM2F128 $0x31, Y6, Y4, Y2 // 2
	VPERM2F128 $0x31, Y7, Y5, Y3 // 3
	VFMADD231PD Y0, Y0, Y8
	VFMADD231PD Y1, Y1, Y8
	VFMADD231PD Y2, Y2, Y8
	VFMADD231PD Y3, Y3, Y8
	ADDQ $32, R10
	ADDQ $32, AX
	ADDQ $32, BX
	ADDQ $32, CX
	ADDQ $32, DX
	SUBQ $4, R11
	CMPQ R11, $4
	JGE  dquad

dtail:
	TESTQ R11, R11
	JZ   dstore
	VMOVSD 0(R10), X0
	VSUBSD 0(AX), X0, X0
	VMOVSD 0(R10)(R8*1), X1
	VSUBSD 0(BX), X1, X1
	VMOVSD 0(R10)(R8*2), X2
	VSUBSD 0(CX), X2, X2
	VMOVSD 0(R10)(R9*1), X3
	VSUBSD 0(DX), X3, X3
	VUNPCKLPD X1, X0, X0
	VUNPCKLPD X3, X2, X2
	VINSERTF128 $1, X2, Y0, Y0
	VFMADD231PD Y0, Y0, Y8
	ADDQ $8, R10
	ADDQ $8, AX
	ADDQ $8, BX
	ADDQ $8, CX
	ADDQ $8, DX
	DECQ R11
	JMP  dtail

dstore:
	VMOVUPD Y8, 0(DI)
	ADDQ $32, DI
	ADDQ $32, R13
	LEAQ 0(SI)(R8*4), SI
	DECQ R12
	JNZ  dtile

ddone:
	VZEROUPPER
	RET

// func addRowsAVX2(sums *float64, x *float64, lab *int64, n, d int)
//
// addRowsAVX2 adds each of the n rows of x to the sum of its cluster, row
// after row, four coordinates per vector add (the scalar adds, lane by
// lane), the last d mod 4 one by one.
TEXT ·addRowsAVX2(SB), NOSPLIT, $0-40
	MOVQ sums+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ lab+16(FP), R13
	MOVQ n+24(FP), R12
	MOVQ d+32(FP), R8
	SHLQ $3, R8
	TESTQ R12, R12
	JZ   adone

arow:
	MOVQ 0(R13), AX
	IMULQ R8, AX
	ADDQ DI, AX              // the cluster's sum
	MOVQ d+32(FP), CX
	CMPQ CX, $4
	JLT  atail

aquad:
	VMOVUPD 0(AX), Y0
	VADDPD 0(SI), Y0, Y0
	VMOVUPD Y0, 0(AX)
	ADDQ $32, AX
	ADDQ $32, SI
	SUBQ $4, CX
	CMPQ CX, $4
	JGE  aquad

atail:
	TESTQ CX, CX
	JZ   anext
	VMOVSD 0(AX), X0
	VADDSD 0(SI), X0, X0
	VMOVSD X0, 0(AX)
	ADDQ $8, AX
	ADDQ $8, SI
	DECQ CX
	JMP  atail

anext:
	ADDQ $8, R13
	DECQ R12
	JNZ  arow

adone:
	VZEROUPPER
	RET
