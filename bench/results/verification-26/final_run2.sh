#!/usr/bin/env bash
# Final binary: the whole check with the cubin cache made here, then the device's whole cache back
# (every module the check compiled) for the next calls.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
unset CUDA_HOME CUDA_PATH
mkdir -p /tmp/kc && tar xJf "$HERE/cubin.tar.xz" -C /tmp/kc
echo "cubins before: $(ls /tmp/kc/cubin | wc -l)"
S=$(date +%s)
CHECK_T=450 bash "$HERE/final_verification.sh" check; echo "check done ($(( $(date +%s) - S )) s)"
echo "cubins after: $(ls /tmp/kc/cubin | wc -l)"
tar cf - -C /tmp/kc cubin | xz -T8 -6 > $OUT/cubin-all.tar.xz; ls -la $OUT/cubin-all.tar.xz
