#!/usr/bin/env bash
# One device call: unpack the carried binary, check every kernel against the CPU, run the
# sanitizers on small shapes, time our kernels and the PyTorch baselines. Results under $OUT.
# Usage (on the device machine, repository root): bash bench/gpu_run.sh [check|bench|all]
set -uo pipefail
MODE=${1:-all}
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT"
BIN=/tmp/kascade
xz -d -c "$HERE/kascade.xz" > $BIN && chmod +x $BIN || { echo "cannot unpack .gpu/kascade.xz"; exit 1; }
export KASCADE_CACHE=/tmp/kascade-cubin
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem,memory.used,memory.total --format=csv | tee $OUT/gpu.txt
STATUS=0
if [[ $MODE == check || $MODE == all ]]; then
  timeout 150 $BIN check --device cuda --json $OUT/check.json 2>$OUT/check.err | tee $OUT/check.txt || STATUS=1
  tail -3 $OUT/check.err
  for tool in memcheck racecheck; do
    timeout ${SAN_T:-110} compute-sanitizer --tool $tool --print-limit 20 $BIN check --device cuda --small --seed 7 > $OUT/sanitizer-$tool.txt 2>&1
    echo "sanitizer $tool: rc=$? $(grep -E 'ERROR SUMMARY|RACECHECK SUMMARY|passed' $OUT/sanitizer-$tool.txt | tr '\n' ' ')"
  done
fi
if [[ $MODE == bench || $MODE == all ]]; then
  timeout 150 $BIN bench-cuda --json $OUT/bench.json ${BENCH_ARGS:-} 2>&1 | tee $OUT/bench.txt || STATUS=1
  PYTHONUNBUFFERED=1 timeout 200 python3 "$HERE/baselines.py" --json $OUT/baselines.json ${BASE_ARGS:-} 2>&1 | tee $OUT/baselines.txt || STATUS=1
fi
exit $STATUS
