#!/usr/bin/env bash
# Final binary: the whole check, then attend --device cuda against cpu (final_verification.sh modes),
# with the cubin cache made here (see bench/results/anchor-lse/run.sh).
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
unset CUDA_HOME CUDA_PATH
mkdir -p /tmp/kc && tar xJf "$HERE/cubin.tar.xz" -C /tmp/kc
S=$(date +%s)
CHECK_T=420 bash "$HERE/final_verification.sh" check; echo "check done ($(( $(date +%s) - S )) s)"
[ $(( $(date +%s) - S )) -lt 470 ] && { bash "$HERE/final_verification.sh" attend; echo "attend done ($(( $(date +%s) - S )) s)"; }
