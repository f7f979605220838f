package rfm

import (
	"math/rand/v2"
	"testing"
)

var benchSink *Result

// benchShard returns one shard of customers with about 10 rows each.
func benchShard(customers int, invoices bool) (*Tx, Config) {
	r := rand.New(rand.NewPCG(11, 12))
	rows := gen(r, genSpec{customers: customers, maxRows: 19, days: 730, amounts: amountDists["lognormal"], returns: 0.05})
	return build(rows, invoices, true), Config{AsOf: DefaultAsOf(maxTime(rows))}
}

// benchRunTask times one shard's answer to the first (widest) task, by
// size; rows/s is reported per row read.
func benchRunTask(b *testing.B, customers int, invoices bool) {
	tx, cfg := benchShard(customers, invoices)
	s, _ := New(cfg)
	task, _ := s.Next()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		r, err := RunTask(task, tx)
		if err != nil {
			b.Fatal(err)
		}
		benchSink = r
	}
	b.ReportMetric(float64(len(tx.Time))*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

func BenchmarkRunTask10k(b *testing.B)          { benchRunTask(b, 10_000, false) }
func BenchmarkRunTask100k(b *testing.B)         { benchRunTask(b, 100_000, false) }
func BenchmarkRunTask100kInvoices(b *testing.B) { benchRunTask(b, 100_000, true) }

var benchTable *Table

func BenchmarkFeatures100kInvoices(b *testing.B) {
	tx, cfg := benchShard(100_000, true)
	_, cuts, err := Reference(cfg, tx)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if benchTable, err = Features(cfg, cuts, tx); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(tx.Time))*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
