#!/usr/bin/python3
"""Golden values for algo/linear and algo/logistic from scikit-learn.

Run from the repository root (see README.md in this folder):

    /usr/bin/python3 testdata/golden/make_golden.py

It writes linear_diabetes.json and logistic_telco.json beside itself. The
held-out split is reimplemented here from linear.KeyHash / linear.IsHoldout
so that the metrics of a held-out run can be reproduced outside Go.
"""
import csv
import json
import os
import sys

import numpy as np
import scipy
import sklearn
from scipy import stats
from sklearn.calibration import calibration_curve
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.metrics import log_loss, mean_squared_error, r2_score, roc_auc_score

HERE = os.path.dirname(os.path.abspath(__file__))
TELCO = os.path.join(HERE, "..", "telco", "Telco-Customer-Churn.csv")
MASK64 = (1 << 64) - 1


def key_hash(key, seed):
    """FNV-1a 64 of the key's UTF-8 bytes, xor seed, one SplitMix64 step."""
    h = 14695981039346656037
    for b in key.encode("utf-8"):
        h ^= b
        h = (h * 1099511628211) & MASK64
    z = ((h ^ seed) + 0x9E3779B97F4A7C15) & MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return z ^ (z >> 31)


def is_holdout(key, fraction, seed):
    return fraction > 0 and (key_hash(key, seed) % 1000000) / 1e6 < fraction


def versions():
    return {
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "sklearn": sklearn.__version__,
    }


def ols_inference(x, y, coef, intercept):
    """Classical OLS standard errors, t and two-sided p values."""
    n, d = x.shape
    a = np.hstack([x, np.ones((n, 1))])
    resid = y - (x @ coef + intercept)
    df = n - d - 1
    sigma2 = resid @ resid / df
    cov = sigma2 * np.linalg.inv(a.T @ a)
    se = np.sqrt(np.diag(cov))
    t = np.append(coef, intercept) / se
    p = 2 * stats.t.sf(np.abs(t), df)
    return {
        "std_errors": se[:d].tolist(), "intercept_std_error": float(se[d]),
        "t_values": t[:d].tolist(), "p_values": p[:d].tolist(),
        "df": df, "sigma2": float(sigma2),
    }


def linear_cases():
    with open(os.path.join(HERE, "diabetes_unscaled.csv")) as f:
        rows = list(csv.reader(f))
    header, data = rows[0], np.array(rows[1:], dtype=float)
    x, y = data[:, :-1], data[:, -1]
    keys = [str(i) for i in range(len(y))]  # the row index, in decimal
    cases = []
    for name, model in [("ols", LinearRegression()),
                        ("ridge1", Ridge(alpha=1.0)),
                        ("ridge10", Ridge(alpha=10.0))]:
        model.fit(x, y)
        pred = model.predict(x)
        alpha = getattr(model, "alpha", 0.0)
        case = {
            "name": name, "lambda": alpha, "holdout": 0.0, "split_seed": 0,
            "coefficients": model.coef_.tolist(), "intercept": float(model.intercept_),
            "r2": r2_score(y, pred), "rmse": mean_squared_error(y, pred) ** 0.5,
        }
        if alpha == 0:
            case.update(ols_inference(x, y, model.coef_, model.intercept_))
        cases.append(case)
    # A held-out run: fit on the training rows, score the held-out ones.
    frac, seed = 0.25, 7
    hold = np.array([is_holdout(k, frac, seed) for k in keys])
    model = LinearRegression().fit(x[~hold], y[~hold])
    cases.append({
        "name": "ols_holdout", "lambda": 0.0, "holdout": frac, "split_seed": seed,
        "n": int((~hold).sum()), "nholdout": int(hold.sum()),
        "coefficients": model.coef_.tolist(), "intercept": float(model.intercept_),
        "r2": r2_score(y[~hold], model.predict(x[~hold])),
        "rmse": mean_squared_error(y[~hold], model.predict(x[~hold])) ** 0.5,
        "holdout_r2": r2_score(y[hold], model.predict(x[hold])),
        "holdout_rmse": mean_squared_error(y[hold], model.predict(x[hold])) ** 0.5,
    })
    return {"versions": versions(), "data": "diabetes_unscaled.csv",
            "features": header[:-1], "target": header[-1],
            "keys": "row index in decimal (\"0\" for the first data row)", "cases": cases}


CONTRACTS = ["Month-to-month", "One year", "Two year"]


def telco_matrix():
    with open(TELCO, newline="") as f:
        rows = list(csv.DictReader(f))
    keys = [r["customerID"] for r in rows]
    cols = []
    for r in rows:
        cols.append([float(r["tenure"]), float(r["MonthlyCharges"]), float(r["SeniorCitizen"])] +
                    [1.0 if r["Contract"] == c else 0.0 for c in CONTRACTS])
    y = np.array([1.0 if r["Churn"] == "Yes" else 0.0 for r in rows])
    return keys, np.array(cols), y


