package clv_test

import (
	"fmt"
	"time"

	"github.com/mathcrm/mathcrm/algo/clv"
)

// A customer's value from a fitted BG/NBD and Gamma-Gamma model (the CDNOW
// estimates of Fader, Hardie & Lee 2005 and Fader & Hardie 2013).
func ExampleCLV() {
	bg := &clv.PurchaseModel{Model: clv.BGNBD, Params: []float64{0.243, 4.414, 0.793, 2.426}}
	gg := &clv.SpendModel{Params: []float64{6.25, 3.74, 15.44}}
	// Two repeat purchases, the last 30.43 weeks after the first, seen
	// for 38.86 weeks, spending 22.35 on average.
	x, tx, T, m := 2.0, 30.43, 38.86, 22.35
	alive, _ := bg.PAlive(x, tx, T)
	next, _ := bg.ExpectedPurchases(39, x, tx, T)
	spend, _ := gg.ExpectedSpend(x, m)
	value, _ := clv.CLV(bg, gg, clv.Week, clv.DefaultValueConfig, x, tx, T, m)
	fmt.Printf("P(alive) %.3f, %.3f purchases in 39 weeks, %.2f a purchase, CLV %.2f\n", alive, next, spend, value)
	// Output: P(alive) 0.727, 1.226 purchases in 39 weeks, 24.66 a purchase, CLV 36.29
}

// The summaries of one shard of transactions: purchases on one day are
// one purchase; c buys only after the calibration end and has no row.
func ExampleSummarize() {
	day := func(s string) int64 { t, _ := time.Parse("2006-01-02", s); return t.Unix() }
	tx := &clv.Tx{
		Keys:   []string{"a", "b", "c"},
		Ptr:    []int32{0, 4, 5, 6},
		Time:   []int64{day("2024-01-01"), day("2024-01-15"), day("2024-01-15"), day("2024-02-26"), day("2024-02-05"), day("2024-04-02")},
		Amount: []float64{10, 20, 6, 30, 5, 40},
	}
	s, err := clv.Summarize(tx, clv.Config{CalibrationEnd: day("2024-04-01")})
	if err != nil {
		panic(err)
	}
	for i, k := range s.Keys {
		fmt.Printf("%s: x=%v tx=%v T=%v spend=%v\n", k, s.X[i], s.Tx[i], s.T[i], s.Spend[i])
	}
	fmt.Println("only after:", s.Counts.OnlyAfter)
	// Output:
	// a: x=2 tx=8 T=13 spend=28
	// b: x=0 tx=0 T=8 spend=0
	// only after: 1
}
