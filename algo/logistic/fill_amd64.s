//go:build goexperiment.simd

#include "textflag.h"

// func fillRowsAVX2asm(a, b *float64, s int, x *float64, d int, idx *int, gw, cw *float64, m int)
//
// For q < m, with i = idx[q], g = gw[q], c = cw[q]: entries 0 to 4·⌊d/4⌋−1
// of row q of a (row stride s) become (g, c·x_i0, c·x_i1, …) and of b
// (0, x_i0, x_i1, …). Each vector of x is rotated one lane up (VPERMPD)
// and its first lane taken from the previous vector's rotation (VBLENDPD),
// so the stores stay on the rows' 32-byte boundaries.
TEXT ·fillRowsAVX2asm(SB), NOSPLIT, $0-72
	MOVQ a+0(FP), AX
	MOVQ b+8(FP), BX
	MOVQ s+16(FP), CX
	SHLQ $3, CX                   // row stride of a and b in bytes
	MOVQ x+24(FP), DX
	MOVQ d+32(FP), SI
	MOVQ idx+40(FP), DI
	MOVQ gw+48(FP), R8
	MOVQ cw+56(FP), R9
	MOVQ m+64(FP), R10
	MOVQ SI, R11
	SHRQ $2, R11
	SHLQ $5, R11                  // bytes of whole vectors a row
	SHLQ $3, SI                   // row stride of x in bytes
	TESTQ R11, R11
	JZ   done
	TESTQ R10, R10
	JZ   done

row:
	MOVQ (DI), R12
	IMULQ SI, R12
	ADDQ DX, R12                  // row i of x
	VBROADCASTSD (R9), Y14        // c
	VBROADCASTSD (R8), Y1         // lane 0: g, a's first entry
	VXORPD Y0, Y0, Y0             // lane 0: 0, b's first entry
	XORQ R13, R13

vec:
	VMOVUPD (R12)(R13*1), Y2      // x_k … x_k+3
	VMULPD Y2, Y14, Y3            // c·x
	VPERMPD $0x93, Y2, Y2         // (x_k+3, x_k, x_k+1, x_k+2)
	VPERMPD $0x93, Y3, Y3
	VBLENDPD $1, Y0, Y2, Y4       // (previous lane 3, x_k, x_k+1, x_k+2)
	VBLENDPD $1, Y1, Y3, Y5
	VMOVUPD Y4, (BX)(R13*1)
	VMOVUPD Y5, (AX)(R13*1)
	VMOVAPD Y2, Y0
	VMOVAPD Y3, Y1
	ADDQ $32, R13
	CMPQ R13, R11
	JLT  vec

	ADDQ CX, AX
	ADDQ CX, BX
	ADDQ $8, DI
	ADDQ $8, R8
	ADDQ $8, R9
	DECQ R10
	JNZ  row

done:
	VZEROUPPER
	RET
