package linear_test

import (
	"fmt"

	"github.com/mathcrm/mathcrm/algo/linear"
)

// Spend against visits and tenure for six customers, in two shards.
var shards = []linear.Shard{
	{X: []float64{1, 2, 2, 1, 3, 5}, Y: []float64{10, 12, 21}},
	{X: []float64{4, 2, 5, 7, 6, 3}, Y: []float64{24, 33, 35}},
}

// Ordinary least squares; the values agree with scikit-learn's
// LinearRegression and numpy's σ̂²(AᵀA)⁻¹.
func ExampleReference() {
	cfg := linear.Config{Features: []string{"visits", "tenure"}}
	m, err := linear.Reference(cfg, 2, shards...)
	if err != nil {
		fmt.Println(err)
		return
	}
	for j, f := range m.Features {
		fmt.Printf("%-6s %6.3f ± %.3f\n", f, m.Coefficients[j], m.StdErrors[j])
	}
	fmt.Printf("intercept %.3f, R² %.3f, RMSE %.3f on %d rows\n", m.Intercept, m.R2, m.RMSE, m.N)
	fmt.Printf("prediction for 5 visits, tenure 4: %.2f\n", m.Predict([]float64{5, 4}))
	// Output:
	// visits  4.979 ± 0.252
	// tenure  0.837 ± 0.210
	// intercept 2.283, R² 0.995, RMSE 0.656 on 6 rows
	// prediction for 5 visits, tenure 4: 30.53
}

// The leader's loop: hand every shard the next task, absorb the results in
// shard order, commit the state, repeat.
func ExampleState() {
	s, err := linear.New(linear.Config{Lambda: 1}, 2)
	if err != nil {
		fmt.Println(err)
		return
	}
	for {
		task, done := s.Next()
		if done {
			break
		}
		results := make([]*linear.Result, len(shards))
		for i, sh := range shards { // on the workers, in any order
			results[i], err = linear.RunTask(nil, task, sh.X, len(sh.Y), 2, sh.Y, sh.W, sh.Keys, i)
			if err != nil {
				fmt.Println(err)
				return
			}
		}
		if err := s.Absorb(results); err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("%s pass done, phase %s\n", task.Kind, s.Phase())
	}
	m := s.Model()
	fmt.Printf("ridge λ=1: β = %.3f, b = %.3f, objective %.3f\n", m.Coefficients, m.Intercept, s.Objective())
	// Without held-out rows the training metrics come from the gram pass's
	// cross-products: one pass over the data.

	// Output:
	// gram pass done, phase done
	// ridge λ=1: β = [4.662 0.926], b = 3.098, objective 13.285
}

func ExampleIsHoldout() {
	for _, key := range []string{"7590-VHVEG", "5575-GNVDE", "3668-QPYBK"} {
		fmt.Println(key, linear.IsHoldout(key, 0.5, 0))
	}
	// Output:
	// 7590-VHVEG false
	// 5575-GNVDE true
	// 3668-QPYBK true
}
