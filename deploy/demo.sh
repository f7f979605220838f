#!/usr/bin/env bash
# make demo: a whole cluster in one process (mathcrm dev) in a temporary
# directory. Telco customers: k-means segments with their churn rate, a churn
# model and every customer scored with it (exact deciles). Online Retail
# transactions: RFM features and named segments, then k-means on the scores.
# Spark's sample ratings: ALS and recommendations. Customer value (BG/NBD,
# Gamma-Gamma) with every customer scored, market-basket rules with item
# names, every customer's next-best offers, and the top 10 at-risk
# high-value customers with the first one's value and offers.
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

echo
echo "== churn risk: logistic regression on tenure, charges and contract (one-hot), 20% held out"
"$BIN" train logistic --dataset telco --target Churn=Yes \
  --features tenure,MonthlyCharges,Contract,InternetService,PaymentMethod --holdout 0.2 --wait
CHURN=$("$BIN" job list --output json | sed -n 's/.*"model": "\(model-[0-9]*\)".*/\1/p' | tail -1)
"$BIN" model show "$CHURN"

echo
echo "== every customer scored with the churn model: probability and exact decile (1 = riskiest 10%)"
"$BIN" score --model "$CHURN" --dataset telco --as churn-risk --wait
"$BIN" scores show churn-risk
"$BIN" scores export churn-risk --format csv --out "$DIR/churn-risk.csv"
echo "first rows of the export:"
head -4 "$DIR/churn-risk.csv"

RETAIL=testdata/online-retail/onlineretail-customers.csv.gz
echo
echo "== Online Retail transactions ($RETAIL, 886 customers) → RFM features per customer"
"$BIN" dataset import retail "$RETAIL" --kind transactions --key CustomerID --time InvoiceDate \
  --quantity Quantity --price UnitPrice --invoice InvoiceNo --item StockCode --item-name Description \
  --skip-missing-key --shards 16
"$BIN" features rfm --dataset retail --as retail_rfm --wait
"$BIN" dataset show retail_rfm
echo
echo "named RFM segments (the standard R×F map), customers per segment:"
"$BIN" dataset export retail_rfm --format csv | awk -F, 'NR > 1 { n[$NF]++ } END { for (s in n) printf "%6d  %s\n", n[s], s }' | sort -rn

echo
echo "== k-means on the r, f and m scores; each cluster's RFM profile and the named segment of its centroid"
"$BIN" train kmeans --dataset retail_rfm --k 4 --columns r_score,f_score,m_score --seed 7 --max-iter 50 --wait
RFM=$("$BIN" job list --output json | sed -n 's/.*"model": "\(model-[0-9]*\)".*/\1/p' | tail -1)
"$BIN" model show "$RFM"

echo
echo "== recommendations: ALS on the Spark sample ratings (30 users × 100 items), 20% held out"
"$BIN" dataset import ratings testdata/ratings/spark_sample_movielens.csv --kind interactions \
  --user user --item item --value rating --shards 8
"$BIN" train als --dataset ratings --rank 10 --lambda 0.1 --iterations 10 --holdout 0.2 --wait
ALS=$("$BIN" job list --output json | sed -n 's/.*"model": "\(model-[0-9]*\)".*/\1/p' | tail -1)
"$BIN" model show "$ALS"
echo
echo "top 5 for user 3, and for a user the model has never seen:"
"$BIN" recommend --model "$ALS" --user 3 --n 5
"$BIN" recommend --model "$ALS" --user newcomer --n 3

echo
echo "== customer value: BG/NBD + Gamma-Gamma on the retail transactions, as of their last day"
echo "   (weeks; a small penalty, as lifetimes advises for small samples)"
"$BIN" train clv --dataset retail --calibration-end 2011-12-09 --penalty 0.001 --wait
CLV=$("$BIN" job list --output json | sed -n 's/.*"model": "\(model-[0-9]*\)".*/\1/p' | tail -1)
"$BIN" model show "$CLV"
echo
echo "== every customer valued: P(alive), expected purchases and spend, 12-month CLV, value tiers"
"$BIN" score --model "$CLV" --dataset retail --as retail-value --wait
"$BIN" scores show retail-value

echo
echo "== cross-sell: market-basket rules on the same invoices (one basket per invoice, returns left out)"
"$BIN" train basket --dataset retail --min-support 0.02 --min-confidence 0.3 --max-len 3 --exclude-returns --wait
BASKET=$("$BIN" job list --output json | sed -n 's/.*"model": "\(model-[0-9]*\)".*/\1/p' | tail -1)
echo "the 10 strongest rules by lift:"
"$BIN" model show "$BASKET" | awk '/^Top rules by lift/ { print "Top rules by lift (10):"; top = 1; n = 0; next }
  top && /^$/ { top = 0 } top { if (n++ <= 10) print; next } { print }'
echo
echo "next-best offers for a basket holding 22386 (JUMBO BAG PINK POLKADOT):"
"$BIN" recommend --model "$BASKET" --items 22386 --n 5
echo
echo "== every customer's next-best offers from their purchase history (top 3, items they have excluded)"
"$BIN" score --model "$BASKET" --dataset retail --top 3 --as retail-offers --wait
"$BIN" scores show retail-offers | sed -n '1,3p'

echo
echo "== one customer, from every score set: churn probability and decile"
"$BIN" customer show 7590-VHVEG

echo
echo "== who to call first: the top 10 at-risk high-value customers (tier A, lowest P(alive))"
"$BIN" scores show retail-value --at-risk 10
# The first of them with an offer: their value and what to offer them, from every score set.
"$BIN" scores export retail-offers --format csv --out "$DIR/offers.csv" 2>/dev/null
CALL=$("$BIN" scores show retail-value --at-risk 10 | awk 'NR > 3 { print $1 }' | while read -r k; do
  grep -q "^$k,1," "$DIR/offers.csv" && { echo "$k"; break; }; done || true)
if [ -n "$CALL" ]; then
  echo
  echo "== customer $CALL, the first of them with an offer: their value and next-best offers"
  "$BIN" customer show "$CALL"
fi
