//go:build !noasm

#include "textflag.h"

// The AVX-512 Gram tiles of als.go: the AVX2 tiles (als_amd64.s) with
// eight columns to a 512-bit register and eight rows p..p+7 of A to a
// tile, by m = 3, 2 or 1 vectors of eight columns, over n ≥ 1 gathered
// rows. Each lane of an accumulator is one entry A[p+i][q+l] and per
// gathered row j takes exactly one fma(wy_j[p+i], y_j[q+l], ·) in row
// order: the portable chain of its entry.
//
// func alsGram8xM(a, src unsafe.Pointer, stride int, w, y unsafe.Pointer, n int)
//
// The arguments are those of alsGram4xM. Registers: AX a, SI src, BX
// stride, CX w, DX y, DI rows left, R9 the row of A or src being loaded
// or stored; accumulators Z0–Z23 (row i, vector v in Z(m·i+v)), the
// row's y vectors Z24–Z26, the broadcast coordinate Z27.

// ROW3 and its kin run one row of the tile: the broadcast of wy_j[p+i]
// (at byte off of CX) times the y vectors, into its accumulators.
#define ROW3(off, a0, a1, a2) \
	VBROADCASTSD off(CX), Z27 \
	VFMADD231PD Z24, Z27, a0 \
	VFMADD231PD Z25, Z27, a1 \
	VFMADD231PD Z26, Z27, a2

#define ROW2(off, a0, a1) \
	VBROADCASTSD off(CX), Z27 \
	VFMADD231PD Z24, Z27, a0 \
	VFMADD231PD Z25, Z27, a1

#define ROW1(off, a0) \
	VBROADCASTSD off(CX), Z27 \
	VFMADD231PD Z24, Z27, a0

// LOADm and STOREm move one row of the tile between R9 and its
// accumulators, then step R9 to the next row.
#define LOAD3(a0, a1, a2) \
	VMOVUPD 0(R9), a0 \
	VMOVUPD 64(R9), a1 \
	VMOVUPD 128(R9), a2 \
	ADDQ    BX, R9

#define STORE3(a0, a1, a2) \
	VMOVUPD a0, 0(R9) \
	VMOVUPD a1, 64(R9) \
	VMOVUPD a2, 128(R9) \
	ADDQ    BX, R9

#define LOAD2(a0, a1) \
	VMOVUPD 0(R9), a0 \
	VMOVUPD 64(R9), a1 \
	ADDQ    BX, R9

#define STORE2(a0, a1) \
	VMOVUPD a0, 0(R9) \
	VMOVUPD a1, 64(R9) \
	ADDQ    BX, R9

#define LOAD1(a0) \
	VMOVUPD 0(R9), a0 \
	ADDQ    BX, R9

#define STORE1(a0) \
	VMOVUPD a0, 0(R9) \
	ADDQ    BX, R9

#define PROLOGUE \
	MOVQ a+0(FP), AX \
	MOVQ src+8(FP), SI \
	MOVQ stride+16(FP), BX \
	MOVQ w+24(FP), CX \
	MOVQ y+32(FP), DX \
	MOVQ n+40(FP), DI \
	MOVQ SI, R9

// func alsGram8x24(a, src unsafe.Pointer, stride int, w, y unsafe.Pointer, n int)
TEXT ·alsGram8x24(SB), NOSPLIT, $0-48
	PROLOGUE
	TESTQ SI, SI
	JZ    zero3
	LOAD3(Z0, Z1, Z2)
	LOAD3(Z3, Z4, Z5)
	LOAD3(Z6, Z7, Z8)
	LOAD3(Z9, Z10, Z11)
	LOAD3(Z12, Z13, Z14)
	LOAD3(Z15, Z16, Z17)
	LOAD3(Z18, Z19, Z20)
	LOAD3(Z21, Z22, Z23)
	JMP   loop3

zero3:
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
	VPXORQ Z16, Z16, Z16
	VPXORQ Z17, Z17, Z17
	VPXORQ Z18, Z18, Z18
	VPXORQ Z19, Z19, Z19
	VPXORQ Z20, Z20, Z20
	VPXORQ Z21, Z21, Z21
	VPXORQ Z22, Z22, Z22
	VPXORQ Z23, Z23, Z23

	PCALIGN $16
