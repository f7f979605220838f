//go:build !noasm

#include "textflag.h"

// The single-precision screen of the k-means labels (kmeans32.go), for
// nine to sixteen centres. Per tile of four rows: the rows are rounded to
// float32 into buf and their largest |x| gives the tile's threshold t; the
// scores of the sixteen centres are two registers of float32 per row, each
// lane one centre's FMA chain over the row's coordinates in order; a
// tournament over the transposed scores gives each row its smallest score,
// that score's centre and the second smallest score. A row is settled when
// the second smallest exceeds the smallest plus t.

DATA km32Inf<>+0(SB)/4, $0x7f800000
GLOBL km32Inf<>(SB), RODATA|NOPTR, $4

// 2⁶⁰: the tile's largest |x| must be below it.
DATA km32Max<>+0(SB)/4, $0x5d800000
GLOBL km32Max<>(SB), RODATA|NOPTR, $4

DATA km32Abs<>+0(SB)/4, $0x7fffffff
DATA km32Abs<>+4(SB)/4, $0x7fffffff
DATA km32Abs<>+8(SB)/4, $0x7fffffff
DATA km32Abs<>+12(SB)/4, $0x7fffffff
DATA km32Abs<>+16(SB)/4, $0x7fffffff
DATA km32Abs<>+20(SB)/4, $0x7fffffff
DATA km32Abs<>+24(SB)/4, $0x7fffffff
DATA km32Abs<>+28(SB)/4, $0x7fffffff
GLOBL km32Abs<>(SB), RODATA|NOPTR, $32

// The centre of each lane after the transposes: km32IdxAj for centres j
// and j+4, km32IdxBj for 8+j and 12+j, four rows each.
DATA km32IdxA0<>+0(SB)/4, $0
DATA km32IdxA0<>+4(SB)/4, $0
DATA km32IdxA0<>+8(SB)/4, $0
DATA km32IdxA0<>+12(SB)/4, $0
DATA km32IdxA0<>+16(SB)/4, $4
DATA km32IdxA0<>+20(SB)/4, $4
DATA km32IdxA0<>+24(SB)/4, $4
DATA km32IdxA0<>+28(SB)/4, $4
GLOBL km32IdxA0<>(SB), RODATA|NOPTR, $32

DATA km32IdxA1<>+0(SB)/4, $1
DATA km32IdxA1<>+4(SB)/4, $1
DATA km32IdxA1<>+8(SB)/4, $1
DATA km32IdxA1<>+12(SB)/4, $1
DATA km32IdxA1<>+16(SB)/4, $5
DATA km32IdxA1<>+20(SB)/4, $5
DATA km32IdxA1<>+24(SB)/4, $5
DATA km32IdxA1<>+28(SB)/4, $5
GLOBL km32IdxA1<>(SB), RODATA|NOPTR, $32

DATA km32IdxA2<>+0(SB)/4, $2
DATA km32IdxA2<>+4(SB)/4, $2
DATA km32IdxA2<>+8(SB)/4, $2
DATA km32IdxA2<>+12(SB)/4, $2
DATA km32IdxA2<>+16(SB)/4, $6
DATA km32IdxA2<>+20(SB)/4, $6
DATA km32IdxA2<>+24(SB)/4, $6
DATA km32IdxA2<>+28(SB)/4, $6
GLOBL km32IdxA2<>(SB), RODATA|NOPTR, $32

DATA km32IdxA3<>+0(SB)/4, $3
DATA km32IdxA3<>+4(SB)/4, $3
DATA km32IdxA3<>+8(SB)/4, $3
DATA km32IdxA3<>+12(SB)/4, $3
DATA km32IdxA3<>+16(SB)/4, $7
DATA km32IdxA3<>+20(SB)/4, $7
DATA km32IdxA3<>+24(SB)/4, $7
DATA km32IdxA3<>+28(SB)/4, $7
GLOBL km32IdxA3<>(SB), RODATA|NOPTR, $32

DATA km32IdxB0<>+0(SB)/4, $8
DATA km32IdxB0<>+4(SB)/4, $8
DATA km32IdxB0<>+8(SB)/4, $8
DATA km32IdxB0<>+12(SB)/4, $8
DATA km32IdxB0<>+16(SB)/4, $12
DATA km32IdxB0<>+20(SB)/4, $12
DATA km32IdxB0<>+24(SB)/4, $12
DATA km32IdxB0<>+28(SB)/4, $12
GLOBL km32IdxB0<>(SB), RODATA|NOPTR, $32

DATA km32IdxB1<>+0(SB)/4, $9
DATA km32IdxB1<>+4(SB)/4, $9
DATA km32IdxB1<>+8(SB)/4, $9
DATA km32IdxB1<>+12(SB)/4, $9
DATA km32IdxB1<>+16(SB)/4, $13
DATA km32IdxB1<>+20(SB)/4, $13
DATA km32IdxB1<>+24(SB)/4, $13
DATA km32IdxB1<>+28(SB)/4, $13
GLOBL km32IdxB1<>(SB), RODATA|NOPTR, $32

