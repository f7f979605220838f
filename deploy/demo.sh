#!/usr/bin/env bash
# make demo: a whole cluster in one process (mathcrm dev) in a temporary
# directory; import the Telco customers, segment them with k-means on tenure
# and charges, print the segments.
set -euo pipefail
BIN=${1:-bin/mathcrm}
DATA=testdata/telco/Telco-Customer-Churn.csv
DIR=$(mktemp -d -t mathcrm-demo-XXXXXX)
LOG="$DIR/dev.log"
cleanup() {
  if [ -n "${DEV_PID:-}" ]; then kill -INT "$DEV_PID" 2>/dev/null || true; wait "$DEV_PID" 2>/dev/null || true; fi
  rm -rf "$DIR"
}
trap cleanup EXIT

echo "== mathcrm dev: embedded NATS + JetStream, 1 raft coordinator, 4 workers, data in $DIR"
"$BIN" dev --data-dir "$DIR/cluster" --workers 4 --nats-listen 127.0.0.1:0 >"$LOG" 2>&1 &
DEV_PID=$!
for _ in $(seq 1 300); do
  [ -s "$DIR/cluster/nats.url" ] && break
  kill -0 "$DEV_PID" 2>/dev/null || { cat "$LOG"; exit 1; }
  sleep 0.1
done
export MATHCRM_NATS_URL=$(cat "$DIR/cluster/nats.url")
head -1 "$LOG"

echo
echo "== import $DATA (7,043 Telco customers)"
"$BIN" dataset import telco "$DATA" --kind features --key customerID --shards 16 \
  --categorical Contract,InternetService,PaymentMethod,Churn
"$BIN" dataset show telco

echo
echo "== k-means, k=4, on tenure, MonthlyCharges, TotalCharges (standardised);"
echo "   every feature profiled per segment: Churn=Yes is the segment's churn rate"
"$BIN" train kmeans --dataset telco --k 4 --columns tenure,MonthlyCharges,TotalCharges \
  --standardize --seed 42 --max-iter 50 --wait
MODEL=$("$BIN" job list --output json | sed -n 's/.*"model": "\(model-[0-9]*\)".*/\1/p' | tail -1)

echo
"$BIN" model show "$MODEL"
