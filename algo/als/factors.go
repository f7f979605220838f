package als

import (
	"encoding/json"
	"math"
	"slices"
	"strings"
	"sync"

	"github.com/mathcrm/mathcrm/internal/keyhash"
)

// Factors are the factors of one shard of one side. The worker stores them
// as a blob in the object store; they have exported fields only, so gob
// and JSON encode them.
type Factors struct {
	// IDs are the shard's row ids, ascending: the IDs of its Block.
	IDs []string
	// Rank is the number of factors per row.
	Rank int
	// F holds len(IDs)×Rank factors, row-major.
	F []float64
	// Count holds each row's number of training interactions (explicit:
	// observations; implicit: distinct pairs with a positive count). A row
	// with Count 0 is cold: its factor is zero and evaluation skips it.
	// Count is nil for initial factors, which have not been trained.
	Count []int32
}

// Row returns the factor of row i.
func (f *Factors) Row(i int) []float64 { return f.F[i*f.Rank : (i+1)*f.Rank] }

// Validate checks the lengths, the id order and that every factor is
// finite.
func (f *Factors) Validate() error {
	switch {
	case f.Rank < 1 || f.Rank > MaxRank:
		return errorf(ErrFactors, "rank %d", f.Rank)
	case len(f.F) != len(f.IDs)*f.Rank:
		return errorf(ErrFactors, "%d factors for %d rows of rank %d", len(f.F), len(f.IDs), f.Rank)
	case f.Count != nil && len(f.Count) != len(f.IDs):
		return errorf(ErrFactors, "%d counts for %d rows", len(f.Count), len(f.IDs))
	}
	for i := 1; i < len(f.IDs); i++ {
		if f.IDs[i-1] >= f.IDs[i] {
			return errorf(ErrFactors, "ids not strictly ascending at row %d (%q after %q)", i, f.IDs[i], f.IDs[i-1])
		}
	}
	for i, v := range f.F {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return errorf(ErrFactors, "row %q: factor %v", f.IDs[i/f.Rank], v)
		}
	}
	for i, c := range f.Count {
		if c < 0 {
			return errorf(ErrFactors, "row %q: count %d", f.IDs[i], c)
		}
	}
	return nil
}

