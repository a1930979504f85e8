#!/usr/bin/env bash
# Second call: the anchor's fused selection with one block per multiprocessor in one wave (`pairs:
# false`), old against new binary; the peers check of the new binary; then the full decode tables
# (final_verification.sh bench). Next to kascade.xz, kascade-old.xz and cubin.tar.xz (see run.sh).
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
t() { echo "$1 rc=$2 ($(( $(date +%s) - S )) s), cubins $(ls /tmp/kc/cubin | wc -l)"; }
t start 0
for b in old new; do
  timeout 150 /tmp/k$b bench-cuda --no-peers --batches 1,8,64 --lengths 8192,32768 --prefill-lengths , \
    --json $OUT/bench-$b.json > $OUT/bench-$b.txt 2>&1; t bench-$b $?
done
timeout 220 /tmp/knew check --device cuda --peers-only --json $OUT/check-peers.json > $OUT/check-peers.txt 2>&1; t check-peers $?
tail -n 2 $OUT/check-peers.txt
[ $(( $(date +%s) - S )) -lt 280 ] && { OUT=$OUT/fv bash "$HERE/final_verification.sh" bench; t final-bench $?; }
