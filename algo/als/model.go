package als

import (
	"slices"
	"strings"
)

// Model is a trained model in memory: the factors of every user and item,
// assembled from the factor shards a Summary names.
type Model struct {
	Config     Config `json:"config"`
	Iterations int    `json:"iterations"`
	// Users and Items hold every user's and item's factor and training
	// count, shard after shard.
	Users *Table `json:"users"`
	Items *Table `json:"items"`
	// Popular holds the most popular items, most popular first: the
	// recommendations for users the model cannot score.
	Popular []Popular `json:"popular,omitempty"`
	History []Iter    `json:"history"`
}

// Scored is an item with its score.
type Scored struct {
	ID    string  `json:"id"`
	Score float64 `json:"score"`
}

// NewModel assembles the model of sum from its factor shards: users[i] is
// the blob sum.Users[i] names, items[i] the one sum.Items[i] names.
func NewModel(sum *Summary, users, items []*Factors) (*Model, error) {
	if sum == nil || len(users) != len(sum.Users) || len(items) != len(sum.Items) {
		return nil, errorf(ErrFactors, "NewModel needs the summary and one factor shard per reference")
	}
	m := &Model{Config: sum.Config, Iterations: sum.Iterations, Popular: sum.Popular, History: sum.History}
	var err error
	for _, side := range []struct {
		dst    **Table
		shards []*Factors
		name   string
	}{{&m.Users, users, "user"}, {&m.Items, items, "item"}} {
		if *side.dst, err = NewTable(nil, side.shards); err != nil {
			return nil, contextf(err, "%s factors", side.name)
		}
		if t := *side.dst; t.Len() > 0 && (t.Rank != sum.Config.Rank || t.Count == nil) {
			return nil, errorf(ErrFactors, "%s factors have rank %d (want %d) or no counts", side.name, t.Rank, sum.Config.Rank)
		}
	}
	return m, nil
}

// Recommend returns the n items the model scores highest for user, best
// first (score descending, then id ascending), skipping the ids in
// exclude (ascending; typically the items the user already has). A user
// the model does not know, or whose factor is untrained, gets the most
// popular items instead, scored by their training counts. It appends to
// dst[:0].
func (m *Model) Recommend(dst []Scored, user string, exclude []string, n int) []Scored {
	if i, ok := m.Users.Index(user); ok && m.Users.Count[i] > 0 {
		return TopN(dst, m.Users.Row(i), m.Items, exclude, n)
	}
	return PopularTopN(dst, m.Popular, exclude, n)
}

// Score returns u·v for a user and an item (dot's summation order), and
// false when the model knows neither trained.
func (m *Model) Score(user, item string) (float64, bool) {
	i, ok := m.Users.Index(user)
	j, ok2 := m.Items.Index(item)
	if !ok || !ok2 || m.Users.Count[i] == 0 || m.Items.Count[j] == 0 {
		return 0, false
	}
	return dot(m.Users.Row(i), m.Items.Row(j)), true
}

// TopN returns the n items of items with the highest scores u·v (dot's
// order), best first, ties to the smaller id, among the items with a
// trained factor (all of them when items has no counts) that are not in
// exclude (ascending). It appends to dst[:0]. It panics if len(u) is not
// items.Rank.
func TopN(dst []Scored, u []float64, items *Table, exclude []string, n int) []Scored {
	dst = dst[:0]
	if n <= 0 || items.Len() == 0 {
		return dst
	}
	if len(u) != items.Rank {
		panic("als: TopN factor length differs from the table's rank")
	}
	var top topk
	top.reset(n)
	ex := 0 // exclude is ascending, items are not: look each up
	skip := make(map[int32]bool, len(exclude))
	for ; ex < len(exclude); ex++ {
		if i, ok := items.Index(exclude[ex]); ok {
			skip[int32(i)] = true
		}
	}
	scores := make([]float64, items.Len())
	scoreAll(scores, u, items.F, items.Len())
	for i, s := range scores {
		if (items.Count != nil && items.Count[i] == 0) || skip[int32(i)] {
			continue
		}
		top.offer(int32(i), s, items.IDs)
	}
	for j, p := range top.pos {
		dst = append(dst, Scored{ID: items.IDs[p], Score: top.score[j]})
	}
	return dst
}

// PopularTopN returns the first n items of popular (most popular first)
// that are not in exclude (ascending), scored by their counts. It appends
// to dst[:0].
func PopularTopN(dst []Scored, popular []Popular, exclude []string, n int) []Scored {
	dst = dst[:0]
	for _, p := range popular {
		if len(dst) >= n {
			break
		}
		if _, found := slices.BinarySearchFunc(exclude, p.ID, strings.Compare); found {
			continue
		}
		dst = append(dst, Scored{ID: p.ID, Score: float64(p.Count)})
	}
	return dst
}
