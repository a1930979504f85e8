#!/usr/bin/env bash
# Plain-atomic radix histograms and the anchor's log-sum-exp inside the fused selection: the decode
# and peers checks of the new binary, then bench-cuda of the old and the new binary in one call
# (decode at batch 1, 8, 64 and 8k, 32k; the prefill anchor; the peers at batch 8, 32k), then ncu's
# source view of the selection kernels. Next to kascade.xz (new), kascade-old.xz and cubin.tar.xz
# (a cubin cache made with NVRTC 13.0 and /usr/local/cuda/include, the device's own, so the keys
# match and nothing compiles twice); carry the folder. Results under $OUT.
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
timeout 200 /tmp/knew check --device cuda --decode-only --json $OUT/check-decode.json > $OUT/check-decode.txt 2>&1; t check-decode $?
timeout 120 /tmp/knew check --device cuda --peers-only --json $OUT/check-peers.json > $OUT/check-peers.txt 2>&1; t check-peers $?
for b in old new; do
  timeout 150 /tmp/k$b bench-cuda --no-peers --batches 1,8,64 --lengths 8192,32768 --prefill-lengths , \
    --json $OUT/bench-$b.json > $OUT/bench-$b.txt 2>&1; t bench-$b $?
done
for b in old new; do
  timeout 100 /tmp/k$b bench-cuda --peers-only --batches 8 --lengths 32768 --peer-inputs peaked --prefill-lengths , \
    --json $OUT/peers-$b.json > $OUT/peers-$b.txt 2>&1; t peers-$b $?
  timeout 100 /tmp/k$b bench-cuda --prefill-only --prefill-lengths 8192,32768 \
    --prefill-json $OUT/prefill-$b.json > $OUT/prefill-$b.txt 2>&1; t prefill-$b $?
done
NCU=$(command -v ncu || ls /usr/local/cuda/bin/ncu 2>/dev/null)
prof() {  # name kernel-regex bench-args...
  local name=$1 k=$2; shift 2
  timeout 90 $NCU --clock-control none --set full --import-source yes -k regex:"$k" -c 1 -o $OUT/$name \
    /tmp/knew bench-cuda "$@" --prefill-lengths , > $OUT/$name.log 2>&1
  t ncu-$name $?
  $NCU -i $OUT/$name.ncu-rep --page source --csv --print-source sass > $OUT/$name.sass.csv 2>&1
  rm -f $OUT/$name.ncu-rep
}
[ -n "$NCU" ] && [ $(( $(date +%s) - S )) -lt 420 ] && {
  prof pool 'decode_pool_select' --no-peers --batches 1 --lengths 8192
  prof quest 'quest_select_list' --peers-only --batches 8 --lengths 32768 --peer-inputs peaked
}
