#!/usr/bin/env python3
"""Frequent itemsets and rules of the Online Retail sample, for golden_test.go.

Independent of the Go package. Baskets are invoices (their distinct
StockCodes), cancellations (InvoiceNo starting with "C") and lines with
Quantity <= 0 left out. Items and pairs are counted from every basket
directly; longer itemsets by checking, for every basket, each candidate whose
every subset one item shorter is frequent. Rules are every split of a
frequent itemset. Run from this folder:

    python3 make_golden.py 0.01 | gzip -9n > golden_online_retail_1pct.json.gz
    python3 make_golden.py 0.005 | gzip -9n > golden_online_retail_05pct.json.gz
"""
import csv, gzip, itertools, json, sys

SAMPLE = "../../../testdata/online-retail/onlineretail-sample.csv.gz"
MIN_SUPPORT, MIN_CONFIDENCE, MAX_LEN = float(sys.argv[1]), 0.3, 4

baskets = {}
with gzip.open(SAMPLE, "rt", newline="") as f:
    for row in csv.DictReader(f):
        if row["InvoiceNo"].startswith("C") or float(row["Quantity"]) <= 0:
            continue
        baskets.setdefault(row["InvoiceNo"], set()).add(row["StockCode"])
baskets = [frozenset(b) for b in baskets.values()]
n = len(baskets)
min_count = next(m for m in range(1, n + 1) if m / n >= MIN_SUPPORT)

counts = {}
for b in baskets:
    for it in b:
        counts[(it,)] = counts.get((it,), 0) + 1
frequent = {c: v for c, v in counts.items() if v >= min_count}
singles = {c[0] for c in frequent}
level = {}
for b in baskets:
    for pair in itertools.combinations(sorted(b & singles), 2):
        level[pair] = level.get(pair, 0) + 1
level = {c: v for c, v in level.items() if v >= min_count}
frequent.update(level)
k = 2
while level and k < MAX_LEN:
    items = sorted({i for c in level for i in c})
    cands = set()
    for c in level:
        for it in items:
            if it > c[-1]:
                cand = c + (it,)
                if all(sub in level for sub in itertools.combinations(cand, k)):
                    cands.add(cand)
    cand_sets = [(c, frozenset(c)) for c in cands]
    level = {}
    for b in baskets:
        for c, s in cand_sets:
            if s <= b:
                level[c] = level.get(c, 0) + 1
    level = {c: v for c, v in level.items() if v >= min_count}
    frequent.update(level)
    k += 1

itemsets = [{"items": list(c), "count": v} for c, v in sorted(frequent.items(), key=lambda kv: (len(kv[0]), kv[0]))]
rules = []
for c, v in frequent.items():
    for r in range(1, len(c)):
        for a in itertools.combinations(c, r):
            b = tuple(x for x in c if x not in a)
            conf = v / frequent[a]
            if conf < MIN_CONFIDENCE:
                continue
            sb, sa, s = frequent[b] / n, frequent[a] / n, v / n
            conv = None if v == frequent[a] else (1 - sb) / (1 - conf)
            rules.append({"antecedent": list(a), "consequent": list(b), "count": v, "support": s,
                          "confidence": conf, "lift": conf / sb, "leverage": s - sa * sb, "conviction": conv})
rules.sort(key=lambda r: (r["antecedent"], r["consequent"]))
json.dump({"baskets": n, "min_support": MIN_SUPPORT, "min_confidence": MIN_CONFIDENCE, "max_len": MAX_LEN,
           "min_count": min_count, "itemsets": itemsets, "rules": rules}, sys.stdout, separators=(",", ":"))
