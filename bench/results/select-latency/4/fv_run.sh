#!/usr/bin/env bash
# The final tables of this tree: final_verification.sh bench, then attend, with the tree's cubin cache.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT/fv"
unset CUDA_HOME CUDA_PATH
mkdir -p /tmp/kc && tar xJf "$HERE/cubin.tar.xz" -C /tmp/kc
OUT=$OUT/fv bash "$HERE/final_verification.sh" bench 2>&1 | grep -E "rc=|^\|" | head -30
OUT=$OUT/fv bash "$HERE/final_verification.sh" attend 2>&1 | tail -16
cd $OUT && tar cJf fv.tar.xz fv && ls
