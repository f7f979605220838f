package kernel

// Path names one implementation of the primitives.
type Path int

const (
	// Portable is the Go code, the specification of every primitive.
	Portable Path = iota
	// AVX2 is the assembly for amd64 CPUs with AVX2 and FMA.
	AVX2
	// AVX512 is the AVX2 path with AVX-512F assembly for the primitives
	// that have it (amd64 CPUs with AVX2, FMA and AVX-512F, the operating
	// system saving the 512-bit state).
	AVX512
)

func (p Path) String() string {
	switch p {
	case Portable:
		return "portable"
	case AVX2:
		return "AVX2"
	case AVX512:
		return "AVX-512"
	}
	return "unknown"
}

// best is the fastest path the build and the CPU support.
var best = bestPath()

// path is the path the primitives take; SetPath changes it.
var path = best

// Paths returns every path the build and the CPU support, Portable first.
func Paths() []Path {
	ps := []Path{Portable}
	for p := AVX2; p <= best; p++ {
		ps = append(ps, p)
	}
	return ps
}

// Current returns the path the primitives take.
func Current() Path { return path }

// SetPath makes the primitives take path p and returns the previous path,
// for tests and benchmarks that compare paths. A path the build or the CPU
// lacks falls back to Portable. It is not safe to call while primitives run
// on other goroutines; a value that holds a layout (such as [KMeans]) keeps
// the path it was reset with.
func SetPath(p Path) Path {
	old := path
	if p > best || p < Portable {
		p = Portable
	}
	path = p
	return old
}
