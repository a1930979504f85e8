#!/usr/bin/env bash
# One device call: the static kascade binary's prefill check, sanitizers on small shapes and prefill
# bench, then the harness at 8k-128k against cuDNN / FlashAttention-2 in the same process.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${OUT:-/tmp/out}; mkdir -p $OUT
BIN=/tmp/kascade
xz -d -c "$HERE/kascade.xz" > $BIN && chmod +x $BIN || { echo "cannot unpack"; exit 1; }
export KASCADE_CACHE=/tmp/kascade-cache PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader | tee $OUT/gpu.txt
t0=$(date +%s)
timeout 150 $BIN check --device cuda --prefill-only --json $OUT/check.json > $OUT/check.txt 2> $OUT/check.err
echo "== check rc=$? $(( $(date +%s) - t0 ))s"; grep -E "wgmma|FAIL|passed" $OUT/check.txt | tail -24; tail -2 $OUT/check.err
for tool in memcheck racecheck; do
  t0=$(date +%s)
  timeout ${SAN_T:-100} compute-sanitizer --tool $tool --print-limit 10 $BIN check --device cuda --small --seed 7 --prefill-only > $OUT/san_$tool.txt 2>&1
  echo "== sanitizer $tool rc=$? $(( $(date +%s) - t0 ))s: $(grep -E 'ERROR SUMMARY|RACECHECK SUMMARY|passed' $OUT/san_$tool.txt | tail -2 | tr '\n' ' ')"
  grep -m 6 -A 4 "Invalid\|Hazard\|rror:" $OUT/san_$tool.txt | head -24
done
t0=$(date +%s)
timeout 200 $BIN bench-cuda --prefill-only --prefill-lengths ${LENS:-8192,32768,65536} --prefill-json $OUT/prefill_bench.json > $OUT/bench.txt 2>&1
echo "== bench rc=$? $(( $(date +%s) - t0 ))s"; grep -v "^$" $OUT/bench.txt | head -30
t0=$(date +%s)
timeout 150 python3 $HERE/harness.py --variants s2 --check quick --bench ${HLENS:-8192,32768,65536,131072} --dims 128 --baselines 1 --json $OUT/harness.json > $OUT/harness.log 2>&1
echo "== harness rc=$? $(( $(date +%s) - t0 ))s"; grep -A20 "== table" $OUT/harness.log
