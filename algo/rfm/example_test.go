package rfm_test

import (
	"fmt"
	"time"

	"github.com/mathcrm/mathcrm/algo/rfm"
)

func unix(s string) int64 {
	t, err := time.Parse(time.DateTime, s)
	if err != nil {
		panic(err)
	}
	return t.Unix()
}

// Two shards of a shop's transactions; "C…" invoices are returns.
var shards = []*rfm.Tx{{
	Keys: []string{"ann", "cat", "eve"},
	Ptr:  []int32{0, 4, 5, 7},
	Time: []int64{
		unix("2024-03-01 10:00:00"), unix("2024-03-01 10:00:00"), unix("2024-03-20 16:30:00"), unix("2024-03-22 09:00:00"),
		unix("2024-03-30 18:00:00"),
		unix("2024-01-05 12:00:00"), unix("2024-02-10 12:00:00")},
	Amount:  []float64{30, 12.5, 80, -80, 15, 200, 40},
	Invoice: []string{"1001", "1001", "1042", "C1042", "1077", "0950", "0990"},
	Return:  []bool{false, false, false, true, false, false, false},
}, {
	Keys:    []string{"bob", "dan", "fay"},
	Ptr:     []int32{0, 3, 4, 5},
	Time:    []int64{unix("2024-02-01 08:00:00"), unix("2024-03-02 08:00:00"), unix("2024-03-29 20:00:00"), unix("2024-03-10 11:00:00"), unix("2024-03-15 13:00:00")},
	Amount:  []float64{55, 60, 65, 5, -20},
	Invoice: []string{"0970", "1003", "1075", "1020", "C1030"},
	Return:  []bool{false, false, false, false, true},
}}

// The leader's loop: hand every shard the task, absorb the results in
// shard order until the cuts are known; then each shard writes its rows.
func Example() {
	cfg := rfm.Config{AsOf: rfm.DefaultAsOf(unix("2024-03-30 18:00:00"))}
	s, err := rfm.New(cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	for {
		task, done := s.Next()
		if done {
			break
		}
		results := make([]*rfm.Result, len(shards))
		for i, tx := range shards { // on the workers, in any order
			if results[i], err = rfm.RunTask(task, tx); err != nil {
				fmt.Println(err)
				return
			}
		}
		if err := s.Absorb(results); err != nil {
			fmt.Println(err)
			return
		}
	}
	cuts := s.Cuts()
	fmt.Printf("as of %s, %d passes, %d customers, %+v left out\n",
		time.Unix(cuts.AsOf, 0).UTC().Format(time.DateOnly), s.Iteration(), cuts.N, s.DroppedTotals())
	fmt.Println("cuts: recency", cuts.Recency, "frequency", cuts.Frequency, "monetary", cuts.Monetary)
	fmt.Println("key  recency frequency  sum   mean tenure  R F M")
	for _, tx := range shards {
		t, err := rfm.Features(cfg, cuts, tx)
		if err != nil {
			fmt.Println(err)
			return
		}
		v := t.Values
		for i, k := range t.Keys {
			fmt.Printf("%-4s %7.0f %9.0f %5.1f %6.2f %6.0f  %.0f %.0f %.0f\n", k,
				v[rfm.ColRecency][i], v[rfm.ColFrequency][i], v[rfm.ColMonetarySum][i], v[rfm.ColMonetaryMean][i],
				v[rfm.ColTenure][i], v[rfm.ColRScore][i], v[rfm.ColFScore][i], v[rfm.ColMScore][i])
		}
	}
	// fay only returned something: she has no row. Frequency ties leave
	// no one with f_score 2 or 4.

	// Output:
	// as of 2024-03-31, 2 passes, 5 customers, {NoPurchase:1 AfterAsOf:0} left out
	// cuts: recency [49 20 10 1] frequency [1 1 2 2] monetary [5 15 42.5 180]
	// key  recency frequency  sum   mean tenure  R F M
	// ann       10         2  42.5  21.25     29  3 3 3
	// cat        0         1  15.0  15.00      0  5 1 2
	// eve       49         2 240.0 120.00     85  1 3 5
	// bob        1         3 180.0  60.00     58  4 5 4
	// dan       20         1   5.0   5.00     20  2 1 1
}
