package als_test

import (
	"fmt"

	"github.com/mathcrm/mathcrm/algo/als"
)

// Train an explicit model on a handful of ratings in one process and
// recommend items to a user.
func ExampleReference() {
	users := []string{"ann", "ann", "ann", "bob", "bob", "cat", "cat", "cat", "dan", "dan"}
	items := []string{"tea", "jam", "bun", "tea", "jam", "jam", "bun", "pie", "tea", "pie"}
	stars := []float64{5, 4, 1, 5, 5, 2, 5, 4, 4, 1}
	shard := func(id string) int { return int(als.KeyHash(id, 0) % 2) }
	byUser, byItem := als.BuildBlocks(2, shard, users, items, stars)

	cfg := als.DefaultConfig()
	cfg.Rank, cfg.Lambda, cfg.Iterations = 2, 0.05, 20
	m, err := als.Reference(cfg, byUser, byItem)
	if err != nil {
		fmt.Println(err)
		return
	}
	last := m.History[len(m.History)-1]
	fmt.Printf("training RMSE %.2f\n", last.TrainRMSE)
	for _, r := range m.Recommend(nil, "bob", []string{"jam", "tea"}, 1) {
		fmt.Printf("bob: %s\n", r.ID)
	}
	for _, r := range m.Recommend(nil, "eve", nil, 2) {
		fmt.Printf("eve (new): %s, rated %v times\n", r.ID, r.Score)
	}
	// Output:
	// training RMSE 0.07
	// bob: pie
	// eve (new): jam, rated 3 times
	// eve (new): tea, rated 3 times
}