DATA km32IdxB2<>+0(SB)/4, $10
DATA km32IdxB2<>+4(SB)/4, $10
DATA km32IdxB2<>+8(SB)/4, $10
DATA km32IdxB2<>+12(SB)/4, $10
DATA km32IdxB2<>+16(SB)/4, $14
DATA km32IdxB2<>+20(SB)/4, $14
DATA km32IdxB2<>+24(SB)/4, $14
DATA km32IdxB2<>+28(SB)/4, $14
GLOBL km32IdxB2<>(SB), RODATA|NOPTR, $32

DATA km32IdxB3<>+0(SB)/4, $11
DATA km32IdxB3<>+4(SB)/4, $11
DATA km32IdxB3<>+8(SB)/4, $11
DATA km32IdxB3<>+12(SB)/4, $11
DATA km32IdxB3<>+16(SB)/4, $15
DATA km32IdxB3<>+20(SB)/4, $15
DATA km32IdxB3<>+24(SB)/4, $15
DATA km32IdxB3<>+28(SB)/4, $15
GLOBL km32IdxB3<>(SB), RODATA|NOPTR, $32

// The scores of four rows against eight centres, R0–R3 one row each
// (centres in the lanes), transposed in place so that R0–R3 hold centres
// 0|4, 1|5, 2|6 and 3|7 of the eight, four rows each. Y8–Y11 are scratch.
#define TRANSPOSE(R0, R1, R2, R3) \
	VUNPCKLPS R1, R0, Y8 \
	VUNPCKHPS R1, R0, Y9 \
	VUNPCKLPS R3, R2, Y10 \
	VUNPCKHPS R3, R2, Y11 \
	VSHUFPS $0x44, Y10, Y8, R0 \
	VSHUFPS $0xee, Y10, Y8, R1 \
	VSHUFPS $0x44, Y11, Y9, R2 \
	VSHUFPS $0xee, Y11, Y9, R3

// The first round of the tournament: P and Q are two centres' scores (by
// lane); P becomes the smaller, Q the larger, and I the centre of the
// smaller (IQ's where Q is less, else IP's). Y13 and Y15 are scratch.
#define PAIR(P, Q, IP, IQ, I) \
	VCMPPS $0x11, P, Q, Y15 \
	VMOVDQU IP, I \
	VBLENDVPS Y15, IQ, I, I \
	VMINPS Q, P, Y13 \
	VMAXPS Q, P, Q \
	VMOVAPS Y13, P

// The later rounds: (F1, S1, I1) and (F2, S2, I2) are each the smallest
// score, the second smallest and the smallest's centre of a set of
// centres; (F1, S1, I1) becomes those of both sets. T1 and T2 are scratch.
#define MERGE(F1, S1, I1, F2, S2, I2, T1, T2) \
	VCMPPS $0x11, F1, F2, T1 \
	VBLENDVPS T1, I2, I1, I1 \
	VMAXPS F2, F1, T2 \
	VMINPS F2, F1, F1 \
	VMINPS S2, S1, S1 \
	VMINPS T2, S1, S1

// func kmLabels32AVX2(lab *int, x *float64, n4, d int, ct, hv, ab, buf *float32) int
//
// kmLabels32AVX2 screens 4·n4 rows of x (row-major, d ≥ 1 columns)
// against sixteen centres: ct[16j+i] is coordinate j of centre i as a
// float32, hv[i] its ½‖c‖² (+Inf for padding centres); the threshold of a
// tile whose largest |x̃| is X is fma(ab[0], X, ab[1]) in float32, or +Inf
// unless X < 2⁶⁰. buf is scratch for 4·d float32s. A settled row gets its
// centre, any other −1; it returns how many rows were settled.
TEXT ·kmLabels32AVX2(SB), NOSPLIT, $0-72
	MOVQ lab+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n4+16(FP), R13
	MOVQ d+24(FP), R8
	MOVQ buf+56(FP), R10
	MOVQ R8, R12
	SHLQ $2, R12             // R12: the tile's values, 4·d
	SHLQ $2, R8              // R8: a float32 row's bytes
	LEAQ 0(R8)(R8*2), R9     // R9: three rows' bytes
	XORQ R11, R11            // settled rows
	TESTQ R13, R13
	JZ   done

tile:
	// The tile's rows as float32 in buf, and their largest |x̃| in Y15.
	VXORPS Y15, Y15, Y15
	MOVQ SI, AX
	MOVQ R10, BX
	MOVQ R12, CX
	SHRQ $3, CX
	JZ   conv4

