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
// Built with GOEXPERIMENT=simd on amd64, the shard kernels use AVX-512 when
// the CPU has it (simd/archsimd, kernel_vec.go): sixteen rows at a time, one
// row per float64 lane, eight FMA chains in flight. On a CPU with AVX2 and
// FMA but not AVX-512 they use assembly (kernel_avx2.go, assign_amd64.s):
// four rows at a time against eight centres, one centre per lane, eight FMA
// chains, then the scores transposed to one row per lane for the argmin.
// On one Zen 5 core a Lloyd pass over 100,000 rows with D=16 and K=16 takes
// about 16.5 ns a row with AVX-512, 18.6 ns with AVX2 and 77 ns portable
// (go test -bench Paths). Otherwise the kernels are
// portable Go: rows in blocks of four against centres in pairs, eight
// independent FMA chains in registers, no allocation per row. math.FMA is a
// single instruction only when built with GOAMD64=v3 or later (or on arm64
// and other architectures with FMA); with the default GOAMD64=v1 each call
// also tests a CPU flag and a Lloyd pass runs about twice as slow. The
// model's bits are the same on every path, build and CPU: the SIMD paths do
// each row's scalar operations in the scalar order (TestPathsAgree,
// TestGoldenModelsEveryPath). GODEBUG=cpu.avx512f=off makes an AVX-512
// machine take the AVX2 path.
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
