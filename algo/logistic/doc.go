// Package logistic implements L2-regularised logistic regression as a
// deterministic state machine over a dataset split into shards, for a
// leader that cannot hold the data.
//
// # Protocol
//
// The leader owns a [State]. [State.Next] names the [Task] every shard must
// run next; each shard runs it with [RunTask] on its own rows and returns a
// small [Result]; the leader hands all Results, indexed by shard, to
// [State.Absorb], which advances the state. When Next reports done,
// [State.Model] is final. [Reference] runs the same machine in one process.
// A job runs:
//
//   - one count pass: every row's features are checked, and rows counted
//     by set (training or held out) and class. The leader fails a job whose
//     training rows hold one class (ErrOneClass), fixes the class weights,
//     and starts at β = 0 with the intercept optimal for it.
//   - loss passes: at the point θ = (β, b) the leader sends, every shard
//     returns Σw·ℓ, the gradient Σw(p−y)(x, 1) and, for the Newton solver,
//     the Hessian Σw·p(1−p)(x, 1)(x, 1)ᵀ (packed upper triangle of order
//     D+1), over its training rows; w is the sample weight times the class
//     weight. For the L-BFGS solver the partial is the loss and gradient
//     only, D+2 numbers, for wide data (D > NewtonMaxD under "auto").
//   - one eval pass at the final θ: per row set, the log-loss sum, a
//     calibration table of ten bins, and for the AUC either every row's
//     (score, label, weight) in order of score, when the set has at most
//     ExactAUCMaxRows (10⁶) rows, or two histograms of HistBins (2¹⁶)
//     score bins per class. The model says which ("exact" or
//     "histogram"); a histogram AUC treats scores within one bin as tied.
//     A Newton trial that the leader expects to end the fit (its quadratic
//     model's decrease well within Tol) sums these in the same pass
//     (Task.Eval), and when it does end the fit there is no eval pass; the
//     model is the same either way.
//
// # Objective
//
// The job minimises F(β, b) = Σᵢ wᵢ·ℓᵢ + ½λ‖β‖², ℓᵢ = log(1 + e^ηᵢ) − yᵢηᵢ
// and ηᵢ = b + xᵢ·β, with λ = 1/C and the intercept unpenalised. This is
// scikit-learn's LogisticRegression(C=C, penalty="l2") objective
// C·Σwᵢℓᵢ + ½‖β‖² divided by C, so the minimiser is the same; every
// coefficient is penalised equally, as there (a one-hot column set that
// spans the intercept is identified by the penalty alone). Penalty "none"
// is λ = 0. Class weight "balanced" is n/(2·n_c) over the training rows'
// counts, as scikit-learn's.
//
// # Iteration
//
// The state owns the iteration, so a new leader resumes it exactly. Newton
// (IRLS) solves (H + λ·diag(1, …, 1, 0))·Δ = −∇F with linear.FactorSym
// (equilibrated Cholesky, pseudo-inverse with a warning when singular or
// ill-conditioned). L-BFGS keeps Memory correction pairs in the state and
// runs the two-loop recursion. Both take their step through a backtracking
// line search, one pass per trial: a trial is accepted on Armijo's
// sufficient decrease (c₁ = 1e-4) or, once F is within rounding noise of
// the base (16ε relative), on a smaller gradient, as scikit-learn's
// NewtonSolver does; it is halved otherwise. The fit has converged when an
// accepted step changes no coefficient by more than Tol, or the objective
// by more than Tol relative (counted only for a decrease F resolves), or
// the gradient's largest entry is at most Tol, or two steps in a row
// changed F by rounding noise only. MaxIter bounds the accepted steps, and
// a fit that stops there says so in Model.Warning.
//
// # Invariants
//
//   - Determinism: the model is a pure function of the Config, the shard
//     contents and the shard order. It does not depend on the number of
//     workers, on the order in which Results arrive, or on GOMAXPROCS.
//     Pinned model digests are checked equal under GOAMD64 v1, v3 and v4.
//   - Every sum accumulates in row order within a shard and in shard order
//     across shards; products that feed a sum use math.FMA and others are
//     rounded by explicit conversions. The log-loss uses this package's own
//     exp and log1p (the FreeBSD msun algorithms with explicit rounding),
//     because the standard library's give different bits on CPUs with and
//     without FMA (math.Exp on amd64) and under different GOAMD64 levels.
//   - A Result's size depends on D, never on the shard's row count, except
//     for an exact-AUC eval pass, which lists at most ExactAUCMaxRows rows
//     per set over all shards.
//   - A State holds only exported fields, never NaN or ±Inf, and survives a
//     round trip through encoding/json bit for bit. A failed Absorb leaves
//     the State unchanged. A trial point whose sums overflow is reported by
//     the shards (Result.Overflow), and the leader halves the step.
//   - The held-out split is linear.IsHoldout of each row's key.
//
// # Performance
//
// A loss pass computes the margins of a block of rows (linear.Margins),
// then each row's loss, residual and curvature, then its sums in row order.
// A newton pass gets its gradient and Hessian from one linear.AddGram of
// order D+2 over chunks of rows (g, c·x, c) against (0, x, 1), g and c
// being a row's residual and curvature weights: row 0 of that Gram is the
// gradient, the rest the Hessian, each entry the same FMA chain in row
// order as a separate sum would be.
//
// The log-loss (expNeg, log1pUnit and rowLoss lane by lane, four rows at
// a time) and the chunk fill are kernel.LogLoss and kernel.FillRows in
// algo/internal/kernel, AVX2 assembly chosen at run time from the CPU's
// features (so a plain go build is fast), with the portable Go code as
// their definition; AddGram is linear's, from the same package. Every path
// gives the portable bits: kernel_paths_test.go holds every path to the
// plain definitions, the kernel package's harness every primitive to its
// portable code. The finiteness check of the count pass is portable.
// Measured times are in docs/performance.md.
//
// On the AVX2 machine (AMD EPYC, 2 cores, shared), one core, 1M rows of 32
// features streamed from memory, go test -bench 'Newton|Eval' -benchtime
// 5x: a newton pass costs 150–190 ns a row (245–255 with the portable
// log-loss and fill), an eval pass with histograms 84–88 (97–123). The
// log-loss of a block in cache costs 10 ns a row (36 portable). What is
// left of a newton pass is mostly AddGram and the margins, which wait on
// memory (38 ns a row streamed, 12 in cache).
//
// For an exact AUC each shard lists its rows sorted by score (a stable
// radix sort, about 50 ns a row for a shard of 16k rows; one shard of 1M
// rows pays what the leader used to, ~110 ns a row), and the leader
// merges the shards' runs in a tree of losers, ties to the lower shard,
// summing the AUC as it goes (auc.go): 20–45 ms for 1M rows from 64
// shards, where radix-sorting all the scores on the leader took ~110 ms.
// Eval sums cross the network as one fixed-width buffer (wire.go). End to
// end (make bench's logistic job, 1M × 32 to convergence, 2 worker
// processes on the 2 cores): 0.80–1.03 s, eval pass 0.15–0.21 s, newton
// passes 0.08–0.12 s, against scikit-learn's 2.0–2.3 s in the same runs
// (ratio medians 0.41–0.46); before these kernels, 1.02–1.20 s (0.53).
//
// # References
//
//   - J. Nocedal, S. J. Wright. Numerical Optimization, 2nd ed. Springer
//     2006: algorithms 3.1 (backtracking) and 7.4 (L-BFGS two-loop).
//   - P. McCullagh, J. A. Nelder. Generalized Linear Models, 2nd ed., 1989
//     (IRLS).
//   - scikit-learn, sklearn/linear_model/_logistic.py and
//     _glm/_newton_solver.py (objective, class weights, line search);
//     sklearn/metrics/_ranking.py (roc_auc_score); sklearn/calibration.py
//     (calibration_curve, uniform bins).
//   - FreeBSD msun e_exp.c and s_log1p.c, as ported in Go's math package.
package logistic
