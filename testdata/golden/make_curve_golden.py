"""Golden ROC, gains and lift of the Telco logistic models for algo/logistic.

Run from the repository root after make_golden.py (see README.md here):

    /usr/bin/python3 testdata/golden/make_curve_golden.py

It reads logistic_telco.json for the newton-cholesky solutions and writes
logistic_telco_curves.json beside itself. For the training and held-out
rows of each case it puts the predicted probability p into 100 bins
(floor(100 p), p = 1 in the last) and records, per bin, the rows of each
class; scikit-learn's roc_auc_score and roc_curve (drop_intermediate=False)
of the bin numbers, which rank the rows of one bin as tied; roc_auc_score
of p itself; and the cumulative gains at each decile of the rows, the bins
taken from the top and a decile boundary inside a bin interpolated
linearly (numpy.interp), as a random order of the tied rows gives on
average.
"""
import json
import os

import numpy as np
from sklearn.metrics import roc_auc_score, roc_curve

from make_golden import HERE, is_holdout, telco_matrix, versions

BINS = 100
CASES = ["l2_C1", "l2_C1_balanced", "l2_C1_holdout"]


def curve_set(y, p):
    b = np.minimum(np.floor(p * BINS).astype(int), BINS - 1)
    neg = np.bincount(b[y == 0], minlength=BINS)
    pos = np.bincount(b[y == 1], minlength=BINS)
    fpr, tpr, thresholds = roc_curve(y, b, drop_intermediate=False)
    top = np.arange(BINS - 1, -1, -1)
    cw = np.concatenate([[0], np.cumsum((neg + pos)[top])]).astype(float)
    cp = np.concatenate([[0], np.cumsum(pos[top])]).astype(float)
    keep = np.concatenate([[True], np.diff(cw) > 0])  # numpy.interp wants increasing xp
    gains = [float(np.interp(d / 10 * len(y), cw[keep], cp[keep]) / pos.sum()) for d in range(1, 11)]
    return {
        "n": int(len(y)), "negatives": neg.tolist(), "positives": pos.tolist(),
        "binned_auc": roc_auc_score(y, b), "auc": roc_auc_score(y, p),
        "roc_fpr": fpr.tolist(), "roc_tpr": tpr.tolist(),
        "roc_bins": [int(t) for t in thresholds[1:]],
        "gains": gains,
    }


def main():
    with open(os.path.join(HERE, "logistic_telco.json")) as f:
        golden = json.load(f)
    keys, x, y = telco_matrix()
    out = []
    for c in golden["cases"]:
        if c["name"] not in CASES:
            continue
        hold = np.array([is_holdout(k, c["holdout"], c["split_seed"]) for k in keys])
        z = (x - np.array(c["mean"])) / np.array(c["scale"])
        eta = z @ np.array(c["newton_cholesky_coefficients"]) + c["newton_cholesky_intercept"]
        p = 1 / (1 + np.exp(-eta))
        case = {"name": c["name"]}
        for label, m in [("train", ~hold), ("holdout", hold)]:
            if m.any():
                case[label] = curve_set(y[m], p[m])
        out.append(case)
    with open(os.path.join(HERE, "logistic_telco_curves.json"), "w") as f:
        json.dump({"versions": versions(), "bins": BINS, "cases": out}, f, indent=1)
        f.write("\n")
    print("wrote logistic_telco_curves.json")


if __name__ == "__main__":
    main()
