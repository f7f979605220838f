//go:build !amd64

package als

import (
	"math"
	"runtime"
)

// prefetchRows reads one word of every cache line of the rows at pos of
// the table f (rank r). The loads do not depend on each other, so the rows
// come from memory together rather than one at a time as they are used;
// Go has no prefetch instruction of its own.
func prefetchRows(f []float64, r int, pos []int32) {
	var a, b uint64
	for _, p := range pos {
		row := f[int(p)*r : int(p)*r+r]
		for k := 0; k < len(row); k += 8 {
			a |= math.Float64bits(row[k])
		}
		b |= math.Float64bits(row[len(row)-1])
	}
	runtime.KeepAlive(a | b)
}
