// Package kernel holds the hot loops of the algorithms once, in the manner
// of gonum's internal/asm/f64: for every primitive, a portable Go version
// that is its specification, and assembly beside it that gives the same bits
// faster.
//
// # Paths
//
// The implementation is chosen once, at start-up, from the CPU's features
// as golang.org/x/sys/cpu reports them, so a plain go build (no GOAMD64, no
// GOEXPERIMENT) runs the fast path:
//
//   - [AVX2]: amd64 with AVX2 and FMA, in assembly (*_amd64.s).
//   - [Portable]: everywhere else, and with the build tag noasm.
//
// GODEBUG=cpu.avx2=off makes an AVX2 machine take the portable path (x/sys/cpu
// honours it). Tests and benchmarks switch paths with [SetPath].
//
// An AVX-512 path is kept only where it is at least 1.3 times faster end to
// end than AVX2; none is today (see docs/performance.md).
//
// # Bits
//
// Every path gives the portable path's bits on every input, NaN and ±Inf
// included: each lane of a vector runs the scalar operations of the portable
// code in the same order, products that feed a sum are fused multiply-adds
// (math.FMA in Go, VFMADD231PD in assembly), and the assembly hands any
// input whose answer it cannot reproduce cheaply (a NaN score, say) to the
// portable code. kernel_test.go holds every primitive on every path to the
// portable one.
package kernel
