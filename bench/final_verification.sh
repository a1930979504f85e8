#!/usr/bin/env bash
# Final verification in one device call: every kernel against the CPU, attend --device cuda against
# --device cpu on the same files, and a short decode benchmark through `kascade bench --device cuda`.
set -uo pipefail
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
xz -d -c .gpu/kascade.xz > /tmp/kascade && chmod +x /tmp/kascade || { echo "cannot unpack"; exit 1; }
export KASCADE_CACHE=/tmp/kc
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
timeout 300 /tmp/kascade check --device cuda --json $OUT/check.json > $OUT/check.txt 2>$OUT/check.err
echo "check rc=$?"; tail -3 $OUT/check.err; grep -E "passed|FAIL" $OUT/check.txt | tail -4
cd /tmp && python3 - <<'PY'
import numpy as np, subprocess
r = np.random.default_rng(7)
np.save('q.npy', r.standard_normal((2, 32, 1, 128)).astype(np.float32))
np.save('k.npy', r.standard_normal((2, 8, 5001, 128)).astype(np.float32))
np.save('v.npy', r.standard_normal((2, 8, 5001, 128)).astype(np.float32))
np.save('qc.npy', r.standard_normal((1, 32, 300, 128)).astype(np.float32))
np.save('kc.npy', r.standard_normal((1, 8, 1000, 128)).astype(np.float32))
np.save('vc.npy', r.standard_normal((1, 8, 1000, 128)).astype(np.float32))
for tag, q, k, v, extra in [('decode', 'q', 'k', 'v', []), ('causal', 'qc', 'kc', 'vc', ['--causal'])]:
    outs = {}
    for dev in ['cpu', 'cuda']:
        cmd = ['/tmp/kascade', 'attend', '--method', 'dense', '--device', dev, '--q', q + '.npy', '--k', k + '.npy', '--v', v + '.npy', '--out', f'o_{dev}.npy'] + extra
        rc = subprocess.run(cmd, capture_output=True, text=True)
        if rc.returncode: print(tag, dev, 'rc', rc.returncode, rc.stderr.strip()); break
        outs[dev] = np.load(f'o_{dev}.npy')
    if len(outs) == 2:
        a, b = outs['cpu'], outs['cuda']
        print(f"attend dense {tag} {list(a.shape)}: cuda vs cpu rel err {np.linalg.norm(a - b) / np.linalg.norm(a):.2e}")
PY
cd - >/dev/null
timeout 200 /tmp/kascade bench --device cuda --batches 8,64 --lengths 32768,131072 --json-out $OUT/bench.json > $OUT/bench.txt 2>&1
echo "bench rc=$?"; tail -12 $OUT/bench.txt
