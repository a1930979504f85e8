#!/usr/bin/env bash
# Peers check at a given seed, then ncu on the Quest/Twilight kernels at batch 8, 32k (peaked).
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
xz -d -c "$HERE/kascade.xz" > /tmp/knew && chmod +x /tmp/knew
export KASCADE_CACHE=/tmp/kc PYTHONUNBUFFERED=1
S=$(date +%s)
timeout 330 /tmp/knew check --device cuda --peers-only --seed ${SEED:-1795596669939} --json $OUT/peers-seed.json > $OUT/peers-seed.txt 2>&1
echo "peers seed rc=$? ($(( $(date +%s) - S )) s)"
NCU=$(command -v ncu || ls /usr/local/cuda/bin/ncu 2>/dev/null)
for k in ${KERNELS:-decode_page_list_split quest_page_scores quest_select_list twilight_estimate}; do
  [ $(( $(date +%s) - S )) -gt 540 ] && break
  timeout 60 $NCU --clock-control none --section SpeedOfLight --section MemoryWorkloadAnalysis --section SchedulerStats \
    --section WarpStateStats --section Occupancy --section LaunchStats -k $k -s 5 -c 1 \
    /tmp/knew bench-cuda --peers-only --batches 8 --lengths 32768 --peer-inputs peaked --prefill-lengths , > $OUT/ncu_$k.txt 2>&1
  echo "ncu $k rc=$? ($(( $(date +%s) - S )) s)"
done
