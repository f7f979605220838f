#!/usr/bin/env bash
# make bench: mathcrm against scikit-learn on this machine, one JSON line per
# measurement. Installs Debian's scikit-learn when it is missing.
set -euo pipefail
SHARED=${SHARED:-../shared}
DATA=${DATA:-/tmp/mathcrm-benchdata}
PY=/usr/bin/python3
if ! $PY -c 'import sklearn, pandas, threadpoolctl' 2>/dev/null; then
  echo "installing python3-sklearn from Debian (for the reference)" >&2
  apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    python3-sklearn python3-numpy python3-scipy python3-pandas python3-threadpoolctl >&2
fi
# BENCH_ONLY=import,kmeans,... runs some blocks: the names of mathcrm-bench --only (kmeans,
# regression, als, import, score, topn, basket) and kernels and clv; only their data is made.
wanted() { [ -z "${BENCH_ONLY:-}" ] || [[ ",$BENCH_ONLY," == *",$1,"* ]]; }
mkdir -p "$DATA"
F="$DATA/features_1m.csv"
if [ ! -s "$F" ]; then
  $PY "$SHARED/bench/gen.py" features --n 1000000 --d 16 --k 16 --seed 1 --out "$F" >&2
fi
L="$DATA/labels_1m.csv"
if [ ! -s "$L" ] && wanted regression; then
  $PY "$SHARED/bench/gen.py" features --n 1000000 --d 32 --k 8 --seed 2 --labels --out "$L" >&2
fi
R="$DATA/ratings_5m.csv"
if [ ! -s "$R" ] && { wanted als || wanted topn; }; then
  $PY "$SHARED/bench/gen.py" ratings --users 100000 --items 20000 --nnz 5000000 --rank 32 --seed 3 --out "$R" >&2
fi
RI="$DATA/ratings_implicit_5m.csv"
if [ ! -s "$RI" ] && wanted als; then
  $PY "$SHARED/bench/gen.py" ratings --users 100000 --items 20000 --nnz 5000000 --rank 32 --seed 3 --implicit --out "$RI" >&2
fi
F10="$DATA/features_10m.csv"
if [ ! -s "$F10" ] && wanted score; then
  $PY "$SHARED/bench/gen.py" features --n 10000000 --d 16 --k 16 --seed 4 --out "$F10" >&2
fi
# Every figure, 3 rounds with the reference in the same run, medians, each worker's peak memory
# beside it (workers run as processes of the built binary), once with make build's binaries
# (GOAMD64=v3) and once with a plain `go build` (no GOAMD64, no GOEXPERIMENT): the kernels choose
# their path at run time, so the two should be within 10%. BENCH_BUILDS="make" runs one of them.
OUT=$(mktemp)
BUILDS=$(mktemp -d)
for build in ${BENCH_BUILDS:-make plain}; do
  if [ "$build" = plain ]; then
    env -u GOAMD64 -u GOEXPERIMENT go build -o "$BUILDS/plain/mathcrm" ./cmd/mathcrm
    env -u GOAMD64 -u GOEXPERIMENT go build -o "$BUILDS/plain/mathcrm-bench" ./cmd/mathcrm-bench
    bin="$BUILDS/plain/mathcrm" tag="plain go build"
  else
    go build -o "$BUILDS/make/mathcrm-bench" ./cmd/mathcrm-bench
    bin=$(realpath "${1:-bin/mathcrm}") tag="make build"
  fi
  "$BUILDS/$build/mathcrm-bench" --data "$F" --labels "$L" --ratings "$R" --ratings-implicit "$RI" --score-data "$F10" \
    --worker-bin "$bin" --anchors "$SHARED/bench/anchors.py" --python $PY --k 16 --iters 20 --workers 2 --rounds 3 \
    ${BENCH_ONLY:+--only "$BENCH_ONLY"} | sed "s/^{/{\"build\":\"$tag\",/" | tee -a "$OUT"
done
# The pass overhead again with the two workers in the bench's process, as `mathcrm dev` runs
# them: the lines above run them as processes, whose four compute threads and the leader's
# share the two cores under the operating system's scheduler; in one process Go's scheduler
# shares them (pass_overhead_ms with "workers_as").
if wanted kmeans; then
  for build in ${BENCH_BUILDS:-make plain}; do
    tag="make build"; [ "$build" = plain ] && tag="plain go build"
    "$BUILDS/$build/mathcrm-bench" --data "$F" --only kmeans --k 16 --iters 20 --workers 2 --rounds 3 |
      grep -E '"bench":"(pass_overhead_ms|kmeans_lloyd_iter)"' | sed "s/^{/{\"build\":\"$tag\",/"
  done
fi
$PY - "$OUT" <<'EOF'
import json, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
med = {r["build"]: statistics.median(r["mathcrm_s"]) for r in runs if r.get("bench") == "kmeans_lloyd_iter_ratio"}
if len(med) == 2:
    print(json.dumps({"bench": "kmeans_lloyd_iter_plain_vs_make", "plain_s": med["plain go build"], "make_s": med["make build"],
                      "ratio": round(med["plain go build"] / med["make build"], 3), "target": "<= 1.1"}))
