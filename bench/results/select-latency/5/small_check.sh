#!/usr/bin/env bash
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
unset CUDA_HOME CUDA_PATH
export KASCADE_CACHE=/tmp/kc PYTHONUNBUFFERED=1
mkdir -p /tmp/kc && tar xJf "$HERE/cubin.tar.xz" -C /tmp/kc
xz -d -c "$HERE/kascade.xz" > /tmp/knew && chmod +x /tmp/knew
S=$(date +%s)
timeout 150 /tmp/knew check --device cuda --small > $OUT/check-small.txt 2>$OUT/check-small.err; echo "check small rc=$? ($(( $(date +%s) - S )) s)"
tail -n 1 $OUT/check-small.txt; grep -c "| policy\|policy" $OUT/check-small.txt
