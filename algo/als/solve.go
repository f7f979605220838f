package als

import "math"

// rowSolver solves the rows of one block. Its buffers are reused from row
// to row; nothing is allocated per row.
type rowSolver struct {
	cfg    Config
	r, rp  int
	tab    *Table
	gram   []float64 // implicit: the other side's YᵀY, rp×rp upper
	a, b   []float64 // the row's normal equations
	ys, wy []float64 // chunkRows gathered factors, stride rp (wy: weighted)
	z      []float64 // chunkRows right-hand-side weights
	m      int       // gathered rows in the chunk
}

func newRowSolver(cfg Config, tab *Table) *rowSolver {
	r, rp := cfg.Rank, padRank(cfg.Rank)
	s := &rowSolver{
		cfg: cfg, r: r, rp: rp, tab: tab,
		a: make([]float64, rp*rp), b: make([]float64, rp),
		ys: make([]float64, chunkRows*rp), z: make([]float64, chunkRows),
	}
	s.wy = s.ys
	if cfg.Implicit {
		s.wy = make([]float64, chunkRows*rp)
		s.gram = make([]float64, rp*rp)
		if tab.Len() > 0 {
			s.gram = tab.gramUpper()
		}
	}
	return s
}

// solve writes the factor of the row whose interactions are [lo, hi) of blk
// into dst and returns its number of training interactions n (explicit:
// observations; implicit: distinct pairs with a positive count). A row
// with n = 0 gets a zero factor.
func (s *rowSolver) solve(dst []float64, blk *Block, prep *Prep, lo, hi int) (int, error) {
	r, rp := s.r, s.rp
	if s.cfg.Implicit {
		copy(s.a, s.gram)
	} else {
		clear(s.a)
	}
	clear(s.b)
	s.m = 0
	n := 0
	if s.cfg.Implicit {
		alpha := s.cfg.Alpha
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
				return 0, errorf(ErrBlock, "count %v < 0 in an implicit job", v)
			case held || v == 0:
				continue
			}
			w := float64(alpha * v)
			y := s.tab.Row(int(pos))
			o := s.m * rp
			gy, gw := s.ys[o:o+r], s.wy[o:o+r]
			for k, x := range y {
				gy[k] = x
				gw[k] = float64(w * x)
			}
			s.z[s.m] = 1 + w
			n++
			if s.m++; s.m == chunkRows {
				s.flush()
			}
		}
	} else {
		for j := lo; j < hi; j++ {
			if prep.held(j) {
				continue
			}
			o := s.m * rp
			copy(s.ys[o:o+r], s.tab.Row(int(prep.pos[j])))
			s.z[s.m] = blk.Value[j]
			n++
			if s.m++; s.m == chunkRows {
				s.flush()
			}
		}
	}
	s.flush()
	if n == 0 {
		clear(dst[:r])
		return 0, nil
	}
	lam := s.cfg.Lambda
	if s.cfg.weighted() {
		lam = float64(lam * float64(n))
	}
	for k := range r {
		s.a[k*rp+k] += lam
	}
	if !cholesky(s.a, r, rp) {
		return n, errorf(ErrSolve, "normal equations not positive definite")
	}
	cholSolve(s.a, r, rp, s.b)
	for _, v := range s.b[:r] {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return n, errorf(ErrSolve, "factor is not finite")
		}
	}
	copy(dst[:r], s.b[:r])
	return n, nil
}

// flush adds the gathered rows to the normal equations.
func (s *rowSolver) flush() {
	if s.m == 0 {
		return
	}
	accGram(s.a, s.r, s.rp, s.wy, s.ys, s.m)
	accVec(s.b, s.r, s.rp, s.z, s.ys, s.m)
	s.m = 0
}

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
				accGram(g, r, rp, ys, ys, m)
				m = 0
			}
		}
		if m > 0 {
			accGram(g, r, rp, ys, ys, m)
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
