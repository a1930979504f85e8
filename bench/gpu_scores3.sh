#!/usr/bin/env bash
# Anchor scores layouts (scores3): NVRTC/ptxas log of the anchor kernels, check --prefill-only, bench, baselines,
# report, compute-sanitizer memcheck + racecheck on the small anchor check. At most 8 files under $OUT.
# Runs from a device folder holding kascade.xz, this script, nvrtc_anchor_log.py, baselines.py, prefill_report.py,
# prefill_wgmma.cu and prefill_anchor_wgmma.cu (the .cu files only for the log).
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
BIN=/tmp/kascade
xz -d -c "$HERE/kascade.xz" > $BIN && chmod +x $BIN || { echo "cannot unpack kascade.xz"; exit 1; }
export KASCADE_CACHE=/tmp/kascade-cache
LENGTHS=8192,32768,65536,131072
S=$(date +%s)
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem,memory.used --format=csv,noheader
timeout 40 python3 "$HERE/nvrtc_anchor_log.py" "$HERE" 2>&1 | cut -c1-220
echo "nvrtc log ($(( $(date +%s) - S )) s)"
timeout 170 $BIN check --device cuda --prefill-only --json /tmp/check.json > $OUT/check.txt 2>&1
echo "check --prefill-only rc=$? ($(( $(date +%s) - S )) s)"
grep -E "passed" $OUT/check.txt | tail -1; grep -iE "\| fail" $OUT/check.txt | head -8 | cut -c1-300
grep -E "wgmmaT" $OUT/check.txt | grep -ic pass | cut -c1-200
timeout 140 $BIN bench-cuda --prefill-only --prefill-lengths $LENGTHS --prefill-json $OUT/prefill_bench.json > $OUT/bench.txt 2>&1
echo "bench rc=$? ($(( $(date +%s) - S )) s)"; grep -E "kascade|anchor kernels|error|Error" $OUT/bench.txt | cut -c1-700
PYTHONUNBUFFERED=1 timeout 100 python3 "$HERE/baselines.py" --batches= --lengths= --prefill-lengths $LENGTHS --json $OUT/baselines.json > /tmp/baselines.txt 2>&1
echo "baselines rc=$? ($(( $(date +%s) - S )) s)"; tail -6 /tmp/baselines.txt
python3 "$HERE/prefill_report.py" $OUT --md $OUT/prefill.md --svg $OUT/gpu_prefill_speedup.svg && cat $OUT/prefill.md
for tool in memcheck racecheck; do
  echo "== compute-sanitizer --tool $tool" >> $OUT/sanitizer.txt
  timeout 60 compute-sanitizer --tool $tool --print-limit 10 $BIN check --device cuda --small --anchor-only --seed 7 >> $OUT/sanitizer.txt 2>&1
  echo "sanitizer $tool: rc=$? $(grep -E 'ERROR SUMMARY|RACECHECK SUMMARY|passed' $OUT/sanitizer.txt | tail -2 | tr '\n' ' ') ($(( $(date +%s) - S )) s)"
done
grep -m 8 -A 6 "Invalid\|Error \|Hazard" $OUT/sanitizer.txt | head -30
