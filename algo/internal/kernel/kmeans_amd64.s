//go:build !noasm

#include "textflag.h"

// The AVX2 path of the k-means assignment (kmeans.go). Centres lie in the lanes:
// ct holds, for each group of eight centres, coordinate j of the eight in
// a row of eight float64s, group after group (ng groups of d rows); hv
// holds ½‖c‖² of the same centres (+Inf for the padding past k). Each lane
// of an accumulator runs one centre's FMA chain over the coordinates of one
// data row in order from zero, so its dot product, and the score
// ½‖c‖² − x·c, are the portable kernel's bits. VFMADD231PD adds into the
// accumulator in place; nothing moves between coordinates.

// Constants for the argmin: +Inf and 1 in every lane.
DATA kmInf<>+0(SB)/8, $0x7ff0000000000000
DATA kmInf<>+8(SB)/8, $0x7ff0000000000000
DATA kmInf<>+16(SB)/8, $0x7ff0000000000000
DATA kmInf<>+24(SB)/8, $0x7ff0000000000000
GLOBL kmInf<>(SB), RODATA|NOPTR, $32

DATA kmOne<>+0(SB)/8, $1
DATA kmOne<>+8(SB)/8, $1
DATA kmOne<>+16(SB)/8, $1
DATA kmOne<>+24(SB)/8, $1
GLOBL kmOne<>(SB), RODATA|NOPTR, $32

// One centre's step of the argmin of four rows: S holds the centre's
// scores for the rows, one per lane; Y11 the best score of each row, Y12
// its centre, Y14 this centre's number in every lane, Y13 the sum of the
// scores (NaN once one is NaN). VMINPD returns its second source unless the
// first is less, so Y11 follows the portable scan's strict < from +Inf.
// Y9 is scratch.
#define ARGMIN_STEP(S) \
	VCMPPD $0x11, Y11, S, Y9 \
	VADDPD S, Y13, Y13 \
	VBLENDVPD Y9, Y14, Y12, Y12 \
	VMINPD Y11, S, Y11 \
	VPADDQ Y15, Y14, Y14

// The argmin steps of four centres: R0–R3 hold the scores of rows 0–3 of
// the tile, each register one row's four centres in the lanes. They are
// transposed (into R1, R2, R3 and Y8, one centre each, the rows
// in the lanes) and stepped through in centre order. Y9 and Y10 are
// scratch, and R0 is overwritten.
#define ARGMIN_QUAD(R0, R1, R2, R3) \
	VUNPCKLPD R1, R0, Y8 \
	VUNPCKHPD R1, R0, Y9 \
	VUNPCKLPD R3, R2, Y10 \
	VUNPCKHPD R3, R2, R0 \
	VPERM2F128 $0x20, Y10, Y8, R1 \
	VPERM2F128 $0x20, R0, Y9, R2 \
	VPERM2F128 $0x31, Y10, Y8, R3 \
	VPERM2F128 $0x31, R0, Y9, Y8 \
	ARGMIN_STEP(R1) \
	ARGMIN_STEP(R2) \
	ARGMIN_STEP(R3) \
	ARGMIN_STEP(Y8)

// func kmLabelsAVX2(lab *int, x *float64, n4, d int, ct, hv *float64, ng int) int
//
// kmLabelsAVX2 labels 4·n4 rows of x (row-major, d ≥ 1 columns) with the
// first centre of the smallest score, and returns how many rows it labelled
// −1 instead because a score was NaN (or the scores held both infinities),
// for the caller to scan as the portable code does.
//
// Per tile of four rows and group of eight centres: eight accumulators
// (four rows × two vectors of four centres) over the coordinates, each
// lane one centre's chain for one row. The scores are then transposed so
// that each register holds one centre's scores of the four rows, and the
// argmin runs down the centres in order, one row per lane.
TEXT ·kmLabelsAVX2(SB), NOSPLIT, $0-64
	MOVQ lab+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n4+16(FP), R13
	MOVQ d+24(FP), R8
	SHLQ $3, R8              // R8: a row's bytes
	LEAQ 0(R8)(R8*2), R9     // R9: three rows' bytes
	MOVQ $0, R12             // rows labelled -1
	TESTQ R13, R13
	JZ   done
	VMOVUPD kmOne<>(SB), Y15

