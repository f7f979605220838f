package logistic_test

import (
	"fmt"

	"github.com/mathcrm/mathcrm/algo/logistic"
)

// Churn (1) against months of tenure, standardised, for ten customers in two
// shards.
var shards = []logistic.Shard{
	{X: []float64{-1.5, -1.2, -0.9, -0.4, 0.1}, Y: []float64{1, 1, 0, 1, 0}},
	{X: []float64{0.3, 0.6, 1.0, 1.4, 1.9}, Y: []float64{0, 1, 0, 0, 0}},
}

// The values agree with scikit-learn's LogisticRegression(C=1).
func ExampleReference() {
	cfg := logistic.Config{C: 1, Features: []string{"tenure"}}
	m, err := logistic.Reference(cfg, 1, shards...)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("β = %.4f, b = %.4f after %d Newton steps (converged %v)\n",
		m.Coefficients[0], m.Intercept, m.Iterations, m.Converged)
	fmt.Printf("log-loss %.4f, AUC %.4f (%s)\n", m.Train.LogLoss, m.Train.AUC, m.Train.AUCMethod)
	fmt.Printf("P(churn | tenure −1) = %.3f\n", m.Probability([]float64{-1}))
	// Output:
	// β = -0.8770, b = -0.3771 after 4 Newton steps (converged true)
	// log-loss 0.5079, AUC 0.8333 (exact)
	// P(churn | tenure −1) = 0.622
}

// The leader's loop: hand every shard the next task, absorb the results in
// shard order, commit the state, repeat. Here with balanced class weights
// and the L-BFGS solver (scikit-learn: β = -0.8893, b = -0.0049).
func ExampleState() {
	s, err := logistic.New(logistic.Config{ClassWeight: logistic.Balanced, Solver: logistic.SolverLBFGS}, 1)
	if err != nil {
		fmt.Println(err)
		return
	}
	passes := map[logistic.TaskKind]int{}
	for {
		task, done := s.Next()
		if done {
			break
		}
		results := make([]*logistic.Result, len(shards))
		for i, sh := range shards { // on the workers, in any order
			results[i], err = logistic.RunTask(nil, task, sh.X, len(sh.Y), 1, sh.Y, sh.W, sh.Keys, i)
			if err != nil {
				fmt.Println(err)
				return
			}
		}
		if err := s.Absorb(results); err != nil {
			fmt.Println(err)
			return
		}
		passes[task.Kind]++
	}
	m := s.Model()
	fmt.Printf("passes: count %d, grad %d, eval %d\n", passes[logistic.TaskCount], passes[logistic.TaskGrad], passes[logistic.TaskEval])
	fmt.Printf("class weights %.3f, β = %.4f, b = %.4f\n", m.ClassWeights, m.Coefficients[0], m.Intercept)
	// Output:
	// passes: count 1, grad 6, eval 1
	// class weights [0.833 1.250], β = -0.8893, b = -0.0049
}
