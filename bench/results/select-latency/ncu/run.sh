#!/usr/bin/env bash
# Scores chunk sweep at small batch (KASCADE_EXP_SCORES_TILES, experiment binary), old vs new bench,
# per-kernel ncu durations of the batch-1, 8k anchor chain and the source view of its selection.
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
for tl in 0 1 4 8; do
  if [ $tl = 0 ]; then unset KASCADE_EXP_SCORES_TILES; else export KASCADE_EXP_SCORES_TILES=$tl; fi
  timeout 60 /tmp/knew bench-cuda --no-peers --batches 1,8 --lengths 8192,32768 --prefill-lengths , > $OUT/tiles-$tl.txt 2>&1; t tiles-$tl $?
done
unset KASCADE_EXP_SCORES_TILES
for b in old new; do
  timeout 100 /tmp/k$b bench-cuda --no-peers --batches 1,8,64 --lengths 8192,32768 --prefill-lengths , \
    --json $OUT/bench-$b.json > $OUT/bench-$b.txt 2>&1; t bench-$b $?
done
NCU=$(command -v ncu || ls /usr/local/cuda/bin/ncu 2>/dev/null)
timeout 120 $NCU --clock-control none --metrics gpu__time_duration.sum --csv -c 3000 \
  /tmp/knew bench-cuda --no-peers --batches 1 --lengths 8192 --prefill-lengths , > $OUT/ncu-b1.csv 2>$OUT/ncu-b1.err; t ncu-b1 $?
timeout 120 $NCU --clock-control none --cache-control none --set full --import-source yes -k regex:'^decode_pool_select$' -s 3 -c 1 -o $OUT/pool \
    /tmp/knew bench-cuda --no-peers --batches 1 --lengths 8192 --prefill-lengths , > $OUT/pool.log 2>&1; t ncu-pool $?
$NCU -i $OUT/pool.ncu-rep --page source --csv --print-source sass > $OUT/pool.sass.csv 2>&1
$NCU -i $OUT/pool.ncu-rep --page details > $OUT/pool.details.txt 2>&1
rm -f $OUT/pool.ncu-rep
cd $OUT && tar cJf results.tar.xz *.txt *.json *.csv && rm -f *.json *.csv pool.*; ls
