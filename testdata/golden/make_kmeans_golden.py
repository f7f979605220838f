#!/usr/bin/python3
"""Golden values for algo/kmeans from scikit-learn's Lloyd k-means.

Run from the repository root (see kmeans_README.md in this folder):

    /usr/bin/python3 testdata/golden/make_kmeans_golden.py

It writes kmeans_blobs.csv (a generated data set, fixed seed) and
kmeans_golden.json beside itself. Every case is
KMeans(algorithm="lloyd", n_init=1, init=<given centroids>, max_iter=N, tol=0)
from centroids that are rows of the data, so no randomness is involved.
A plain numpy Lloyd loop re-runs each case as a second opinion: it must
reach the same labels and iteration count and no cluster may go empty (the
Go test does not compare re-seeding of empty clusters).
"""
import csv
import hashlib
import json
import os
import sys

import numpy as np
import sklearn
from sklearn.cluster import KMeans

HERE = os.path.dirname(os.path.abspath(__file__))
TELCO = "../telco/Telco-Customer-Churn.csv"
BLOBS = "kmeans_blobs.csv"
TELCO_COLUMNS = ["tenure", "MonthlyCharges", "TotalCharges"]
BLOB_COLUMNS = ["x0", "x1", "x2", "x3"]


def versions():
    return {"python": sys.version.split()[0], "numpy": np.__version__, "sklearn": sklearn.__version__}


def load(path, columns):
    """The named columns as floats, skipping rows where any is blank (the
    11 Telco customers with tenure 0 have a blank TotalCharges)."""
    with open(os.path.join(HERE, path), newline="") as f:
        rows = list(csv.DictReader(f))
    return np.array([[float(r[c]) for c in columns] for r in rows
                     if all(r[c].strip() for c in columns)])


def write_blobs():
    """Six overlapping Gaussian blobs of 250 rows in 4 dimensions, shuffled."""
    rng = np.random.default_rng(20260329)
    centres = rng.uniform(-6, 6, size=(6, 4))
    x = np.vstack([c + 1.5 * rng.standard_normal((250, 4)) for c in centres])
    rng.shuffle(x)
    with open(os.path.join(HERE, BLOBS), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(BLOB_COLUMNS)
        for row in x:
            w.writerow([repr(float(v)) for v in row])  # shortest round-trip decimal


def numpy_lloyd(x, init, max_iter):
    """Lloyd as the Go package runs it, without centring: n_iter updates,
    stopping early once an update leaves the labels unchanged (sklearn's
    strict convergence), then a final assignment."""
    c = init.copy()
    old = None
    n_iter = 0
    for _ in range(max_iter):
        d2 = ((x[:, None, :] - c[None, :, :]) ** 2).sum(axis=2)
        labels = d2.argmin(axis=1)
        counts = np.bincount(labels, minlength=len(c))
        assert counts.min() > 0, "a cluster went empty"
        c = np.array([x[labels == k].mean(axis=0) for k in range(len(c))])
        n_iter += 1
        if old is not None and np.array_equal(labels, old):
            break
        old = labels
    d2 = ((x[:, None, :] - c[None, :, :]) ** 2).sum(axis=2)
    labels = d2.argmin(axis=1)
    return c, labels, float(d2[np.arange(len(x)), labels].sum()), n_iter


def case(name, path, columns, k, init_rows, max_iter):
    x = load(path, columns)
    init = x[init_rows]
    km = KMeans(n_clusters=k, algorithm="lloyd", n_init=1, init=init, max_iter=max_iter, tol=0)
    km.fit(x)
    labels = "".join(str(int(v)) for v in km.labels_)  # k <= 10: one digit per row
    nc, nl, ninertia, nn = numpy_lloyd(x, init, max_iter)
    assert nn == km.n_iter_, (name, nn, km.n_iter_)
    assert np.array_equal(nl, km.labels_), name
    return {
        "name": name, "data": path, "columns": columns, "n": len(x), "k": k,
        "init_rows": init_rows, "init": init.tolist(), "max_iter": max_iter, "tol": 0.0,
        "n_iter": int(km.n_iter_), "inertia": float(km.inertia_),
        "centroids": km.cluster_centers_.tolist(),
        "sizes": np.bincount(km.labels_, minlength=k).tolist(),
        "labels_sha256": hashlib.sha256(labels.encode()).hexdigest(),
        "labels": labels,
        "numpy_inertia": ninertia,
        "numpy_inertia_rel_diff": abs(ninertia - km.inertia_) / km.inertia_,
        "numpy_centroid_max_rel_diff": float((abs(nc - km.cluster_centers_) /
                                              np.maximum(1, abs(km.cluster_centers_))).max()),
    }


def main():
    write_blobs()
    cases = [
        case("telco_k4", TELCO, TELCO_COLUMNS, 4, [0, 1, 2, 3], 300),
        case("telco_k6", TELCO, TELCO_COLUMNS, 6, [0, 1, 2, 3, 4, 5], 300),
        case("telco_k6_max10", TELCO, TELCO_COLUMNS, 6, [0, 1, 2, 3, 4, 5], 10),
        case("blobs_k6", BLOBS, BLOB_COLUMNS, 6, [0, 1, 2, 3, 4, 5], 300),
        case("blobs_k8", BLOBS, BLOB_COLUMNS, 8, [10, 20, 30, 40, 50, 60, 70, 80], 300),
        case("blobs_k8_max4", BLOBS, BLOB_COLUMNS, 8, [10, 20, 30, 40, 50, 60, 70, 80], 4),
    ]
    out = {
        "versions": versions(),
        "command": "/usr/bin/python3 testdata/golden/make_kmeans_golden.py",
        "estimator": 'KMeans(n_clusters=k, algorithm="lloyd", n_init=1, init=x[init_rows], max_iter=max_iter, tol=0).fit(x)',
        "rows": "data rows in file order, skipping rows where a listed column is blank",
        "labels": "labels_ as one decimal digit per row; labels_sha256 is the SHA-256 of that ASCII string",
        "cases": cases,
    }
    with open(os.path.join(HERE, "kmeans_golden.json"), "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    for c in cases:
        print(c["name"], "n_iter", c["n_iter"], "inertia", c["inertia"],
              "numpy rel diff %.1e" % c["numpy_inertia_rel_diff"])


if __name__ == "__main__":
    main()