// FactorRef names a factor blob in the object store. The package treats it
// as opaque: the worker fills it in after writing a blob, the State keeps
// one per shard and side, and Tasks hand them back to the workers that
// read them.
type FactorRef struct {
	Object string `json:"object"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Table is every factor shard of one side, in shard order, with an index
// from id to position. Build it with NewTable; a Table is safe for
// concurrent use once built.
type Table struct {
	// Rank is the number of factors per row.
	Rank int `json:"rank"`
	// IDs holds every row id, shard after shard.
	IDs []string `json:"ids"`
	// F holds len(IDs)×Rank factors, row-major, in the order of IDs.
	F []float64 `json:"f"`
	// Count holds every row's training count, nil when the shards have
	// none (initial factors).
	Count []int32 `json:"count,omitempty"`
	// Start holds len(shards)+1 offsets: shard s is rows
	// [Start[s], Start[s+1]).
	Start []int `json:"start"`

	lay      *layout
	gramOnce sync.Once
	gram     []float64 // rp×rp, upper triangle, in id order
}

// layout is what a Table derives from its ids alone. Tables of the same
// ids share one, so the index and the sorted order are built once per job
// and side rather than once per pass.
type layout struct {
	ids  []string
	fnv  []uint64 // FNV-1a of each id
	hash uint64   // digest of ids in order
	idx  map[string]int32
	ord  []int32 // positions in ascending id order
}

func newLayout(ids []string) (*layout, error) {
	l := &layout{ids: ids, fnv: make([]uint64, len(ids)), idx: make(map[string]int32, len(ids))}
	h := keyhash.FNV1a("") // the FNV offset basis
	for i, id := range ids {
		if j, dup := l.idx[id]; dup {
			return nil, errorf(ErrFactors, "id %q at rows %d and %d", id, j, i)
		}
		l.idx[id] = int32(i)
		l.fnv[i] = fnv1a(id)
		h = splitmix(h ^ l.fnv[i] ^ uint64(len(id)))
	}
	l.hash = splitmix(h ^ uint64(len(ids)))
	l.ord = make([]int32, len(ids))
	for i := range l.ord {
		l.ord[i] = int32(i)
	}
	slices.SortFunc(l.ord, func(a, b int32) int { return strings.Compare(ids[a], ids[b]) })
	return l, nil
}

// NewTable checks shards and concatenates them into a Table. reuse, when
// not nil, is an earlier Table of the same side: when its ids are the same
// as the shards', in the same order, the new Table shares its index, so a
// worker builds the index once per job and side, not once per pass. A nil
// shard is an empty one.
func NewTable(reuse *Table, shards []*Factors) (*Table, error) {
	t := &Table{Start: make([]int, 1, len(shards)+1)}
	n := 0
	hasCount := true
	for s, f := range shards {
		if f == nil {
			t.Start = append(t.Start, n)
			continue
		}
		if err := f.Validate(); err != nil {
			return nil, contextf(err, "shard %d", s)
		}
		if len(f.IDs) > 0 {
			if t.Rank == 0 {
				t.Rank = f.Rank
			} else if f.Rank != t.Rank {
				return nil, errorf(ErrFactors, "shard %d has rank %d, earlier shards %d", s, f.Rank, t.Rank)
			}
			hasCount = hasCount && f.Count != nil
		}
		n += len(f.IDs)
		t.Start = append(t.Start, n)
	}
	if n > math.MaxInt32 {
		return nil, errorf(ErrFactors, "%d rows in one table", n)
	}
	t.F = make([]float64, 0, n*t.Rank)
	if hasCount {
		t.Count = make([]int32, 0, n)
	}
	same := reuse != nil && reuse.lay != nil && len(reuse.lay.ids) == n
	for s, f := range shards {
		if f == nil || len(f.IDs) == 0 {
			continue
		}
		if same {
			o := t.Start[s]
			same = slices.Equal(reuse.lay.ids[o:o+len(f.IDs)], f.IDs)
		}
		t.F = append(t.F, f.F...)
		if hasCount {
			t.Count = append(t.Count, f.Count...)
		}
	}
	if same {
		t.lay = reuse.lay
	} else {
		ids := make([]string, 0, n)
		for _, f := range shards {
			if f != nil {
				ids = append(ids, f.IDs...)
			}
		}
		lay, err := newLayout(ids)
		if err != nil {
			return nil, err
		}
		t.lay = lay
	}
	t.IDs = t.lay.ids
	return t, nil
}

// Len returns the number of rows.
func (t *Table) Len() int { return len(t.IDs) }

// Row returns the factor of row i.
func (t *Table) Row(i int) []float64 { return t.F[i*t.Rank : (i+1)*t.Rank] }

// Index returns the position of id, and whether it is in the table.
func (t *Table) Index(id string) (int, bool) {
	i, ok := t.lay.idx[id]
	return int(i), ok
}

// Layout returns a digest of the table's ids in order. Tables with the
// same layout resolve a Block to the same positions, so a worker can key
// what it keeps of a Prep by it.
func (t *Table) Layout() uint64 { return t.lay.hash }

// UnmarshalJSON decodes a Table written by encoding/json and rebuilds its
// index, checking it as NewTable does.
func (t *Table) UnmarshalJSON(b []byte) error {
	var raw struct {
		Rank  int       `json:"rank"`
		IDs   []string  `json:"ids"`
		F     []float64 `json:"f"`
		Count []int32   `json:"count"`
		Start []int     `json:"start"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	start := raw.Start
	if len(start) == 0 {
		start = []int{0, len(raw.IDs)}
	}
	n, r := len(raw.IDs), raw.Rank
	if start[0] != 0 || start[len(start)-1] != n || !slices.IsSorted(start) ||
		(r < 1 && n > 0) || len(raw.F) != n*r || (raw.Count != nil && len(raw.Count) != n) {
		return errorf(ErrFactors, "table of %d rows of rank %d with %d factors, %d counts and shard offsets %v",
			n, r, len(raw.F), len(raw.Count), raw.Start)
	}
	shards := make([]*Factors, len(start)-1)
	for s := range shards {
		lo, hi := start[s], start[s+1]
		if lo == hi {
			continue // an empty shard
		}
		f := &Factors{IDs: raw.IDs[lo:hi], Rank: r, F: raw.F[lo*r : hi*r]}
		if raw.Count != nil {
			f.Count = raw.Count[lo:hi]
		}
		shards[s] = f
	}
	nt, err := NewTable(nil, shards)
	if err != nil {
		return err
	}
	t.Rank, t.IDs, t.F, t.Count, t.Start, t.lay = nt.Rank, nt.IDs, nt.F, nt.Count, nt.Start, nt.lay
	return nil
}
