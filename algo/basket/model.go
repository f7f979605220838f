package basket

import (
	"cmp"
	"math"
	"slices"

	"github.com/mathcrm/mathcrm/algo/step"
)

// Itemset is a frequent itemset: its item ids ascending, the number of
// baskets holding it and that number's share of all baskets.
type Itemset struct {
	Items   []string `json:"items"`
	Count   int64    `json:"count"`
	Support float64  `json:"support"`
}

// Rule is an association rule Antecedent → Consequent.
type Rule struct {
	Antecedent []string `json:"antecedent"`
	Consequent []string `json:"consequent"`
	// Count is the number of baskets holding both sides.
	Count      int64   `json:"count"`
	Support    float64 `json:"support"`
	Confidence float64 `json:"confidence"`
	Lift       float64 `json:"lift"`
	Leverage   float64 `json:"leverage"`
	// Conviction is +Inf when Confidence is 1.
	Conviction float64 `json:"conviction"`
}

// Model is the result of a basket job.
type Model struct {
	Config   Config `json:"config"`
	Baskets  int64  `json:"baskets"`
	MinCount int64  `json:"min_count"`
	// Itemsets are by length, then by their item ids.
	Itemsets []Itemset `json:"itemsets"`
	// Rules are by confidence, then lift, descending, then by antecedent
	// and consequent ids.
	Rules []Rule `json:"rules"`
	// Names are the display names of the frequent items that have one.
	Names map[string]string `json:"names,omitempty"`
}

// maxRuleLen bounds the itemsets rules are made of: an itemset of k items
// has 2^k − 2 splits.
const maxRuleLen = 20

// Model returns the itemsets and rules of a finished job, or nil before.
func (s *State) Model() *Model {
	if !s.Done {
		return nil
	}
	m := &Model{Config: s.Config, Baskets: s.Baskets, MinCount: s.MinCount, Names: s.Names}
	n := float64(s.Baskets)
	names := func(set []int32) []string {
		out := make([]string, len(set))
		for i, p := range set {
			out[i] = s.Items[p]
		}
		return out
	}
	count := map[string]int64{}
	for i, it := range s.Items {
		m.Itemsets = append(m.Itemsets, Itemset{Items: []string{it}, Count: s.ItemCounts[i], Support: float64(s.ItemCounts[i]) / n})
		count[key([]int32{int32(i)})] = s.ItemCounts[i]
	}
	for _, lv := range s.Levels {
		for i, c := range lv.Counts {
			set := lv.Sets[i*lv.Len : (i+1)*lv.Len]
			m.Itemsets = append(m.Itemsets, Itemset{Items: names(set), Count: c, Support: float64(c) / n})
			count[key(set)] = c
		}
	}
	var a, b []int32
	for _, lv := range s.Levels {
		if lv.Len > maxRuleLen {
			break
		}
		for i, c := range lv.Counts {
			set := lv.Sets[i*lv.Len : (i+1)*lv.Len]
			for mask := uint32(1); mask < 1<<lv.Len-1; mask++ {
				a, b = a[:0], b[:0]
				for j, p := range set {
					if mask&(1<<j) != 0 {
						a = append(a, p)
					} else {
						b = append(b, p)
					}
				}
				ca, cb := count[key(a)], count[key(b)]
				conf := float64(c) / float64(ca)
				if conf < s.Config.MinConfidence {
					continue
				}
				supp, sa, sb := float64(c)/n, float64(ca)/n, float64(cb)/n
				conv := math.Inf(1)
				if c != ca {
					conv = (1 - sb) / (1 - conf)
				}
				m.Rules = append(m.Rules, Rule{Antecedent: names(a), Consequent: names(b), Count: c, Support: supp,
					Confidence: conf, Lift: conf / sb, Leverage: supp - sa*sb, Conviction: conv})
			}
		}
	}
	slices.SortFunc(m.Rules, func(x, y Rule) int {
		return cmp.Or(cmp.Compare(y.Confidence, x.Confidence), cmp.Compare(y.Lift, x.Lift),
			slices.Compare(x.Antecedent, y.Antecedent), slices.Compare(x.Consequent, y.Consequent))
	})
	return m
}

// Reference mines the shards in one process, pass by pass as the cluster
// does: the model is the cluster's, bit for bit.
func Reference(cfg Config, shards ...*Baskets) (*Model, error) {
	s, err := New(cfg)
	if err != nil {
		return nil, err
	}
	err = step.Run(s, len(shards), func(prev *Result, t *Task, i int) (*Result, error) {
		return RunTask(prev, t, shards[i], i)
	})
	if err != nil {
		return nil, err
	}
	return s.Model(), nil
}
