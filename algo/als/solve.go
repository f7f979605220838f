package als

import (
	"math"

	"github.com/mathcrm/mathcrm/algo/internal/kernel"
)

// rowSolver solves the rows of one block. Its buffers are reused from row
// to row; nothing is allocated per row.
type rowSolver struct {
	cfg    Config
	r, rp  int
	tab    *Table
	gram   []float64        // implicit: the other side's YᵀY, rp×rp upper
	a, b   []float64        // the row's normal equations
	chunk  int              // rows gathered at once, at most chunkRows
	ys, wy []float64        // chunk gathered factors, stride rp (wy: weighted)
	z      []float64        // chunk right-hand-side weights
	pos    []int32          // the row's training interactions: other-side rows
	val    []float64        // and values (implicit: summed counts)
	bat    *kernel.ALSBatch // systems waiting to be factored together; nil: one at a time
}

func newRowSolver(cfg Config, tab *Table) *rowSolver {
	r, rp := cfg.Rank, padRank(cfg.Rank)
	s := &rowSolver{
		cfg: cfg, r: r, rp: rp, tab: tab,
		a: make([]float64, rp*rp), b: make([]float64, rp),
		chunk: chunkRows, ys: make([]float64, chunkRows*rp), z: make([]float64, chunkRows),
	}
	s.wy = s.ys
	s.bat = kernel.NewALSBatch(r)
	if cfg.Implicit {
		// Two gathered copies and A: with 32 KiB of L1 data cache half
		// a chunk keeps them, and the next chunk on its
		// way, in L1. The sums are the same for any chunk.
		s.chunk = chunkRows / 2
		s.wy = make([]float64, chunkRows*rp)
		s.gram = make([]float64, rp*rp)
		if tab.Len() > 0 {
			s.gram = tab.gramUpper()
		}
	}
	return s
}

// collect lists the training interactions of the row [lo, hi) of blk in
// s.pos and s.val: explicit, every interaction that is not held out;
// implicit, every pair that is not held out, with its counts summed, if
// the sum is positive.
func (s *rowSolver) collect(blk *Block, prep *Prep, lo, hi int) error {
	s.pos, s.val = s.pos[:0], s.val[:0]
	if !s.cfg.Implicit {
		for j := lo; j < hi; j++ {
			if !prep.held(j) {
				s.pos = append(s.pos, prep.pos[j])
				s.val = append(s.val, blk.Value[j])
			}
		}
		return nil
	}
	for j := lo; j < hi; {
		pos := prep.pos[j]
		v := blk.Value[j]
		e := j + 1
		for ; e < hi && prep.pos[e] == pos; e++ {
			v += blk.Value[e]
		}
		held := prep.held(j)
		j = e
		switch {
		case v < 0:
			return errorf(ErrBlock, "count %v < 0 in an implicit job", v)
		case held || v == 0:
		default:
			s.pos = append(s.pos, pos)
			s.val = append(s.val, v)
		}
	}
	return nil
}

