#!/usr/bin/python3
"""Customer-value bench data and reference (make bench).

gen: draws customers from the BG/NBD process (Fader, Hardie & Lee 2005)
with Gamma-Gamma spend (Fader & Hardie 2013) and writes their purchases as
a transactions CSV (customer,date,amount): first purchases spread over
2020, purchases to the end of 2022.

run: imports that CSV into `mathcrm dev` with 2 workers and prints one JSON
line per figure: the fit end to end (train clv --wait; rounds, the first
with the shards not yet cached), the scipy reference fit of the same
customers in the same run (below) and the ratio, and CLV scoring end to end
into the score set, in customers per second, with the CPU seconds of the
cluster's processes (the dev process and its children) and the load
average.

ref: reads that CSV, builds the customer summary table at the calibration
end (x, t_x, T in weeks, mean repeat spend; not timed) and times the
scipy reference fits of algo/clv/testdata/cdnow/make_clv_golden.py (the
papers' likelihoods, Nelder-Mead restarted, then BFGS) from the table: the
BG/NBD fit and the Gamma-Gamma fit. Prints one JSON line.
"""
import argparse
import importlib.util
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import pandas as pd

START = np.datetime64("2020-01-01")
END_DAY = 1095  # 2022-12-31


def gen(n, seed, out):
    rng = np.random.default_rng(seed)
    lam = rng.gamma(1.0, 1 / 14.0, n) / 7.0  # purchases a day: r = 1, alpha = 14 weeks
    p = rng.beta(1.0, 2.5, n)
    nu = rng.gamma(4.0, 1 / 15.0, n)  # Gamma-Gamma q = 4, v = 15
    t = rng.integers(0, 366, n).astype(float)
    custs, days = [np.arange(n)], [t.astype(np.int64)]
    alive = np.ones(n, bool)
    while alive.any():
        idx = np.nonzero(alive)[0]
        t[idx] += rng.exponential(1 / lam[idx])
        ok = t[idx] <= END_DAY
        alive[idx[~ok]] = False
        idx = idx[ok]
        custs.append(idx)
        days.append(t[idx].astype(np.int64))
        drop = rng.random(len(idx)) < p[idx]
        alive[idx[drop]] = False
    c = np.concatenate(custs)
    d = np.concatenate(days)
    amount = rng.gamma(6.0, 1 / nu[c])  # Gamma-Gamma p = 6
    order = np.lexsort((d, c))
    c, d, amount = c[order], d[order], amount[order]
    df = pd.DataFrame({"customer": np.char.add("c", np.char.zfill(c.astype(str), 7)),
                       "date": (START + d.astype("timedelta64[D]")).astype(str),
                       "amount": np.round(amount, 2)})
    df.to_csv(out, index=False)
    print(f"{n} customers, {len(df)} purchase lines", file=sys.stderr)


