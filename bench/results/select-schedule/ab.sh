#!/usr/bin/env bash
# Select schedule / value-stage A/B: new binary (default schedule, forward:0) against the previous one.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
xz -d -c "$HERE/kascade.xz" > /tmp/knew && chmod +x /tmp/knew
xz -d -c "$HERE/../old/kascade.xz" > /tmp/kold && chmod +x /tmp/kold
export KASCADE_CACHE=/tmp/kc PYTHONUNBUFFERED=1
S=$(date +%s)
nvidia-smi -L > $OUT/gpu.txt
timeout 170 /tmp/knew check --device cuda --peers-only --seed 1795596669939 --json $OUT/peers-seed.json > $OUT/peers-seed.txt 2>&1
echo "peers seed rc=$? ($(( $(date +%s) - S )) s)"
L=${LENGTHS:-8192,32768,131072}
for run in ${RUNS:-new old}; do
  case $run in
    new|new2) BIN=/tmp/knew; export KASCADE_SELECT_SCHEDULE=reversed:24 ;;
    fwd) BIN=/tmp/knew; export KASCADE_SELECT_SCHEDULE=forward:0 ;;
    old) BIN=/tmp/kold; unset KASCADE_SELECT_SCHEDULE ;;
  esac
  timeout 150 $BIN bench-cuda --no-peers --batches 1,8,64 --lengths $L --json $OUT/bench-$run.json --prefill-lengths , > $OUT/bench-$run.txt 2>&1
  echo "bench $run rc=$? ($(( $(date +%s) - S )) s)"
done
unset KASCADE_SELECT_SCHEDULE
[ -n "${CHECK:-1}" ] && timeout $(( ${CHECK_END:-560} - ($(date +%s) - S) )) /tmp/knew check --device cuda --decode-only --json $OUT/check-decode.json > $OUT/check-decode.txt 2>&1
echo "decode check rc=$? ($(( $(date +%s) - S )) s)"
tail -3 $OUT/check-decode.txt