EOF
rm -f "$OUT"
if wanted kernels; then
  go test ./algo/... -run '^$' -bench . -benchtime 3x 2>/dev/null | awk '/^Benchmark/ {
    printf "{\"bench\":\"%s\",\"iterations\":%s,\"ns_per_op\":%s", $1, $2, $3
    for (i = 5; i + 1 <= NF; i += 2) printf ",\"%s\":%s", $(i+1), $i
    print "}" }'
  # The k-means Lloyd pass as make builds it and as a plain go build (no GOAMD64, no
  # GOEXPERIMENT) builds it, interleaved in the same run: the kernels choose their path at
  # run time, so the two should be within 10%.
  for round in 1 2 3; do
    for build in make plain; do
      if [ "$build" = plain ]; then run=(env -u GOAMD64 -u GOEXPERIMENT go); else run=(go); fi
      "${run[@]}" test ./algo/kmeans -run '^$' -bench 'Lloyd/n=1000000' -benchtime 5x 2>/dev/null | awk -v b="$build" '/^Benchmark/ {
        printf "{\"bench\":\"%s\",\"build\":\"%s\",\"iterations\":%s,\"ns_per_op\":%s", $1, b, $2, $3
        for (i = 5; i + 1 <= NF; i += 2) printf ",\"%s\":%s", $(i+1), $i
        print "}" }'
    done
  done
fi
# ---------------------------------------------------------------------------------------
# Item neighbours (score --items) run in the mathcrm-bench call above, registered as
# "items" (BENCH_ONLY=items): every item's 10 nearest items of an ALS model trained on the
# ratings file (20,000 items, rank 32), end to end on 2 worker processes and in process,
# against deploy/bench_items.py (numpy: normalised V @ V.T in row batches + argpartition,
# 2 BLAS threads) in the same run; als_items_ratio is the line with the ratio (target <= 0.5).
# ---------------------------------------------------------------------------------------
# Market baskets (train basket): generated invoices, BASKET_INVOICES of them (default
# 1,000,000) over 10,000 items with skewed popularity, 4-20 lines each, imported as
# invoice x item interactions and mined at min-support 0.1%, max length 3 on 2 worker
# processes, against deploy/bench_basket.py (scipy sparse pairs, longer itemsets by
# counting) in the same run: job seconds, the reference's, their ratio (target <= 0.5),
# whether both found the same itemsets and counts, and each worker's peak memory.
if wanted basket; then
  BASKET_INVOICES=${BASKET_INVOICES:-1000000}
  B="$DATA/invoices_$BASKET_INVOICES.csv"
  if [ ! -s "$B" ]; then
    $PY deploy/bench_basket.py gen --invoices "$BASKET_INVOICES" --items 10000 --seed 1 --out "$B" >&2
  fi
  for build in ${BENCH_BUILDS:-make plain}; do
    bin=$(realpath "${1:-bin/mathcrm}")
    [ "$build" = plain ] && bin="$BUILDS/plain/mathcrm"
    "$BUILDS/$build/mathcrm-bench" --data /dev/null --only basket --baskets "$B" --basket-ref deploy/bench_basket.py \
      --worker-bin "$bin" --python $PY --workers 2 --rounds 3 | sed "s/^{/{\"build\":\"$build build\",/"
  done
fi
# ---- import: 1M x 16 CSV against pandas.read_csv: mathcrm-bench's "import" figure above (both
# builds): `mathcrm dataset import` end to end, process start to committed, visible version, with
# its peak RSS and CPU, then pandas.read_csv of the same file timed inside Python (parsing only),
# 3 rounds interleaved. Target: >= 1M rows/s and <= 1.0x pandas.
# ---- customer value (BG/NBD + Gamma-Gamma), deploy/bench_clv.py -------------------------------
# 1,000,000 customers drawn from the BG/NBD process (~4.5M purchase lines), imported into
# `mathcrm dev` with 2 workers: the fit end to end vs the scipy reference fit
# (algo/clv/testdata/cdnow/make_clv_golden.py) timed from its summary table in the same run,
# and CLV scoring end to end into the score set, customers/s.
if wanted clv; then
  TX="$DATA/clv_tx_1m.csv"
  if [ ! -s "$TX" ]; then
    $PY deploy/bench_clv.py gen --n 1000000 --seed 5 --out "$TX" >&2
  fi
  for build in ${BENCH_BUILDS:-make plain}; do
    bin=${1:-bin/mathcrm}
    [ "$build" = plain ] && bin="$BUILDS/plain/mathcrm"
    $PY deploy/bench_clv.py run --bin "$bin" --csv "$TX" --calibration-end 2022-06-30 --rounds 3 | sed "s/^{/{\"build\":\"$build build\",/"
  done
fi
# ---- end customer value ------------------------------------------------------------------------
rm -rf "$BUILDS"
