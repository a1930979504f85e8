#!/usr/bin/env bash
# Twilight's tensor-core estimate: peers check (both estimate paths), then the peers bench (peaked and random).
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
xz -d -c "$HERE/kascade.xz" > /tmp/knew && chmod +x /tmp/knew
export KASCADE_CACHE=/tmp/kc PYTHONUNBUFFERED=1
S=$(date +%s)
timeout ${CHECK_T:-300} /tmp/knew check --device cuda --peers-only --seed ${SEED:-11} --json $OUT/peers-check.json > $OUT/peers-check.txt 2>&1
echo "peers check rc=$? ($(( $(date +%s) - S )) s)"; grep -E "FAIL|passed" $OUT/peers-check.txt | tail -4
timeout ${BENCH_T:-200} /tmp/knew bench-cuda --peers-only --batches ${BATCHES:-1,8,64} --lengths ${LENGTHS:-8192,32768,131072} \
  --peer-inputs peaked,random --json $OUT/bench.json --prefill-lengths , > $OUT/bench.txt 2>&1
echo "bench rc=$? ($(( $(date +%s) - S )) s)"
grep -o "peers [a-z]* B=[0-9]* N=[0-9]*\|twilight [0-9.]* ([0-9.]*x\|estimate [0-9.]*,\|estimate on CUDA cores: twilight [0-9.]* ms ([0-9.]*x), to the estimate [0-9.]*" $OUT/bench.txt | paste - - - - 
