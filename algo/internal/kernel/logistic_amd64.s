//go:build !noasm

#include "textflag.h"

// The AVX2 log-loss and chunk fill of logistic.go.

// Constants of the log-loss, four lanes each.
DATA llsign<>+0(SB)/8, $0x8000000000000000
DATA llsign<>+8(SB)/8, $0x8000000000000000
DATA llsign<>+16(SB)/8, $0x8000000000000000
DATA llsign<>+24(SB)/8, $0x8000000000000000
GLOBL llsign<>(SB), RODATA|NOPTR, $32
DATA llone<>+0(SB)/8, $0x3ff0000000000000
DATA llone<>+8(SB)/8, $0x3ff0000000000000
DATA llone<>+16(SB)/8, $0x3ff0000000000000
DATA llone<>+24(SB)/8, $0x3ff0000000000000
GLOBL llone<>(SB), RODATA|NOPTR, $32
DATA lltwo<>+0(SB)/8, $0x4000000000000000
DATA lltwo<>+8(SB)/8, $0x4000000000000000
DATA lltwo<>+16(SB)/8, $0x4000000000000000
DATA lltwo<>+24(SB)/8, $0x4000000000000000
GLOBL lltwo<>(SB), RODATA|NOPTR, $32
DATA llhalf<>+0(SB)/8, $0x3fe0000000000000
DATA llhalf<>+8(SB)/8, $0x3fe0000000000000
DATA llhalf<>+16(SB)/8, $0x3fe0000000000000
DATA llhalf<>+24(SB)/8, $0x3fe0000000000000
GLOBL llhalf<>(SB), RODATA|NOPTR, $32
DATA llzero<>+0(SB)/8, $0x0000000000000000
DATA llzero<>+8(SB)/8, $0x0000000000000000
DATA llzero<>+16(SB)/8, $0x0000000000000000
DATA llzero<>+24(SB)/8, $0x0000000000000000
GLOBL llzero<>(SB), RODATA|NOPTR, $32
DATA lllog2e<>+0(SB)/8, $0x3ff71547652b82fe
DATA lllog2e<>+8(SB)/8, $0x3ff71547652b82fe
DATA lllog2e<>+16(SB)/8, $0x3ff71547652b82fe
DATA lllog2e<>+24(SB)/8, $0x3ff71547652b82fe
GLOBL lllog2e<>(SB), RODATA|NOPTR, $32
DATA llln2Hi<>+0(SB)/8, $0x3fe62e42fee00000
DATA llln2Hi<>+8(SB)/8, $0x3fe62e42fee00000
DATA llln2Hi<>+16(SB)/8, $0x3fe62e42fee00000
DATA llln2Hi<>+24(SB)/8, $0x3fe62e42fee00000
GLOBL llln2Hi<>(SB), RODATA|NOPTR, $32
DATA llln2Lo<>+0(SB)/8, $0x3dea39ef35793c76
DATA llln2Lo<>+8(SB)/8, $0x3dea39ef35793c76
DATA llln2Lo<>+16(SB)/8, $0x3dea39ef35793c76
DATA llln2Lo<>+24(SB)/8, $0x3dea39ef35793c76
GLOBL llln2Lo<>(SB), RODATA|NOPTR, $32
DATA llunderflow<>+0(SB)/8, $0xc0874910d52d3051
DATA llunderflow<>+8(SB)/8, $0xc0874910d52d3051
DATA llunderflow<>+16(SB)/8, $0xc0874910d52d3051
DATA llunderflow<>+24(SB)/8, $0xc0874910d52d3051
GLOBL llunderflow<>(SB), RODATA|NOPTR, $32
DATA llnearZero<>+0(SB)/8, $0xbe30000000000000
DATA llnearZero<>+8(SB)/8, $0xbe30000000000000
DATA llnearZero<>+16(SB)/8, $0xbe30000000000000
DATA llnearZero<>+24(SB)/8, $0xbe30000000000000
GLOBL llnearZero<>(SB), RODATA|NOPTR, $32
DATA llp1<>+0(SB)/8, $0x3fc5555555555555
DATA llp1<>+8(SB)/8, $0x3fc5555555555555
DATA llp1<>+16(SB)/8, $0x3fc5555555555555
DATA llp1<>+24(SB)/8, $0x3fc5555555555555
GLOBL llp1<>(SB), RODATA|NOPTR, $32
DATA llp2<>+0(SB)/8, $0xbf66c16c16bebd93
DATA llp2<>+8(SB)/8, $0xbf66c16c16bebd93
DATA llp2<>+16(SB)/8, $0xbf66c16c16bebd93
DATA llp2<>+24(SB)/8, $0xbf66c16c16bebd93
GLOBL llp2<>(SB), RODATA|NOPTR, $32
DATA llp3<>+0(SB)/8, $0x3f11566aaf25de2c
DATA llp3<>+8(SB)/8, $0x3f11566aaf25de2c
DATA llp3<>+16(SB)/8, $0x3f11566aaf25de2c
DATA llp3<>+24(SB)/8, $0x3f11566aaf25de2c
GLOBL llp3<>(SB), RODATA|NOPTR, $32
DATA llp4<>+0(SB)/8, $0xbebbbd41c5d26bf1
DATA llp4<>+8(SB)/8, $0xbebbbd41c5d26bf1
DATA llp4<>+16(SB)/8, $0xbebbbd41c5d26bf1
DATA llp4<>+24(SB)/8, $0xbebbbd41c5d26bf1
GLOBL llp4<>(SB), RODATA|NOPTR, $32
DATA llp5<>+0(SB)/8, $0x3e66376972bea4d0
DATA llp5<>+8(SB)/8, $0x3e66376972bea4d0
DATA llp5<>+16(SB)/8, $0x3e66376972bea4d0
DATA llp5<>+24(SB)/8, $0x3e66376972bea4d0
GLOBL llp5<>(SB), RODATA|NOPTR, $32
DATA llkMin<>+0(SB)/8, $0xc08fe80000000000
DATA llkMin<>+8(SB)/8, $0xc08fe80000000000
DATA llkMin<>+16(SB)/8, $0xc08fe80000000000
DATA llkMin<>+24(SB)/8, $0xc08fe80000000000
GLOBL llkMin<>(SB), RODATA|NOPTR, $32
DATA llexpMagic<>+0(SB)/8, $0x43300000000003ff
DATA llexpMagic<>+8(SB)/8, $0x43300000000003ff
DATA llexpMagic<>+16(SB)/8, $0x43300000000003ff
DATA llexpMagic<>+24(SB)/8, $0x43300000000003ff
GLOBL llexpMagic<>(SB), RODATA|NOPTR, $32
DATA llsqrt2M1<>+0(SB)/8, $0x3fda827999fcef32
DATA llsqrt2M1<>+8(SB)/8, $0x3fda827999fcef32
DATA llsqrt2M1<>+16(SB)/8, $0x3fda827999fcef32
DATA llsqrt2M1<>+24(SB)/8, $0x3fda827999fcef32
GLOBL llsqrt2M1<>(SB), RODATA|NOPTR, $32
DATA llsmall<>+0(SB)/8, $0x3e20000000000000
DATA llsmall<>+8(SB)/8, $0x3e20000000000000
DATA llsmall<>+16(SB)/8, $0x3e20000000000000
DATA llsmall<>+24(SB)/8, $0x3e20000000000000
GLOBL llsmall<>(SB), RODATA|NOPTR, $32
DATA llmant<>+0(SB)/8, $0x000fffffffffffff
DATA llmant<>+8(SB)/8, $0x000fffffffffffff
DATA llmant<>+16(SB)/8, $0x000fffffffffffff
DATA llmant<>+24(SB)/8, $0x000fffffffffffff
GLOBL llmant<>(SB), RODATA|NOPTR, $32
DATA llsqrtMant1<>+0(SB)/8, $0x0006a09e667f3bcc
DATA llsqrtMant1<>+8(SB)/8, $0x0006a09e667f3bcc
DATA llsqrtMant1<>+16(SB)/8, $0x0006a09e667f3bcc
DATA llsqrtMant1<>+24(SB)/8, $0x0006a09e667f3bcc
GLOBL llsqrtMant1<>(SB), RODATA|NOPTR, $32
DATA llexp1<>+0(SB)/8, $0x3ff0000000000000
DATA llexp1<>+8(SB)/8, $0x3ff0000000000000
DATA llexp1<>+16(SB)/8, $0x3ff0000000000000
DATA llexp1<>+24(SB)/8, $0x3ff0000000000000
GLOBL llexp1<>(SB), RODATA|NOPTR, $32
DATA llexpHalf<>+0(SB)/8, $0x3fe0000000000000
DATA llexpHalf<>+8(SB)/8, $0x3fe0000000000000
DATA llexpHalf<>+16(SB)/8, $0x3fe0000000000000
DATA llexpHalf<>+24(SB)/8, $0x3fe0000000000000
GLOBL llexpHalf<>(SB), RODATA|NOPTR, $32
DATA llhiddenM4<>+0(SB)/8, $0x000ffffffffffffc
DATA llhiddenM4<>+8(SB)/8, $0x000ffffffffffffc
DATA llhiddenM4<>+16(SB)/8, $0x000ffffffffffffc
DATA llhiddenM4<>+24(SB)/8, $0x000ffffffffffffc
GLOBL llhiddenM4<>(SB), RODATA|NOPTR, $32
DATA lllp1<>+0(SB)/8, $0x3fe5555555555593
DATA lllp1<>+8(SB)/8, $0x3fe5555555555593
DATA lllp1<>+16(SB)/8, $0x3fe5555555555593
DATA lllp1<>+24(SB)/8, $0x3fe5555555555593
GLOBL lllp1<>(SB), RODATA|NOPTR, $32
DATA lllp2<>+0(SB)/8, $0x3fd999999997fa04
DATA lllp2<>+8(SB)/8, $0x3fd999999997fa04
DATA lllp2<>+16(SB)/8, $0x3fd999999997fa04
DATA lllp2<>+24(SB)/8, $0x3fd999999997fa04
GLOBL lllp2<>(SB), RODATA|NOPTR, $32
DATA lllp3<>+0(SB)/8, $0x3fd2492494229359
DATA lllp3<>+8(SB)/8, $0x3fd2492494229359
DATA lllp3<>+16(SB)/8, $0x3fd2492494229359
DATA lllp3<>+24(SB)/8, $0x3fd2492494229359
GLOBL lllp3<>(SB), RODATA|NOPTR, $32
DATA lllp4<>+0(SB)/8, $0x3fcc71c51d8e78af
DATA lllp4<>+8(SB)/8, $0x3fcc71c51d8e78af
DATA lllp4<>+16(SB)/8, $0x3fcc71c51d8e78af
DATA lllp4<>+24(SB)/8, $0x3fcc71c51d8e78af
GLOBL lllp4<>(SB), RODATA|NOPTR, $32
DATA lllp5<>+0(SB)/8, $0x3fc7466496cb03de
DATA lllp5<>+8(SB)/8, $0x3fc7466496cb03de
DATA lllp5<>+16(SB)/8, $0x3fc7466496cb03de
DATA lllp5<>+24(SB)/8, $0x3fc7466496cb03de
GLOBL lllp5<>(SB), RODATA|NOPTR, $32
DATA lllp6<>+0(SB)/8, $0x3fc39a09d078c69f
DATA lllp6<>+8(SB)/8, $0x3fc39a09d078c69f
DATA lllp6<>+16(SB)/8, $0x3fc39a09d078c69f
DATA lllp6<>+24(SB)/8, $0x3fc39a09d078c69f
GLOBL lllp6<>(SB), RODATA|NOPTR, $32
DATA lllp7<>+0(SB)/8, $0x3fc2f112df3e5244
DATA lllp7<>+8(SB)/8, $0x3fc2f112df3e5244
DATA lllp7<>+16(SB)/8, $0x3fc2f112df3e5244
DATA lllp7<>+24(SB)/8, $0x3fc2f112df3e5244
GLOBL lllp7<>(SB), RODATA|NOPTR, $32

