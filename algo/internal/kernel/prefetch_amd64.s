//go:build !noasm

#include "textflag.h"

// func prefetchT1(p *float64, n int)
//
// prefetchT1 prefetches the cache lines of the n bytes from p into L2.
TEXT ·prefetchT1(SB), NOSPLIT, $0-16
	MOVQ p+0(FP), SI
	MOVQ n+8(FP), CX
	ADDQ SI, CX

pline:
	PREFETCHT1 0(SI)
	ADDQ $64, SI
	CMPQ SI, CX
	JLT  pline
	RET
