#!/usr/bin/env bash
# Splits of at least 1 or 2 tiles (KASCADE_EXP_GATHER_MIN_TILES, experiment binary kascade-exp.xz) for the
# value-reading kernels (dense, gathers) at <= 64 rows.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
unset CUDA_HOME CUDA_PATH
export KASCADE_CACHE=/tmp/kc PYTHONUNBUFFERED=1
mkdir -p /tmp/kc && tar xJf "$HERE/cubin.tar.xz" -C /tmp/kc
xz -d -c "$HERE/kascade-exp.xz" > /tmp/kexp && chmod +x /tmp/kexp
S=$(date +%s)
for r in 1 2; do for m in 2 1; do
  KASCADE_EXP_GATHER_MIN_TILES=$m timeout 60 /tmp/kexp bench-cuda --no-peers --batches 1,8 --lengths 8192,32768,131072 --prefill-lengths , \
    --json $OUT/mt$m-$r.json > $OUT/mt$m-$r.txt 2>&1; echo "m=$m r=$r rc=$? ($(( $(date +%s) - S )) s)"
done; done
KASCADE_EXP_GATHER_MIN_TILES=1 timeout 60 /tmp/kexp bench-cuda --peers-only --batches 1,8 --lengths 8192,32768 --peer-inputs peaked --prefill-lengths , > $OUT/peers-mt1.txt 2>&1
KASCADE_EXP_GATHER_MIN_TILES=2 timeout 60 /tmp/kexp bench-cuda --peers-only --batches 1,8 --lengths 8192,32768 --peer-inputs peaked --prefill-lengths , > $OUT/peers-mt2.txt 2>&1
cd $OUT && tar cJf mt.tar.xz *.json *.txt && ls
