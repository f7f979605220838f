//go:build !noasm

#include "textflag.h"

// The AVX-512 labels of the k-means assignment (kmeans.go): the AVX2
// kernel's layout and chains (kmeans_amd64.s) with eight centres in the
// lanes of one 512-bit register and eight rows a tile, so each lane still
// runs one centre's FMA chain over one row's coordinates in order from
// zero, the portable kernel's bits. The row's coordinate comes as an
// embedded broadcast of the FMA's memory operand.

DATA km512Inf<>+0(SB)/8, $0x7ff0000000000000
GLOBL km512Inf<>(SB), RODATA|NOPTR, $8

DATA km512One<>+0(SB)/8, $1
GLOBL km512One<>(SB), RODATA|NOPTR, $8

// One centre's step of the argmin of eight rows, as ARGMIN_STEP in
// kmeans_amd64.s: S holds the centre's scores of the rows, one per lane;
// Z18 the best score of each row, Z19 its centre, Z20 this centre's number
// in every lane, Z21 the sum of the scores (NaN once one is NaN), Z22 one
// in every lane. K1 is scratch. VMINPD keeps its second source unless the
// first is less: the portable scan's strict < from +Inf.
#define PF 16384

#define ARGMIN_STEP(S) \
	VCMPPD $0x11, Z18, S, K1 \
	VADDPD S, Z21, Z21 \
	VPBLENDMQ Z20, Z19, K1, Z19 \
	VMINPD Z18, S, Z18 \
	VPADDQ Z22, Z20, Z20

// The 8×8 transpose of Z0–Z7 (row r of a tile in Zr, eight values of it in
// the lanes) into Z9–Z16 (value i of every row in Z(9+i), row r in lane
// r): pairs of rows, then pairs of 128-bit lanes, then halves. Z0–Z7 are
// overwritten.
#define TRANSPOSE8 \
	VUNPCKLPD Z1, Z0, Z9 \
	VUNPCKHPD Z1, Z0, Z10 \
	VUNPCKLPD Z3, Z2, Z11 \
	VUNPCKHPD Z3, Z2, Z12 \
	VUNPCKLPD Z5, Z4, Z13 \
	VUNPCKHPD Z5, Z4, Z14 \
	VUNPCKLPD Z7, Z6, Z15 \
	VUNPCKHPD Z7, Z6, Z16 \
	VSHUFF64X2 $0x88, Z11, Z9, Z0 \
	VSHUFF64X2 $0xdd, Z11, Z9, Z1 \
	VSHUFF64X2 $0x88, Z12, Z10, Z2 \
	VSHUFF64X2 $0xdd, Z12, Z10, Z3 \
	VSHUFF64X2 $0x88, Z15, Z13, Z4 \
	VSHUFF64X2 $0xdd, Z15, Z13, Z5 \
	VSHUFF64X2 $0x88, Z16, Z14, Z6 \
	VSHUFF64X2 $0xdd, Z16, Z14, Z7 \
	VSHUFF64X2 $0x88, Z4, Z0, Z9 \
	VSHUFF64X2 $0x88, Z6, Z2, Z10 \
	VSHUFF64X2 $0x88, Z5, Z1, Z11 \
	VSHUFF64X2 $0x88, Z7, Z3, Z12 \
	VSHUFF64X2 $0xdd, Z4, Z0, Z13 \
	VSHUFF64X2 $0xdd, Z6, Z2, Z14 \
	VSHUFF64X2 $0xdd, Z5, Z1, Z15 \
	VSHUFF64X2 $0xdd, Z7, Z3, Z16

// func kmLabelsAVX512(lab *int, x *float64, n8, d int, ct, hv *float64, ng int) int
//
// kmLabelsAVX512 labels 8·n8 rows of x (row-major, d ≥ 1 columns) with the
// first centre of the smallest score and returns how many it labelled −1
// because a score was NaN (or the scores held both infinities), for the
// caller to scan as the portable code does.
//
// Per tile of eight rows and group of eight centres: eight accumulators
// (Z0–Z7, one row each, a centre a lane) over the coordinates; the scores
// ½‖c‖² − x·c are transposed (into Z9–Z16) so that each register holds
// one centre's scores of the eight rows, and the argmin runs down the
// centres in order, one row per lane.
TEXT ·kmLabelsAVX512(SB), NOSPLIT, $0-64
	MOVQ lab+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n8+16(FP), R13
	MOVQ d+24(FP), R8
	SHLQ $3, R8              // R8: a row's bytes
	LEAQ 0(R8)(R8*2), R9     // R9: three rows' bytes
	MOVQ $0, R12             // rows labelled -1
	TESTQ R13, R13
	JZ   done
	VPBROADCASTQ km512One<>(SB), Z22