def golden():
    here = os.path.dirname(os.path.abspath(__file__))
    path = os.path.join(here, "..", "algo", "clv", "testdata", "cdnow", "make_clv_golden.py")
    spec = importlib.util.spec_from_file_location("make_clv_golden", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def summaries(path, cal_end):
    df = pd.read_csv(path, dtype={"customer": str})
    df["date"] = pd.to_datetime(df["date"])
    cal = pd.Timestamp(cal_end)
    df = df[df["date"] <= cal]
    days = df.groupby(["customer", "date"], as_index=False)["amount"].sum().sort_values(["customer", "date"])
    g = days.groupby("customer", sort=True)
    first, last = g["date"].min(), g["date"].max()
    n = g["date"].count()
    first_amount = g["amount"].first()
    total = g["amount"].sum()
    x = (n - 1).to_numpy(float)
    tx = (last - first).dt.days.to_numpy(float) / 7.0
    T = (cal - first).dt.days.to_numpy(float) / 7.0
    m = np.where(x > 0, (total - first_amount).to_numpy() / np.maximum(x, 1), 0.0)
    return x, tx, T, m


def ref(path, cal_end):
    mod = golden()
    x, tx, T, m = summaries(path, cal_end)
    rep = (x > 0) & (m > 0)
    start = time.perf_counter()
    bg, ll_bg, _ = mod.fit(mod.ll_bgnbd, 4, 0.0, x, tx, T)
    t_bg = time.perf_counter() - start
    gg, ll_gg, _ = mod.fit(mod.ll_gg, 3, 0.0, x[rep], m[rep])
    secs = time.perf_counter() - start
    print(json.dumps({"bench": "clv_fit_scipy_reference", "customers": len(x), "spend_customers": int(rep.sum()),
                      "seconds": round(secs, 3), "bgnbd_seconds": round(t_bg, 3),
                      "bgnbd": bg.tolist(), "bgnbd_log_lik": ll_bg, "gammagamma": gg.tolist(), "gammagamma_log_lik": ll_gg}))


def cpu_seconds(pid):
    """User and system CPU seconds of process pid and its child processes so far."""
    tick = os.sysconf("SC_CLK_TCK")
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
            for t in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{t}/children") as f:
                    todo.extend(int(c) for c in f.read().split())
        except (FileNotFoundError, ProcessLookupError):
            pass
    return total


def mathcrm(bin_, env, *args):
    out = subprocess.run([bin_, *args], env=env, check=True, capture_output=True, text=True)
    return out.stdout


def run(bin_, path, cal_end, rounds, reference=True):
    d = tempfile.mkdtemp(prefix="mathcrm-clv-bench-")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ, MATHCRM_NATS_URL=f"nats://127.0.0.1:{port}")
    log = open(os.path.join(d, "dev.log"), "w")
    dev = subprocess.Popen([bin_, "dev", "--data-dir", os.path.join(d, "dev"), "--workers", "2",
                            "--nats-listen", f"127.0.0.1:{port}"], stdout=log, stderr=log)
    try:
        for _ in range(300):
            if subprocess.run([bin_, "dataset", "list"], env=env, capture_output=True).returncode == 0:
                break
            time.sleep(0.2)
        mathcrm(bin_, env, "dataset", "import", "clvtx", path, "--kind", "transactions", "--key", "customer",
                "--time", "date", "--amount", "amount", "--shards", "64")
        fits, model = [], None
        for _ in range(rounds):
            start = time.perf_counter()
            job = json.loads(mathcrm(bin_, env, "train", "clv", "--dataset", "clvtx", "--calibration-end", cal_end,
                                     "--wait", "--output", "json"))
            fits.append(round(time.perf_counter() - start, 3))
            if job["state"] != "succeeded":
                raise SystemExit(f"clv fit failed: {job}")
            model = job["model"]
        detail = json.loads(mathcrm(bin_, env, "model", "export", model, "--format", "json"))
        customers = detail["counts"]["customers"]
        print(json.dumps({"bench": "clv_fit_bgnbd_gammagamma", "customers": customers, "workers": 2, "shards": 64,
                          "mathcrm_s": fits, "iterations": [detail["purchase"]["iterations"], detail["spend"]["iterations"]],
                          "bgnbd": dict(detail["purchase"]["params"]), "gammagamma": dict(detail["spend"]["params"])}), flush=True)
        scores, cpus = [], []
        for i in range(rounds):
            start, cpu = time.perf_counter(), cpu_seconds(dev.pid)
            job = json.loads(mathcrm(bin_, env, "score", "--model", model, "--dataset", "clvtx", "--as", "clv-values",
                                     "--wait", "--output", "json"))
            scores.append(round(time.perf_counter() - start, 3))
            cpus.append(round(cpu_seconds(dev.pid) - cpu, 2))
            if job["state"] != "succeeded":
                raise SystemExit(f"clv scoring failed: {job}")
        print(json.dumps({"bench": "clv_score", "customers": customers, "workers": 2, "seconds": scores,
                          "customers_per_s": [round(customers / s) for s in scores], "cluster_cpu_s": cpus,
                          "load_avg": os.getloadavg()[0], "target": ">= 2000000"}), flush=True)
    finally:
        dev.terminate()
        dev.wait()
    if not reference:
        return
    out = subprocess.run([sys.executable, os.path.abspath(__file__), "ref", "--csv", path, "--calibration-end", cal_end],
                         check=True, capture_output=True, text=True).stdout
    print(out.strip(), flush=True)
    ref_s = json.loads(out)["seconds"]
    med = statistics.median(fits)
    print(json.dumps({"bench": "clv_fit_vs_scipy", "mathcrm_median_s": med, "scipy_s": ref_s,
                      "ratio": round(med / ref_s, 4), "target": "<= 0.25"}))


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("gen")
    g.add_argument("--n", type=int, default=1_000_000)
    g.add_argument("--seed", type=int, default=5)
    g.add_argument("--out", required=True)
    r = sub.add_parser("ref")
    r.add_argument("--csv", required=True)
    r.add_argument("--calibration-end", required=True)
    u = sub.add_parser("run")
    u.add_argument("--bin", required=True)
    u.add_argument("--csv", required=True)
    u.add_argument("--calibration-end", required=True)
    u.add_argument("--rounds", type=int, default=3)
    u.add_argument("--no-reference", action="store_true", help="skip the scipy reference (it takes minutes)")
    a = ap.parse_args()
    if a.cmd == "gen":
        gen(a.n, a.seed, a.out)
    elif a.cmd == "run":
        run(a.bin, a.csv, a.calibration_end, a.rounds, not a.no_reference)
    else:
        ref(a.csv, a.calibration_end)


if __name__ == "__main__":
    main()
