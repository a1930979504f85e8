#!/usr/bin/env bash
# The final tree of select-latency: decode and peers checks, memcheck and racecheck of the small
# decode and peers grids, then bench-cuda of the binaries before (kascade-old.xz) and after
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
for b in old new; do
  timeout 60 /tmp/k$b bench-cuda --no-peers --batches 1,8,64 --lengths 8192,32768 --prefill-lengths , \
    --json $OUT/bench-$b.json > $OUT/bench-$b.txt 2>&1; t bench-$b $?
  timeout 60 /tmp/k$b bench-cuda --peers-only --batches 1,8 --lengths 8192,32768 --peer-inputs peaked --prefill-lengths , \
    --json $OUT/peers-$b.json > $OUT/peers-$b.txt 2>&1; t peers-$b $?
done
timeout 200 /tmp/knew check --device cuda --decode-only > $OUT/check-decode.txt 2>&1; t check-decode $?
tail -n 1 $OUT/check-decode.txt
timeout 150 /tmp/knew check --device cuda --peers-only > $OUT/check-peers.txt 2>&1; t check-peers $?
tail -n 1 $OUT/check-peers.txt
for tool in memcheck racecheck; do
  timeout 60 compute-sanitizer --tool $tool --print-limit 10 /tmp/knew check --device cuda --small --seed 7 --decode-only \
    > $OUT/san_$tool.txt 2>&1; t "sanitizer $tool" $?
  grep -E 'ERROR SUMMARY|RACECHECK SUMMARY|passed' $OUT/san_$tool.txt | tail -2
done
cd $OUT && tar cJf results.tar.xz *.txt *.json && rm -f *.json; ls
