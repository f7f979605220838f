#!/usr/bin/python3
"""Golden RFM features for algo/rfm from pandas, on a sample of UCI Online Retail.

Run from this folder (see README.md):

    /usr/bin/python3 make_golden.py [path/to/onlineretail.csv.gz]

It writes online_retail_sample.csv (the sampled rows, the Go test's input)
and rfm_online_retail.json (pandas' features, cuts and scores) beside
itself. The features follow the conventions of algo/rfm/doc.go, written
here in pandas terms; the cuts are numpy's quantile with
method="inverted_cdf" (Hyndman & Fan definition 1, nearest rank).
"""
import json
import os
import sys

import numpy as np
import pandas as pd

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = sys.argv[1] if len(sys.argv) > 1 else "/work/shared/datasets/online-retail/onlineretail.csv.gz"
DAY = 86400

# The standard segment map of algo/rfm (StandardSegments), as the grid in
# its documentation: a row per r_score, the segment per f_score 1..5.
GRID = {
    5: ["New", "Potential loyalist", "Potential loyalist", "Champions", "Champions"],
    4: ["Promising", "Potential loyalist", "Potential loyalist", "Loyal", "Loyal"],
    3: ["About to sleep", "About to sleep", "Needs attention", "Loyal", "Loyal"],
    2: ["Hibernating", "Hibernating", "At risk", "At risk", "Can't lose them"],
    1: ["Lost", "Lost", "At risk", "At risk", "Can't lose them"],
}


def sample():
    df = pd.read_csv(SOURCE, dtype={"InvoiceNo": str, "StockCode": str}, keep_default_na=False, na_values={"CustomerID": [""]})
    df = df[df["CustomerID"].notna()]
    df["customer"] = df["CustomerID"].astype(int).astype(str)
    df = df[df["CustomerID"].astype(int) % 25 == 0]  # about 170 customers
    t = pd.to_datetime(df["InvoiceDate"], utc=True)
    out = pd.DataFrame({
        "customer": df["customer"],
        "invoice": df["InvoiceNo"],
        "time": (t - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(seconds=1),
        "quantity": df["Quantity"].astype(int),
        "price": df["UnitPrice"].astype(float),
    })
    # The shard order: customer, time, invoice; file order among equals.
    return out.sort_values(["customer", "time", "invoice"], kind="mergesort").reset_index(drop=True)


def features(rows, customers, as_of, invoices):
    """One customer per row, the columns of algo/rfm, in key order."""
    rows = rows.copy()
    rows["amount"] = rows["quantity"] * rows["price"]
    rows["ret"] = (rows["quantity"] < 0) | (rows["amount"] < 0)
    after = int((rows["time"] >= as_of).sum())
    rows = rows[rows["time"] < as_of]
    rows["signed"] = np.where(rows["ret"], -rows["amount"].abs(), rows["amount"])
    buys = rows[~rows["ret"]]
    if invoices:
        named = buys[buys["invoice"] != ""].groupby("customer")["invoice"].nunique()
        unnamed = buys[buys["invoice"] == ""].groupby("customer")["time"].nunique()
        freq = named.add(unnamed, fill_value=0)
    else:
        freq = buys.groupby("customer")["time"].nunique()
    g = buys.groupby("customer")["time"]
    out = pd.DataFrame({
        "recency_days": (as_of - g.max()) // DAY,
        "frequency": freq,
    })
    # Sum in row order, as the shards do; pandas' own (compensated) sum
    # must agree to rounding.
    seq = rows.groupby("customer")["signed"].agg(lambda s: float(sum(s.tolist())))
    pd_sum = rows.groupby("customer")["signed"].sum()
    assert np.allclose(seq, pd_sum, rtol=1e-12, atol=1e-9)
    out["monetary_sum"] = seq.reindex(out.index)
    out["monetary_mean"] = out["monetary_sum"] / out["frequency"]
    out["tenure_days"] = (as_of - g.min()) // DAY
    out = out.sort_index()
    dropped = len(customers - set(out.index))
    cuts = {}
    for col, sign, score in (("recency_days", -1, "r_score"), ("frequency", 1, "f_score"), ("monetary_sum", 1, "m_score")):
        good = sign * out[col].to_numpy(dtype=float)
        c = np.quantile(good, [0.2, 0.4, 0.6, 0.8], method="inverted_cdf")
        out[score] = 1 + (good[:, None] > c[None, :]).sum(axis=1)
        cuts[col] = [float(sign * x) + 0.0 for x in c]
    return out, cuts, {"no_purchase": dropped, "after_as_of": after}


rows = sample()
rows.to_csv(os.path.join(HERE, "online_retail_sample.csv"), index=False)
last = int(rows["time"].max())
cases = []
for name, as_of, invoices in (
    ("default as-of, invoices", (last // DAY + 1) * DAY, True),
    ("2011-09-01, purchase times", int(pd.Timestamp("2011-09-01", tz="UTC").timestamp()), False),
):
    out, cuts, dropped = features(rows, set(rows["customer"]), as_of, invoices)
    cases.append({
        "name": name, "as_of": as_of, "invoices": invoices, "n": len(out),
        "dropped": dropped, "cuts": cuts,
        "keys": list(out.index),
        "columns": {c: [float(x) for x in out[c]] for c in out.columns},
        "segments": [GRID[int(r)][int(f) - 1] for r, f in zip(out["r_score"], out["f_score"])],
    })
with open(os.path.join(HERE, "rfm_online_retail.json"), "w") as f:
    json.dump({"pandas": pd.__version__, "numpy": np.__version__, "source": "UCI Online Retail (CRAN onlineretail 0.1.2), CustomerID % 25 == 0",
               "cases": cases}, f, indent=1)
    f.write("\n")
