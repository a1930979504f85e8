#!/usr/bin/env bash
# Radix histograms with and without warp aggregation (HIST_MODE 0: __match_any everywhere; 1: plain
# shared atomics in the passes over prefix-matching keys; 2: plain atomics everywhere), timed by
# bench-cuda in one call, then ncu's source view of the two selection kernels. Next to the static
# binary kascade.xz (carry the folder); results under $OUT.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
BIN=/tmp/kascade
xz -d -c "$HERE/kascade.xz" > $BIN && chmod +x $BIN || { echo "cannot unpack"; exit 1; }
export KASCADE_CACHE=/tmp/kc PYTHONUNBUFFERED=1
S=$(date +%s)
ARGS="--batches ${BATCHES:-1,8} --lengths ${LENGTHS:-8192,32768} --peer-inputs peaked --prefill-lengths ,"
for m in ${MODES:-0 1 2 0}; do
  KASCADE_NVRTC_DEFINES=HIST_MODE=$m timeout ${BENCH_T:-200} $BIN bench-cuda $ARGS --json $OUT/bench-m$m.json > $OUT/bench-m$m.txt 2>&1
  echo "mode $m rc=$? ($(( $(date +%s) - S )) s)"
  [ $(( $(date +%s) - S )) -gt ${STOP_AT:-360} ] && break
done
NCU=$(command -v ncu || ls /usr/local/cuda/bin/ncu 2>/dev/null)
prof() {  # name kernel-regex bench-args...
  local name=$1 k=$2; shift 2
  timeout 90 $NCU --clock-control none --set full --import-source yes -k regex:"$k" -c 1 -o $OUT/$name \
    $BIN bench-cuda "$@" --prefill-lengths , > $OUT/$name.log 2>&1
  echo "ncu $name rc=$? ($(( $(date +%s) - S )) s)"
  $NCU -i $OUT/$name.ncu-rep --page source --csv --print-source sass > $OUT/$name.sass.csv 2>&1
  $NCU -i $OUT/$name.ncu-rep --page details --print-details all > $OUT/$name.details.txt 2>&1
}
[ -n "$NCU" ] && {
  prof pool 'decode_pool_select' --no-peers --batches 1 --lengths 8192
  prof quest 'quest_select_list' --peers-only --batches 8 --lengths 32768 --peer-inputs peaked
}
