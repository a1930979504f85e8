#!/usr/bin/env bash
# Launch overlap (programmatic dependent launch) on the GPU machine, next to the static binary
# kascade.xz and a copy of bench/ (carry the folder): the decode and peers checks with overlap on,
# then the decode bench with overlap on and off, the torch baselines and the peers bench (on, off)
# in the same call. Results under $OUT.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT/off"
BIN=/tmp/kascade
xz -d -c "$HERE/kascade.xz" > $BIN && chmod +x $BIN || { echo "cannot unpack"; exit 1; }
export KASCADE_CACHE=/tmp/kc PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee $OUT/gpu.txt
S=$(date +%s)
if [[ ${CHECK:-1} == 1 ]]; then
  timeout ${CHECK_T:-200} $BIN check --device cuda --decode-only --seed 5 --json $OUT/check-decode.json > $OUT/check-decode.txt 2>$OUT/check-decode.err
  echo "decode check rc=$? ($(( $(date +%s) - S )) s): $(grep -E 'passed' $OUT/check-decode.txt | tail -1)"; grep FAIL $OUT/check-decode.txt | head -5
  timeout ${CHECK_T:-200} $BIN check --device cuda --peers-only --seed 11 --json $OUT/check-peers.json > $OUT/check-peers.txt 2>$OUT/check-peers.err
  echo "peers check rc=$? ($(( $(date +%s) - S )) s): $(grep -E 'passed' $OUT/check-peers.txt | tail -1)"; grep FAIL $OUT/check-peers.txt | head -5
fi
timeout ${BENCH_T:-200} $BIN bench-cuda --no-peers --json $OUT/bench.json --prefill-lengths , > $OUT/bench.txt 2>&1
echo "bench (overlap on) rc=$? ($(( $(date +%s) - S )) s)"
KASCADE_LAUNCH_OVERLAP=0 timeout ${BENCH_T:-200} $BIN bench-cuda --no-peers --lengths ${OFF_LENGTHS:-8192,32768} --json $OUT/off/bench.json --prefill-lengths , > $OUT/bench-off.txt 2>&1
echo "bench (overlap off) rc=$? ($(( $(date +%s) - S )) s)"
timeout 150 python3 "$HERE/baselines.py" --prefill-lengths= --json $OUT/baselines.json > $OUT/baselines.txt 2>&1
echo "baselines rc=$? ($(( $(date +%s) - S )) s)"; cp $OUT/baselines.json $OUT/off/ 2>/dev/null
timeout 100 $BIN bench-cuda --peers-only --peer-inputs peaked --batches 8,64 --lengths 32768,131072 --json $OUT/peers.json > $OUT/peers.txt 2>&1
echo "peers bench (on) rc=$? ($(( $(date +%s) - S )) s)"
KASCADE_LAUNCH_OVERLAP=0 timeout 100 $BIN bench-cuda --peers-only --peer-inputs peaked --batches 8 --lengths 32768 --json $OUT/peers-off.json > $OUT/peers-off.txt 2>&1
echo "peers bench (off) rc=$? ($(( $(date +%s) - S )) s)"
for d in $OUT $OUT/off; do python3 "$HERE/gpu_report.py" $d --md $d/decode.md > /dev/null 2>&1 && head -20 $d/decode.md; done
grep -h "peers peaked" $OUT/peers.txt $OUT/peers-off.txt
