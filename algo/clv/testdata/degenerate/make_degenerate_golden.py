#!/usr/bin/python3
"""Writes degenerate_golden.json: BG/NBD predictions where the fit's a and b
ran towards 0, in exact arithmetic.

A BG/NBD fit whose data show no drop-out (the Online Retail sample of
testdata/online-retail, calibration end 2011-12-09, penalty 0.001) drives
a and b towards 0. The conditional expectation (Fader, Hardie & Lee 2005,
eq. 10)

    E[Y(t) | x, tx, T] = (a+b+x-1)/(a-1)
        * [1 - ((alpha+T)/(alpha+T+t))^(r+x) 2F1(r+x, b+x; a+b+x-1; t/(alpha+T+t))]
        / (1 + [x>0] a/(b+x-1) ((alpha+T)/(alpha+tx))^(r+x))

then has c = a+b+x-1 next to 0 or -1, where double-precision series lose
their digits (and scipy's hyp2f1 with them). Here every float parameter is
taken exactly (Decimal), c is formed without rounding and the power series
of 2F1 is summed with 100 significant digits to a relative 1e-60; P(alive)
(eq. 13), the Gamma-Gamma mean spend (Fader & Hardie 2013, eq. 5) and
lifetimes' customer_lifetime_value (12 months of 4.345 weeks at 1% a
month) follow from the same numbers. No third-party module: run with any
python3 from this directory: ./make_degenerate_golden.py > degenerate_golden.json
"""
import json
import sys
from decimal import Decimal as D, getcontext

getcontext().prec = 100
TOL = D(10) ** -60

# (name, r, alpha, a, b): the Online Retail fit's parameters (weeks), and
# a and b pushed further to their limits and to a = 1, where the formula's
# a - 1 vanishes.
MODELS = [
    ("retail", 0.7022934577153346, 6.366924562304214, 9.664053565644051e-21, 6.401502377169431e-09),
    ("tiny", 0.5, 4.0, 1e-300, 1e-200),
    ("tiny-a", 0.243, 4.414, 1e-12, 2.426),
    ("tiny-b", 0.243, 4.414, 0.793, 1e-10),
    ("small-ab", 0.243, 4.414, 3e-4, 4e-4),
    ("c-near-0", 0.243, 4.414, 0.3, 0.7000000001),
    ("a-1", 0.243, 4.414, 1.0, 2.426),
    ("a-1-plus", 0.243, 4.414, 1.0000001, 2.426),
]
GG = (6.25, 3.74, 15.44)
# (x, tx, T, m): from fresh customers to extreme ones.
CUSTOMERS = [
    (0, 0, 0, 0), (0, 0, 0.1428571428571428, 0), (0, 0, 30, 0), (0, 0, 52.857142857142854, 0), (0, 0, 1000, 0),
    (1, 0.1428571428571428, 0.2857142857142857, 12.5), (1, 10, 52, 30), (1, 51.9, 52, 5),
    (2, 30.428571428571427, 38.857142857142854, 20), (5, 3, 40, 100), (10, 52, 52, 7.5),
    (50, 40, 52, 13), (200, 51.857142857142854, 52.857142857142854, 2.5), (360, 51, 52, 1e4), (3, 0.5, 1000, 50),
]
HORIZONS = [1, 52, 500]


def dec(v):
    return D(v)  # exact: a float's value


def hyp2f1(a, b, s, k, z):
    """2F1(a, b; c; z), c = s + k for an integer k: each c + n is formed
    as s + (k + n), exact when k + n = 0 however small s is."""
    t, f, n = D(1), D(1), 0
    while True:
        t = t * (a + n) * (b + n) / ((s + (k + n)) * (n + 1)) * z
        f += t
        n += 1
        if n > 10 and abs(t) <= TOL * abs(f) and abs((a + n) * (b + n) / ((s + (k + n)) * (n + 1)) * z) < 1:
            return f


def cond(p, t, x, tx, T):
    r, alpha, a, b = p
    if t == 0:
        return D(0)
    c = a + b + (x - 1)
    z = t / (alpha + T + t)
    num = c / (a - 1) * (1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp2f1(r + x, b + x, a + b, x - 1, z))
    return num / den(p, x, tx, T)


def cond_a1(p, t, x, tx, T):
    """a = 1: the limit of cond as a -> 1, by the derivative in a of the
    bracket (d/da of (1 - P F) at a = 1 over 1), from central differences
    at a = 1 +- 1e-30 with 100 digits."""
    r, alpha, a, b = p
    h = D(10) ** -30
    up = cond((r, alpha, a + h, b), t, x, tx, T)
    dn = cond((r, alpha, a - h, b), t, x, tx, T)
    return (up + dn) / 2


def den(p, x, tx, T):
    r, alpha, a, b = p
    if x == 0:
        return D(1)
    return 1 + a / (b + (x - 1)) * ((alpha + T) / (alpha + tx)) ** (r + x)


def spend(g, x, m):
    pp, q, v = g
    return (pp * v + pp * x * m) / (pp * x + q - 1)


def clv(p, g, x, tx, T, m):
    f = cond_a1 if p[2] == 1 else cond
    s = spend(g, x, m)
    total, prev = D(0), D(0)
    for i in range(1, 13):
        e = f(p, D(i) * D("4.345"), x, tx, T)
        total += s * (e - prev) / D("1.01") ** i
        prev = e
    return total


def main():
    g = tuple(dec(v) for v in GG)
    out = {"gammagamma": list(GG), "months": 12, "rate": 0.01, "month_weeks": 4.345, "models": []}
    for name, *params in MODELS:
        p = tuple(dec(v) for v in params)
        f = cond_a1 if p[2] == 1 else cond
        rows = []
        for x, tx, T, m in CUSTOMERS:
            X, TX, TT, M = dec(x), dec(tx), dec(T), dec(m)
            row = {"x": x, "tx": tx, "T": T, "m": m, "p_alive": float(1 / den(p, X, TX, TT)),
                   "expected": {str(h): float(f(p, dec(h), X, TX, TT)) for h in HORIZONS},
                   "clv": float(clv(p, g, X, TX, TT, M))}
            rows.append(row)
        out["models"].append({"name": name, "params": params, "new_52": float(f(p, D(52), D(0), D(0), D(0))),
                              "customers": rows})
        print(name, file=sys.stderr)
    json.dump(out, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
