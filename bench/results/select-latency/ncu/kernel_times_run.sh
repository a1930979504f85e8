#!/usr/bin/env bash
# Per-kernel GPU durations (ncu gpu__time_duration, no event overhead) of the anchor chain and
# dense decode at batch 1, 8k and of Quest's kernels at batch 8, 32k (peaked), next to kascade.xz and
# the tree's cubin cache cubin.tar.xz. Results under $OUT; aggregate with kernel_times.py.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
unset CUDA_HOME CUDA_PATH
export KASCADE_CACHE=/tmp/kc PYTHONUNBUFFERED=1
mkdir -p /tmp/kc && tar xJf "$HERE/cubin.tar.xz" -C /tmp/kc
xz -d -c "$HERE/kascade.xz" > /tmp/knew && chmod +x /tmp/knew || { echo "cannot unpack"; exit 1; }
NCU=$(command -v ncu || ls /usr/local/cuda/bin/ncu 2>/dev/null)
S=$(date +%s)
t() { echo "$1 rc=$2 ($(( $(date +%s) - S )) s)"; }
timeout 60 /tmp/knew bench-cuda --no-peers --batches 1 --lengths 8192 --prefill-lengths , > $OUT/bench-b1.txt 2>&1; t warm $?
timeout 200 $NCU --clock-control none --metrics gpu__time_duration.sum --csv -c 3000 \
  /tmp/knew bench-cuda --no-peers --batches 1 --lengths 8192 --prefill-lengths , > $OUT/ncu-b1.csv 2>$OUT/ncu-b1.err; t ncu-b1 $?
timeout 200 $NCU --clock-control none --metrics gpu__time_duration.sum --csv -c 1500 \
  /tmp/knew bench-cuda --peers-only --batches 8 --lengths 32768 --peer-inputs peaked --prefill-lengths , > $OUT/ncu-quest.csv 2>$OUT/ncu-quest.err; t ncu-quest $?
cd $OUT && xz -T4 ncu-b1.csv ncu-quest.csv; ls -la $OUT
