#!/usr/bin/env bash
# One device call: unpack the carried binary, check every kernel against the CPU, run the
# sanitizers on small shapes, time our kernels and the PyTorch baselines. Results under $OUT.
# Usage (on the device machine, repository root): bash bench/gpu_run.sh [all|check|bench|dev|prefill]
#   all: check + sanitizers + our bench + baselines; dev: all but the baselines;
#   prefill: the prefill kernel alone (check, sanitizers on small shapes, bench, baselines).
set -uo pipefail
MODE=${1:-all}
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT"
BIN=/tmp/kascade
xz -d -c "$HERE/kascade.xz" > $BIN && chmod +x $BIN || { echo "cannot unpack kascade.xz"; exit 1; }
export KASCADE_CACHE=/tmp/kascade-cache
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem,memory.used,memory.total --format=csv | tee $OUT/gpu.txt
STATUS=0
if [[ $MODE == prefill ]]; then
  CHECK_ARGS="--prefill-only ${CHECK_ARGS:-}"; SAN_ARGS="--prefill-only"
  BENCH_ARGS="--prefill-only ${BENCH_ARGS:-}"
  BASE_ARGS="--batches= --lengths= ${BASE_ARGS:-}"
fi
if [[ $MODE != bench && $MODE != ours ]]; then
  timeout 150 $BIN check --device cuda --json $OUT/check.json ${CHECK_ARGS:-} 2>/tmp/check.err > $OUT/check.txt || STATUS=1
  tail -2 /tmp/check.err; grep -E "FAIL|passed" $OUT/check.txt | tail -12
  for tool in memcheck racecheck; do
    echo "== compute-sanitizer --tool $tool" >> $OUT/sanitizer.txt
    timeout ${SAN_T:-110} compute-sanitizer --tool $tool --print-limit 10 $BIN check --device cuda --small --seed 7 ${SAN_ARGS:-} >> $OUT/sanitizer.txt 2>&1
    echo "sanitizer $tool: rc=$? $(grep -E 'ERROR SUMMARY|RACECHECK SUMMARY|passed' $OUT/sanitizer.txt | tail -2 | tr '\n' ' ')"
  done
  grep -m 12 -A 6 "Invalid\|Error\|Hazard" $OUT/sanitizer.txt | head -40
fi
if [[ $MODE != check ]]; then
  timeout 200 $BIN bench-cuda --json $OUT/bench.json --prefill-json $OUT/prefill_bench.json ${BENCH_ARGS:-} > $OUT/bench.txt 2>&1 || STATUS=1
  cat $OUT/bench.txt
fi
if [[ $MODE == all || $MODE == bench || $MODE == prefill ]]; then
  PYTHONUNBUFFERED=1 timeout 200 python3 "$HERE/baselines.py" --json $OUT/baselines.json ${BASE_ARGS:-} > $OUT/baselines.txt 2>&1 || STATUS=1
  cat $OUT/baselines.txt
fi
exit $STATUS
