#!/usr/bin/python3
"""Writes clv_golden.json: an independent reference for algo/clv on CDNOW.

The summaries, the log-likelihoods and the predictions are written here
from the papers with scipy (Debian's python3-scipy, python3-pandas), not
from the Go code:

- BG/NBD: Fader, Hardie & Lee (2005), "Counting your customers the easy
  way", eq. 6 (likelihood), 9 (E[X(t)]), 10 (conditional expectation),
  13 (P(alive)).
- Pareto/NBD: Fader & Hardie (2005), "A note on deriving the Pareto/NBD
  model and related expressions", eq. 22 (likelihood), 18 (P(alive)),
  20 (conditional expectation).
- Gamma-Gamma: Fader & Hardie (2013), "The Gamma-Gamma model of monetary
  value", eq. 3 (likelihood of the mean spend), 5 (conditional mean).

Each fit minimises the mean negative log-likelihood (plus lambda times the
sum of the squared parameters, lifetimes' penalizer_coef) over the
log-parameters with Nelder-Mead restarted until it stops moving, then
polished with BFGS on central-difference gradients.

Run from this directory: ./make_clv_golden.py > clv_golden.json
"""
import json
import sys

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import betaln, gammaln, hyp2f1, logsumexp

CAL_END = pd.Timestamp("1997-09-30")
UNIT = 7.0  # days per week


def summaries():
    df = pd.read_csv("CDNOW_sample.txt", sep=r"\s+", header=None,
                     names=["cust", "sample", "date", "cds", "amount"],
                     dtype={"cust": str, "sample": str, "date": str})
    df["date"] = pd.to_datetime(df["date"], format="%Y%m%d")
    cal = df[df["date"] <= CAL_END]
    days = cal.groupby(["cust", "date"], as_index=False)["amount"].sum()
    days = days.sort_values(["cust", "date"])
    out = []
    for cust, g in days.groupby("cust", sort=True):
        d = g["date"].tolist()
        a = g["amount"].tolist()
        x = len(d) - 1
        tx = (d[-1] - d[0]).days / UNIT
        T = (CAL_END - d[0]).days / UNIT
        m = sum(a[1:]) / x if x > 0 else 0.0
        out.append((cust, float(x), tx, T, m))
    return out


def ll_bgnbd(p, x, tx, T):
    r, alpha, a, b = p
    A1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    A2 = betaln(a, b + x) - betaln(a, b)
    A3 = -(r + x) * np.log(alpha + T)
    A4 = np.where(x > 0, np.log(a) - np.log(np.maximum(b + x - 1, 1e-300)) - (r + x) * np.log(alpha + tx), -np.inf)
    return A1 + A2 + logsumexp(np.vstack([A3, A4]), axis=0)


def ll_pareto(p, x, tx, T):
    r, alpha, s, beta = p
    rsx = r + s + x
    if alpha >= beta:
        big, b2 = alpha, s + 1
        z1, z2 = (alpha - beta) / (alpha + tx), (alpha - beta) / (alpha + T)
    else:
        big, b2 = beta, r + x
        z1, z2 = (beta - alpha) / (beta + tx), (beta - alpha) / (beta + T)
    d1 = np.log(hyp2f1(rsx, b2, rsx + 1, z1)) - rsx * np.log(big + tx)
    d2 = np.log(hyp2f1(rsx, b2, rsx + 1, z2)) - rsx * np.log(big + T)
    with np.errstate(divide="ignore"):
        logA0 = d1 + np.log(-np.expm1(d2 - d1))
    first = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    B = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
    C = np.log(s) - np.log(rsx) + logA0
    return first + np.logaddexp(B, C)


def ll_gg(p, x, m):
    pp, q, v = p
    return (gammaln(pp * x + q) - gammaln(pp * x) - gammaln(q) + q * np.log(v)
            + (pp * x - 1) * np.log(m) + pp * x * np.log(x) - (pp * x + q) * np.log(x * m + v))


def fit(ll, k, lam, *data):
    def obj(lp):
        p = np.exp(lp)
        v = ll(p, *data)
        if not np.all(np.isfinite(v)):
            return 1e100
        return -np.mean(v) + lam * np.sum(p ** 2)
    lp = np.zeros(k)
    best = obj(lp)
    for _ in range(50):
        res = minimize(obj, lp, method="Nelder-Mead",
                       options={"xatol": 1e-12, "fatol": 1e-15, "maxiter": 100000, "maxfev": 100000})
        moved = np.max(np.abs(res.x - lp))
        lp, best = res.x, res.fun
        if moved < 1e-11:
            break

    def grad(lp, h=1e-6):
        g = np.zeros(k)
        for i in range(k):
            e = np.zeros(k)
            e[i] = h
            g[i] = (obj(lp + e) - obj(lp - e)) / (2 * h)
        return g
    res = minimize(obj, lp, jac=grad, method="BFGS", options={"gtol": 1e-11, "maxiter": 1000})
    if res.fun <= best:
        lp = res.x
    p = np.exp(lp)
    return p, float(np.sum(ll(p, *data))), float(np.max(np.abs(grad(lp))))


