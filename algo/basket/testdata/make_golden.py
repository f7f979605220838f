#!/usr/bin/env python3
"""Frequent itemsets and rules of the Online Retail sample, for golden_test.go.

Independent of the Go package: every invoice's distinct StockCodes are
enumerated with itertools.combinations up to MAX_LEN items and counted in a
dict; rules are every split of a frequent itemset. Baskets are invoices,
cancellations (InvoiceNo starting with "C") and lines with Quantity <= 0 left
out. Run from this folder: python3 make_golden.py > golden_online_retail.json
"""
import csv, gzip, itertools, json, math

SAMPLE = "../../../testdata/online-retail/onlineretail-sample.csv.gz"
MIN_SUPPORT, MIN_CONFIDENCE, MAX_LEN = 0.01, 0.3, 3

baskets = {}
with gzip.open(SAMPLE, "rt", newline="") as f:
    for row in csv.DictReader(f):
        if row["InvoiceNo"].startswith("C") or float(row["Quantity"]) <= 0:
            continue
        baskets.setdefault(row["InvoiceNo"], set()).add(row["StockCode"])
n = len(baskets)
counts = {}
for items in baskets.values():
    items = sorted(items)
    for k in range(1, MAX_LEN + 1):
        for c in itertools.combinations(items, k):
            counts[c] = counts.get(c, 0) + 1
min_count = next(m for m in range(1, n + 1) if m / n >= MIN_SUPPORT)
frequent = {c: v for c, v in counts.items() if v >= min_count}
itemsets = [{"items": list(c), "count": v} for c, v in sorted(frequent.items(), key=lambda kv: (len(kv[0]), kv[0]))]
rules = []
for c, v in frequent.items():
    if len(c) < 2:
        continue
    for k in range(1, len(c)):
        for a in itertools.combinations(c, k):
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
           "min_count": min_count, "itemsets": itemsets, "rules": rules}, __import__("sys").stdout, indent=1)
