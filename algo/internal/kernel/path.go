package kernel

// Path names one implementation of the primitives.
type Path int

const (
	// Portable is the Go code, the specification of every primitive.
	Portable Path = iota
	// AVX2 is the assembly for amd64 CPUs with AVX2 and FMA.
	AVX2
)

func (p Path) String() string {
	switch p {
	case Portable:
		return "portable"
	case AVX2:
		return "AVX2"
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
	if best >= AVX2 {
		ps = append(ps, AVX2)
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