def bgnbd_cond(p, t, x, tx, T):
    r, alpha, a, b = p
    hyp = hyp2f1(r + x, b + x, a + b + x - 1, t / (alpha + T + t))
    num = (a + b + x - 1) / (a - 1) * (1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp)
    den = 1 + (x > 0) * a / (b + x - 1) * ((alpha + T) / (alpha + tx)) ** (r + x)
    return num / den


def bgnbd_palive(p, x, tx, T):
    r, alpha, a, b = p
    if x == 0:
        return 1.0
    return 1 / (1 + a / (b + x - 1) * ((alpha + T) / (alpha + tx)) ** (r + x))


def bgnbd_uncond(p, t):
    r, alpha, a, b = p
    return (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + t)) ** r * hyp2f1(r, b, a + b - 1, t / (alpha + t)))


def pareto_palive(p, x, tx, T):
    r, alpha, s, beta = p
    lik = np.exp(ll_pareto(p, np.array([x]), np.array([tx]), np.array([T]))[0])
    top = np.exp(gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
                 - (r + x) * np.log(alpha + T) - s * np.log(beta + T))
    return float(top / lik)


def pareto_cond(p, t, x, tx, T):
    r, alpha, s, beta = p
    ll = ll_pareto(p, np.array([x]), np.array([tx]), np.array([T]))[0]
    first = (gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
             - (r + x) * np.log(alpha + T) - s * np.log(beta + T))
    rest = (r + x) * (beta + T) / ((alpha + T) * (s - 1)) * (1 - ((beta + T) / (beta + T + t)) ** (s - 1))
    return float(np.exp(first - ll) * rest)


def gg_spend(p, x, m):
    pp, q, v = p
    return (q - 1) / (pp * x + q - 1) * (v * pp / (q - 1)) + pp * x / (pp * x + q - 1) * m


def clv(p_bg, p_gg, x, tx, T, m, months=12, rate=0.01, factor=4.345):
    spend = gg_spend(p_gg, x, m)
    total, prev = 0.0, 0.0
    for i in range(1, months + 1):
        e = bgnbd_cond(p_bg, i * factor, x, tx, T)
        total += spend * (e - prev) / (1 + rate) ** i
        prev = e
    return total


def main():
    rows = summaries()
    keys = [r[0] for r in rows]
    x = np.array([r[1] for r in rows])
    tx = np.array([r[2] for r in rows])
    T = np.array([r[3] for r in rows])
    m = np.array([r[4] for r in rows])
    rep = (x > 0) & (m > 0)
    out = {"calibration_end": "1997-09-30", "time_unit": "week", "customers": len(rows),
           "spend_customers": int(rep.sum()), "fits": []}
    fits = {}
    for name, ll, k, lam, data in [
        ("bgnbd", ll_bgnbd, 4, 0.0, (x, tx, T)),
        ("paretonbd", ll_pareto, 4, 0.0, (x, tx, T)),
        ("gammagamma", ll_gg, 3, 0.0, (x[rep], m[rep])),
        ("bgnbd", ll_bgnbd, 4, 0.01, (x, tx, T)),
    ]:
        p, total, g = fit(ll, k, lam, *data)
        print(f"{name} lambda={lam}: {p} ll={total} |grad|={g}", file=sys.stderr)
        out["fits"].append({"model": name, "penalty": lam, "params": p.tolist(), "log_lik": total})
        fits[(name, lam)] = p
    bg, pn, gg = fits[("bgnbd", 0.0)], fits[("paretonbd", 0.0)], fits[("gammagamma", 0.0)]
    # Predictions from these parameters for every 25th customer.
    preds = []
    for i in range(0, len(rows), 25):
        xi, txi, Ti, mi = x[i], tx[i], T[i], m[i]
        preds.append({
            "key": keys[i], "x": xi, "tx": txi, "T": Ti, "m": mi,
            "bgnbd_p_alive": float(bgnbd_palive(bg, xi, txi, Ti)),
            "bgnbd_expected_39": float(bgnbd_cond(bg, 39.0, xi, txi, Ti)),
            "paretonbd_p_alive": pareto_palive(pn, xi, txi, Ti),
            "paretonbd_expected_39": pareto_cond(pn, 39.0, xi, txi, Ti),
            "expected_spend": float(gg_spend(gg, xi, mi)),
            "clv_12": float(clv(bg, gg, xi, txi, Ti, mi)),
        })
    out["predictions"] = preds
    out["bgnbd_new_78"] = float(bgnbd_uncond(bg, 78.0))
    out["bgnbd_spot_39"] = float(bgnbd_cond(bg, 39.0, 2, 30.43, 38.86))
    json.dump(out, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
