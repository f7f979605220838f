#!/usr/bin/python3
"""Golden values for algo/als from a plain numpy ALS.

Run from the repository root (see README.md in this folder):

    /usr/bin/python3 testdata/golden/make_als_golden.py

It writes als_golden.json beside itself. The script reimplements, from
algo/als, the held-out split (PairHash / IsHoldout), the initial factors
(InitFactor) and the definitions of the objective and the metrics, and
solves every row's normal equations with numpy.linalg.solve (LAPACK gesv),
so it shares no code with the Go package: the Go tests hold the package's
metrics to these values (held-out RMSE within 1 %, precision@10 within
2 %, and much closer in practice).
"""
import csv
import json
import math
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
RATINGS = os.path.join(HERE, "..", "ratings")
MASK64 = (1 << 64) - 1
PURPOSE_INIT = 0x696E697400000001


def fnv1a(s):
    h = 14695981039346656037
    for b in s.encode("utf-8"):
        h ^= b
        h = (h * 1099511628211) & MASK64
    return h


def splitmix(z):
    z = (z + 0x9E3779B97F4A7C15) & MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return z ^ (z >> 31)


def key_hash(key, seed):
    return splitmix(fnv1a(key) ^ seed)


def is_holdout(user, item, fraction, seed):
    """als.IsHoldout: splitmix(KeyHash(user, seed) ^ FNV-1a(item)) mod 1e6."""
    h = splitmix(key_hash(user, seed) ^ fnv1a(item))
    return fraction > 0 and (h % 1000000) / 1e6 < fraction


def init_factor(seed, key, rank):
    """als.InitFactor: uniform on [-sqrt(3/rank), sqrt(3/rank))."""
    h = key_hash(key, seed ^ PURPOSE_INIT)
    scale = math.sqrt(3 / rank)
    return np.array([(2 * ((splitmix(h ^ k) >> 11) * 2.0 ** -53) - 1) * scale for k in range(rank)])


def read(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))[1:]
    return [(r[0], r[1], float(r[2])) for r in rows]


class Side:
    """One side's rows: for each row, its training and held-out
    interactions as (other index, value) lists. Explicit: one entry per
    interaction. Implicit: duplicates summed, pairs with a count of 0
    dropped."""

    def __init__(self, ids, n):
        self.ids = ids
        self.train = [[] for _ in range(n)]
        self.held = [[] for _ in range(n)]


def build(data, holdout, seed, implicit):
    users = sorted({u for u, _, _ in data})
    items = sorted({i for _, i, _ in data})
    ui = {u: k for k, u in enumerate(users)}
    ii = {i: k for k, i in enumerate(items)}
    if implicit:
        sums = {}
        for u, i, v in data:
            sums[(u, i)] = sums.get((u, i), 0.0) + v
        obs = [(u, i, v) for (u, i), v in sums.items() if v > 0]
    else:
        obs = data
    us, its = Side(users, len(users)), Side(items, len(items))
    for u, i, v in obs:
        where = "held" if is_holdout(u, i, holdout, seed) else "train"
        getattr(us, where)[ui[u]].append((ii[i], v))
        getattr(its, where)[ii[i]].append((ui[u], v))
    return us, its


def half(side, Y, cfg):
    """Solve every row of side from the other side's factors Y."""
    r, lam, alpha = cfg["rank"], cfg["lambda"], cfg["alpha"]
    G = Y.T @ Y if cfg["implicit"] else None
    X = np.zeros((len(side.ids), r))
    n = np.zeros(len(side.ids), dtype=np.int64)
    for k, tr in enumerate(side.train):
        if not tr:
            continue
        idx = np.array([o for o, _ in tr])
        v = np.array([x for _, x in tr])
        Yi = Y[idx]
        lam_eff = lam * len(tr) if cfg["reg_scaling"] == "weighted" else lam
        if cfg["implicit"]:
            A = G + (Yi.T * (alpha * v)) @ Yi + lam_eff * np.eye(r)
            b = (1 + alpha * v) @ Yi
        else:
            A = Yi.T @ Yi + lam_eff * np.eye(r)
            b = v @ Yi
        X[k] = np.linalg.solve(A, b)
        n[k] = len(tr)
    return X, n


def measure(us, its, U, V, nu, ni, cfg):
    lam, alpha = cfg["lambda"], cfg["alpha"]
    weighted = cfg["reg_scaling"] == "weighted"
    reg_u = float(((U * U).sum(axis=1) * (nu if weighted else 1)).sum())
    reg_i = float(((V * V).sum(axis=1) * (ni if weighted else 1)).sum())
    loss, ntrain = 0.0, 0
    sse, nh, cold = 0.0, 0, 0
    for k, tr in enumerate(us.train):
        for o, v in tr:
            s = float(U[k] @ V[o])
            ntrain += 1
            if cfg["implicit"]:
                c = 1 + alpha * v
                loss += c * (1 - s) ** 2 - s * s
            else:
                loss += (v - s) ** 2
        for o, v in us.held[k]:
            if nu[k] == 0 or ni[o] == 0:
                cold += 1
                continue
            e = v - float(U[k] @ V[o])
            sse += e * e
            nh += 1
    if cfg["implicit"]:
        loss += float(((U.T @ U) * (V.T @ V)).sum())
    it = {"objective": loss + lam * (reg_u + reg_i), "loss": loss,
          "reg_users": reg_u, "reg_items": reg_i}
    if not cfg["implicit"]:
        it["train_rmse"] = math.sqrt(loss / ntrain)
        it["holdout_rmse"] = math.sqrt(sse / nh) if nh else 0.0
        it["nholdout"], it["ncold"] = nh, cold
    elif cfg["holdout"] > 0:
        it.update(ranking(us, its, U, V, nu, ni, cfg["eval_k"]))
    return it


