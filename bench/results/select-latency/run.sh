#!/usr/bin/env bash
# Fewer selection passes (a bin kept whole ends the radix passes), one-barrier block scans, exp_ftz
# in the pooled probabilities, and gather positions read ahead of their copies: the decode and peers
# checks of the new binary, then bench-cuda of the binaries before (kascade-old.xz) and after
# (kascade.xz) in one call. Next to both binaries and the new tree's cubin cache cubin.tar.xz.
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
timeout 220 /tmp/knew check --device cuda --decode-only > $OUT/check-decode.txt 2>&1; t check-decode $?
tail -n 2 $OUT/check-decode.txt
timeout 120 /tmp/knew check --device cuda --peers-only > $OUT/check-peers.txt 2>&1; t check-peers $?
tail -n 2 $OUT/check-peers.txt
for b in old new; do
  timeout 100 /tmp/k$b bench-cuda --no-peers --batches 1,8,64 --lengths 8192,32768 --prefill-lengths , \
    --json $OUT/bench-$b.json > $OUT/bench-$b.txt 2>&1; t bench-$b $?
  timeout 80 /tmp/k$b bench-cuda --peers-only --batches 1,8 --lengths 8192,32768 --peer-inputs peaked --prefill-lengths , \
    --json $OUT/peers-$b.json > $OUT/peers-$b.txt 2>&1; t peers-$b $?
done
cd $OUT && tar cJf results.tar.xz *.txt *.json && rm -f *.json; ls
