#!/usr/bin/python3
"""Build online_retail_sample.csv from the UCI Online Retail invoices.

    /usr/bin/python3 testdata/ratings/make_retail_sample.py PATH/onlineretail.csv.gz

Keeps the invoice lines with a CustomerID and Quantity > 0, sums Quantity
per (CustomerID, StockCode), and keeps the customers whose numeric id is a
multiple of 5 (a fifth of them). Writes customer,item,quantity rows sorted
by customer then item, beside this script. Deterministic.
"""
import csv
import gzip
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    src = sys.argv[1]
    pairs = {}
    with gzip.open(src, "rt", newline="") as f:
        for row in csv.DictReader(f):
            c = row["CustomerID"]
            if c in ("", "NA") or int(row["Quantity"]) <= 0:
                continue
            c = str(int(float(c)))
            if int(c) % 5:
                continue
            k = (c, row["StockCode"])
            pairs[k] = pairs.get(k, 0) + int(row["Quantity"])
    out = os.path.join(HERE, "online_retail_sample.csv")
    with open(out, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["customer", "item", "quantity"])
        for (c, i) in sorted(pairs):
            w.writerow([c, i, pairs[(c, i)]])
    print(f"wrote {out}: {len(pairs)} pairs, "
          f"{len({c for c, _ in pairs})} customers, {len({i for _, i in pairs})} items")


if __name__ == "__main__":
    main()
