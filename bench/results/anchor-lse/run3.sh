#!/usr/bin/env bash
# Third call: the anchor's output computed in its selection block (decode_pool_select_gather): the
# decode check, memcheck on the small decode grid, bench-cuda with `anchor` against `anchor.unfused`
# in the same run, then the full decode tables. Next to kascade.xz and cubin.tar.xz (see run.sh).
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
unset CUDA_HOME CUDA_PATH
export KASCADE_CACHE=/tmp/kc PYTHONUNBUFFERED=1
mkdir -p /tmp/kc && tar xJf "$HERE/cubin.tar.xz" -C /tmp/kc
xz -d -c "$HERE/kascade.xz" > /tmp/knew && chmod +x /tmp/knew || { echo "cannot unpack"; exit 1; }
S=$(date +%s)
t() { echo "$1 rc=$2 ($(( $(date +%s) - S )) s), cubins $(ls /tmp/kc/cubin | wc -l)"; }
t start 0
timeout 150 /tmp/knew bench-cuda --no-peers --batches 1,8,64 --lengths 8192,32768 --prefill-lengths , \
  --json $OUT/bench-new.json > $OUT/bench-new.txt 2>&1; t bench $?
timeout 200 /tmp/knew check --device cuda --decode-only --json $OUT/check-decode.json > $OUT/check-decode.txt 2>&1; t check-decode $?
tail -n 1 $OUT/check-decode.txt; grep -c "fusedGather" $OUT/check-decode.txt; grep -E "FAIL|fail" $OUT/check-decode.txt | head -5
timeout 150 compute-sanitizer --tool memcheck --print-limit 10 /tmp/knew check --device cuda --small --seed 7 --decode-only > $OUT/san_memcheck.txt 2>&1
t memcheck $?; grep -E "ERROR SUMMARY|passed" $OUT/san_memcheck.txt | tail -2
[ $(( $(date +%s) - S )) -lt 300 ] && { OUT=$OUT/fv bash "$HERE/final_verification.sh" bench > /dev/null 2>&1; t final-bench $?; }
