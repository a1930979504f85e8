#!/usr/bin/env bash
# fused-select, second call: decode check (every selection path), sanitizers on the small decode grid,
# decode bench, ncu kernel durations and one detailed profile. 6 files under $OUT.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
BIN=/tmp/kascade
xz -d -c "$HERE/kascade.xz" > $BIN && chmod +x $BIN || { echo "cannot unpack kascade.xz"; exit 1; }
export KASCADE_CACHE=/tmp/kascade-cache
S=$(date +%s); el() { echo "($(( $(date +%s) - S )) s)"; }
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
timeout 130 $BIN check --device cuda --decode-only --json /tmp/check.json > $OUT/check.txt 2>/tmp/check.err
echo "check rc=$? $(el)"; tail -1 /tmp/check.err; tail -1 $OUT/check.txt
grep -E "FAIL" $OUT/check.txt | head -8 | cut -c1-300
python3 - /tmp/check.json <<'PY'
import json, sys, collections
rows = json.load(open(sys.argv[1])); agg = collections.OrderedDict()
for r in rows:
    a = agg.setdefault(r['kernel'], [0, 0, 0.0, 1.0, 0])
    a[0] += 1; a[1] += r['passed']; a[2] = max(a[2], r['relError'])
    if r.get('agreement') is not None: a[3] = min(a[3], r['agreement']); a[4] += r.get('hardMismatches') or 0
for k, a in agg.items(): print(f"{k:15s} {a[1]}/{a[0]} pass, max rel err {a[2]:.2e}, min agreement {a[3]:.4f}, non-tie mismatches {a[4]}")
PY
echo "== memcheck" >> $OUT/sanitizer.txt
timeout 45 compute-sanitizer --tool memcheck --print-limit 10 $BIN check --device cuda --small --decode-only --seed 7 >> $OUT/sanitizer.txt 2>&1
echo "memcheck rc=$? $(grep -E 'ERROR SUMMARY|passed' $OUT/sanitizer.txt | tail -2 | tr '\n' ' ') $(el)"
echo "== racecheck (decode_pool_select kernels)" >> $OUT/sanitizer.txt
timeout 60 compute-sanitizer --tool racecheck --kernel-name kns=decode_pool_select --print-limit 10 $BIN check --device cuda --small --decode-only --seed 7 >> $OUT/sanitizer.txt 2>&1
echo "racecheck rc=$? $(grep -E 'RACECHECK SUMMARY|ERROR SUMMARY|passed' $OUT/sanitizer.txt | tail -2 | tr '\n' ' ') $(el)"
grep -m 6 -A 5 "Invalid\|Error \|Hazard" $OUT/sanitizer.txt | head -24
timeout 60 $BIN bench-cuda --no-peers --prefill-lengths , --json $OUT/bench.json > $OUT/bench.txt 2>&1
echo "bench rc=$? $(el)"; grep -iE "error" $OUT/bench.txt | head -3
python3 "$HERE/table.py" $OUT/bench.json $OUT/bench.txt | tee $OUT/table.txt
for b in 1 64; do
  timeout 70 ncu --clock-control none --metrics gpu__time_duration.sum,launch__grid_size,launch__shared_mem_per_block_dynamic \
    -k regex:"decode_pool|decode_select" --csv --page raw $BIN bench-cuda --no-peers --prefill-lengths , --batches $b \
    --lengths 8192,32768 > /tmp/ncu_$b.csv 2>/tmp/ncu_$b.err
  echo "ncu B=$b rc=$? $(el)"; grep -i "error" /tmp/ncu_$b.err | head -3
  echo "== B=$b, N = 8192 then 32768 (same grid: launch order)" >> $OUT/ncu.txt
  python3 "$HERE/ncu_table.py" /tmp/ncu_$b.csv | tee -a $OUT/ncu.txt
done
timeout 60 ncu --clock-control none --set full -k regex:"decode_pool_select" --launch-skip 6 --launch-count 1 \
  $BIN bench-cuda --no-peers --prefill-lengths , --batches 64 --lengths 32768 > /tmp/ncu_full.txt 2>&1
echo "ncu full rc=$? $(el)"
echo "== ncu --set full, one decode_pool_select launch, B=64 N=32768" >> $OUT/ncu.txt
sed -n '/decode_pool_select/,$p' /tmp/ncu_full.txt | grep -vE "^copy|^mma" | head -400 >> $OUT/ncu.txt
grep -E "Duration|Memory Throughput|DRAM Throughput|Compute \(SM\)|Registers Per|Achieved Occupancy|Stall|One or More|No Eligible|Issued Warp" /tmp/ncu_full.txt | head -20