tile:
	MOVQ ct+32(FP), DX
	MOVQ hv+40(FP), BX
	MOVQ ng+48(FP), R11
	VMOVUPD kmInf<>(SB), Y11
	VXORPD Y12, Y12, Y12
	VXORPD Y13, Y13, Y13
	VXORPD Y14, Y14, Y14

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
	VBROADCASTSD 0(AX)(R8*1), Y10
	VFMADD231PD Y10, Y8, Y2
	VFMADD231PD Y10, Y9, Y3
	VBROADCASTSD 0(AX)(R8*2), Y10
	VFMADD231PD Y10, Y8, Y4
	VFMADD231PD Y10, Y9, Y5
	VBROADCASTSD 0(AX)(R9*1), Y10
	VFMADD231PD Y10, Y8, Y6
	VFMADD231PD Y10, Y9, Y7
	ADDQ $8, AX
	ADDQ $64, DX
	DECQ CX
	JNZ  coord

	// Scores ½‖c‖² − x·c: rows 0–3 in Y0, Y2, Y4, Y6 (centres 0–3 of the
	// group) and Y1, Y3, Y5, Y7 (centres 4–7).
	VMOVUPD 0(BX), Y8
	VMOVUPD 32(BX), Y9
	VSUBPD Y0, Y8, Y0
	VSUBPD Y2, Y8, Y2
	VSUBPD Y4, Y8, Y4
	VSUBPD Y6, Y8, Y6
	VSUBPD Y1, Y9, Y1
	VSUBPD Y3, Y9, Y3
	VSUBPD Y5, Y9, Y5
	VSUBPD Y7, Y9, Y7

	// One register per centre, the four rows in the lanes.
	ARGMIN_QUAD(Y0, Y2, Y4, Y6) // centres 0–3 of the group
	ARGMIN_QUAD(Y1, Y3, Y5, Y7) // centres 4–7

	ADDQ $64, BX
	DECQ R11
	JNZ  group

	VMOVDQU Y12, 0(DI)
	VCMPPD $3, Y13, Y13, Y13 // NaN sums
	VMOVMSKPD Y13, AX
	TESTQ AX, AX
	JZ   next

nan:
	BSFQ AX, CX
	MOVQ $-1, 0(DI)(CX*8)
	INCQ R12
	LEAQ -1(AX), CX
	ANDQ CX, AX
	JNZ  nan

next:
	ADDQ $32, DI
	LEAQ 0(SI)(R8*4), SI
	DECQ R13
	JNZ  tile

done:
	VZEROUPPER
	MOVQ R12, ret+56(FP)
	RET

// func kmDistAVX2(dist *float64, x, c *float64, lab *int, n4, d int)
//
// kmDistAVX2 sets dist[i] = Σ_j fma(t, t, ·) with t = x_i[j] − c_l[j], l =
// lab[i], in order from j = 0 (sqDist's chain), for 4·n4 rows: the
// differences of four rows are taken four coordinates at a time in row
// order, transposed so that each lane holds one row, and added in
// coordinate order; the last d mod 4 coordinates one at a time.
TEXT ·kmDistAVX2(SB), NOSPLIT, $0-48
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

// func kmAddRowsAVX2(sums *float64, x *float64, lab *int, n, d int)
//
// kmAddRowsAVX2 adds each of the n rows of x to the sum of its cluster, row
// after row, four coordinates per vector add (the scalar adds, lane by
// lane), the last d mod 4 one by one.
TEXT ·kmAddRowsAVX2(SB), NOSPLIT, $0-40
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
