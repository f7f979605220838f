// Package rfm computes RFM features (recency, frequency, monetary value,
// tenure and 1–5 quintile scores) per customer from a transactions dataset
// split into shards, for a leader that cannot hold the data. All of a
// customer's rows are in one shard.
//
// # Protocol
//
// The leader owns a [State]. [State.Next] names the [Task] every shard must
// run next; each shard runs it with [RunTask] on its rows ([Tx]) and returns
// a small [Result]; the leader hands all Results, indexed by shard, to
// [State.Absorb]. When Next reports done, [State.Cuts] are the quintile cut
// points, and each shard's output rows are [Features] of that shard with
// those cuts. [Reference] computes the same table in one process by
// sorting.
//
// The passes search for the twelve cuts (four per feature) with package
// [quantile]: each customer's recency, frequency and monetary sum are
// mapped to a "goodness" (recency negated, so that larger is better for
// all three), three value columns of one quintile search
// (quantile.Config{Q: 5}). The search maps each float64 to a uint64 key
// of the same order ([quantile.Key]: the IEEE bits, sign-adjusted). The
// first pass (phase "count") histograms each feature's whole key range;
// every later pass ("refine") histograms only the brackets that still hold
// a cut. A shard splits a bracket lo..hi into at most [NumBins] bins of
// 2^s keys and reports, for each non-empty bin, its count and the least
// and greatest key in it. The leader adds the counts in shard order, finds
// the bin holding the cut's rank, and narrows the bracket to that bin's
// least..greatest key; the cut is found when they are equal. The bit
// length of a bracket's span drops by at least log2(NumBins) = 8 per pass,
// and at once to the values actually present, and a span below NumBins
// resolves in one pass, so a job takes at most eight passes of its 64-bit
// keys and usually two to four: integer features (days, counts) resolve
// within a pass or two, sums of money in three to five. Cuts sharing a
// bracket share its histogram, so a Result holds at most twelve histograms
// of NumBins bins whatever the number of customers. [Task] and [Result]
// carry the search's brackets and histograms by feature; a [State] holds
// the [quantile.State] itself.
//
// # Features
//
// Rows with Time ≥ Config.AsOf are ignored (Dropped.AfterAsOf counts
// them). A row is a return when its amount is negative or its Return flag
// is set; every other row, including a zero amount, is a purchase. For a
// customer with at least one purchase before as-of:
//
//   - recency_days: whole days (floor) from the last purchase to as-of,
//     (as-of − t) div 86400, like pandas' Timedelta.days. With the default
//     as-of (the midnight after the last transaction, [DefaultAsOf]) a
//     purchase on the dataset's last day has recency 0.
//   - frequency: the number of purchases. With an invoice column, the
//     distinct invoice ids among the customer's purchases, purchases with
//     a missing id ("") counting once per distinct timestamp; without one,
//     the distinct timestamps of the customer's purchases. Return rows
//     never count.
//   - monetary_sum: net spend, the purchases' amounts minus the absolute
//     amounts of the returns before as-of (a return counts as −|amount|
//     however its sign was recorded). A return of something bought before
//     the data starts can make it zero or negative.
//   - monetary_mean: monetary_sum / frequency, net spend per purchase.
//   - tenure_days: whole days from the first purchase to as-of, so
//     tenure_days ≥ recency_days, equal for a single purchase.
//
// Returns do not count towards recency, frequency or tenure. A customer
// with no purchase before as-of (only returns, or only rows after it) gets
// no row and is counted in Dropped.NoPurchase; such customers are not part
// of the quintiles either. A customer's sum runs over its rows in their
// order in the shard (the import sorts them by time, then invoice), which
// does not depend on the shard that holds them, so every value is the same
// whatever the number of shards.
//
// # Scores
//
// r_score, f_score and m_score rank recency_days (lower is better),
// frequency and monetary_sum (higher is better) among all N customers
// scored. Cut j (1..4) of a feature is the exact nearest-rank quantile at
// j/5 of the feature ordered from worst to best: the value of the
// customer at rank ⌈j·N/5⌉ in that order, always a value some customer
// has. A customer's score is 1 plus the number of cuts it is strictly
// better than ([Cuts.RScore], [Cuts.FScore], [Cuts.MScore]). Equivalently,
// with W the number of customers strictly worse than this one,
//
//	score = 1 + ⌊5·W/N⌋.
//
// So 5 is best, at least ⌈j·N/5⌉ customers score j or less, and a score is
// a function of the value alone: equal values get equal scores, a value
// equal to a cut taking the lower score. A score of 5 needs at least four
// fifths of the customers strictly worse, so with fewer than five
// customers some scores are unused, and a single customer scores 1, 1, 1.
//
// With many ties the quintiles are lopsided and some scores may be empty.
// Frequency is the usual case: when half the customers bought once, the
// first two cuts of frequency are both 1, every one-time buyer scores 1,
// nobody scores 2, and the rest share 3 to 5 (on the Online Retail sample
// in testdata, 65 of 176 customers have f_score 1). This differs from the
// common pandas recipe qcut(x.rank(method="first"), 5), which splits equal
// values by row order to force equal-sized groups, so that two customers
// with the same purchases can get different scores.
//
// # Segments
//
// The last column, segment, names the customer's segment: the code of the
// first rule of the Config's [SegmentMap] that its (r_score, f_score,
// m_score) matches, an index into [Table.Segments], the map's names in
// the order of their first rule. Every one of the 125 combinations must
// match a rule ([SegmentMap.Validate]); rules may overlap. A segment is a
// function of the scores alone, so it shares their determinism.
//
// The default, [StandardSegments], is the widely used grid of eleven
// segments on the R and F scores; m_score does not matter:
//
//	r_score \ f_score  1               2                   3                   4          5
//	5                  New             Potential loyalist  Potential loyalist  Champions  Champions
//	4                  Promising       Potential loyalist  Potential loyalist  Loyal      Loyal
//	3                  About to sleep  About to sleep      Needs attention     Loyal      Loyal
//	2                  Hibernating     Hibernating         At risk             At risk    Can't lose them
//	1                  Lost            Lost                At risk             At risk    Can't lose them
//
// Its rules are these cells, disjoint, one per name in the order Champions,
// Loyal, Potential loyalist, New, Promising, Needs attention, About to
// sleep, At risk, Can't lose them, Hibernating, Lost (codes 0 to 10).
// [ParseSegments] reads a map from CSV (header
// segment,r_min,r_max,f_min,f_max,m_min,m_max), [WriteSegments] writes
// one.
//
// # Invariants
//
//   - Determinism: the cuts and every row are a pure function of the
//     Config and the set of customers' rows. They do not depend on the
//     number of shards, on how customers are spread over them, on the
//     order Results arrive in (Absorb takes them by shard index), or on
//     GOMAXPROCS; the histograms are integer counts and extrema.
//   - Exactness: the cuts equal those of sorting every customer's value
//     ([Reference]), bit for bit.
//   - A Result's size is bounded by twelve histograms of NumBins bins,
//     never by the number of customers or rows.
//   - A State holds only exported values and survives a round trip
//     through encoding/json bit for bit; a failed Absorb leaves it
//     unchanged. A State saved before the search moved to package
//     quantile does not decode (ErrBadState) unless it is final. Every Result is checked: a stale step, a count that
//     changed since the first pass, a bin out of its bracket or totals that
//     do not add up are ErrBadResult.
//   - A NaN or ±Inf amount, or a monetary sum that overflows, is
//     ErrNonFinite, naming the customer and row: nothing is skipped.
//
// # References
//
//   - A. M. Hughes. Strategic Database Marketing. McGraw-Hill, 1994
//     (RFM quintile scoring).
//   - R. J. Hyndman, Y. Fan. Sample quantiles in statistical packages. The
//     American Statistician 50(4), 1996 (definition 1, the inverse of the
//     empirical distribution function: nearest rank).
//   - D. Chen, S. L. Sain, K. Guo. Data mining for the online retail
//     industry: a case study of RFM model-based customer segmentation
//     using data mining techniques. Journal of Database Marketing &
//     Customer Strategy Management 19(3), 2012 (the Online Retail
//     dataset of testdata/golden, whose values pandas and numpy computed
//     with these conventions and the package reproduces bit for bit).
//
// # Performance
//
// Every pass reads the shard's rows once and recomputes its customers'
// features (a worker keeps no state between passes); with an invoice
// column each customer's distinct runs of invoice ids are collected and,
// unless they already ascend, sorted. On the development machine one pass
// over 100,000 customers (a million rows) reads 20–50 million rows per
// second on one core without an invoice column and 10–15 million with one;
// Features costs a little more than one pass. While it runs, a pass holds
// the three features' goodness of the shard's customers, 24 bytes each,
// for the quantile search.
package rfm
