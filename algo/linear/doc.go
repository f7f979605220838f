// Package linear implements linear and ridge regression as a deterministic
// state machine over a dataset split into shards, for a leader that cannot
// hold the data.
//
// # Protocol
//
// The leader owns a [State]. [State.Next] names the [Task] every shard must
// run next; each shard runs it with [RunTask] on its own rows and returns a
// small [Result]; the leader hands all Results, indexed by shard, to
// [State.Absorb], which advances the state. When Next reports done,
// [State.Model] is final. [Reference] runs the same machine in one process.
// A job takes one pass, or two when it holds rows out or fits too closely:
//
//   - gram: each shard returns, over its training rows, the count, the
//     total weight, the weighted means of the features and the target, and
//     the weighted cross-products of the rows centred on those means,
//     z = (x − x̄, y − ȳ), as a packed (D+1)×(D+1) upper triangle. The leader
//     merges them in shard order with the pairwise update of Chan, Golub &
//     LeVeque (the shards build theirs block by block the same way), which
//     never forms XᵀX − n·x̄x̄ᵀ and so loses no digits to cancellation: the
//     partials carry what Σx, Σy, Σy², XᵀX and Xᵀy carry, centred. The
//     leader then solves the normal equations.
//   - eval: each shard returns residual sums of the fitted model over its
//     training and its held-out rows; the leader turns them into R², RMSE,
//     the objective and, for λ = 0, standard errors. Without held-out rows
//     the leader skips this pass: the residual sum of squares is a
//     quadratic form in the centred cross-products, m2_yy − 2β·m2_xy +
//     βᵀm2_xxβ, accurate to about 10⁻¹⁰ relative as long as it is at
//     least 10⁻⁶ of the sum of its terms' magnitudes. A closer fit (R²
//     within about 10⁻⁶ of 1) runs the pass, whose row-by-row sums have
//     no such cancellation.
//     Config.Residuals runs the pass in any case and has it count the
//     residuals of each row set in ResidualBins bins of a quarter of the
//     training RMSE (as the cross-products give it) from −4 to 4 RMSE,
//     plus one bin beyond each end: exact counts, so the histograms have
//     the same bits whatever the number of workers (Model.Residuals).
//
// # Model
//
// The job minimises ½Σwᵢ(yᵢ − xᵢ·β − b)² + ½λ‖β‖² with an unpenalised
// intercept b: scikit-learn's Ridge(alpha=λ) (LinearRegression for λ = 0),
// with sample weights as its sample_weight. β solves (X̃ᵀWX̃ + λI)β = X̃ᵀW ỹ
// on the centred data and b = ȳ − x̄·β. The system is equilibrated (scaled
// to a unit diagonal) and factorised by Cholesky (gonum mat.Cholesky);
// when Cholesky fails or its condition estimate exceeds Config.MaxCond
// (1e12), the solve falls back to the pseudo-inverse from a symmetric
// eigendecomposition and Model.Warning says so ([FactorSym]). Features
// constant over the training rows get coefficient 0 and are named in the
// warning. For λ = 0 the model carries standard errors σ̂²(X̃ᵀWX̃)⁻¹ with
// σ̂² = RSS/(n − D − 1) and t values.
//
// # Held-out split
//
// With Config.Holdout > 0 a row is held out when [IsHoldout] says so for
// its key: the FNV-1a 64-bit hash of the key's bytes, xored with SplitSeed,
// through one SplitMix64 step, taken mod 10⁶ and compared with the fraction.
// The split therefore depends on the key alone: it is the same on every run
// and every cluster size, independent of the shard a row lives in, and
// reproducible outside Go (testdata/golden/make_golden.py does).
//
// # Invariants
//
//   - Determinism: the model is a pure function of the Config, the shard
//     contents and the shard order. It does not depend on the number of
//     workers, on the order in which Results arrive (Absorb takes them by
//     shard index and rejects a Result carrying another shard's index), or
//     on GOMAXPROCS. Pinned model digests are checked equal under GOAMD64
//     v1, v3 and v4. (The leader's small solves use gonum's LAPACK, whose
//     bits were checked across GOAMD64 levels but not across
//     architectures.)
//   - Every sum accumulates in row order within a shard and in shard order
//     across shards. Products that feed a sum are formed with math.FMA,
//     whose result is correctly rounded on every platform, and any other
//     product is rounded by an explicit float64 conversion, so the compiler
//     has no a*b+c left to fuse or not.
//   - A Result's size depends on D, never on the shard's row count.
//   - A State holds only exported fields, never NaN or ±Inf, and survives a
//     round trip through encoding/json bit for bit; a new leader can resume
//     from it. A failed Absorb leaves the State unchanged.
//   - A NaN or ±Inf in a row's features, target or weight is ErrNonFinite
//     (ErrBadWeight for weights), naming the shard: nothing is skipped.
//
// # Shared kernels
//
// [AddGram] (the blocked cross-product kernel), [Margins] (rows times
// coefficients), [FactorSym] (the guarded symmetric solve) and
// [KeyHash]/[IsHoldout] (the split) are exported because package logistic
// builds its Newton partials, its margins and its held-out split on them.
//
// # Performance
//
// The gram pass reads the data from memory once. Rows go in blocks of
// about 512 KiB: one sweep of a block computes its means, a second, from
// L2, centres its rows into L1-sized row-major chunks (the row stride
// padded to whole 8-float vectors) and feeds AddGram, and the block is
// merged into the shard's moments by the same pairwise update the leader
// uses. The eval pass computes six rows' predictions side by side.
//
// AddGram, the block sums, the centring and the weighting run the kernels
// of algo/internal/kernel, chosen at run time from the CPU's features, so
// a plain go build is fast: on a CPU with AVX2 and FMA, assembly in which
// each vector lane holds one output entry or column and runs exactly the
// scalar chain of the portable Go kernels, so the bits do not depend on
// the path, which the tests check. math.FMA in the portable kernels is a
// single instruction only when built with GOAMD64=v3 or later (or on
// arm64); with the default GOAMD64=v1 each call also tests a CPU flag.
// Measured times are in docs/performance.md.
//
// # References
//
//   - T. F. Chan, G. H. Golub, R. J. LeVeque. Updating formulae and a
//     pairwise algorithm for computing sample variances. Stanford
//     STAN-CS-79-773, 1979.
//   - A. E. Hoerl, R. W. Kennard. Ridge regression: biased estimation for
//     nonorthogonal problems. Technometrics 12(1), 1970.
//   - scikit-learn, sklearn/linear_model/_ridge.py (Ridge, solver
//     "cholesky") and _base.py (LinearRegression).
//   - G. Fowler, L. C. Noll, K.-P. Vo. FNV hash; G. Steele, D. Lea,
//     C. Flood. Fast splittable pseudorandom number generators
//     (SplitMix64). OOPSLA 2014.
package linear