def newton_refine(x, y, w, coef, intercept, C, iters=20):
    """Newton steps on C·Σw·logloss + ½‖β‖² from sklearn's solution.

    scikit-learn's lbfgs stops on ftol = 64·eps of the objective, which on a
    flat problem (the one-hot Contract columns are collinear with the
    intercept, held only by the penalty) leaves coefficients ~1e-5 from the
    optimum; these steps measure that distance."""
    a = np.hstack([x, np.ones((len(y), 1))])
    beta = np.append(coef, intercept)
    pen = np.ones(a.shape[1]) / C
    pen[-1] = 0
    for _ in range(iters):
        p = 1 / (1 + np.exp(-(a @ beta)))
        g = a.T @ (w * (p - y)) + pen * beta
        h = (a * (w * p * (1 - p))[:, None]).T @ a + np.diag(pen)
        beta = beta - np.linalg.solve(h, g)
    p = 1 / (1 + np.exp(-(a @ beta)))
    g = a.T @ (w * (p - y)) + pen * beta
    return beta[:-1], beta[-1], float(np.max(np.abs(g)))


def calibration(y, p):
    """10 uniform bins as sklearn's calibration_curve, with counts."""
    edges = np.linspace(0.0, 1.0, 11)
    ids = np.searchsorted(edges[1:-1], p)
    out = []
    for b in range(10):
        m = ids == b
        out.append({"count": int(m.sum()),
                    "mean_predicted": float(p[m].mean()) if m.any() else 0.0,
                    "observed_rate": float(y[m].mean()) if m.any() else 0.0})
    # Cross-check against sklearn on the non-empty bins.
    prob_true, prob_pred = calibration_curve(y, p, n_bins=10)
    got = [(b["observed_rate"], b["mean_predicted"]) for b in out if b["count"] > 0]
    assert np.allclose(got, list(zip(prob_true, prob_pred)), rtol=1e-12, atol=0)
    return out


def logistic_case(name, keys, x, y, frac, seed, **kw):
    hold = np.array([is_holdout(k, frac, seed) for k in keys])
    tr = ~hold
    mean, scale = x[tr].mean(axis=0), x[tr].std(axis=0)  # StandardScaler
    z = (x - mean) / scale
    model = LogisticRegression(solver="lbfgs", max_iter=10000, tol=1e-12, **kw)
    model.fit(z[tr], y[tr])
    cw = np.ones(len(y))
    if kw.get("class_weight") == "balanced":
        n1 = y[tr].sum()
        n0 = tr.sum() - n1
        cw = np.where(y == 1, tr.sum() / (2 * n1), tr.sum() / (2 * n0))
    C = kw.get("C", 1.0)
    if kw.get("penalty", "l2") is None:
        C = 1e300
    rc, ri, gmax = newton_refine(z[tr], y[tr], cw[tr], model.coef_[0], model.intercept_[0], C)
    nc = LogisticRegression(solver="newton-cholesky", max_iter=100, tol=1e-12, **kw).fit(z[tr], y[tr])
    case = {
        "name": name, "C": kw.get("C", 1.0), "penalty": "none" if kw.get("penalty", "l2") is None else "l2",
        "class_weight": kw.get("class_weight") or "", "holdout": frac, "split_seed": seed,
        "mean": mean.tolist(), "scale": scale.tolist(),
        "coefficients": model.coef_[0].tolist(), "intercept": float(model.intercept_[0]),
        "n_iter": int(model.n_iter_[0]),
        "newton_cholesky_coefficients": nc.coef_[0].tolist(),
        "newton_cholesky_intercept": float(nc.intercept_[0]),
        "refined_coefficients": rc.tolist(), "refined_intercept": float(ri),
        "refined_max_abs_gradient": gmax,
    }
    # Metrics of the optimum (newton-cholesky), and log-loss and AUC of the
    # lbfgs solution, which stops short of it.
    for label, m in [("train", tr), ("holdout", hold)]:
        if not m.any():
            continue
        p = nc.predict_proba(z[m])[:, 1]
        case[label + "_metrics"] = {"n": int(m.sum()), "log_loss": log_loss(y[m], p),
                                    "auc": roc_auc_score(y[m], p), "calibration": calibration(y[m], p)}
        p = model.predict_proba(z[m])[:, 1]
        case["lbfgs_" + label + "_metrics"] = {"n": int(m.sum()), "log_loss": log_loss(y[m], p),
                                               "auc": roc_auc_score(y[m], p)}
    return case


def logistic_cases():
    keys, x, y = telco_matrix()
    three = x[:, :3]
    cases = [
        logistic_case("l2_C1", keys, x, y, 0.0, 0, C=1.0),
        logistic_case("l2_C1_balanced", keys, x, y, 0.0, 0, C=1.0, class_weight="balanced"),
        logistic_case("l2_C0.01", keys, x, y, 0.0, 0, C=0.01),
        logistic_case("none_numeric", keys, three, y, 0.0, 0, penalty=None),
        logistic_case("l2_C1_holdout", keys, x, y, 0.2, 11, C=1.0),
    ]
    cases[3]["features"] = 3
    return {"versions": versions(), "data": "../telco/Telco-Customer-Churn.csv",
            "features": ["tenure", "MonthlyCharges", "SeniorCitizen"] +
                        ["Contract=" + c for c in CONTRACTS],
            "target": "Churn == Yes", "keys": "customerID",
            "standardise": "(x - mean) / scale with the case's mean and scale (StandardScaler on the training rows)",
            "cases": cases}


def main():
    for name, fn in [("linear_diabetes.json", linear_cases), ("logistic_telco.json", logistic_cases)]:
        with open(os.path.join(HERE, name), "w") as f:
            json.dump(fn(), f, indent=1)
            f.write("\n")
        print("wrote", name)


if __name__ == "__main__":
    main()
