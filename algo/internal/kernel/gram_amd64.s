//go:build !noasm

#include "textflag.h"

// The AVX2 cross-product tiles of gram.go: four output rows (accumulators
// Y0 up) by m = 1 to 3 vectors of four output columns, each lane one
// entry's FMA chain over the n ≥ 1 rows in order. A data row's m vectors
// of columns are loaded once and its four row values broadcast in turn, so
// the widest tile keeps twelve chains in flight, with 7 loads for 12 FMAs.
// VFMADD231PD adds into the accumulator in place, so nothing moves between
// rows (written with Go's simd/archsimd, whose MulAdd leaves the sum in a
// factor's register, every accumulator moved once a row and the loops ran
// at half the speed).
//
// func gramY4xM(gp *float64, gs int, a, b *float64, rs, n int)
// gp: the tile's first entry; gs: byte stride of g's rows; a: the tile's
// four columns of the first data row; b: its 4m columns; rs: byte stride
// of the data rows; n: their number.

TEXT ·gramY4x12(SB), NOSPLIT, $0-48
	MOVQ gp+0(FP), AX
	MOVQ gs+8(FP), BX
	MOVQ a+16(FP), CX
	MOVQ b+24(FP), DX
	MOVQ rs+32(FP), SI
	MOVQ n+40(FP), DI
	LEAQ 0(AX)(BX*1), R8
	LEAQ 0(AX)(BX*2), R9
	LEAQ 0(R8)(BX*2), R10
	VMOVUPD 0(AX), Y0
	VMOVUPD 32(AX), Y1
	VMOVUPD 64(AX), Y2
	VMOVUPD 0(R8), Y3
	VMOVUPD 32(R8), Y4
	VMOVUPD 64(R8), Y5
	VMOVUPD 0(R9), Y6
	VMOVUPD 32(R9), Y7
	VMOVUPD 64(R9), Y8
	VMOVUPD 0(R10), Y9
	VMOVUPD 32(R10), Y10
	VMOVUPD 64(R10), Y11
	PCALIGN $16
loop3:
	VMOVUPD 0(DX), Y12
	VMOVUPD 32(DX), Y13
	VMOVUPD 64(DX), Y14
	VBROADCASTSD 0(CX), Y15
	VFMADD231PD Y12, Y15, Y0
	VFMADD231PD Y13, Y15, Y1
	VFMADD231PD Y14, Y15, Y2
	VBROADCASTSD 8(CX), Y15
	VFMADD231PD Y12, Y15, Y3
	VFMADD231PD Y13, Y15, Y4
	VFMADD231PD Y14, Y15, Y5
	VBROADCASTSD 16(CX), Y15
	VFMADD231PD Y12, Y15, Y6
	VFMADD231PD Y13, Y15, Y7
	VFMADD231PD Y14, Y15, Y8
	VBROADCASTSD 24(CX), Y15
	VFMADD231PD Y12, Y15, Y9
	VFMADD231PD Y13, Y15, Y10
	VFMADD231PD Y14, Y15, Y11
	ADDQ SI, CX
	ADDQ SI, DX
	DECQ DI
	JNZ loop3
	VMOVUPD Y0, 0(AX)
	VMOVUPD Y1, 32(AX)
	VMOVUPD Y2, 64(AX)
	VMOVUPD Y3, 0(R8)
	VMOVUPD Y4, 32(R8)
	VMOVUPD Y5, 64(R8)
	VMOVUPD Y6, 0(R9)
	VMOVUPD Y7, 32(R9)
	VMOVUPD Y8, 64(R9)
	VMOVUPD Y9, 0(R10)
	VMOVUPD Y10, 32(R10)
	VMOVUPD Y11, 64(R10)
	VZEROUPPER
	RET

TEXT ·gramY4x8(SB), NOSPLIT, $0-48
	MOVQ gp+0(FP), AX
	MOVQ gs+8(FP), BX
	MOVQ a+16(FP), CX
	MOVQ b+24(FP), DX
	MOVQ rs+32(FP), SI
	MOVQ n+40(FP), DI
	LEAQ 0(AX)(BX*1), R8
	LEAQ 0(AX)(BX*2), R9
	LEAQ 0(R8)(BX*2), R10
	VMOVUPD 0(AX), Y0
	VMOVUPD 32(AX), Y1
	VMOVUPD 0(R8), Y2
	VMOVUPD 32(R8), Y3
	VMOVUPD 0(R9), Y4
	VMOVUPD 32(R9), Y5
	VMOVUPD 0(R10), Y6
	VMOVUPD 32(R10), Y7
	PCALIGN $16
loop2:
	VMOVUPD 0(DX), Y12
	VMOVUPD 32(DX), Y13
	VBROADCASTSD 0(CX), Y15
	VFMADD231PD Y12, Y15, Y0
	VFMADD231PD Y13, Y15, Y1
	VBROADCASTSD 8(CX), Y15
	VFMADD231PD Y12, Y15, Y2
	VFMADD231PD Y13, Y15, Y3
	VBROADCASTSD 16(CX), Y15
	VFMADD231PD Y12, Y15, Y4
	VFMADD231PD Y13, Y15, Y5
	VBROADCASTSD 24(CX), Y15
	VFMADD231PD Y12, Y15, Y6
	VFMADD231PD Y13, Y15, Y7
	ADDQ SI, CX
	ADDQ SI, DX
	DECQ DI
	JNZ loop2
	VMOVUPD Y0, 0(AX)
	VMOVUPD Y1, 32(AX)
	VMOVUPD Y2, 0(R8)
	VMOVUPD Y3, 32(R8)
	VMOVUPD Y4, 0(R9)
	VMOVUPD Y5, 32(R9)
	VMOVUPD Y6, 0(R10)
	VMOVUPD Y7, 32(R10)
	VZEROUPPER
	RET

TEXT ·gramY4x4(SB), NOSPLIT, $0-48
	MOVQ gp+0(FP), AX
	MOVQ gs+8(FP), BX
	MOVQ a+16(FP), CX
	MOVQ b+24(FP), DX
	MOVQ rs+32(FP), SI
	MOVQ n+40(FP), DI
	LEAQ 0(AX)(BX*1), R8
	LEAQ 0(AX)(BX*2), R9
	LEAQ 0(R8)(BX*2), R10
	VMOVUPD 0(AX), Y0
	VMOVUPD 0(R8), Y1
	VMOVUPD 0(R9), Y2
	VMOVUPD 0(R10), Y3
	PCALIGN $16
loop1:
	VMOVUPD 0(DX), Y12
	VBROADCASTSD 0(CX), Y15
	VFMADD231PD Y12, Y15, Y0
	VBROADCASTSD 8(CX), Y15
	VFMADD231PD Y12, Y15, Y1
	VBROADCASTSD 16(CX), Y15
	VFMADD231PD Y12, Y15, Y2
	VBROADCASTSD 24(CX), Y15
	VFMADD231PD Y12, Y15, Y3
	ADDQ SI, CX
	ADDQ SI, DX
	DECQ DI
	JNZ loop1
	VMOVUPD Y0, 0(AX)
	VMOVUPD Y1, 0(R8)
	VMOVUPD Y2, 0(R9)
	VMOVUPD Y3, 0(R10)
	VZEROUPPER
	RET
