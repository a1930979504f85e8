#!/usr/bin/env bash
# Per-warp pipelines (bulk copies, mbarriers) against the block pipeline, in one device call, next to
# the static binary kascade.xz and a copy of bench/ (carry the folder): the decode check (with its
# `warp` cases), the small peers check (with the `quest warp pipeline` rows), the sanitizers on the
# small decode grid, then `bench-cuda` with both builds and the torch baselines, and Quest's page-list
# attention with both builds. Results under $OUT.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
BIN=/tmp/kascade
xz -d -c "$HERE/kascade.xz" > $BIN && chmod +x $BIN || { echo "cannot unpack"; exit 1; }
export KASCADE_CACHE=/tmp/kc PYTHONUNBUFFERED=1
S=$(date +%s)
t() { echo "$1 rc=$2 ($(( $(date +%s) - S )) s)"; }
timeout 200 $BIN check --device cuda --decode-only --json $OUT/check-decode.json > $OUT/check-decode.txt 2>$OUT/check-decode.err
t check-decode $?; tail -1 $OUT/check-decode.err; grep -E "FAIL|passed" $OUT/check-decode.txt | tail -6
timeout 100 $BIN check --device cuda --peers-only --small --json $OUT/check-peers.json > $OUT/check-peers.txt 2>$OUT/check-peers.err
t check-peers $?; tail -1 $OUT/check-peers.err; grep -E "quest|FAIL|passed" $OUT/check-peers.txt | tail -8
for tool in memcheck racecheck; do
  timeout 60 compute-sanitizer --tool $tool --print-limit 5 $BIN check --device cuda --small --decode-only --seed 7 > $OUT/san_$tool.txt 2>&1
  t "$tool" $?; grep -E "ERROR SUMMARY|RACECHECK SUMMARY|passed" $OUT/san_$tool.txt | tail -2
done
timeout ${BENCH_T:-200} $BIN bench-cuda --no-peers --batches 8,64 --lengths 32768,131072 --variants ${VARIANTS:-mma2x4,warp2x4,warp3x4} \
  --json $OUT/bench.json --prefill-lengths , > $OUT/bench.txt 2>&1
t bench $?
timeout 100 python3 "$HERE/baselines.py" --batches 8,64 --lengths 32768,131072 --prefill-lengths= --json $OUT/baselines.json > $OUT/baselines.txt 2>&1
t baselines $?
python3 "$HERE/variant_table.py" $OUT/bench.json $OUT/baselines.json | tee $OUT/variants.md
timeout 90 $BIN bench-cuda --peers-only --batches 8 --lengths 32768 --peer-inputs peaked --prefill-lengths , --json $OUT/peers.json > $OUT/peers.txt 2>&1
t peers-bench $?; grep -iE "quest" $OUT/peers.txt | head -12
