// Package quantile finds exact nearest-rank quantile cuts (deciles,
// quintiles, percentiles …) of one or more float64 value columns split
// into shards, for a leader that cannot hold the values, and buckets
// values by them.
//
// # Protocol
//
// The leader owns a [State] made by [New]. [State.Next] names the [Task]
// every shard must run next; each shard runs it with [RunTask] on its
// values, one slice per column, and returns a small [Result]; the leader
// hands all Results, indexed by shard, to [State.Absorb]. When Next reports
// done, [State.Cuts] holds each column's Q−1 cuts and [Bucket] gives any
// value its bucket, 1..Q. [Reference] computes the same cuts in one
// process by sorting.
//
// Each value is mapped to a uint64 [Key] of the same order (the IEEE bits,
// sign-adjusted, −0 folded onto +0). The first pass histograms each
// column's whole key range; every later pass histograms only the brackets
// that still hold a cut. A shard splits a bracket lo..hi into at most
// [NumBins] bins of 2^s keys and reports, for each non-empty bin, its
// count and the least and greatest key in it. The leader adds the counts
// in shard order, finds the bin holding the cut's rank, and narrows the
// bracket to that bin's least..greatest key; the cut is found when they
// are equal. The bit length of a bracket's span drops by at least
// log2(NumBins) = 8 per pass, and at once to the values actually present,
// and a span below NumBins resolves in one pass, so a job takes at most
// eight passes and usually three or four. Cuts sharing a bracket share its
// histogram, so a Result holds at most Columns·(Q−1) histograms of NumBins
// bins, whatever the number of values.
//
// # Definitions
//
// Of a column's N values that are not NaN, ordered from the smallest (or,
// with Config.Descending, from the largest), cut j (1..Q−1) is the value at
// rank ⌈j·N/Q⌉ (1-based): the nearest-rank quantile, always a value of the
// column. NaN is a missing value: counted (Result.Missing,
// [State.Count]), never ranked, and in no bucket. ±Inf are values like
// any other. −0 and +0 are one value; a zero cut is +0.
//
// [Bucket] puts a value in 1 plus the number of cuts it is strictly past
// in rank order. Equal values share a bucket, a value equal to a cut
// taking the lower-numbered bucket; with A the number of values strictly
// ahead of x in rank order, the bucket is 1 + ⌊Q·A/N⌋. So bucket 1 of
// descending deciles holds every value at least the tenth-largest, at
// least ⌈j·N/Q⌉ values are in buckets 1..j, and with heavy ties some
// buckets are empty; the groups are never split by row order, so two rows
// with one value always share a bucket.
//
// # Invariants
//
//   - Determinism: the cuts, and every Task, are a pure function of the
//     Config and the multiset of each column's values. They do not depend
//     on the number of shards, on how values are spread over them, on the
//     order Results arrive in (Absorb takes them by shard index), or on
//     GOMAXPROCS; the histograms are integer counts and extrema of keys.
//   - Exactness: the cuts equal those of sorting every value ([Reference]),
//     bit for bit.
//   - A Result's size is bounded by Columns·(Q−1) histograms of NumBins
//     bins (the first pass: one per column), never by the number of
//     values.
//   - A State holds only exported values and survives a round trip
//     through encoding/json bit for bit (it stores keys, never floats, so
//     an infinite cut encodes too); a failed Absorb leaves it unchanged.
//     Every Result is checked: a stale step, a count that changed since
//     the first pass, a bin out of its bracket or totals that do not add
//     up are ErrBadResult.
//
// # References
//
//   - R. J. Hyndman, Y. Fan. Sample quantiles in statistical packages. The
//     American Statistician 50(4), 1996 (definition 1, the inverse of the
//     empirical distribution function: nearest rank).
//
// # Performance
//
// RunTask reads each value once: with one bracket per column (the first
// pass) it is a key computation and a bin update per value; with several,
// a table of 1024 cells over the brackets' keys first narrows the search to
// the one or two brackets meeting the value's cell. On a shared two-core
// development machine, one shard of a ten-million-value job over 64
// workers (156,250 values) takes about 2 ns per value on passes with one
// bracket per column, 5–7 ns with the nine of deciles and 6–11 ns with the
// hundred-odd of percentiles (best of many runs; BenchmarkRunTask).
package quantile
