#!/usr/bin/env bash
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
xz -d -c "$HERE/kascade.xz" > /tmp/k && chmod +x /tmp/k
export KASCADE_CACHE=/tmp/kc
S=$(date +%s)
timeout 260 /tmp/k check --device cuda --peers-only --json $OUT/peers-check.json > $OUT/peers-check.txt 2>&1
echo "peers check rc=$? ($(( $(date +%s) - S )) s)"; grep -E "seed|FAIL|passed" $OUT/peers-check.txt | tail -4
for tool in memcheck racecheck; do timeout 60 compute-sanitizer --tool $tool --print-limit 10 /tmp/k check --device cuda --small --peers-only --seed 7 > $OUT/san_$tool.txt 2>&1; echo "$tool rc=$?: $(grep -E 'ERROR SUMMARY|RACECHECK SUMMARY|passed' $OUT/san_$tool.txt | tail -2 | tr '\n' ' ')"; done
timeout 40 /tmp/k bench-cuda --peers-only --batches 8 --lengths 32768 --peer-inputs peaked --json $OUT/bench.json --prefill-lengths , > $OUT/bench.txt 2>&1; tail -1 $OUT/bench.txt | cut -c1-400