tile:
	// The rows of the tile PF bytes ahead are on their way while these are
	// scored (prefetches neither fault nor change results).
	PREFETCHT0 PF(SI)
	PREFETCHT0 PF+64(SI)
	PREFETCHT0 PF+128(SI)
	PREFETCHT0 PF+192(SI)
	PREFETCHT0 PF+256(SI)
	PREFETCHT0 PF+320(SI)
	PREFETCHT0 PF+384(SI)
	PREFETCHT0 PF+448(SI)
	PREFETCHT0 PF+512(SI)
	PREFETCHT0 PF+576(SI)
	PREFETCHT0 PF+640(SI)
	PREFETCHT0 PF+704(SI)
	PREFETCHT0 PF+768(SI)
	PREFETCHT0 PF+832(SI)
	PREFETCHT0 PF+896(SI)
	PREFETCHT0 PF+960(SI)
	MOVQ ct+32(FP), DX
	MOVQ hv+40(FP), BX
	MOVQ ng+48(FP), R11
	VBROADCASTSD km512Inf<>(SB), Z18
	VPXORQ Z19, Z19, Z19
	VPXORQ Z20, Z20, Z20
	VPXORQ Z21, Z21, Z21

group:
	VPXORQ Z0, Z0, Z0
	VPXORQ Z1, Z1, Z1
	VPXORQ Z2, Z2, Z2
	VPXORQ Z3, Z3, Z3
	VPXORQ Z4, Z4, Z4
	VPXORQ Z5, Z5, Z5
	VPXORQ Z6, Z6, Z6
	VPXORQ Z7, Z7, Z7
	MOVQ SI, AX              // AX: coordinate j of the tile's row 0
	LEAQ 0(SI)(R8*4), R10    // R10: coordinate j of row 4
	MOVQ d+24(FP), CX
	PCALIGN $16

coord:
	VMOVUPD 0(DX), Z8
	VFMADD231PD.BCST 0(AX), Z8, Z0
	VFMADD231PD.BCST 0(AX)(R8*1), Z8, Z1
	VFMADD231PD.BCST 0(AX)(R8*2), Z8, Z2
	VFMADD231PD.BCST 0(AX)(R9*1), Z8, Z3
	VFMADD231PD.BCST 0(R10), Z8, Z4
	VFMADD231PD.BCST 0(R10)(R8*1), Z8, Z5
	VFMADD231PD.BCST 0(R10)(R8*2), Z8, Z6
	VFMADD231PD.BCST 0(R10)(R9*1), Z8, Z7
	ADDQ $8, AX
	ADDQ $8, R10
	ADDQ $64, DX
	DECQ CX
	JNZ  coord

	// Scores ½‖c‖² − x·c, row r in Zr, the group's centres in the lanes.
	VMOVUPD 0(BX), Z8
	VSUBPD Z0, Z8, Z0
	VSUBPD Z1, Z8, Z1
	VSUBPD Z2, Z8, Z2
	VSUBPD Z3, Z8, Z3
	VSUBPD Z4, Z8, Z4
	VSUBPD Z5, Z8, Z5
	VSUBPD Z6, Z8, Z6
	VSUBPD Z7, Z8, Z7

	// One register per centre, the eight rows in the lanes.
	TRANSPOSE8
	ARGMIN_STEP(Z9)
	ARGMIN_STEP(Z10)
	ARGMIN_STEP(Z11)
	ARGMIN_STEP(Z12)
	ARGMIN_STEP(Z13)
	ARGMIN_STEP(Z14)
	ARGMIN_STEP(Z15)
	ARGMIN_STEP(Z16)

	ADDQ $64, BX
	DECQ R11
	JNZ  group

	VMOVDQU64 Z19, 0(DI)
	VCMPPD $3, Z21, Z21, K2  // NaN sums
	KMOVW K2, AX
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
	ADDQ $64, DI
	LEAQ 0(SI)(R8*8), SI
	DECQ R13
	JNZ  tile

done:
	VZEROUPPER
	MOVQ R12, ret+56(FP)
	RET