loop3:
	VMOVUPD 0(DX), Z24
	VMOVUPD 64(DX), Z25
	VMOVUPD 128(DX), Z26
	ROW3(0, Z0, Z1, Z2)
	ROW3(8, Z3, Z4, Z5)
	ROW3(16, Z6, Z7, Z8)
	ROW3(24, Z9, Z10, Z11)
	ROW3(32, Z12, Z13, Z14)
	ROW3(40, Z15, Z16, Z17)
	ROW3(48, Z18, Z19, Z20)
	ROW3(56, Z21, Z22, Z23)
	ADDQ BX, CX
	ADDQ BX, DX
	DECQ DI
	JNZ  loop3

	MOVQ AX, R9
	STORE3(Z0, Z1, Z2)
	STORE3(Z3, Z4, Z5)
	STORE3(Z6, Z7, Z8)
	STORE3(Z9, Z10, Z11)
	STORE3(Z12, Z13, Z14)
	STORE3(Z15, Z16, Z17)
	STORE3(Z18, Z19, Z20)
	STORE3(Z21, Z22, Z23)
	VZEROUPPER
	RET

// func alsGram8x16(a, src unsafe.Pointer, stride int, w, y unsafe.Pointer, n int)
TEXT ·alsGram8x16(SB), NOSPLIT, $0-48
	PROLOGUE
	TESTQ SI, SI
	JZ    zero2
	LOAD2(Z0, Z1)
	LOAD2(Z2, Z3)
	LOAD2(Z4, Z5)
	LOAD2(Z6, Z7)
	LOAD2(Z8, Z9)
	LOAD2(Z10, Z11)
	LOAD2(Z12, Z13)
	LOAD2(Z14, Z15)
	JMP   loop2

zero2:
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

	PCALIGN $16
loop2:
	VMOVUPD 0(DX), Z24
	VMOVUPD 64(DX), Z25
	ROW2(0, Z0, Z1)
	ROW2(8, Z2, Z3)
	ROW2(16, Z4, Z5)
	ROW2(24, Z6, Z7)
	ROW2(32, Z8, Z9)
	ROW2(40, Z10, Z11)
	ROW2(48, Z12, Z13)
	ROW2(56, Z14, Z15)
	ADDQ BX, CX
	ADDQ BX, DX
	DECQ DI
	JNZ  loop2

	MOVQ AX, R9
	STORE2(Z0, Z1)
	STORE2(Z2, Z3)
	STORE2(Z4, Z5)
	STORE2(Z6, Z7)
	STORE2(Z8, Z9)
	STORE2(Z10, Z11)
	STORE2(Z12, Z13)
	STORE2(Z14, Z15)
	VZEROUPPER
	RET

// func alsGram8x8(a, src unsafe.Pointer, stride int, w, y unsafe.Pointer, n int)
TEXT ·alsGram8x8(SB), NOSPLIT, $0-48
	PROLOGUE
	TESTQ SI, SI
	JZ    zero1
	LOAD1(Z0)
	LOAD1(Z1)
	LOAD1(Z2)
	LOAD1(Z3)
	LOAD1(Z4)
	LOAD1(Z5)
	LOAD1(Z6)
	LOAD1(Z7)
	JMP   loop1

zero1:
	VPXORQ Z0, Z0, Z0
	VPXORQ Z1, Z1, Z1
	VPXORQ Z2, Z2, Z2
	VPXORQ Z3, Z3, Z3
	VPXORQ Z4, Z4, Z4
	VPXORQ Z5, Z5, Z5
	VPXORQ Z6, Z6, Z6
	VPXORQ Z7, Z7, Z7

	PCALIGN $16
loop1:
	VMOVUPD 0(DX), Z24
	ROW1(0, Z0)
	ROW1(8, Z1)
	ROW1(16, Z2)
	ROW1(24, Z3)
	ROW1(32, Z4)
	ROW1(40, Z5)
	ROW1(48, Z6)
	ROW1(56, Z7)
	ADDQ BX, CX
	ADDQ BX, DX
	DECQ DI
	JNZ  loop1

	MOVQ AX, R9
	STORE1(Z0)
	STORE1(Z1)
	STORE1(Z2)
	STORE1(Z3)
	STORE1(Z4)
	STORE1(Z5)
	STORE1(Z6)
	STORE1(Z7)
	VZEROUPPER
	RET
