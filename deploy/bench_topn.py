#!/usr/bin/env python3
"""numpy reference of mathcrm's ALS top-N scoring, for mathcrm-bench.

Reads from DIR what `mathcrm-bench --only topn` writes there:
  users.npy   float64, one row per trained user: its factor
  items.npy   float64, one row per item of the model, in model order
  trained.npy bool, per item: whether it has a trained factor
  ex_ptr.npy  int64, len(users)+1: user i excludes ex_idx[ex_ptr[i]:ex_ptr[i+1]]
  ex_idx.npy  int32, item rows (the items the user rated)
  sample.npy  int64, user rows whose top items are printed for comparison

For each user, in batches: scores = U_batch @ V.T, excluded and untrained
items set to -inf, np.argpartition for the top N, then those sorted by
score. Only this compute is timed, not the loading. BLAS runs with
--threads threads (threadpoolctl, and OPENBLAS_NUM_THREADS before numpy
loads). Prints one JSON line.
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
    ap.add_argument("--batch", type=int, default=1024)
    args = ap.parse_args()
    for v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[v] = str(args.threads)
    import numpy as np
    from threadpoolctl import threadpool_info, threadpool_limits

    d = args.dir
    U = np.load(os.path.join(d, "users.npy"))
    V = np.load(os.path.join(d, "items.npy"))
    trained = np.load(os.path.join(d, "trained.npy"))
    ptr = np.load(os.path.join(d, "ex_ptr.npy"))
    idx = np.load(os.path.join(d, "ex_idx.npy"))
    sample = np.load(os.path.join(d, "sample.npy"))
    k = args.top
    nu, ni = U.shape[0], V.shape[0]

    with threadpool_limits(limits=args.threads):
        blas = [f"{p.get('internal_api')} {p.get('version')}" for p in threadpool_info() if p.get("user_api") == "blas"]
        t0 = time.perf_counter()
        VT = np.ascontiguousarray(V.T)
        cold = np.flatnonzero(~trained)
        top_idx = np.empty((nu, k), dtype=np.int64)
        top_score = np.empty((nu, k), dtype=np.float64)
        for b0 in range(0, nu, args.batch):
            b1 = min(nu, b0 + args.batch)
            S = U[b0:b1] @ VT
            lo, hi = ptr[b0], ptr[b1]
            rows = np.repeat(np.arange(b1 - b0), np.diff(ptr[b0 : b1 + 1]))
            S[rows, idx[lo:hi]] = -np.inf
            S[:, cold] = -np.inf
            part = np.argpartition(S, ni - k, axis=1)[:, ni - k :]
            ps = np.take_along_axis(S, part, axis=1)
            order = np.argsort(-ps, axis=1, kind="stable")
            top_idx[b0:b1] = np.take_along_axis(part, order, axis=1)
            top_score[b0:b1] = np.take_along_axis(ps, order, axis=1)
        secs = time.perf_counter() - t0

    out = {
        "impl": f"numpy {np.__version__} ({', '.join(blas) or 'blas'}), {args.threads} threads",
        "users": nu,
        "items": ni,
        "rank": U.shape[1],
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