// One row of a tile for kmDistSumsAVX512: its labelled centre's row from
// the label at 8r(R13); t = x − c of the block (BX bytes into the row, the
// lanes past d zero, K1) into T. DX is the row's block and moves on to the
// next row's. AX is scratch.
#define DIST_ROW(r, T) \
	MOVQ (8*r)(R13), AX \
	IMULQ R8, AX \
	ADDQ BX, AX \
	VMOVUPD.Z 0(DX), K1, Z17 \
	VMOVUPD.Z 0(R9)(AX*1), K1, Z18 \
	VSUBPD Z18, Z17, T \
	ADDQ R8, DX

// DIST_ROW, and the row's block added to its cluster's sum (R10).
#define DIST_SUM_ROW(r, T) \
	DIST_ROW(r, T) \
	VMOVUPD.Z 0(R10)(AX*1), K1, Z19 \
	VADDPD Z17, Z19, Z19 \
	VMOVUPD Z19, K1, 0(R10)(AX*1)

// func kmDistSumsAVX512(dist, sums, x, c *float64, lab *int, n8, d int)
//
// kmDistSumsAVX512 sets dist[i] = Σ_j fma(t, t, ·) with t = x_i[j] − c_l[j],
// l = lab[i], in order from j = 0 (sqDist's chain), for 8·n8 rows, and,
// unless sums is nil, adds each row to its cluster's sum (k·d, row-major)
// in row order, lane by lane. Per tile of eight rows and block of eight
// coordinates (the last one masked to d): the differences of the eight
// rows, transposed so that each lane holds one row, go into the rows'
// chains in coordinate order.
TEXT ·kmDistSumsAVX512(SB), NOSPLIT, $0-56
	MOVQ dist+0(FP), DI
	MOVQ sums+8(FP), R10
	MOVQ x+16(FP), SI
	MOVQ c+24(FP), R9
	MOVQ lab+32(FP), R13
	MOVQ n8+40(FP), R12
	MOVQ d+48(FP), R8
	SHLQ $3, R8              // R8: a row's bytes
	TESTQ R12, R12
	JZ   sdone

stile:
	VPXORQ Z24, Z24, Z24     // the eight rows' chains
	MOVQ $0, BX              // the block's first coordinate, in bytes
	MOVQ d+48(FP), R11       // coordinates from the block on

sblock:
	MOVQ R11, CX
	CMPQ CX, $8
	JLE  smask
	MOVQ $8, CX

smask:
	MOVL $1, AX
	SHLL CX, AX
	DECL AX
	KMOVW AX, K1             // the block's lanes within d
	LEAQ 0(SI)(BX*1), DX
	TESTQ R10, R10
	JZ   snosums
	DIST_SUM_ROW(0, Z0)
	DIST_SUM_ROW(1, Z1)
	DIST_SUM_ROW(2, Z2)
	DIST_SUM_ROW(3, Z3)
	DIST_SUM_ROW(4, Z4)
	DIST_SUM_ROW(5, Z5)
	DIST_SUM_ROW(6, Z6)
	DIST_SUM_ROW(7, Z7)
	JMP  schain

snosums:
	DIST_ROW(0, Z0)
	DIST_ROW(1, Z1)
	DIST_ROW(2, Z2)
	DIST_ROW(3, Z3)
	DIST_ROW(4, Z4)
	DIST_ROW(5, Z5)
	DIST_ROW(6, Z6)
	DIST_ROW(7, Z7)

schain:
	TRANSPOSE8
	VFMADD231PD Z9, Z9, Z24
	CMPQ R11, $2
	JLT  snext
	VFMADD231PD Z10, Z10, Z24
	CMPQ R11, $3
	JLT  snext
	VFMADD231PD Z11, Z11, Z24
	CMPQ R11, $4
	JLT  snext
	VFMADD231PD Z12, Z12, Z24
	CMPQ R11, $5
	JLT  snext
	VFMADD231PD Z13, Z13, Z24
	CMPQ R11, $6
	JLT  snext
	VFMADD231PD Z14, Z14, Z24
	CMPQ R11, $7
	JLT  snext
	VFMADD231PD Z15, Z15, Z24
	CMPQ R11, $8
	JLT  snext
	VFMADD231PD Z16, Z16, Z24

snext:
	ADDQ $64, BX
	SUBQ $8, R11
	JG   sblock

	VMOVUPD Z24, 0(DI)
	ADDQ $64, DI
	ADDQ $64, R13
	LEAQ 0(SI)(R8*8), SI
	DECQ R12
	JNZ  stile

sdone:
	VZEROUPPER
	RET
