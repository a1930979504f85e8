#!/usr/bin/env bash
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
unset CUDA_HOME CUDA_PATH
export KASCADE_CACHE=/tmp/kc PYTHONUNBUFFERED=1
xz -d -c "$HERE/kascade-old.xz" > /tmp/kold && chmod +x /tmp/kold
timeout 100 compute-sanitizer --tool racecheck --kernel-name kns=decode_select --print-limit 10 /tmp/kold check --device cuda --small --seed 7 --decode-only > $OUT/race_decode_select_old.txt 2>&1; echo "racecheck old rc=$?"
grep -E 'RACECHECK SUMMARY|passed|Internal' $OUT/race_decode_select_old.txt | tail -3