// func logLossAVX2(eta, y, l, res, curv, p *float64, n4 int, slow *uint8)
//
// For n4 groups of four rows: l, res, curv and p of each row as RowLoss
// computes them, each lane the scalar operations of its row in their order
// (see LogLoss), and slow[g] the lanes of group g whose row takes a branch
// the lanes do not follow, for the caller to recompute. Y15 collects them,
// Y9 is zero, Y0 holds the margins.
TEXT ·logLossAVX2(SB), NOSPLIT, $0-64
	MOVQ eta+0(FP), SI
	MOVQ y+8(FP), DX
	MOVQ l+16(FP), R8
	MOVQ res+24(FP), R9
	MOVQ curv+32(FP), R10
	MOVQ p+40(FP), R11
	MOVQ n4+48(FP), CX
	MOVQ slow+56(FP), DI
	XORQ BX, BX              // byte offset of the group
	TESTQ CX, CX
	JZ   lldone

llgroup:
	VMOVUPD 0(SI)(BX*1), Y0
	// ExpNeg(t), t = −|η| < 0.
	VORPD   llsign<>(SB), Y0, Y1
	VCMPPD  $3, Y0, Y0, Y15              // NaN
	VCMPPD  $0x11, llunderflow<>(SB), Y1, Y2 // t < underflow
	VORPD   Y2, Y15, Y15
	VCMPPD  $0x1e, llnearZero<>(SB), Y1, Y2  // t > −2⁻²⁸
	VORPD   Y2, Y15, Y15
	// kf = float64(int(log2e·t − ½)): truncated, −0 made +0.
	VMULPD  lllog2e<>(SB), Y1, Y2
	VSUBPD  llhalf<>(SB), Y2, Y2
	VROUNDPD $3, Y2, Y2
	VADDPD  llzero<>(SB), Y2, Y2
	VCMPPD  $0x11, llkMin<>(SB), Y2, Y3      // k < −1021
	VORPD   Y3, Y15, Y15
	VMULPD  llln2Hi<>(SB), Y2, Y3
	VSUBPD  Y3, Y1, Y3                   // hi = t − kf·ln2Hi
	VMULPD  llln2Lo<>(SB), Y2, Y4            // lo = kf·ln2Lo
	VSUBPD  Y4, Y3, Y5                   // r = hi − lo
	VMULPD  Y5, Y5, Y6                   // z = r·r
	VMULPD  llp5<>(SB), Y6, Y7
	VADDPD  llp4<>(SB), Y7, Y7
	VMULPD  Y7, Y6, Y7
	VADDPD  llp3<>(SB), Y7, Y7
	VMULPD  Y7, Y6, Y7
	VADDPD  llp2<>(SB), Y7, Y7
	VMULPD  Y7, Y6, Y7
	VADDPD  llp1<>(SB), Y7, Y7
	VMULPD  Y7, Y6, Y7
	VSUBPD  Y7, Y5, Y7                   // c = r − z·p
	VMULPD  Y7, Y5, Y8                   // r·c
	VMOVUPD lltwo<>(SB), Y9
	VSUBPD  Y7, Y9, Y9                   // 2 − c
	VDIVPD  Y9, Y8, Y8                   // r·c/(2 − c)
	VSUBPD  Y8, Y4, Y8                   // lo − r·c/(2 − c)
	VSUBPD  Y3, Y8, Y8                   // … − hi
	VMOVUPD llone<>(SB), Y9
	VSUBPD  Y8, Y9, Y8                   // y = 1 − …
	VADDPD  llexpMagic<>(SB), Y2, Y9
	VPSLLQ  $52, Y9, Y9                  // 2ᵏ
	VMULPD  Y9, Y8, Y8                   // e = y·2ᵏ
	// Log1pUnit(e), 0 < e < 1.
	VCMPPD  $0x11, llsqrt2M1<>(SB), Y8, Y1   // low: k = 0, f = e, no c
	VCMPPD  $0x1d, llsqrt2M1<>(SB), Y8, Y2   // high
	VCMPPD  $0x11, llsmall<>(SB), Y8, Y3     // e < 2⁻²⁹
	VORPD   Y3, Y15, Y15
	VADDPD  llone<>(SB), Y8, Y3              // u = 1 + e
	VSUBPD  llone<>(SB), Y3, Y4              // u − 1
	VSUBPD  Y4, Y8, Y4                   // e − (u − 1)
	VDIVPD  Y3, Y4, Y4                   // cu = (e − (u − 1))/u
	VCMPPD  $0x1d, lltwo<>(SB), Y3, Y5       // u ≥ 2: k = 1 before the reduction
	VANDPD  Y2, Y5, Y5
	VORPD   Y5, Y15, Y15
	VANDPD  llmant<>(SB), Y3, Y3             // iu: u's fraction bits
	VPCMPGTQ llsqrtMant1<>(SB), Y3, Y5       // up: k++, u halved
	VORPD   llexpHalf<>(SB), Y3, Y6
	VORPD   llexp1<>(SB), Y3, Y7
	VBLENDVPD Y5, Y6, Y7, Y6             // u
	VSUBPD  llone<>(SB), Y6, Y6              // u − 1
	VBLENDVPD Y1, Y8, Y6, Y6             // f = e where low, else u − 1
	// The scalar iu is (2⁵² − iu)>>2 where up, iu elsewhere; it is 0
	// where 2⁵² − iu < 4 or iu = 0.
	VPCMPGTQ llhiddenM4<>(SB), Y3, Y7
	VPXOR   Y9, Y9, Y9
	VPCMPEQQ Y9, Y3, Y3
	VPOR    Y3, Y7, Y7
	VANDPD  Y2, Y7, Y7
	VORPD   Y7, Y15, Y15
	VANDPD  Y2, Y5, Y5                   // kOne = up and high
	VBLENDVPD Y1, Y9, Y4, Y4             // cz = 0 where low, else cu
	VMULPD  llhalf<>(SB), Y6, Y1
	VMULPD  Y6, Y1, Y1                   // hfsq = ½f·f
	VADDPD  lltwo<>(SB), Y6, Y2
	VDIVPD  Y2, Y6, Y2                   // s = f/(2 + f)
	VMULPD  Y2, Y2, Y3                   // z = s·s
	VMULPD  lllp7<>(SB), Y3, Y7
	VADDPD  lllp6<>(SB), Y7, Y7
	VMULPD  Y7, Y3, Y7
	VADDPD  lllp5<>(SB), Y7, Y7
	VMULPD  Y7, Y3, Y7
	VADDPD  lllp4<>(SB), Y7, Y7
	VMULPD  Y7, Y3, Y7
	VADDPD  lllp3<>(SB), Y7, Y7
	VMULPD  Y7, Y3, Y7
	VADDPD  lllp2<>(SB), Y7, Y7
	VMULPD  Y7, Y3, Y7
	VADDPD  lllp1<>(SB), Y7, Y7
	VMULPD  Y7, Y3, Y7                   // rr = z·p
	VADDPD  Y7, Y1, Y7                   // hfsq + rr
	VMULPD  Y7, Y2, Y7                   // sr = s·(hfsq + rr)
	VSUBPD  Y7, Y1, Y2                   // hfsq − sr
	VSUBPD  Y2, Y6, Y2                   // l0 = f − (hfsq − sr)
	VADDPD  llln2Lo<>(SB), Y4, Y3            // ln2Lo + cz
	VADDPD  Y3, Y7, Y3                   // sr + …
	VSUBPD  Y3, Y1, Y3                   // hfsq − …
	VSUBPD  Y6, Y3, Y3                   // … − f
	VMOVUPD llln2Hi<>(SB), Y1
	VSUBPD  Y3, Y1, Y3                   // l1 = ln2Hi − …
	VBLENDVPD Y5, Y3, Y2, Y2             // log1p(e): l1 where kOne, else l0
	// RowLoss.
	VADDPD  llone<>(SB), Y8, Y1
	VMOVUPD llone<>(SB), Y3
	VDIVPD  Y1, Y3, Y1                   // big = 1/(1 + e)
	VMULPD  Y1, Y8, Y3                   // sml = e·big
	VCMPPD  $0x11, Y9, Y0, Y4            // η < 0
	VBLENDVPD Y4, Y3, Y1, Y5             // p: sml where η < 0, else big
	VBLENDVPD Y4, Y1, Y3, Y6             // q: big where η < 0, else sml
	VMOVUPD 0(DX)(BX*1), Y7
	VCMPPD  $0, llone<>(SB), Y7, Y7          // y = 1
	VSUBPD  Y0, Y9, Y4                   // −η
	VBLENDVPD Y7, Y4, Y0, Y4             // −η where y = 1, else η
	VMAXPD  Y9, Y4, Y4                   // max(·, 0)
	VADDPD  Y2, Y4, Y4
	VMOVUPD Y4, 0(R8)(BX*1)              // loss
	VSUBPD  Y6, Y9, Y4                   // −q
	VBLENDVPD Y7, Y4, Y5, Y4
	VMOVUPD Y4, 0(R9)(BX*1)              // residual: −q where y = 1, else p
	VMULPD  Y3, Y1, Y4
	VMOVUPD Y4, 0(R10)(BX*1)             // curvature big·sml
	VMOVUPD Y5, 0(R11)(BX*1)             // p
	VMOVMSKPD Y15, AX
	MOVB    AL, 0(DI)
	INCQ    DI
	ADDQ    $32, BX
	DECQ    CX
	JNZ     llgroup

lldone:
	VZEROUPPER
	RET

// func fillRowsAVX2(a, b *float64, s int, x *float64, d int, idx *int, gw, cw *float64, m int)
//
// For q < m, with i = idx[q], g = gw[q], c = cw[q]: entries 0 to 4·⌊d/4⌋−1
// of row q of a (row stride s) become (g, c·x_i0, c·x_i1, …) and of b
// (0, x_i0, x_i1, …). Each vector of x is rotated one lane up (VPERMPD)
// and its first lane taken from the previous vector's rotation (VBLENDPD),
// so the stores stay on the rows' 32-byte boundaries.
TEXT ·fillRowsAVX2(SB), NOSPLIT, $0-72
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
