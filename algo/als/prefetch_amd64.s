#include "textflag.h"

// func prefetchRowsAsm(base unsafe.Pointer, pos []int32, rowBytes int)
//
// For each k < len(pos): the row at base + rowBytes·pos[k], rowBytes ≥ 1,
// one PREFETCHT0 per 64-byte line from the line of its first byte to the
// line of its last. Registers: AX base, SI pos, CX positions left, DX
// rowBytes, BX the line, R8 the row's last byte.
TEXT ·prefetchRowsAsm(SB), NOSPLIT, $0-40
	MOVQ base+0(FP), AX
	MOVQ pos_base+8(FP), SI
	MOVQ pos_len+16(FP), CX
	MOVQ rowBytes+32(FP), DX
	TESTQ CX, CX
	JZ   done

row:
	MOVLQSX (SI), BX
	IMULQ DX, BX
	ADDQ AX, BX
	LEAQ -1(BX)(DX*1), R8
	ANDQ $-64, BX

line:
	PREFETCHT0 (BX)
	ADDQ $64, BX
	CMPQ BX, R8
	JLS  line

	ADDQ $4, SI
	DECQ CX
	JNZ  row

done:
	RET
