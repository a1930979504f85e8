#!/usr/bin/env bash
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
unset CUDA_HOME CUDA_PATH
export KASCADE_CACHE=/tmp/kc PYTHONUNBUFFERED=1
mkdir -p /tmp/kc && tar xJf "$HERE/cubin.tar.xz" -C /tmp/kc
xz -d -c "$HERE/kascade.xz" > /tmp/knew && chmod +x /tmp/knew
S=$(date +%s)
timeout 420 /tmp/knew check --device cuda > $OUT/check.txt 2>$OUT/check.err; echo "check rc=$? ($(( $(date +%s) - S )) s)"
tail -n 1 $OUT/check.txt; grep -m1 -i seed $OUT/check.txt $OUT/check.err | head -2; grep -c FAIL $OUT/check.txt
timeout 60 compute-sanitizer --tool racecheck --kernel-name kns=decode_select --print-limit 10 /tmp/knew check --device cuda --small --seed 7 --decode-only > $OUT/race_decode_select.txt 2>&1; echo "racecheck rc=$?"
grep -E 'RACECHECK SUMMARY|passed|Internal' $OUT/race_decode_select.txt | tail -3
