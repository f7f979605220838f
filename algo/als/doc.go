// Package als implements alternating least squares matrix factorisation
// for explicit ratings and implicit feedback as a deterministic state
// machine over interactions stored twice, sharded by user and by item, for
// a leader that holds neither the data nor the factors.
//
// # Protocol
//
// The leader owns a [State]. [State.Next] names the [Task] every shard of
// one side must run next; each shard runs it with [RunTask] on its own
// [Block] and returns a small [Result] and, except in the final eval pass,
// the new [Factors] of its rows, which the worker stores in the object
// store and names in Result.Ref. The leader hands all Results of the side,
// indexed by shard, to [State.Absorb]. When Next reports done,
// [State.Summary] names the final factor shards and [NewModel] assembles a
// [Model] from them. [Reference] runs the same machine in one process.
//
// A job's passes are: init (item blocks: initial factors from [InitFactor],
// a hash of the id), then per iteration t a users pass (every user solved
// from the item factors of iteration t−1) and an items pass (every item
// solved from the user factors of iteration t), then, for implicit jobs
// with a holdout, an eval pass. The factors of a side never go through the
// leader: a Task lists the references of the other side's factor shards,
// the worker reads all of them into a [Table], and resolves its block's
// other ids against it once per job ([Prepare]; keep the [Prep]).
//
// # What a worker does per pass
//
//  1. Load the shard's Block of side Task.Side.
//  2. Unless Task.Other is nil (init), read every blob Task.Other names
//     (one per shard of the other side, in shard order; blobs are
//     immutable, so they cache by reference) and build a Table with
//     NewTable, passing the previous Table of that side so that the id
//     index is built once per job.
//  3. Keep a Prep per (job, side, shard): reuse it while Prep.Fits, or
//     call Prepare. It resolves the block's other ids and marks the
//     held-out interactions; it is the costly part of a first pass.
//  4. If Task.Eval is set, read the one blob Task.Prev[shard].
//  5. RunTask; store the returned Factors (gob or any encoding of the
//     exported fields) and put the blob's reference in Result.Ref; reply
//     with the Result.
//
// One Table can serve several shards of a pass at once, on several
// goroutines.
//
// # Model
//
// Explicit (Zhou et al. 2008): minimise Σ(r − u·v)² + λ(Σ n_u‖u‖² +
// Σ n_i‖v‖²) over the training interactions, n the number of a row's
// training interactions (weighted-λ; RegScaling "none" uses λ(Σ‖u‖² +
// Σ‖v‖²)). A row's factor solves (Σ_j y_j y_jᵀ + λn I)x = Σ_j r_j y_j.
// Duplicate (user, item) interactions are separate observations.
//
// Implicit (Hu, Koren & Volinsky 2008): the values of a pair's
// interactions are summed into a count r ≥ 0, preference p = [r > 0],
// confidence c = 1 + αr; minimise Σ_all pairs c(p − u·v)² + λ(…) with the
// same scaling (n counts the pairs with r > 0). A row's factor solves
// (YᵀY + Σ_j (c_j − 1) y_j y_jᵀ + λn I)x = Σ_j c_j y_j, the sums over its
// pairs with r > 0. YᵀY is computed by every worker from the Table it
// reads, summing the rows in ascending id order, so it does not depend on
// the sharding.
//
// Rows with no training interaction get a zero factor (Count 0) and are
// "cold". Every system is solved by Cholesky; λ > 0 makes it positive
// definite.
//
// # Held-out split and metrics
//
// With Config.Holdout > 0 a (user, item) pair is held out when
// [IsHoldout] says so: a hash of both ids and the seed, so the split is
// the same on every run, shard count and cluster size, and whichever side
// a pair is read from. Each iteration records, for its final factors:
//
//   - the objective and its terms, from the items pass (which has the
//     users' factors of the same iteration and its own new ones) and the
//     users pass (the users' regularisation);
//   - explicit: training RMSE, and held-out RMSE over the held-out
//     interactions whose user and item are trained (the others are
//     counted as cold, not predicted), from the items pass;
//   - implicit with a holdout: precision@K, recall@K and NDCG@K (K =
//     EvalK) from the next users pass (or the final eval pass), which has
//     the item factors of the iteration and reads the shard's user factors
//     of the iteration too. Candidates are the trained items the user has
//     no training pair with; relevant items are the held-out pairs' trained
//     items; ties go to the smaller id. The users evaluated are those with
//     a relevant item whose hash (seed, user id) falls below a fraction
//     fixed after iteration 1: EvalSample if set, otherwise the largest
//     fraction ≤ 1 for which scoring their rankings (users × trained items
//     × rank multiply-adds) costs at most a quarter of an iteration's
//     normal equations (training interactions × rank²).
//
// # Invariants
//
//   - Determinism: the factors are a pure function of the Config and the
//     interactions. They do not depend on the number of workers, the
//     placement of shards, the order in which Results arrive, GOMAXPROCS,
//     CPU features, or the number of shards: every row is solved from its
//     own interactions (in Block order) and from YᵀY summed in id order.
//     The metrics are sums over shards taken in shard order, identical for
//     any placement of a fixed set of shards.
//   - Every sum accumulates in a fixed order. Products that feed a sum are
//     formed with math.FMA, which is correctly rounded on every platform,
//     and any other product is rounded by an explicit float64 conversion,
//     so the compiler has no a*b+c left to fuse or not.
//   - A Result's size depends on the rank, EvalK and Config.Popular, never
//     on the shard's data. A Task's size depends on the shard counts.
//   - A State holds only exported fields, never NaN or ±Inf, and survives a
//     round trip through encoding/json bit for bit. A failed Absorb leaves
//     it unchanged.
//
// # Performance
//
// The row kernels live in algo/internal/kernel, chosen at run time from
// the CPU's features, so a plain go build runs the fast path: AVX2 with
// FMA in Go assembly where the CPU has them, the portable Go code (the
// definition) elsewhere. The model's bits are the same on every path,
// build and CPU (the kernel package's TestPathsAgree*, and here
// TestPathsAgreeJobs and TestGoldenModels on every path the CPU has).
//
// AVX2: the Gram in tiles of 4×12 entries of A, twelve accumulators held
// in registers over chunks of gathered factors; the right-hand side, 32
// entries in eight; the dot product; the scaled gather; the eight-row
// batched factorisation as two halves of four lanes, one system per lane,
// by rows of U with six entries of a row in registers over the rows above
// (the same FMA chain per entry as the right-looking order), and its
// solve; and the scoring of two users by eight items at once for
// rankings. On the shared development and CI machines (AMD EPYC, AVX2 and
// FMA), rank 32, one core (BenchmarkRowKernels, from run to run): Gram and
// right-hand side 31–42 ns per interaction (portable 349–585),
// factorisation and solve 1.3–2.0 µs per row (portable 7.2–10), dot 9–20
// ns (portable 30–45). Measured times are in docs/performance.md.
//
// On every amd64 build the other side's rows are prefetched (PREFETCHT0)
// a chunk ahead, and the next row's first chunk while a row is solved,
// since the table is read at random and is larger than the cache; the
// items pass prefetches ahead of its loss too. Implicit jobs gather 32
// rows at a time rather than 64, so that both gathered copies stay in L1
// with A. What is left of a half-iteration is
// mostly those rows coming from memory.
//
// A half-iteration of the benchmark shape (5,000,000 interactions,
// 100,000 users, 20,000 items, rank 32, BenchmarkHalfIteration) costs, in
// ns of CPU per interaction on one core of the AVX2 machine, explicit
// users 90–130 and items 135–170, implicit users 100–130 and items
// 135–185 (the portable kernels: 660, 570, 560, 590). The whole job with
// two workers (mathcrm-bench --only als --workers 2, median iteration)
// runs an explicit iteration in 1.3–1.7 s and an implicit one in 2.0–2.3 s
// on the AVX2 machine (5.3 s and 6.5 s with the portable kernels),
// 0.29–0.38 and 0.29–0.42 of numpy's one-thread iteration measured in the
// same run (numpy itself took 4.5–7.2 s there, against about 2.7 and 3.4 s
// on an idle machine).
//
// # References
//
//   - Y. Zhou, D. Wilkinson, R. Schreiber, R. Pan. Large-scale parallel
//     collaborative filtering for the Netflix prize. AAIM 2008.
//   - Y. Hu, Y. Koren, C. Volinsky. Collaborative filtering for implicit
//     feedback datasets. ICDM 2008.
//   - Apache Spark MLlib, org.apache.spark.ml.recommendation.ALS.
//   - G. Steele, D. Lea, C. Flood. Fast splittable pseudorandom number
//     generators (SplitMix64). OOPSLA 2014.
package als
