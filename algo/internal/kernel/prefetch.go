package kernel

// Prefetch asks the CPU to bring x's cache lines into its L2 cache, ahead
// of a pass that reads them from memory; it changes no result. It is a
// no-op where there is no assembly.
func Prefetch(x []float64) {
	if len(x) > 0 && path >= AVX2 {
		prefetchT1(&x[0], len(x)*8)
	}
}
