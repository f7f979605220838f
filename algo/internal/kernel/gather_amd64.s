//go:build !noasm

#include "textflag.h"

// func gatherAVX2(x *float64, d int, cols *[]float64, lo, n4 int, mean, scale *float64, d4 int) bool
//
// For each four rows lo+r … lo+r+3 (r < n4, a multiple of four) and each
// four columns j … j+3 (j < d4): the four rows of each column in a
// register, (v − mean[j]) / scale[j] lane by lane, the 4×4 tile
// transposed and stored as four rows of x (row stride d). Returns whether
// any value read was NaN.
TEXT ·gatherAVX2(SB), NOSPLIT, $0-65
	MOVQ x+0(FP), DI
	MOVQ d+8(FP), R8
	SHLQ $3, R8              // x's row bytes
	MOVQ cols+16(FP), SI     // the columns' slice headers
	MOVQ lo+24(FP), R9
	SHLQ $3, R9              // byte offset of the tile's rows in a column
	MOVQ n4+32(FP), R13
	SHRQ $2, R13             // tiles of four rows
	MOVQ mean+40(FP), R10
	MOVQ scale+48(FP), R11
	VXORPD Y15, Y15, Y15     // lanes that met a NaN
	TESTQ R13, R13
	JZ   gdone

gtile:
	LEAQ (DI)(R8*1), CX      // row 1 of the tile
	LEAQ (DI)(R8*2), DX      // row 2
	LEAQ (CX)(R8*2), R14     // row 3
	XORQ AX, AX              // column j, in bytes of x's row
	XORQ BX, BX              // column j, in bytes of the headers

gcols:
	MOVQ 0(SI)(BX*1), R12
	VMOVUPD 0(R12)(R9*1), Y0
	MOVQ 24(SI)(BX*1), R12
	VMOVUPD 0(R12)(R9*1), Y1
	MOVQ 48(SI)(BX*1), R12
	VMOVUPD 0(R12)(R9*1), Y2
	MOVQ 72(SI)(BX*1), R12
	VMOVUPD 0(R12)(R9*1), Y3
	VCMPPD $3, Y0, Y0, Y4    // unordered: NaN
	VCMPPD $3, Y1, Y1, Y5
	VCMPPD $3, Y2, Y2, Y6
	VCMPPD $3, Y3, Y3, Y7
	VORPD Y4, Y5, Y4
	VORPD Y6, Y7, Y6
	VORPD Y4, Y15, Y15
	VORPD Y6, Y15, Y15
	VBROADCASTSD 0(R10)(AX*1), Y8
	VBROADCASTSD 8(R10)(AX*1), Y9
	VBROADCASTSD 16(R10)(AX*1), Y10
	VBROADCASTSD 24(R10)(AX*1), Y11
	VSUBPD Y8, Y0, Y0
	VSUBPD Y9, Y1, Y1
	VSUBPD Y10, Y2, Y2
	VSUBPD Y11, Y3, Y3
	VBROADCASTSD 0(R11)(AX*1), Y8
	VBROADCASTSD 8(R11)(AX*1), Y9
	VBROADCASTSD 16(R11)(AX*1), Y10
	VBROADCASTSD 24(R11)(AX*1), Y11
	VDIVPD Y8, Y0, Y0
	VDIVPD Y9, Y1, Y1
	VDIVPD Y10, Y2, Y2
	VDIVPD Y11, Y3, Y3
	// Transpose: Y0..Y3 hold columns j..j+3 of rows 0..3.
	VUNPCKLPD Y1, Y0, Y4     // r0c0 r0c1 r2c0 r2c1
	VUNPCKHPD Y1, Y0, Y5     // r1c0 r1c1 r3c0 r3c1
	VUNPCKLPD Y3, Y2, Y6     // r0c2 r0c3 r2c2 r2c3
	VUNPCKHPD Y3, Y2, Y7     // r1c2 r1c3 r3c2 r3c3
	VPERM2F128 $0x20, Y6, Y4, Y0
	VPERM2F128 $0x20, Y7, Y5, Y1
	VPERM2F128 $0x31, Y6, Y4, Y2
	VPERM2F128 $0x31, Y7, Y5, Y3
	VMOVUPD Y0, 0(DI)(AX*1)
	VMOVUPD Y1, 0(CX)(AX*1)
	VMOVUPD Y2, 0(DX)(AX*1)
	VMOVUPD Y3, 0(R14)(AX*1)
	ADDQ $32, AX
	ADDQ $96, BX
	MOVQ AX, R12
	SHRQ $3, R12
	CMPQ R12, d4+56(FP)
	JLT  gcols

	LEAQ (DI)(R8*4), DI      // the next four rows of x
	ADDQ $32, R9             // and of the columns
	DECQ R13
	JNZ  gtile

gdone:
	VMOVMSKPD Y15, AX
	TESTQ AX, AX
	SETNE ret+64(FP)
	VZEROUPPER
	RET
