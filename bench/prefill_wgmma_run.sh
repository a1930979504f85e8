#!/usr/bin/env bash
# One device call: check and time wgmma prefill variants, the mma.sync kernel and the torch baselines.
# Usage (device machine, repository root): STEPS="s2:full pp:quick" BENCH=8192,32768 DIMS=128,64 bash bench/prefill_wgmma_run.sh
set -uo pipefail
cd "$(dirname "$0")"
export KERNELS=${KERNELS:-$PWD/../Sources/KascadeCUDA/kernels}
OUT=${OUT:-/tmp/out}; mkdir -p $OUT
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader
export PYTHONUNBUFFERED=1
STEPS=${STEPS:-"s2:full s3:quick"}
BENCH=${BENCH:-8192,32768}
for step in $STEPS; do
  v=${step%%:*}; c=${step##*:}
  t0=$(date +%s)
  timeout ${STEP_T:-70} python3 prefill_wgmma_harness.py --variants $v --check $c --bench $BENCH --dims ${DIMS:-128} --baselines 0 --json $OUT/$v.json > $OUT/$v.log 2>&1
  rc=$?
  grep -v "^\[.*\] check {" $OUT/$v.log | grep -v "^$" | tail -25
  grep "'ok': False" $OUT/$v.log | head -5
  echo "== $v rc=$rc $(( $(date +%s) - t0 ))s"
done
if [[ ${BASE:-1} == 1 ]]; then
  timeout ${BASE_T:-90} python3 prefill_wgmma_harness.py --variants old --check none --bench $BENCH --dims ${BASE_DIMS:-128} --baselines 1 --json $OUT/base.json > $OUT/base.log 2>&1
  echo "== baselines rc=$?"; grep -A30 "== table" $OUT/base.log
fi
