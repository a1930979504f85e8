#!/usr/bin/env bash
# The review mend (one warp merges the combine's splits and keeps their weights; the histogram add
# in common.cuh; the pooled anchor through DecodeKernels.anchor; one index row read by every head
# without a head map): bench-cuda of the binary before and after in one call, then the whole check
# of the mended binary. Next to kascade.xz (mended), kascade-old.xz and the mended tree's cubin cache
# cubin.tar.xz (see bench/results/anchor-lse/run.sh). Results under $OUT.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
unset CUDA_HOME CUDA_PATH
export KASCADE_CACHE=/tmp/kc PYTHONUNBUFFERED=1
mkdir -p /tmp/kc && tar xJf "$HERE/cubin.tar.xz" -C /tmp/kc
for b in new old; do
  src="$HERE/kascade.xz"; [ $b = old ] && src="$HERE/kascade-old.xz"
  xz -d -c "$src" > /tmp/k$b && chmod +x /tmp/k$b || { echo "cannot unpack $b"; exit 1; }
done
S=$(date +%s)
t() { echo "$1 rc=$2 ($(( $(date +%s) - S )) s)"; }
for b in old new; do
  timeout 120 /tmp/k$b bench-cuda --no-peers --batches 1,8,64 --lengths 8192,32768 --prefill-lengths , \
    --json $OUT/bench-$b.json > $OUT/bench-$b.txt 2>&1; t bench-$b $?
  timeout 100 /tmp/k$b bench-cuda --peers-only --batches 8 --lengths 32768 --peer-inputs peaked --prefill-lengths , \
    --json $OUT/peers-$b.json > $OUT/peers-$b.txt 2>&1; t peers-$b $?
done
cp /tmp/knew /tmp/kascade
timeout 400 /tmp/knew check --device cuda --json $OUT/check.json > $OUT/check.txt 2>$OUT/check.err; t check $?
tail -n 1 $OUT/check.txt; grep -m1 seed $OUT/check.txt; grep -E "FAIL" $OUT/check.txt | head -5
rm -f $OUT/check.json
