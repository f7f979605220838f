package als

import "unsafe"

// prefetchRows asks the CPU to bring the rows at pos of the table f (rank
// r) into cache without waiting for them (prefetch_amd64.s): the loads of
// the next chunk's rows, read at random from a table larger than the
// cache, overlap the arithmetic on the current chunk.
func prefetchRows(f []float64, r int, pos []int32) {
	if len(pos) == 0 || len(f) == 0 {
		return
	}
	prefetchRowsAsm(unsafe.Pointer(unsafe.SliceData(f)), pos, 8*r)
}

// prefetchRowsAsm issues a PREFETCHT0 for every cache line of the rows of
// rowBytes bytes at base + rowBytes·pos[k]. A prefetch never faults, so a
// bad position costs nothing but the prefetch.
//
//go:noescape
func prefetchRowsAsm(base unsafe.Pointer, pos []int32, rowBytes int)
