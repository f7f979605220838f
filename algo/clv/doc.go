// Package clv fits the buy-till-you-die customer-value models on sharded
// transactions: a purchase model, BG/NBD (Fader, Hardie & Lee 2005) or
// Pareto/NBD (Schmittlein, Morrison & Colombo 1987), and the Gamma-Gamma
// spend model (Fader & Hardie 2013), by maximum likelihood; and it
// predicts from them P(alive), expected purchases, expected spend,
// lifetime value, value tiers and the calibration-vs-holdout table. It
// knows nothing of the cluster: a leader-side State, a per-shard RunTask
// and an in-process Reference, as the other algo packages.
//
// # Summaries
//
// Per customer, from the purchases on or before the calibration end's day
// (UTC): purchases on one day are one purchase, whose spend is the sum of
// the day's amounts; x = purchase days − 1 (repeat purchases), tₓ = time
// from the first to the last purchase, T = time from the first purchase to
// the calibration end, in the time unit (day, week = 7 days, month =
// 365.25/12 days); m = mean spend of the repeat purchases (0 when x = 0).
// Rows that are returns (a negative amount or a return flag) are counted
// and otherwise ignored. A customer whose every purchase is after the
// calibration end has no summary (counted in Counts.OnlyAfter). With a
// holdout end, each customer's purchase days after the calibration end up
// to the holdout end are counted too.
//
// The first pass's totals reject, as ErrNoCustomers, a calibration end
// before the first purchase, an empty calibration period (every customer's
// first purchase on the calibration end's day: T = 0 for all) and a
// dataset with no repeat customer of positive mean spend.
//
// # Models
//
// BG/NBD, per customer (FHL 2005 eq. 6; Fader & Hardie note 027):
//
//	ℓ = log Γ(r+x) − log Γ(r) + r log α + log B(a, b+x) − log B(a, b)
//	    + log( (α+T)^−(r+x) + [x>0] a/(b+x−1) (α+tₓ)^−(r+x) )
//
// Pareto/NBD (Fader & Hardie note 009, eq. 22, in lifetimes' form, with
// the hypergeometric function ₂F₁(r+s+x, ·; r+s+x+1; z), 0 ≤ z < 1, summed
// as its series of positive terms and differentiated term by term):
//
//	ℓ = log Γ(r+x) − log Γ(r) + r log α + s log β
//	    + log( (α+T)^−(r+x) (β+T)^−s + s/(r+s+x) A₀ )
//
// Gamma-Gamma on the repeat customers with m > 0 (the others are counted
// and left out):
//
//	ℓ = log Γ(px+q) − log Γ(px) − log Γ(q) + q log v + (px−1) log m
//	    + px log x − (px+q) log(xm+v)
//
// Every sum is in log space (log-sum-exp, lgamma); the gradients with
// respect to the log-parameters are analytic (digamma, the series'
// derivatives) and tested against finite differences.
//
// # Fit
//
// Each fit minimises F(θ) = −ℓ(e^θ)/N + λ Σ e^(2θₖ) over the
// log-parameters θ (N the customers fitted; λ the Penalty, lifetimes'
// penalizer_coef, on the parameters themselves), from θ = 0 (every
// parameter 1, as lifetimes), by L-BFGS with a backtracking Armijo line
// search on the leader. It has converged when the largest entry of ∇F is
// at most Tol (1e-10). Near the optimum F's changes, of the order of
// |∇F|², fall below its rounding: a step within the rounding is accepted
// when it lowers the largest gradient entry. A fit that stops there with
// the largest entry of ∇F at most √ε·max(1, |F|) (about 5e-8 for F ≈ 3)
// and its parameters inside [1e-4, 1e4] has converged. Otherwise a fit
// that is not converging fails fast with ErrNoConvergence: F falling by
// less than 1e-10 of itself in 30 passes, 3 stalled steps (a line search
// of 20 halvings restarts from steepest descent and counts as one; a step
// within the rounding that lowers the gradient does not count, one that
// lowers F clears the count), 60 halvings, or MaxIter; the error
// names the parameters that ran beyond 1e-4 or 1e4 and suggests the
// penalty for those running to ∞. A fit stalled with parameters running
// only towards 0 and ∇F below 1e-5 has reached the boundary's limit model
// (BG/NBD a, b → 0: the NBD, no drop-out) and converges there, the model
// carrying a note. A log-likelihood that is not finite at the start fails
// with ErrNonFinite; elsewhere a non-finite trial point only halves the
// step. No NaN reaches a model.
//
// A pass evaluates both fits at once: each shard returns, per fit, ℓ and
// ∇ℓ summed over its customers. After both converge, one final pass
// returns the gradients at θ ± 10⁻⁴·eₖ, whose central differences give the
// Hessian of N·F; standard errors are e^θₖ·√((N·∇²F)⁻¹)ₖₖ (delta method),
// absent with a warning when the Hessian is not positive definite. The
// same pass returns the holdout sums.
//
// # Exact sums: the same bits for any sharding
//
// Shards sum their customers' terms in a Sum, an exact fixed-point
// accumulator over the whole float64 range, and the leader adds the
// shards' Sums exactly and rounds once. The totals, hence every step of
// the fit and the model, are the same bits whatever the sharding and the
// order of the customers. (Within one build on one kind of CPU: Go's
// math.Exp takes a fused multiply-add path on CPUs that have it.)
//
// # Predictions
//
// PurchaseModel gives P(alive) (FHL eq. 13; note 009 eq. 18), the
// conditional expected purchases in the next t units (FHL eq. 10, as
// lifetimes computes it; note 009 eq. 20) and E[X(t)] for a new customer
// (FHL eq. 9). The BG/NBD expectation sums the power series of ₂F₁ while
// c = a+b+x−1 is positive and keeps its digits and a is 10⁻³ away from 1,
// else Euler's transformation, whose c−B = a−1 cancels the prefactor
// term by term: finite for all a, b > 0, the NBD at a = 0, continuous
// through a = 1 (held to an exact reference in testdata/degenerate within
// 1e-9). SpendModel gives the Gamma-Gamma conditional mean
// (p·v + p·x·m)/(p·x + q − 1), ErrNoSpend where p·x + q ≤ 1 (a scoring job
// leaves those customers unscored). CLV discounts monthly steps as lifetimes'
// customer_lifetime_value: Σᵢ spend·(E(i months) − E(i−1 months))/(1+d)^i,
// a month being 30 days, 4.345 weeks or 1 month; for BG/NBD, whose
// expectations are numerators of x and T over one denominator, as
// spend·Σᵢ (numᵢ − numᵢ₋₁)/(1+d)^i / den, which scoring computes once per
// distinct (x, T), shared by the shards a worker scores. TierCuts gives the value
// tiers: A holds the customers from the highest CLV down to the one at
// which the running total reaches 80% of the total CLV, B on to 95%, C the
// rest; customers tied with a cut share its tier. The holdout table sums,
// by calibration repeat purchases 0 … 6 and 7+, the customers' actual
// holdout purchase days and their expected purchases over the holdout
// period, with the totals and the relative error.
//
// # Protocol
//
// New(cfg) → State. Next gives a Task (the evaluations of the pass, and in
// the final pass the Hessian points and the holdout request); RunTask runs
// it on one shard, reusing the previous pass's summaries; Absorb takes one
// Result per shard in shard order, checks it (step, shard, shape, counts
// equal every pass) and on error leaves the state unchanged. State and
// Results round-trip exactly through JSON. Reference runs it all in one
// process with step.Run.
//
// # References
//
//   - Fader, Hardie & Lee (2005), "Counting your customers the easy way: an
//     alternative to the Pareto/NBD model", Marketing Science 24(2).
//   - Fader & Hardie (2005), "A note on deriving the Pareto/NBD model and
//     related expressions" (note 009); (2013) "Overcoming the BG/NBD
//     model's #NUM! error problem" (note 027); (2013) "The Gamma-Gamma
//     model of monetary value".
//   - Schmittlein, Morrison & Colombo (1987), "Counting your customers:
//     who are they and what will they do next?", Management Science 33(1).
//   - Nocedal & Wright (2006), Numerical Optimization, algorithm 7.4.
//   - Kulisch (2013), Computer Arithmetic and Validity (the long
//     accumulator).
//   - lifetimes (C. Davidson-Pilon), whose objective, penalty, CLV and
//     starting point this package follows.
package clv
