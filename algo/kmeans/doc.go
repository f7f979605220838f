// Package kmeans implements k-means clustering as a deterministic state
// machine over a dataset split into shards, for a leader that cannot hold the
// data.
//
// # Protocol
//
// The leader owns a [State]. [State.Next] names the [Task] every shard must run
// next; each shard runs it with [RunTask] on its own rows and returns a small
// [Result]; the leader hands all Results, indexed by shard, to [State.Absorb],
// which advances the state. When Next reports done, [State.Model] is final.
// [Reference] runs the same machine in one process.
//
// Initialisation is k-means|| (Bahmani et al. 2012) as in Spark MLlib: one
// uniformly random first centre, Rounds rounds of independent oversampling
// with probability min(1, ℓ·d²(x,C)/φ), a count of the rows nearest each
// candidate, then weighted greedy k-means++ and a weighted Lloyd refinement
// of the candidates on the leader. "random" picks K rows uniformly without
// replacement; "given" starts from caller-supplied centroids. Lloyd
// iterations follow (Lloyd 1982), with empty clusters re-seeded to the rows
// farthest from their centres as scikit-learn does, and a final assignment
// pass computes sizes, inertia and per-cluster means of profile columns.
//
// # Invariants
//
//   - Determinism: the model is a pure function of the Config, the shard
//     contents and the shard order. It does not depend on the number of
//     workers, on the order in which Results arrive (Absorb takes them by
//     shard index and rejects a Result carrying another shard's index), on
//     GOMAXPROCS or on CPU features.
//   - Per-row randomness is a hash of (seed, purpose, round, shard, row index
//     within the shard), never a stream consumed in processing order.
//   - Every sum accumulates in row order within a shard and in shard order
//     across shards. Products that feed a sum are formed with math.FMA,
//     whose result is correctly rounded on every platform, and any other
//     product is rounded by an explicit float64 conversion, so the compiler
//     has no a*b+c left to fuse or not (the Go spec allows fusion, and
//     GOAMD64=v3 and arm64 builds do fuse).
//   - The nearest centre of a row is argmin_k ½‖c_k‖² − x·c_k with ties going
//     to the lowest index; the distance reported with it (inertia, k-means||
//     costs, re-seeding) is the exact Σ(x−c)² to that centre. [Nearest] and
//     [Assign] use the same arithmetic as the shard kernels, so scoring a row
//     later reproduces the assignment the model was trained with.
//   - A State holds only exported fields, never NaN or ±Inf, and survives a
//     round trip through encoding/json bit for bit; a new leader can resume
//     from it. A failed Absorb leaves the State unchanged.
//   - Initialisation works from distinct rows (rows equal as numbers count
//     once): random starts from K distinct data rows, k-means|| from K
//     distinct candidate rows refined by weighted Lloyd. Fewer than K
//     distinct rows is [ErrTooFewRows].
//
// # Performance
//
// The shard kernels live in algo/internal/kernel (kernel.KMeans), chosen at
// run time from the CPU's features, so a plain go build runs the fast path.
// On a CPU with AVX2 and FMA they are assembly: four rows at a time against
// eight centres, one centre per lane, eight FMA chains, then the scores
// transposed to one row per lane for the argmin. Elsewhere they are
// portable Go: rows in blocks of four against centres in pairs, eight
// independent FMA chains in registers, no allocation per row; math.FMA is
// a single instruction there only when built with GOAMD64=v3 or later (or
// on arm64), else each call also tests a CPU flag. The model's bits are the
// same on every path, build and CPU: the assembly does each row's scalar
// operations in the scalar order (the kernel package's TestPathsAgree,
// TestGoldenModelsEveryPath here). GODEBUG=cpu.avx2=off forces the
// portable path. Measured times are in docs/performance.md.
//
// # References
//
//   - B. Bahmani, B. Moseley, A. Vattani, R. Kumar, S. Vassilvitskii.
//     Scalable K-Means++. PVLDB 5(7), 2012.
//   - D. Arthur, S. Vassilvitskii. k-means++: The advantages of careful
//     seeding. SODA 2007.
//   - S. P. Lloyd. Least squares quantization in PCM. IEEE Trans. Inf.
//     Theory 28(2), 1982.
//   - Apache Spark MLlib, org.apache.spark.mllib.clustering.KMeans and
//     LocalKMeans (initSteps = 2, 30 local iterations).
//   - scikit-learn, sklearn/cluster/_k_means_common.pyx,
//     _relocate_empty_clusters_dense.
//   - G. Steele, D. Lea, C. Flood. Fast splittable pseudorandom number
//     generators (SplitMix64). OOPSLA 2014.
package kmeans
