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
//   - [AVX512]: amd64 with AVX2, FMA and AVX-512F. The k-means labels,
//     distances and sums (kmeans512_amd64.s), the cross-product tiles of
//     the linear and logistic passes (gram512_amd64.s) and the ALS Gram
//     tiles (als512_amd64.s) run in 512-bit assembly; every other
//     primitive takes its AVX2 assembly.
//   - [AVX2]: amd64 with AVX2 and FMA, in assembly (*_amd64.s). With nine
//     to sixteen centres the k-means labels are first screened in float32
//     (kmeans32.go), which settles almost every row's label with half the
//     float64 arithmetic and leaves the rest to the float64 scan.
//   - [Portable]: everywhere else, and with the build tag noasm.
//
// GODEBUG=cpu.avx512f=off makes an AVX-512 machine take the AVX2 path and
// GODEBUG=cpu.avx2=off the portable one (x/sys/cpu honours both). Tests and
// benchmarks switch paths with [SetPath]; code that tests the path asks
// for at least AVX2 (path >= AVX2), so that the AVX-512 path runs the AVX2
// assembly of every primitive without a 512-bit version.
//
// A primitive gets 512-bit assembly where, on a CPU that runs 512-bit FMAs
// at full width (two ports), the pass it serves gets measurably faster,
// not only the kernel: on a 2-core Intel Xeon the k-means Lloyd pass
// takes 15 against 24 CPU-ns a row, the linear cross-product pass 69
// against 77–101, the ALS Gram and right-hand side 15.7 against 26.8 an
// interaction (docs/performance.md). Where a kernel waits on memory or on
// divisions (the factorisations, the log-loss), AVX2 stays.
//
// # Bits
//
// Every path gives the portable path's bits on every input, NaN and ±Inf
// included: each lane of a vector runs the scalar operations of the portable
// code in the same order, products that feed a sum are fused multiply-adds
// (math.FMA in Go, VFMADD231PD in assembly), and the assembly hands any
// input whose answer it cannot reproduce cheaply (a NaN score, say) to the
// portable code. The k-means screen is the one place where a path computes
// in another precision: it only labels a row when a proven bound on its
// float32 rounding shows the float64 label is the same. kernel_test.go
// holds every primitive on every path to the portable one.
package kernel
