package quantile_test

import (
	"fmt"
	"math"

	"github.com/mathcrm/mathcrm/algo/quantile"
)

// A model's predicted probabilities for thirteen customers, on three
// shards; one customer could not be scored (NaN).
var probs = [][]float64{
	{0.91, 0.12, 0.55, 0.30},
	{0.07, 0.55, 0.68, 0, 0.99},
	{0.42, 0.21, math.NaN(), 0.83},
}

// The leader's loop: hand every shard the task, absorb the results in
// shard order until the cuts are known; then each shard buckets its rows.
// Deciles are descending: decile 1 holds the highest probabilities.
func Example() {
	s, err := quantile.New(quantile.Config{Q: 10, Descending: true}, 1)
	if err != nil {
		fmt.Println(err)
		return
	}
	for {
		task, done := s.Next()
		if done {
			break
		}
		results := make([]*quantile.Result, len(probs))
		for i, p := range probs { // on the workers, in any order
			if results[i], err = quantile.RunTask(task, p); err != nil {
				fmt.Println(err)
				return
			}
		}
		if err := s.Absorb(results); err != nil {
			fmt.Println(err)
			return
		}
	}
	n, missing := s.Count(0)
	cuts := s.Cuts()[0]
	fmt.Printf("%d passes, %d values, %d missing\n", s.Step, n, missing)
	fmt.Println("cuts:", cuts)
	for i, p := range probs {
		fmt.Printf("shard %d:", i)
		for _, x := range p {
			fmt.Printf(" %v→%d", x, quantile.Bucket(cuts, x, true))
		}
		fmt.Println()
	}
	// Twelve values: cut j is the value ⌈12·j/10⌉-th from the top. The
	// two 0.55s are cuts 4 and 5 and share decile 4, leaving decile 5
	// empty; 0.91, equal to cut 1, is in decile 1 with 0.99. The customer
	// who could not be scored is in no decile (0).

	// Output:
	// 2 passes, 12 values, 1 missing
	// cuts: [0.91 0.83 0.68 0.55 0.55 0.3 0.21 0.12 0.07]
	// shard 0: 0.91→1 0.12→8 0.55→4 0.3→6
	// shard 1: 0.07→9 0.55→4 0.68→3 0→10 0.99→1
	// shard 2: 0.42→6 0.21→7 NaN→0 0.83→2
}
