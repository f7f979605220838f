#!/usr/bin/env python3
"""numpy reference of mathcrm's item neighbours (als.Model.Similar).

Reads similar_factors.json (the item factors of an ALS model trained on
testdata/ratings/spark_sample_movielens.csv, as TestSimilarIsNumpyCosine
writes them with MATHCRM_WRITE_SIMILAR=1) and writes similar_golden.json:
for every trained item, its 10 nearest trained items by cosine, computed
the usual way: V normalised row by row, S = V @ V.T, the item itself and
untrained items set to -inf, np.argpartition for the top 10, those sorted
by score (ties by id).

    python3 make_similar_golden.py   (numpy 1.24.2 made the file here)
"""
import json
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = 10

with open(os.path.join(HERE, "similar_factors.json")) as f:
    doc = json.load(f)
ids = doc["ids"]
V = np.array(doc["factors"], dtype=np.float64).reshape(len(ids), doc["rank"])
trained = np.array(doc["counts"]) > 0
norm = np.linalg.norm(V, axis=1)
trained &= norm > 0
Vn = np.zeros_like(V)
Vn[trained] = V[trained] / norm[trained, None]
S = Vn @ Vn.T
S[:, ~trained] = -np.inf
np.fill_diagonal(S, -np.inf)
out = {}
for i in np.flatnonzero(trained):
    cand = np.argpartition(-S[i], TOP)[: TOP + 1]
    cand = [j for j in cand if np.isfinite(S[i, j])]
    cand.sort(key=lambda j: (-S[i, j], ids[j]))
    # argpartition may cut a tie at the 10th place: widen to every item
    # scoring as high as the 10th, then keep the first 10 by (score, id).
    if len(cand) >= TOP:
        bar = S[i, cand[TOP - 1]]
        cand = sorted(np.flatnonzero(S[i] >= bar), key=lambda j: (-S[i, j], ids[j]))
    out[ids[i]] = [[ids[j], float(S[i, j])] for j in cand[:TOP]]
with open(os.path.join(HERE, "similar_golden.json"), "w") as f:
    json.dump({"source": "numpy " + np.__version__ + ", normalised V @ V.T + argpartition", "top": TOP, "neighbours": out}, f, indent=0, sort_keys=True)
    f.write("\n")
