package rfm

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// row is one transaction as a test writes it.
type row struct {
	key     string
	t       int64
	amount  float64
	invoice string
	ret     bool
}

// build groups rows into a Tx: customers ascending, each customer's rows in
// the order given (callers give them ascending in time). withInvoice keeps
// the invoice column; flags keeps the Return column.
func build(rows []row, withInvoice, flags bool) *Tx {
	rows = slices.Clone(rows)
	slices.SortStableFunc(rows, func(a, b row) int { return strings.Compare(a.key, b.key) })
	tx := &Tx{Ptr: []int32{0}}
	for i, r := range rows {
		if i == 0 || r.key != rows[i-1].key {
			if i > 0 {
				tx.Ptr = append(tx.Ptr, int32(i))
			}
			tx.Keys = append(tx.Keys, r.key)
		}
		tx.Time = append(tx.Time, r.t)
		tx.Amount = append(tx.Amount, r.amount)
		if withInvoice {
			tx.Invoice = append(tx.Invoice, r.invoice)
		}
		if flags {
			tx.Return = append(tx.Return, r.ret || r.amount < 0)
		}
	}
	if len(rows) > 0 {
		tx.Ptr = append(tx.Ptr, int32(len(rows)))
	}
	if withInvoice && tx.Invoice == nil {
		tx.Invoice = []string{}
	}
	return tx
}

// shardOf places a key by FNV-1a, as an import would.
func shardOf(key string, n int) int {
	h := fnv.New64a()
	h.Write([]byte(key))
	return int(h.Sum64() % uint64(n))
}

// reshard splits rows into n shards by a hash of the key, keeping each
// customer's rows in order.
func reshard(rows []row, n int, withInvoice, flags bool) []*Tx {
	parts := make([][]row, n)
	for _, r := range rows {
		i := shardOf(r.key, n)
		parts[i] = append(parts[i], r)
	}
	out := make([]*Tx, n)
	for i, p := range parts {
		out[i] = build(p, withInvoice, flags)
	}
	return out
}

// run drives a job over shards as a leader would, round-tripping the State
// through JSON between passes (a new leader resuming), and returns the
// cuts, the number of passes and every shard's Features merged in key
// order.
func run(t testing.TB, cfg Config, shards []*Tx) (Cuts, int, *Table) {
	t.Helper()
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for {
		task, done := s.Next()
		if done {
			break
		}
		task = roundTrip(t, task)
		results := make([]*Result, len(shards))
		for i, tx := range shards {
			if results[i], err = RunTask(task, tx); err != nil {
				t.Fatal(err)
			}
			results[i] = roundTrip(t, results[i])
		}
		if err := s.Absorb(results); err != nil {
			t.Fatal(err)
		}
		s = roundTrip(t, s)
		if s.Iteration() > 8 {
			t.Fatalf("%d passes, the bound is 8", s.Iteration())
		}
	}
	cuts := s.Cuts()
	var parts []*Table
	for _, tx := range shards {
		tb, err := Features(cfg, cuts, tx)
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, tb)
	}
	return cuts, s.Iteration(), mergeTables(parts)
}

// mergeTables merges per-shard tables into one in key order.
func mergeTables(parts []*Table) *Table {
	type ref struct {
		key  string
		p, i int
	}
	var refs []ref
	out, _ := newTable(0, StandardSegments())
	out.Segments = nil
	for p, tb := range parts {
		if p == 0 {
			out.Segments = tb.Segments
		}
		for i, k := range tb.Keys {
			refs = append(refs, ref{k, p, i})
		}
		out.Dropped.add(tb.Dropped)
	}
	slices.SortFunc(refs, func(a, b ref) int { return strings.Compare(a.key, b.key) })
	for _, r := range refs {
		out.Keys = append(out.Keys, r.key)
		for j := range out.Values {
			out.Values[j] = append(out.Values[j], parts[r.p].Values[j][r.i])
		}
	}
	return out
}

// mustJSON returns the JSON encoding of v. encoding/json writes the
// shortest decimal that round-trips each float64, so equal encodings mean
// equal bits.
func mustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func roundTrip[T any](t testing.TB, v *T) *T {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	out := new(T)
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatal(err)
	}
	return out
}

// genSpec shapes random transactions.
type genSpec struct {
	customers int
	maxRows   int
	days      int // time span
	amounts   func(r *rand.Rand) float64
	invoices  bool // draw invoice ids from a small set per customer
	returns   float64
}

// gen draws transactions: each customer's rows ascending in time, some at
// equal times, some returns, some with shared invoices.
func gen(r *rand.Rand, g genSpec) []row {
	var rows []row
	for c := range g.customers {
		key := fmt.Sprintf("c%06d", c)
		n := 1 + r.IntN(g.maxRows)
		t := int64(1_600_000_000) + r.Int64N(int64(g.days)*SecondsPerDay)
		inv := 0
		for range n {
			if r.IntN(3) > 0 { // a third of the rows share the previous time
				t += r.Int64N(int64(g.days)*SecondsPerDay/int64(n) + 1)
			}
			if r.IntN(2) == 0 {
				inv++
			}
			a := g.amounts(r)
			ret := r.Float64() < g.returns
			if ret && r.IntN(2) == 0 {
				a = -a
			}
			rows = append(rows, row{key: key, t: t, amount: a, invoice: fmt.Sprintf("%s-%d", key, inv), ret: ret})
		}
	}
	return rows
}
