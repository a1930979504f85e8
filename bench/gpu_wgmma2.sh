#!/usr/bin/env bash
# wgmma anchor and reuse kernels: check (all prefill checks: dense, reuse, anchor; both kernel families),
# compute-sanitizer on the small anchor case, bench, baselines, report. Results under $OUT.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT"
BIN=/tmp/kascade
xz -d -c "$HERE/kascade.xz" > $BIN && chmod +x $BIN || { echo "cannot unpack kascade.xz"; exit 1; }
export KASCADE_CACHE=/tmp/kascade-cache
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem,memory.used,memory.total --format=csv,noheader | tee $OUT/gpu.txt
LENGTHS=${LENGTHS:-8192,32768,65536,131072}
S=$(date +%s)
if [[ ${SKIP_CHECK:-0} != 1 ]]; then
  timeout ${CHECK_T:-200} $BIN check --device cuda --prefill-only --json $OUT/check.json 2>$OUT/check.err > $OUT/check.txt
  echo "check --prefill-only rc=$? ($(( $(date +%s) - S )) s)"; tail -2 $OUT/check.err
  grep -E "wgmma" $OUT/check.txt | cut -c1-150
  grep -E "passed" $OUT/check.txt | tail -1; grep -iE "\| fail" $OUT/check.txt | head -5
  for tool in memcheck racecheck; do
    echo "== compute-sanitizer --tool $tool" >> $OUT/sanitizer.txt
    timeout ${SAN_T:-100} compute-sanitizer --tool $tool --print-limit 10 $BIN check --device cuda --small --anchor-only --seed 7 >> $OUT/sanitizer.txt 2>&1
    echo "sanitizer $tool: rc=$? $(grep -E 'ERROR SUMMARY|RACECHECK SUMMARY|passed' $OUT/sanitizer.txt | tail -2 | tr '\n' ' ') ($(( $(date +%s) - S )) s)"
  done
  grep -m 8 -A 6 "Invalid\|Error \|Hazard" $OUT/sanitizer.txt | head -30
fi
if [[ ${SKIP_BENCH:-0} != 1 ]]; then
  timeout ${BENCH_T:-150} $BIN bench-cuda --prefill-only --prefill-lengths $LENGTHS --prefill-json $OUT/prefill_bench.json > $OUT/bench.txt 2>&1
  echo "bench rc=$? ($(( $(date +%s) - S )) s)"; grep -E "kascade|anchor kernels|error|Error" $OUT/bench.txt | cut -c1-600
  if [[ ${SKIP_BASE:-0} != 1 ]]; then
    PYTHONUNBUFFERED=1 timeout ${BASE_T:-120} python3 "$HERE/baselines.py" --batches= --lengths= --prefill-lengths $LENGTHS --json $OUT/baselines.json > $OUT/baselines.txt 2>&1
    echo "baselines rc=$? ($(( $(date +%s) - S )) s)"; tail -6 $OUT/baselines.txt
    python3 "$HERE/prefill_report.py" $OUT --md $OUT/prefill.md --svg $OUT/gpu_prefill_speedup.svg && cat $OUT/prefill.md
  fi
fi
