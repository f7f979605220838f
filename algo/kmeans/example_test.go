package kmeans_test

import (
	"fmt"
	"math"

	"github.com/mathcrm/mathcrm/algo/kmeans"
)

// Two shards of 2-D rows around (0, 0) and (10, 10), with one profile column
// (age) that has a missing value.
var (
	shards = [][]float64{
		{0, 0, 0.5, 0, 10, 10, 0, 0.5},
		{10.5, 10, 10, 10.5, 0.5, 0.5},
	}
	ages = [][]float64{
		{30, 32, 60, 34},
		{62, math.NaN(), 31},
	}
)

func ExampleReference() {
	m, err := kmeans.Reference(kmeans.Config{K: 2, Seed: 1, Tol: 1e-9}, shards, 2, ages, 1)
	if err != nil {
		fmt.Println(err)
		return
	}
	for c := range m.K {
		fmt.Printf("centroid %.3f size %d mean age %.1f (%d known)\n",
			m.Centroids[c*2:c*2+2], m.Sizes[c], m.Profile[c], m.ProfileCount[c])
	}
	label, d2 := kmeans.Nearest(m.Centroids, m.K, m.D, []float64{9, 9})
	fmt.Printf("(9, 9) -> cluster %d at squared distance %.3f\n", label, d2)
	// Output:
	// centroid [0.250 0.250] size 4 mean age 31.8 (4 known)
	// centroid [10.167 10.167] size 3 mean age 61.0 (2 known)
	// (9, 9) -> cluster 1 at squared distance 2.722
}

// The leader's loop: hand every shard the next task, absorb the results in
// shard order, commit the state, repeat.
func ExampleState() {
	s, err := kmeans.New(kmeans.Config{K: 2, Seed: 1, Tol: 1e-9, NProfile: 1}, 2)
	if err != nil {
		fmt.Println(err)
		return
	}
	for {
		task, done := s.Next()
		if done {
			break
		}
		results := make([]*kmeans.Result, len(shards))
		for i, x := range shards { // on the workers, in any order
			results[i], err = kmeans.RunTask(nil, task, x, len(x)/2, 2, ages[i], 1, i)
			if err != nil {
				fmt.Println(err)
				return
			}
		}
		if err := s.Absorb(results); err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("%s: phase %s, iteration %d\n", task.Kind, s.Phase(), s.Iteration())
	}
	fmt.Printf("inertia %.3f after %d iterations\n", s.Model().Inertia, s.Model().Iterations)
	// Output:
	// pick: phase init, iteration 0
	// cost: phase init, iteration 0
	// sample: phase init, iteration 0
	// cost: phase init, iteration 0
	// sample: phase init, iteration 0
	// counts: phase lloyd, iteration 0
	// lloyd: phase final, iteration 1
	// final: phase done, iteration 1
	// inertia 0.833 after 1 iterations
}