conv8:
	VCVTPD2PSY 0(AX), X0
	VCVTPD2PSY 32(AX), X1
	VINSERTF128 $1, X1, Y0, Y0
	VMOVUPS Y0, 0(BX)
	VANDPS km32Abs<>(SB), Y0, Y0
	VMAXPS Y15, Y0, Y15
	ADDQ $64, AX
	ADDQ $32, BX
	DECQ CX
	JNZ  conv8

conv4:
	TESTQ $4, R12
	JZ   bound
	VCVTPD2PSY 0(AX), X0
	VMOVUPS X0, 0(BX)
	VANDPS km32Abs<>(SB), Y0, Y0
	VMAXPS Y15, Y0, Y15

bound:
	// t = fma(a, X, b), or +Inf unless X < 2⁶⁰, in every lane of Y14.
	VEXTRACTF128 $1, Y15, X0
	VMAXPS X0, X15, X15
	VPERMILPS $0x4e, X15, X0
	VMAXPS X0, X15, X15
	VPERMILPS $0xb1, X15, X0
	VMAXPS X0, X15, X15
	MOVQ ab+48(FP), AX
	VMOVSS 4(AX), X1
	VFMADD231SS 0(AX), X15, X1
	VMOVSS km32Inf<>(SB), X2
	VCMPSS $0x11, km32Max<>(SB), X15, X0
	VBLENDVPS X0, X1, X2, X1
	VBROADCASTSS X1, Y14

	// The dot products of the four rows with the sixteen centres: row r's
	// centres 0–7 in Y(2r), 8–15 in Y(2r+1).
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	MOVQ ct+32(FP), DX
	MOVQ R10, AX
	MOVQ d+24(FP), CX
	PCALIGN $16

coord:
	VMOVUPS 0(DX), Y8
	VMOVUPS 32(DX), Y9
	VBROADCASTSS 0(AX), Y10
	VFMADD231PS Y10, Y8, Y0
	VFMADD231PS Y10, Y9, Y1
	VBROADCASTSS 0(AX)(R8*1), Y10
	VFMADD231PS Y10, Y8, Y2
	VFMADD231PS Y10, Y9, Y3
	VBROADCASTSS 0(AX)(R8*2), Y10
	VFMADD231PS Y10, Y8, Y4
	VFMADD231PS Y10, Y9, Y5
	VBROADCASTSS 0(AX)(R9*1), Y10
	VFMADD231PS Y10, Y8, Y6
	VFMADD231PS Y10, Y9, Y7
	ADDQ $4, AX
	ADDQ $64, DX
	DECQ CX
	JNZ  coord

	// Scores ½‖c‖² − x·c.
	MOVQ hv+40(FP), AX
	VMOVUPS 0(AX), Y8
	VMOVUPS 32(AX), Y9
	VSUBPS Y0, Y8, Y0
	VSUBPS Y2, Y8, Y2
	VSUBPS Y4, Y8, Y4
	VSUBPS Y6, Y8, Y6
	VSUBPS Y1, Y9, Y1
	VSUBPS Y3, Y9, Y3
	VSUBPS Y5, Y9, Y5
	VSUBPS Y7, Y9, Y7

	// Centres in registers, rows in lanes: centres j|j+4 in Y(2j),
	// 8+j|12+j in Y(2j+1).
	TRANSPOSE(Y0, Y2, Y4, Y6)
	TRANSPOSE(Y1, Y3, Y5, Y7)

	// The tournament.
	PAIR(Y0, Y2, km32IdxA0<>(SB), km32IdxA1<>(SB), Y8)
	PAIR(Y4, Y6, km32IdxA2<>(SB), km32IdxA3<>(SB), Y9)
	PAIR(Y1, Y3, km32IdxB0<>(SB), km32IdxB1<>(SB), Y10)
	PAIR(Y5, Y7, km32IdxB2<>(SB), km32IdxB3<>(SB), Y11)
	MERGE(Y0, Y2, Y8, Y4, Y6, Y9, Y15, Y13)
	MERGE(Y1, Y3, Y10, Y5, Y7, Y11, Y15, Y13)
	MERGE(Y0, Y2, Y8, Y1, Y3, Y10, Y15, Y13)
	VEXTRACTF128 $1, Y0, X1
	VEXTRACTF128 $1, Y2, X3
	VEXTRACTF128 $1, Y8, X10
	MERGE(X0, X2, X8, X1, X3, X10, X15, X13)

	// Settled where the second smallest exceeds the smallest plus t.
	VADDPS X14, X0, X1
	VCMPPS $0x1e, X1, X2, X3
	VPCMPEQD X4, X4, X4
	VBLENDVPS X3, X8, X4, X4
	VPMOVSXDQ X4, Y4
	VMOVDQU Y4, 0(DI)
	VMOVMSKPS X3, AX
	POPCNTL AX, AX
	ADDQ AX, R11

	ADDQ $32, DI
	LEAQ 0(SI)(R12*8), SI
	DECQ R13
	JNZ  tile

done:
	VZEROUPPER
	MOVQ R11, ret+64(FP)
	RET