// solve writes the factor of the row whose interactions are [lo, hi) of blk
// into dst and returns its number of training interactions n (explicit:
// observations; implicit: distinct pairs with a positive count). A row
// with n = 0 gets a zero factor. On the AVX2 path the factorisation may
// wait in a batch: dst is final after flush. An error is a *rowError.
func (s *rowSolver) solve(row int, dst []float64, blk *Block, prep *Prep, lo, hi int) (int, error) {
	if err := s.collect(blk, prep, lo, hi); err != nil {
		// An earlier row's failure in the batch comes first, as it
		// would one row at a time.
		if ferr := s.flush(); ferr != nil {
			return 0, ferr
		}
		return 0, &rowError{row, err}
	}
	r, rp := s.r, s.rp
	n := len(s.pos)
	if n == 0 {
		clear(dst[:r])
		return 0, nil
	}
	// The first chunk starts A from zero (explicit) or from YᵀY
	// (implicit), later ones from A.
	var from []float64
	if s.cfg.Implicit {
		from = s.gram
	}
	clear(s.b)
	s.touch(s.pos[:min(n, s.chunk)])
	// Most rows fit in one chunk: the next row's first chunk comes from
	// memory while this row is summed and solved.
	if row+1 < len(blk.IDs) {
		lo, hi := int(blk.Ptr[row+1]), int(blk.Ptr[row+2])
		s.touch(prep.pos[lo:min(hi, lo+s.chunk)])
	}
	for c0 := 0; c0 < n; c0 += s.chunk {
		c1 := min(c0+s.chunk, n)
		if c1 < n {
			s.touch(s.pos[c1:min(c1+s.chunk, n)])
		}
		m := c1 - c0
		if s.cfg.Implicit {
			alpha := s.cfg.Alpha
			for k, pos := range s.pos[c0:c1] {
				w := float64(alpha * s.val[c0+k])
				gatherScaled(s.ys[k*rp:k*rp+r], s.wy[k*rp:k*rp+r], s.tab.Row(int(pos)), w)
				s.z[k] = 1 + w
			}
		} else {
			for k, pos := range s.pos[c0:c1] {
				gather(s.ys[k*rp:k*rp+r], s.tab.Row(int(pos)))
			}
			copy(s.z, s.val[c0:c1])
		}
		accGram(s.a, from, r, rp, s.wy, s.ys, m)
		accVec(s.b, r, rp, s.z, s.ys, m)
		from = s.a
	}
	lam := s.cfg.Lambda
	if s.cfg.weighted() {
		lam = float64(lam * float64(n))
	}
	for k := range r {
		s.a[k*rp+k] += lam
	}
	if s.bat != nil {
		s.bat.Put(s.a, rp, s.b, row, dst)
		if s.bat.Len() == kernel.BatchLanes {
			return n, s.flush()
		}
		return n, nil
	}
	if !cholesky(s.a, r, rp) {
		return n, &rowError{row, errorf(ErrSolve, "normal equations not positive definite")}
	}
	cholSolve(s.a, r, rp, s.b)
	if !allFinite(s.b[:r]) {
		return n, &rowError{row, errorf(ErrSolve, "factor is not finite")}
	}
	copy(dst[:r], s.b[:r])
	return n, nil
}

// flush factors and solves the rows whose systems wait in the batch.
func (s *rowSolver) flush() error {
	if s.bat == nil || s.bat.Len() == 0 {
		return nil
	}
	row, bad := s.bat.Run()
	switch bad {
	case badPivot:
		return &rowError{row, errorf(ErrSolve, "normal equations not positive definite")}
	case badFactor:
		return &rowError{row, errorf(ErrSolve, "factor is not finite")}
	}
	return nil
}

// pending returns the number of rows whose factors wait in the batch.
func (s *rowSolver) pending() int {
	if s.bat == nil {
		return 0
	}
	return s.bat.Len()
}

// rowError is an error of one block row.
type rowError struct {
	row int
	err error
}

func (e *rowError) Error() string { return e.err.Error() }
func (e *rowError) Unwrap() error { return e.err }

func allFinite(v []float64) bool {
	for _, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return false
		}
	}
	return true
}

// Outcomes of a batch.
const (
	batchOK   = kernel.BatchOK
	badPivot  = kernel.BatchBadPivot
	badFactor = kernel.BatchNotFinite
)

// touch starts loading the table rows at pos (prefetchRows), so that the
// rows of the next chunk come from memory while the current chunk is
// summed, rather than one at a time as they are gathered.
func (s *rowSolver) touch(pos []int32) { prefetchRows(s.tab.F, s.r, pos) }

// gramUpper returns YᵀY of the table, rp×rp with the upper triangle set,
// computed once per Table. The rows go in ascending id order, so the sum
// is the same however the side is sharded.
func (t *Table) gramUpper() []float64 {
	t.gramOnce.Do(func() {
		r, rp := t.Rank, padRank(t.Rank)
		g := make([]float64, rp*rp)
		ys := make([]float64, chunkRows*rp)
		m := 0
		for _, i := range t.lay.ord {
			copy(ys[m*rp:m*rp+r], t.Row(int(i)))
			if m++; m == chunkRows {
				accGram(g, g, r, rp, ys, ys, m)
				m = 0
			}
		}
		if m > 0 {
			accGram(g, g, r, rp, ys, ys, m)
		}
		t.gram = g
	})
	return t.gram
}

// Gram returns YᵀY = Σ_i y_i y_iᵀ over every row of t as a Rank×Rank
// symmetric matrix, row-major, into dst (nil allocates). Every entry is one
// FMA chain over the rows in ascending id order, so it does not depend on
// how the side is sharded; implicit jobs use it.
func (t *Table) Gram(dst []float64) []float64 {
	r, rp := t.Rank, padRank(t.Rank)
	g := t.gramUpper()
	dst = grow(dst, r*r)
	for p := range r {
		for q := p; q < r; q++ {
			dst[p*r+q], dst[q*r+p] = g[p*rp+q], g[p*rp+q]
		}
	}
	return dst
}
