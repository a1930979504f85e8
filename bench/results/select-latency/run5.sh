#!/usr/bin/env bash
# One tile per split where the value-reading kernels' one-tile splits of every row fit one wave
# (AttentionKernelSet.minimumTilesPerSplit): bench-cuda of the binaries before (kascade-old.xz,
# e7790f9) and after (kascade.xz) twice in one call, then the decode and peers checks of the new one.
# Next to both binaries and the tree's cubin cache cubin.tar.xz (kernels unchanged since e7790f9).
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
for r in 1 2; do
  for b in old new; do
    timeout 60 /tmp/k$b bench-cuda --no-peers --batches 1,8,64 --lengths 8192,32768 --prefill-lengths , \
      --json $OUT/bench-$b-$r.json > $OUT/bench-$b-$r.txt 2>&1; t bench-$b-$r $?
  done
done
timeout 200 /tmp/knew check --device cuda --decode-only > $OUT/check-decode.txt 2>&1; t check-decode $?
tail -n 1 $OUT/check-decode.txt
timeout 150 /tmp/knew check --device cuda --peers-only > $OUT/check-peers.txt 2>&1; t check-peers $?
tail -n 1 $OUT/check-peers.txt
cd $OUT && tar cJf results.tar.xz *.txt *.json && rm -f *.json bench-*; ls
