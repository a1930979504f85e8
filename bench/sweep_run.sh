#!/usr/bin/env bash
# A sweep of decode kernel variants on the GPU machine, next to the static binary kascade.xz and a
# copy of bench/ (carry the folder): `bench-cuda --no-peers --variants $VARIANTS` and the torch
# baselines in the same call, then bench/variant_table.py. Results under $OUT. With
# KASCADE_LAUNCH_OVERLAP=0 the kernels launch one after another (the launch-overlap comparison).
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
BIN=/tmp/kascade
xz -d -c "$HERE/kascade.xz" > $BIN && chmod +x $BIN || { echo "cannot unpack"; exit 1; }
export KASCADE_CACHE=/tmp/kc PYTHONUNBUFFERED=1
S=$(date +%s)
timeout ${BENCH_T:-400} $BIN bench-cuda --no-peers --batches ${BATCHES:-1,8,64} --lengths ${LENGTHS:-8192,32768,65536,131072} \
  --variants ${VARIANTS:-mma2x4} --json $OUT/sweep.json --prefill-lengths , > $OUT/sweep.txt 2>&1
echo "sweep rc=$? ($(( $(date +%s) - S )) s)"
timeout 150 python3 "$HERE/baselines.py" --batches ${BATCHES:-1,8,64} --lengths ${LENGTHS:-8192,32768,65536,131072} \
  --prefill-lengths= --json $OUT/sweep-baselines.json > $OUT/sweep-baselines.txt 2>&1
echo "baselines rc=$? ($(( $(date +%s) - S )) s)"
python3 "$HERE/variant_table.py" $OUT/sweep.json $OUT/sweep-baselines.json | tee $OUT/sweep.md
