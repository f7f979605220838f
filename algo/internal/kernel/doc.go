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
//   - [AVX512]: amd64 with AVX2, FMA and AVX-512F. The k-means labels run
//     in 512-bit assembly (kmeans512_amd64.s); every other primitive takes
//     its AVX2 assembly.
//   - [AVX2]: amd64 with AVX2 and FMA, in assembly (*_amd64.s).
//   - [Portable]: everywhere else, and with the build tag noasm.
//
// GODEBUG=cpu.avx512f=off makes an AVX-512 machine take the AVX2 path and
// GODEBUG=cpu.avx2=off the portable one (x/sys/cpu honours both). Tests and
// benchmarks switch paths with [SetPath].
//
// A primitive gets 512-bit assembly only where it is at least 1.3 times
// faster end to end than its AVX2 code on an AVX-512 machine that runs
// 512-bit FMAs at full width: the k-means labels are (a Lloyd iteration of
// the bench's 1M × 16 rows, 2 worker processes, on a 2-core Intel Xeon:
// 35 against 44 ms of CPU a pass; see docs/performance.md).
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
