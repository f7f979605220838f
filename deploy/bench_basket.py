#!/usr/bin/env python3
"""Generated invoices, and the Python reference of mathcrm's basket mining,
for mathcrm-bench.

  gen   writes N invoices over M items as an interactions CSV (invoice,item):
        4-20 lines each, items drawn with a skewed (Zipf-like, s=1.1)
        popularity, and in 30% of the invoices one of 200 three-item bundles,
        so that there are rules to find. Repeated items are dropped.
  mine  counts the frequent itemsets of that CSV up to --max-len items:
        items from the basket x item matrix's column sums; pairs from the
        scipy sparse product B_f^T B_f over the frequent items; each longer
        level by counting Apriori's candidates (two frequent itemsets one
        item shorter sharing all but their last item, every subset
        frequent): for each shared prefix, the sparse product of the columns
        of the last items over the baskets holding the prefix. Prints
        one JSON line: the time of the mining (not of reading the CSV), the
        number of baskets and of itemsets per length, and a SHA-256 of every
        itemset and count ("a,b,c=count" lines, sorted), to hold mathcrm's
        against.
"""
import argparse
import hashlib
import json
import sys
import time

import numpy as np


def gen(a):
    rng = np.random.default_rng(a.seed)
    n, m = a.invoices, a.items
    sizes = rng.integers(4, 21, size=n)
    p = 1.0 / np.arange(1, m + 1) ** 1.1
    p /= p.sum()
    perm = rng.permutation(m)  # popularity does not follow the id
    inv = np.repeat(np.arange(n, dtype=np.int64), sizes)
    item = perm[rng.choice(m, size=int(sizes.sum()), p=p)]
    bundles = rng.choice(m, size=(200, 3))
    has = np.flatnonzero(rng.random(n) < 0.3)
    pick = bundles[rng.integers(0, 200, size=len(has))]
    inv = np.concatenate([inv, np.repeat(has, 3)])
    item = np.concatenate([item, pick.ravel()])
    key = np.unique(inv * m + item)
    inv, item = key // m, key % m
    with open(a.out, "w") as f:
        f.write("invoice,item\n")
        step = 1 << 20
        for lo in range(0, len(inv), step):
            f.write("".join(f"INV{i:07d},SKU{j:05d}\n" for i, j in zip(inv[lo:lo + step].tolist(), item[lo:lo + step].tolist())))
    print(json.dumps({"invoices": n, "items": m, "lines": int(len(inv))}), file=sys.stderr)


def mine(a):
    import pandas as pd
    import scipy.sparse as sp
    df = pd.read_csv(a.data, dtype=str)
    t0 = time.perf_counter()
    inv, inv_ids = pd.factorize(df["invoice"])
    item_codes, item_ids = pd.factorize(df["item"])
    n, m = len(inv_ids), len(item_ids)
    B = sp.csr_matrix((np.ones(len(inv), dtype=np.int32), (inv, item_codes)), shape=(n, m))
    B.data[:] = 1  # an item counts once per basket
    min_count = next(c for c in range(1, n + 1) if c / n >= a.min_support)
    counts = np.asarray(B.sum(axis=0)).ravel()
    freq = np.flatnonzero(counts >= min_count)
    names = np.asarray(item_ids)[freq]
    order = np.argsort(names)  # items by id, as mathcrm orders them
    freq, names = freq[order], names[order]
    Bf = B[:, freq].tocsc().astype(np.int32)
    out = {(i,): int(counts[freq[i]]) for i in range(len(freq))}
    C = (Bf.T @ Bf).toarray()
    iu = np.triu_indices(len(freq), 1)
    keep = C[iu] >= min_count
    level = {(int(x), int(y)): int(c) for x, y, c in zip(iu[0][keep], iu[1][keep], C[iu][keep])}
    out.update(level)
    Bcsr = Bf.tocsr()
    k = 2
    while level and k < a.max_len:
        # Candidates of k+1 items are two frequent k-itemsets sharing their
        # first k-1 items P: over the baskets holding P, the sparse product
        # of their columns of the possible last items counts them all.
        by_prefix = {}
        for s in sorted(level):
            by_prefix.setdefault(s[:-1], []).append(s[-1])
        nxt = {}
        for pre, last in by_prefix.items():
            if len(last) < 2:
                continue
            rows = None
            for it in pre:
                col = Bf[:, it].indices
                rows = col if rows is None else np.intersect1d(rows, col, assume_unique=True)
            cols = np.asarray(last)
            G = (Bcsr[rows][:, cols].T @ Bcsr[rows][:, cols]).toarray()
            x, y = np.triu_indices(len(cols), 1)
            hit = G[x, y] >= min_count
            for i, j, c in zip(x[hit], y[hit], G[x, y][hit]):
                cand = pre + (int(cols[i]), int(cols[j]))
                if all(cand[:t] + cand[t + 1:] in level for t in range(k + 1)):
                    nxt[cand] = int(c)
        level = nxt
        out.update(level)
        k += 1
    secs = time.perf_counter() - t0
    lines = sorted(",".join(str(names[i]) for i in s) + "=" + str(c) for s, c in out.items())
    per_len = {}
    for s in out:
        per_len[len(s)] = per_len.get(len(s), 0) + 1
    print(json.dumps({"seconds": round(secs, 3), "baskets": n, "min_count": min_count,
                      "itemsets": [per_len.get(i, 0) for i in range(1, max(per_len, default=0) + 1)],
                      "sha256": hashlib.sha256("\n".join(lines).encode()).hexdigest()}))


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("gen")
    g.add_argument("--invoices", type=int, default=1000000)
    g.add_argument("--items", type=int, default=10000)
    g.add_argument("--seed", type=int, default=1)
    g.add_argument("--out", required=True)
    r = sub.add_parser("mine")
    r.add_argument("--data", required=True)
    r.add_argument("--min-support", type=float, default=0.001)
    r.add_argument("--max-len", type=int, default=3)
    a = ap.parse_args()
    gen(a) if a.cmd == "gen" else mine(a)


if __name__ == "__main__":
    main()
