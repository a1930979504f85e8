#!/usr/bin/env bash
# Peers: check (full + small under memcheck) and bench of Quest, Twilight, vAttention on random and
# peaked inputs. MODE: all | check | bench.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
BIN=/tmp/kascade
xz -d -c "$HERE/kascade.xz" > $BIN && chmod +x $BIN || { echo "cannot unpack"; exit 1; }
export KASCADE_CACHE=/tmp/kascade-cache
nvidia-smi --query-gpu=name,driver_version,memory.used,memory.total --format=csv,noheader
MODE=${1:-all}
if [[ $MODE != bench ]]; then
SECONDS=0
timeout ${CHECK_TIMEOUT:-400} $BIN check --device cuda --peers-only --seed 11 --json $OUT/peers_check.json > $OUT/peers_check.txt 2>/tmp/check.err; echo "check rc=$? (${SECONDS}s)"
tail -3 /tmp/check.err; grep -E "FAIL|passed" $OUT/peers_check.txt | head -30
for tool in ${SANITIZERS:-memcheck}; do
  SECONDS=0
  echo "== $tool" >> $OUT/peers_sanitizer.txt
  timeout 90 compute-sanitizer --tool $tool --print-limit 10 $BIN check --device cuda --small --peers-only --seed 7 >> $OUT/peers_sanitizer.txt 2>&1
  echo "sanitizer $tool rc=$? (${SECONDS}s) $(grep -E 'ERROR SUMMARY|RACECHECK SUMMARY|passed' $OUT/peers_sanitizer.txt | tail -2 | tr '\n' ' ')"
done
grep -m 8 -A 6 "Invalid\|Hazard" $OUT/peers_sanitizer.txt | head -40
fi
if [[ $MODE != check ]]; then
SECONDS=0
timeout 300 $BIN bench-cuda --peers-only --peer-inputs ${INPUTS:-peaked,random} --batches ${BATCHES:-1,8,64} --lengths ${LENGTHS:-8192,32768,131072} --json $OUT/peers_bench.json > $OUT/peers_bench.txt 2>&1; echo "bench rc=$? (${SECONDS}s)"
cat $OUT/peers_bench.txt
fi