def ranking(us, its, U, V, nu, ni, K):
    """precision@K, recall@K, NDCG@K over the users with a trained factor
    and a held-out item with a trained factor; candidates are the trained
    items without a training pair with the user; ties to the smaller id."""
    disc = np.array([1 / math.log2(j + 2) for j in range(K)])
    trained = ni > 0
    # Rank of each item id in string order: ties go to the smaller id.
    id_rank = np.arange(len(its.ids))  # its.ids is sorted
    P = R = N = 0.0
    users = 0
    for k in range(len(us.ids)):
        if nu[k] == 0:
            continue
        rel = {o for o, _ in us.held[k] if trained[o]}
        if not rel:
            continue
        cand = trained.copy()
        for o, _ in us.train[k]:
            cand[o] = False
        idx = np.nonzero(cand)[0]
        s = V[idx] @ U[k]
        order = np.lexsort((id_rank[idx], -s))[:K]
        top = idx[order]
        hits = [j for j, o in enumerate(top) if o in rel]
        P += len(hits) / K
        R += len(hits) / len(rel)
        N += sum(disc[j] for j in hits) / disc[:min(K, len(rel))].sum()
        users += 1
    return {"precision": P / users, "recall": R / users, "ndcg": N / users, "eval_users": users}


def run(name, path, cfg):
    data = read(path)
    us, its = build(data, cfg["holdout"], cfg["seed"], cfg["implicit"])
    r = cfg["rank"]
    V = np.array([init_factor(cfg["seed"], i, r) for i in its.ids])
    history = []
    for t in range(cfg["iterations"]):
        U, nu = half(us, V, cfg)
        V, ni = half(its, U, cfg)
        it = measure(us, its, U, V, nu, ni, cfg)
        it["iteration"] = t + 1
        history.append(it)
    return {
        "name": name, "data": os.path.relpath(path, os.path.join(HERE, "..", "..")),
        "config": cfg, "users": len(us.ids), "items": len(its.ids),
        "ntrain": int(sum(len(t) for t in us.train)),
        "nheld": int(sum(len(h) for h in us.held)),
        "history": history,
        # A few final factors, for a closer look than the metrics.
        "first_users": {us.ids[k]: U[k].tolist() for k in range(3)},
        "first_items": {its.ids[k]: V[k].tolist() for k in range(3)},
    }


def config(**kw):
    cfg = {"rank": 10, "lambda": 0.1, "iterations": 10, "implicit": False, "alpha": 0.0,
           "reg_scaling": "weighted", "seed": 42, "holdout": 0.2, "eval_k": 10}
    cfg.update(kw)
    return cfg


def main():
    cases = [
        run("spark_explicit", os.path.join(RATINGS, "spark_sample_movielens.csv"),
            config(rank=10, **{"lambda": 0.1})),
        run("spark_explicit_plain", os.path.join(RATINGS, "spark_sample_movielens.csv"),
            config(rank=8, reg_scaling="none", seed=7, **{"lambda": 1.0})),
        run("planted_explicit", os.path.join(RATINGS, "planted_rank8.csv"),
            config(rank=8, iterations=8, holdout=0.1, seed=3, **{"lambda": 0.1})),
        run("retail_implicit", os.path.join(RATINGS, "online_retail_sample.csv"),
            config(rank=16, iterations=8, implicit=True, alpha=0.1, reg_scaling="none",
                   seed=11, **{"lambda": 1.0})),
        run("retail_implicit_weighted", os.path.join(RATINGS, "online_retail_sample.csv"),
            config(rank=12, iterations=4, implicit=True, alpha=0.5, holdout=0.25,
                   seed=12, **{"lambda": 0.05})),
    ]
    out = {
        "command": "/usr/bin/python3 testdata/golden/make_als_golden.py",
        "versions": {"python": sys.version.split()[0], "numpy": np.__version__},
        "cases": cases,
    }
    path = os.path.join(HERE, "als_golden.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1, sort_keys=True)
        f.write("\n")
    for c in cases:
        last = c["history"][-1]
        print(c["name"], {k: last[k] for k in sorted(last) if k in
                          ("holdout_rmse", "train_rmse", "precision", "recall", "ndcg", "objective")})


if __name__ == "__main__":
    main()
