//go:build !noasm

#include "textflag.h"

// The AVX2 cross-product tiles of gram.go: two output
// rows (accumulators Y0–Y3 and Y4–Y7) by m = 1 to 4 vectors of four
// output columns, each lane one entry's FMA chain over the n ≥ 1 rows in
// order. VFMADD231PD adds into the accumulator in place, so nothing moves
// between rows (written with Go's simd/archsimd, whose MulAdd leaves the
// sum in a factor's register, every accumulator moved once a row and the
// loops ran at half the speed).
//
// func gramTile2xM(gp *float64, gs int, a, b *float64, rs, n int)
// gp: the tile's first entry; gs: byte stride of g's rows; a: the tile's
// two columns of the first data row; b: its 4m columns; rs: byte stride of
// the data rows; n: their number.

TEXT ·gramTile2x16(SB), NOSPLIT, $0-48
	MOVQ gp+0(FP), AX
	MOVQ gs+8(FP), BX
	MOVQ a+16(FP), CX
	MOVQ b+24(FP), DX
	MOVQ rs+32(FP), SI
	MOVQ n+40(FP), DI
	LEAQ 0(AX)(BX*1), R8
	VMOVUPD 0(AX), Y0
	VMOVUPD 32(AX), Y1
	VMOVUPD 64(AX), Y2
	VMOVUPD 96(AX), Y3
	VMOVUPD 0(R8), Y4
	VMOVUPD 32(R8), Y5
	VMOVUPD 64(R8), Y6
	VMOVUPD 96(R8), Y7
	PCALIGN $16
loop4:
	VBROADCASTSD 0(CX), Y8
	VBROADCASTSD 8(CX), Y9
	VMOVUPD 0(DX), Y10
	VMOVUPD 32(DX), Y11
	VMOVUPD 64(DX), Y12
	VMOVUPD 96(DX), Y13
	VFMADD231PD Y10, Y8, Y0
	VFMADD231PD Y10, Y9, Y4
	VFMADD231PD Y11, Y8, Y1
	VFMADD231PD Y11, Y9, Y5
	VFMADD231PD Y12, Y8, Y2
	VFMADD231PD Y12, Y9, Y6
	VFMADD231PD Y13, Y8, Y3
	VFMADD231PD Y13, Y9, Y7
	ADDQ SI, CX
	ADDQ SI, DX
	DECQ DI
	JNZ loop4
	VMOVUPD Y0, 0(AX)
	VMOVUPD Y1, 32(AX)
	VMOVUPD Y2, 64(AX)
	VMOVUPD Y3, 96(AX)
	VMOVUPD Y4, 0(R8)
	VMOVUPD Y5, 32(R8)
	VMOVUPD Y6, 64(R8)
	VMOVUPD Y7, 96(R8)
	VZEROUPPER
	RET

TEXT ·gramTile2x12(SB), NOSPLIT, $0-48
	MOVQ gp+0(FP), AX
	MOVQ gs+8(FP), BX
	MOVQ a+16(FP), CX
	MOVQ b+24(FP), DX
	MOVQ rs+32(FP), SI
	MOVQ n+40(FP), DI
	LEAQ 0(AX)(BX*1), R8
	VMOVUPD 0(AX), Y0
	VMOVUPD 32(AX), Y1
	VMOVUPD 64(AX), Y2
	VMOVUPD 0(R8), Y4
	VMOVUPD 32(R8), Y5
	VMOVUPD 64(R8), Y6
	PCALIGN $16
loop3:
	VBROADCASTSD 0(CX), Y8
	VBROADCASTSD 8(CX), Y9
	VMOVUPD 0(DX), Y10
	VMOVUPD 32(DX), Y11
	VMOVUPD 64(DX), Y12
	VFMADD231PD Y10, Y8, Y0
	VFMADD231PD Y10, Y9, Y4
	VFMADD231PD Y11, Y8, Y1
	VFMADD231PD Y11, Y9, Y5
	VFMADD231PD Y12, Y8, Y2
	VFMADD231PD Y12, Y9, Y6
	ADDQ SI, CX
	ADDQ SI, DX
	DECQ DI
	JNZ loop3
	VMOVUPD Y0, 0(AX)
	VMOVUPD Y1, 32(AX)
	VMOVUPD Y2, 64(AX)
	VMOVUPD Y4, 0(R8)
	VMOVUPD Y5, 32(R8)
	VMOVUPD Y6, 64(R8)
	VZEROUPPER
	RET

TEXT ·gramTile2x8(SB), NOSPLIT, $0-48
	MOVQ gp+0(FP), AX
	MOVQ gs+8(FP), BX
	MOVQ a+16(FP), CX
	MOVQ b+24(FP), DX
	MOVQ rs+32(FP), SI
	MOVQ n+40(FP), DI
	LEAQ 0(AX)(BX*1), R8
	VMOVUPD 0(AX), Y0
	VMOVUPD 32(AX), Y1
	VMOVUPD 0(R8), Y4
	VMOVUPD 32(R8), Y5
	PCALIGN $16
loop2:
	VBROADCASTSD 0(CX), Y8
	VBROADCASTSD 8(CX), Y9
	VMOVUPD 0(DX), Y10
	VMOVUPD 32(DX), Y11
	VFMADD231PD Y10, Y8, Y0
	VFMADD231PD Y10, Y9, Y4
	VFMADD231PD Y11, Y8, Y1
	VFMADD231PD Y11, Y9, Y5
	ADDQ SI, CX
	ADDQ SI, DX
	DECQ DI
	JNZ loop2
	VMOVUPD Y0, 0(AX)
	VMOVUPD Y1, 32(AX)
	VMOVUPD Y4, 0(R8)
	VMOVUPD Y5, 32(R8)
	VZEROUPPER
	RET

TEXT ·gramTile2x4(SB), NOSPLIT, $0-48
	MOVQ gp+0(FP), AX
	MOVQ gs+8(FP), BX
	MOVQ a+16(FP), CX
	MOVQ b+24(FP), DX
	MOVQ rs+32(FP), SI
	MOVQ n+40(FP), DI
	LEAQ 0(AX)(BX*1), R8
	VMOVUPD 0(AX), Y0
	VMOVUPD 0(R8), Y4
	PCALIGN $16
loop1:
	VBROADCASTSD 0(CX), Y8
	VBROADCASTSD 8(CX), Y9
	VMOVUPD 0(DX), Y10
	VFMADD231PD Y10, Y8, Y0
	VFMADD231PD Y10, Y9, Y4
	ADDQ SI, CX
	ADDQ SI, DX
	DECQ DI
	JNZ loop1
	VMOVUPD Y0, 0(AX)
	VMOVUPD Y4, 0(R8)
	VZEROUPPER
	RET
