// Package basket mines exact frequent itemsets and association rules from
// market baskets, the distributed way: count distribution (Agrawal &
// Shafer 1996) over Apriori's levels (Agrawal & Srikant 1994).
//
// Pass 1 every shard counts the baskets that hold each item. The leader
// keeps the items of at least MinCount baskets — the frequent items, sorted
// by id, which from then on stand for themselves by their position — and
// proposes the candidate 2-itemsets. Each later pass every shard counts, for
// every candidate, the baskets that hold it; the leader keeps the frequent
// ones and joins them into the candidates one item longer (two frequent
// k-itemsets sharing their first k−1 items), pruned of any that has an
// infrequent k-subset, until no candidate is left or MaxLen is reached.
//
// Invariants:
//   - Counts are exact integers, summed in shard order: the itemsets, their
//     counts and the rules are the same whatever the number of shards or
//     workers, and equal those of enumerating every basket's subsets.
//   - A partial holds one count per distinct item of its shard (pass 1) or
//     one count per candidate (later passes): its size does not depend on
//     the number of baskets. The leader refuses a level with more than
//     MaxCandidates candidates, naming the level, the count, and the
//     support that would bound it, rather than run out of memory.
//   - An item counts once per basket however often it is bought in it.
//
// Rules are every split of a frequent itemset I (|I| ≥ 2) into an antecedent
// A and consequent C = I∖A with confidence count(I)/count(A) ≥
// MinConfidence, with support count(I)/N, lift conf/supp(C), leverage
// supp(I) − supp(A)·supp(C) and conviction (1 − supp(C))/(1 − conf)
// (+Inf when conf = 1), the measures of mlxtend's association_rules and
// Spark's FPGrowth.
package basket
