#!/usr/bin/env python3
"""numpy reference of mathcrm's item neighbours (score --items), for mathcrm-bench.

Reads from DIR what `mathcrm-bench --only items` writes there:
  items.npy   float64, one row per item of the ALS model, in model order
  trained.npy bool, per item: whether it has a trained factor
  sample.npy  int64, item rows whose neighbours are printed for comparison

Every trained item's --top nearest trained items by cosine, the usual way:
V normalised row by row, then in batches of rows S = Vn[batch] @ Vn.T (the
whole 20k x 20k product would take 3.2 GB), the item itself and untrained
items set to -inf, np.argpartition for the top N, those sorted by score.
Only this compute is timed, not the loading. BLAS runs with --threads
threads (threadpoolctl, and OPENBLAS_NUM_THREADS before numpy loads).
Prints one JSON line.
"""
import argparse
import json
import os
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--top", type=int, default=10)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=2048)
    args = ap.parse_args()
    for v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[v] = str(args.threads)
    import numpy as np
    from threadpoolctl import threadpool_info, threadpool_limits

    d = args.dir
    V = np.load(os.path.join(d, "items.npy"))
    trained = np.load(os.path.join(d, "trained.npy"))
    sample = np.load(os.path.join(d, "sample.npy"))
    k = args.top
    ni = V.shape[0]

    with threadpool_limits(limits=args.threads):
        blas = [f"{p.get('internal_api')} {p.get('version')}" for p in threadpool_info() if p.get("user_api") == "blas"]
        t0 = time.perf_counter()
        norm = np.linalg.norm(V, axis=1)
        live = trained & (norm > 0)
        rows = np.flatnonzero(live)
        Vn = np.zeros_like(V)
        Vn[live] = V[live] / norm[live, None]
        VnT = np.ascontiguousarray(Vn.T)
        cold = np.flatnonzero(~live)
        top_idx = np.full((ni, k), -1, dtype=np.int64)
        top_score = np.full((ni, k), -np.inf)
        for b0 in range(0, len(rows), args.batch):
            r = rows[b0 : b0 + args.batch]
            S = Vn[r] @ VnT
            S[np.arange(len(r)), r] = -np.inf
            S[:, cold] = -np.inf
            part = np.argpartition(S, ni - k, axis=1)[:, ni - k :]
            ps = np.take_along_axis(S, part, axis=1)
            order = np.argsort(-ps, axis=1, kind="stable")
            top_idx[r] = np.take_along_axis(part, order, axis=1)
            top_score[r] = np.take_along_axis(ps, order, axis=1)
        secs = time.perf_counter() - t0

    out = {
        "impl": f"numpy {np.__version__} ({', '.join(blas) or 'blas'}), {args.threads} threads",
        "items": ni,
        "trained": int(live.sum()),
        "rank": V.shape[1],
        "top": k,
        "batch": args.batch,
        "seconds": round(secs, 4),
        "sample": {
            "rows": sample.tolist(),
            "items": top_idx[sample].tolist(),
            "scores": top_score[sample].tolist(),
        },
    }
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
