//go:build !noasm

#include "textflag.h"

// CHAINS computes, for the tile of users u0 (BX), u1 (CX) and panels a
// (DX), b (R9), the chains l (Y0..Y3) and l+4 (Y4..Y7) of dot, from zero,
// over k = l, l+8, … < rp (DI = 8·rp), and leaves their sums in Y0..Y3:
// user 0 on a, b, user 1 on a, b. Each lane is one item.
#define CHAINS(l, lbl) \
	VXORPD Y0, Y0, Y0 \
	VXORPD Y1, Y1, Y1 \
	VXORPD Y2, Y2, Y2 \
	VXORPD Y3, Y3, Y3 \
	VXORPD Y4, Y4, Y4 \
	VXORPD Y5, Y5, Y5 \
	VXORPD Y6, Y6, Y6 \
	VXORPD Y7, Y7, Y7 \
	MOVQ $(8*l), R10 \
	MOVQ $(32*l), R12 \
	PCALIGN $16 \
	lbl: \
	VBROADCASTSD (BX)(R10*1), Y8 \
	VBROADCASTSD (CX)(R10*1), Y9 \
	VMOVUPD (DX)(R12*1), Y10 \
	VMOVUPD (R9)(R12*1), Y11 \
	VFMADD231PD Y10, Y8, Y0 \
	VFMADD231PD Y11, Y8, Y1 \
	VFMADD231PD Y10, Y9, Y2 \
	VFMADD231PD Y11, Y9, Y3 \
	VBROADCASTSD 32(BX)(R10*1), Y8 \
	VBROADCASTSD 32(CX)(R10*1), Y9 \
	VMOVUPD 128(DX)(R12*1), Y10 \
	VMOVUPD 128(R9)(R12*1), Y11 \
	VFMADD231PD Y10, Y8, Y4 \
	VFMADD231PD Y11, Y8, Y5 \
	VFMADD231PD Y10, Y9, Y6 \
	VFMADD231PD Y11, Y9, Y7 \
	ADDQ $64, R10 \
	ADDQ $256, R12 \
	CMPQ R10, DI \
	JLT lbl \
	VADDPD Y4, Y0, Y0 \
	VADDPD Y5, Y1, Y1 \
	VADDPD Y6, Y2, Y2 \
	VADDPD Y7, Y3, Y3

// func alsPanels2x2(out *[2 * PanelChunk]float64, masks *[16]uint8, u0, u1, v *float64, np, rp int, bar0, bar1 float64)
TEXT ·alsPanels2x2(SB), NOSPLIT, $0-72
	MOVQ out+0(FP), AX
	MOVQ masks+8(FP), SI
	MOVQ u0+16(FP), BX
	MOVQ u1+24(FP), CX
	MOVQ v+32(FP), DX
	MOVQ np+40(FP), R13
	SHRQ $1, R13                 // tiles
	MOVQ rp+48(FP), DI
	MOVQ DI, R8
	SHLQ $5, R8                  // bytes of a panel
	SHLQ $3, DI                  // bytes of a user's factors
	XORQ R11, R11                // tile

tile:
	CMPQ R11, R13
	JGE done
	LEAQ (DX)(R8*1), R9

	// A = (p0+p4)+(p2+p6), kept in the tile's slots of out.
	CHAINS(0, chains0)
	VMOVUPD Y0, (AX)
	VMOVUPD Y1, 32(AX)
	VMOVUPD Y2, 512(AX)
	VMOVUPD Y3, 544(AX)
	CHAINS(2, chains2)
	VADDPD (AX), Y0, Y0
	VADDPD 32(AX), Y1, Y1
	VADDPD 512(AX), Y2, Y2
	VADDPD 544(AX), Y3, Y3
	VMOVUPD Y0, (AX)
	VMOVUPD Y1, 32(AX)
	VMOVUPD Y2, 512(AX)
	VMOVUPD Y3, 544(AX)

	// B = (p1+p5)+(p3+p7); the score is A+B.
	CHAINS(1, chains1)
	VMOVUPD Y0, Y12
	VMOVUPD Y1, Y13
	VMOVUPD Y2, Y14
	VMOVUPD Y3, Y15
	CHAINS(3, chains3)
	VADDPD Y0, Y12, Y12
	VADDPD Y1, Y13, Y13
	VADDPD Y2, Y14, Y14
	VADDPD Y3, Y15, Y15
	VADDPD (AX), Y12, Y12
	VADDPD 32(AX), Y13, Y13
	VADDPD 512(AX), Y14, Y14
	VADDPD 544(AX), Y15, Y15
	VMOVUPD Y12, (AX)
	VMOVUPD Y13, 32(AX)
	VMOVUPD Y14, 512(AX)
	VMOVUPD Y15, 544(AX)

	// The items at or above each user's bar.
	VBROADCASTSD bar0+56(FP), Y8
	VBROADCASTSD bar1+64(FP), Y9
	VCMPPD $13, Y8, Y12, Y12
	VCMPPD $13, Y8, Y13, Y13
	VCMPPD $13, Y9, Y14, Y14
	VCMPPD $13, Y9, Y15, Y15
	VMOVMSKPD Y12, R10
	VMOVMSKPD Y13, R12
	SHLQ $4, R12
	ORQ R12, R10
	MOVB R10, (SI)(R11*1)
	VMOVMSKPD Y14, R10
	VMOVMSKPD Y15, R12
	SHLQ $4, R12
	ORQ R12, R10
	MOVB R10, 8(SI)(R11*1)

	ADDQ $64, AX
	LEAQ (R9)(R8*1), DX
	INCQ R11
	JMP tile

done:
	VZEROUPPER
	RET
