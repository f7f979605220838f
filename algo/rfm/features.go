package rfm

import (
	"slices"
	"strconv"
	"strings"

	"github.com/mathcrm/mathcrm/algo/quantile"

	"github.com/mathcrm/mathcrm/algo/step"
)

// Column indexes of a Table, in ColumnNames order.
const (
	ColRecency = iota
	ColFrequency
	ColMonetarySum
	ColMonetaryMean
	ColTenure
	ColRScore
	ColFScore
	ColMScore
	// ColSegment holds the code of the customer's segment, the index of
	// its name in Table.Segments.
	ColSegment
	NumColumns
)

// ColumnNames returns the names of a Table's columns, in order.
func ColumnNames() []string {
	return []string{"recency_days", "frequency", "monetary_sum", "monetary_mean", "tenure_days", "r_score", "f_score", "m_score", "segment"}
}

// Table holds the RFM features of a set of customers.
type Table struct {
	// Keys are the customers with a purchase before as-of, ascending.
	Keys []string `json:"keys"`
	// Columns are ColumnNames().
	Columns []string `json:"columns"`
	// Values holds one slice per column, each with one value per key.
	Values [][]float64 `json:"values"`
	// Segments is the dictionary of the segment column, the Config's
	// SegmentMap().Names(): code i is Segments[i].
	Segments []string `json:"segments"`
	// Dropped counts the customers and rows left out.
	Dropped Dropped `json:"dropped"`
}

// Rows returns the number of customers in t.
func (t *Table) Rows() int { return len(t.Keys) }

// SegmentCounts returns how many customers of t are in each segment, by
// code.
func (t *Table) SegmentCounts() []int64 {
	out := make([]int64, len(t.Segments))
	for _, c := range t.Values[ColSegment] {
		out[int(c)]++
	}
	return out
}

// newTable returns an empty table whose segment column follows segs, a
// map that validates.
func newTable(capacity int, segs SegmentMap) (*Table, *[NumCombos]uint8) {
	t := &Table{Columns: ColumnNames(), Values: make([][]float64, NumColumns), Segments: segs.Names()}
	for j := range t.Values {
		t.Values[j] = make([]float64, 0, capacity)
	}
	return t, segs.codes()
}

func (t *Table) append(key string, v values, cuts *Cuts, codes *[NumCombos]uint8) {
	t.Keys = append(t.Keys, key)
	r, f, m := cuts.RScore(v.recency), cuts.FScore(v.frequency), cuts.MScore(v.sum)
	row := [NumColumns]float64{
		ColRecency:      v.recency,
		ColFrequency:    v.frequency,
		ColMonetarySum:  v.sum,
		ColMonetaryMean: v.sum / v.frequency,
		ColTenure:       v.tenure,
		ColRScore:       float64(r),
		ColFScore:       float64(f),
		ColMScore:       float64(m),
		ColSegment:      float64(codes[comboIndex(r, f, m)]),
	}
	for j, x := range row {
		t.Values[j] = append(t.Values[j], x)
	}
}

// Features computes the final rows of one shard: one per customer with a
// purchase before cfg.AsOf, in key order, scored by cuts (the State's
// final Cuts, or Reference's). cuts must be for cfg.AsOf.
func Features(cfg Config, cuts Cuts, tx *Tx) (*Table, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := cuts.Validate(); err != nil {
		return nil, err
	}
	if cuts.AsOf != cfg.AsOf {
		return nil, errorf(ErrBadCuts, "cuts are for as-of %d, the config's is %d", cuts.AsOf, cfg.AsOf)
	}
	if err := tx.Check(); err != nil {
		return nil, err
	}
	t, codes := newTable(len(tx.Keys), cfg.SegmentMap())
	sc := scanner{asOf: cfg.AsOf}
	for c, k := range tx.Keys {
		v, ok, after, err := sc.customer(tx, c)
		if err != nil {
			return nil, err
		}
		t.Dropped.AfterAsOf += after
		if !ok {
			t.Dropped.NoPurchase++
			continue
		}
		t.append(k, v, &cuts, codes)
	}
	return t, nil
}

// Reference computes the features of every customer of the given shards in
// one process, the cuts by sorting, and returns the Table of all customers
// in key order. It is the plain implementation the distributed one is
// tested against. A customer whose rows are in two shards is ErrBadTx.
func Reference(cfg Config, shards ...*Tx) (*Table, Cuts, error) {
	if err := cfg.Validate(); err != nil {
		return nil, Cuts{}, err
	}
	type cust struct {
		key string
		v   values
	}
	var all []cust
	var keys []string // every customer's, to find one split over shards
	var dropped Dropped
	sc := scanner{asOf: cfg.AsOf}
	for i, tx := range shards {
		if err := tx.Check(); err != nil {
			return nil, Cuts{}, wrapShard(err, i)
		}
		keys = append(keys, tx.Keys...)
		for c, k := range tx.Keys {
			v, ok, after, err := sc.customer(tx, c)
			if err != nil {
				return nil, Cuts{}, wrapShard(err, i)
			}
			dropped.AfterAsOf += after
			if !ok {
				dropped.NoPurchase++
				continue
			}
			all = append(all, cust{k, v})
		}
	}
	slices.Sort(keys)
	for i := 1; i < len(keys); i++ {
		if keys[i] == keys[i-1] {
			return nil, Cuts{}, errorf(ErrBadTx, "customer %q has rows in two shards", keys[i])
		}
	}
	if len(all) == 0 {
		return nil, Cuts{}, errorf(ErrNoCustomers, "no customer with a purchase before as-of %d", cfg.AsOf)
	}
	slices.SortFunc(all, func(a, b cust) int { return strings.Compare(a.key, b.key) })
	var g [NumFeatures][]float64
	for f := range Feature(NumFeatures) {
		g[f] = make([]float64, len(all))
		for i, c := range all {
			g[f][i] = goodness(f, c.v.of(f))
		}
	}
	qc, err := quantile.Reference(quintiles, g[:]...)
	if err != nil { // a constant config
		return nil, Cuts{}, err
	}
	cuts := cutsOf(qc, cfg.AsOf, int64(len(all)))
	t, codes := newTable(len(all), cfg.SegmentMap())
	t.Dropped = dropped
	for _, c := range all {
		t.append(c.key, c.v, &cuts, codes)
	}
	return t, cuts, nil
}

func wrapShard(err error, shard int) error {
	if w, ok := err.(*step.Error); ok {
		return &step.Error{Msg: "rfm: shard " + strconv.Itoa(shard) + ": " + w.Msg[len("rfm: "):], Err: w.Err}
	}
	return err
}
