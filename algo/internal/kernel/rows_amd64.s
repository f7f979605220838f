//go:build !noasm

#include "textflag.h"

// The AVX2 row primitives of rows.go: four columns per instruction, each
// lane the scalar operation of its column, rows in order.

// func colSumsAVX2(sum, ref, x, w *float64, vary *uint8, idx *int, n, d, nv int)
//
// For each of the n rows idx[q] of x (row stride d), in order, and each of
// the nv vectors of four columns: sum += row (w nil) or sum = fma(w[i], row,
// sum), and vary[v] |= the lanes where row != ref (NaN-aware: NEQ_UQ).
TEXT ·colSumsAVX2(SB), NOSPLIT, $0-72
	MOVQ sum+0(FP), DI
	MOVQ ref+8(FP), SI
	MOVQ x+16(FP), R8
	MOVQ w+24(FP), R9
	MOVQ vary+32(FP), R10
	MOVQ idx+40(FP), R11
	MOVQ n+48(FP), R12
	MOVQ d+56(FP), R13
	SHLQ $3, R13             // a row's bytes
	MOVQ nv+64(FP), R14
	SHLQ $5, R14             // the vectors' bytes
	TESTQ R12, R12
	JZ   csdone
	TESTQ R14, R14
	JZ   csdone

csrow:
	// The row eight rows on is on its way while this one is added: its
	// cache lines are prefetched (prefetches neither fault nor change
	// results).
	CMPQ R12, $9
	JLT  csnopf
	MOVQ 64(R11), BX
	IMULQ R13, BX
	ADDQ R8, BX
	XORQ CX, CX

cspf:
	PREFETCHT0 0(BX)(CX*1)
	ADDQ $64, CX
	CMPQ CX, R13
	JLT  cspf

csnopf:
	MOVQ 0(R11), AX          // i
	MOVQ AX, BX
	IMULQ R13, BX
	ADDQ R8, BX              // row i
	XORQ CX, CX              // byte offset in the row
	TESTQ R9, R9
	JNZ  csweighted

csplain:
	VMOVUPD 0(BX)(CX*1), Y0
	VADDPD 0(DI)(CX*1), Y0, Y1
	VMOVUPD Y1, 0(DI)(CX*1)
	VCMPPD $4, 0(SI)(CX*1), Y0, Y2
	VMOVMSKPD Y2, AX
	MOVQ CX, DX
	SHRQ $5, DX
	ORB  AL, 0(R10)(DX*1)
	ADDQ $32, CX
	CMPQ CX, R14
	JLT  csplain
	JMP  csnext

csweighted:
	VBROADCASTSD 0(R9)(AX*8), Y15

csfma:
	VMOVUPD 0(BX)(CX*1), Y0
	VMOVUPD 0(DI)(CX*1), Y1
	VFMADD231PD Y15, Y0, Y1  // sum = w·row + sum, one rounding
	VMOVUPD Y1, 0(DI)(CX*1)
	VCMPPD $4, 0(SI)(CX*1), Y0, Y2
	VMOVMSKPD Y2, AX
	MOVQ CX, DX
	SHRQ $5, DX
	ORB  AL, 0(R10)(DX*1)
	ADDQ $32, CX
	CMPQ CX, R14
	JLT  csfma

csnext:
	ADDQ $8, R11
	DECQ R12
	JNZ  csrow

csdone:
	VZEROUPPER
	RET

// func centreAVX2(a *float64, s int, x *float64, d int, idx *int, n int, mean *float64, nv int)
//
// Row q of a (row stride s) gets row idx[q] of x (row stride d) minus mean,
// over the first nv vectors of four columns.
TEXT ·centreAVX2(SB), NOSPLIT, $0-64
	MOVQ a+0(FP), DI
	MOVQ s+8(FP), R8
	SHLQ $3, R8              // a's row bytes
	MOVQ x+16(FP), SI
	MOVQ d+24(FP), R13
	SHLQ $3, R13             // x's row bytes
	MOVQ idx+32(FP), R11
	MOVQ n+40(FP), R12
	MOVQ mean+48(FP), R9
	MOVQ nv+56(FP), R14
	SHLQ $5, R14
	TESTQ R12, R12
	JZ   cdone

crow:
	MOVQ 0(R11), BX
	IMULQ R13, BX
	ADDQ SI, BX              // row idx[q] of x
	XORQ CX, CX

cvec:
	VMOVUPD 0(BX)(CX*1), Y0
	VSUBPD 0(R9)(CX*1), Y0, Y0
	VMOVUPD Y0, 0(DI)(CX*1)
	ADDQ $32, CX
	CMPQ CX, R14
	JLT  cvec
	ADDQ R8, DI
	ADDQ $8, R11
	DECQ R12
	JNZ  crow

cdone:
	VZEROUPPER
	RET

// func scaleRowsAVX2(aw, a *float64, s int, w *float64, idx *int, n, nv int)
//
// Row q of aw gets w[idx[q]] times row q of a (both of row stride s), over
// the first nv vectors of four columns.
TEXT ·scaleRowsAVX2(SB), NOSPLIT, $0-56
	MOVQ aw+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ s+16(FP), R8
	SHLQ $3, R8
	MOVQ w+24(FP), R9
	MOVQ idx+32(FP), R11
	MOVQ n+40(FP), R12
	MOVQ nv+48(FP), R14
	SHLQ $5, R14
	TESTQ R12, R12
	JZ   sdone

srow:
	MOVQ 0(R11), AX
	VBROADCASTSD 0(R9)(AX*8), Y15
	XORQ CX, CX

svec:
	VMULPD 0(SI)(CX*1), Y15, Y0
	VMOVUPD Y0, 0(DI)(CX*1)
	ADDQ $32, CX
	CMPQ CX, R14
	JLT  svec
	ADDQ R8, DI
	ADDQ R8, SI
	ADDQ $8, R11
	DECQ R12
	JNZ  srow

sdone:
	VZEROUPPER
	RET
