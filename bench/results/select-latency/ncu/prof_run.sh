#!/usr/bin/env bash
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
unset CUDA_HOME CUDA_PATH
export KASCADE_CACHE=/tmp/kc PYTHONUNBUFFERED=1
mkdir -p /tmp/kc && tar xJf "$HERE/cubin.tar.xz" -C /tmp/kc
xz -d -c "$HERE/kascade.xz" > /tmp/knew && chmod +x /tmp/knew || { echo "cannot unpack"; exit 1; }
NCU=$(command -v ncu || ls /usr/local/cuda/bin/ncu 2>/dev/null)
S=$(date +%s)
t() { echo "$1 rc=$2 ($(( $(date +%s) - S )) s)"; }
prof() {  # name kernel-regex bench-args...
  local name=$1 k=$2; shift 2
  timeout 120 $NCU --clock-control none --cache-control none --set full --import-source yes -k regex:"$k" -s 3 -c 1 -o $OUT/$name \
    /tmp/knew bench-cuda "$@" --prefill-lengths , > $OUT/$name.log 2>&1
  t ncu-$name $?
  $NCU -i $OUT/$name.ncu-rep --page source --csv --print-source sass > $OUT/$name.sass.csv 2>&1
  $NCU -i $OUT/$name.ncu-rep --page details > $OUT/$name.details.txt 2>&1
  rm -f $OUT/$name.ncu-rep $OUT/$name.log
}
prof pool '^decode_pool_select$' --no-peers --batches 1 --lengths 8192
prof scores '^decode_scores_split$' --no-peers --batches 1 --lengths 8192
prof gather '^decode_sparse_logits_split$' --no-peers --batches 1 --lengths 8192
cd $OUT && tar cJf prof.tar.xz *.csv *.txt && rm -f *.csv *.txt; ls -la
