#!/usr/bin/env bash
# L2 prefetch ahead of the cp.async stages (variant suffix p0, p2 against the default one tile), in one device call,
# next to the static binary kascade.xz and a copy of bench/ (carry the folder): the decode check (with its
# prefetch cases), the small peers check, memcheck on the small decode grid, then `bench-cuda` with the
# variants and the torch baselines in the same call, and Quest with and without the page-list prefetch.
# Results under $OUT.
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
t check-peers $?; grep -E "quest|FAIL|passed" $OUT/check-peers.txt | tail -5
for tool in memcheck; do
  timeout 60 compute-sanitizer --tool $tool --print-limit 5 $BIN check --device cuda --small --decode-only --seed 7 > $OUT/san_$tool.txt 2>&1
  t "$tool" $?; grep -E "ERROR SUMMARY|RACECHECK SUMMARY|passed" $OUT/san_$tool.txt | tail -2
done
timeout ${BENCH_T:-300} $BIN bench-cuda --no-peers --batches ${BATCHES:-1,8,64} --lengths ${LENGTHS:-32768,131072} --variants ${VARIANTS:-mma2x4p0,mma2x4,mma2x4p2+mma2x4,mma2x4p0} \
  --json $OUT/bench.json --prefill-lengths , > $OUT/bench.txt 2>&1
t bench $?
timeout 100 python3 "$HERE/baselines.py" --batches ${BATCHES:-1,8,64} --lengths ${LENGTHS:-32768,131072} --prefill-lengths= --json $OUT/baselines.json > $OUT/baselines.txt 2>&1
t baselines $?
python3 "$HERE/variant_table.py" $OUT/bench.json $OUT/baselines.json | tee $OUT/variants.md
timeout 90 $BIN bench-cuda --peers-only --batches 8 --lengths 32768,131072 --peer-inputs peaked --prefill-lengths , --json $OUT/peers.json > $OUT/peers.txt 2>&1
t peers-bench $?
python3 - $OUT/peers.peers.json <<'PY'
import json, sys
for r in json.load(open(sys.argv[1]))["shapes"]:
    k = r["kernels"]
    print(r["batch"], r["length"], " ".join(f"{n} {k[n]['medianMs'] * 1000:.1f}" for n in ("dense", "quest", "quest.noPrefetch") if n in k))
PY
