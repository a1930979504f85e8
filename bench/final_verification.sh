#!/usr/bin/env bash
# Verification of the merged tree on the GPU machine, from the repository root with the stripped,
# xz-compressed static binary and bench/* copied into .gpu/ (carry ".gpu"). One mode per device call
# (each fits the 10-minute limit on a fresh machine, whose first check compiles every kernel module):
#   check:    every kernel against the CPU reference (decode, the GPU policy, peers, prefill, prefill anchor).
#   sanitize: memcheck and racecheck on the small grid (SAN_ARGS narrows it, e.g. "--decode-only").
#   attend:   `attend --device cuda` against `--device cpu` for every method.
#   bench:    the decode bench (Kascade, dense, Quest/Twilight/vAttention) and the torch baselines in the
#             same call, then the Markdown table and the SVG (bench/gpu_report.py).
# Results under $OUT.
set -uo pipefail
MODE=${1:-check}  # check | sanitize | attend | bench
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
xz -d -c "$HERE/kascade.xz" > /tmp/kascade && chmod +x /tmp/kascade || { echo "cannot unpack"; exit 1; }
export KASCADE_CACHE=/tmp/kc PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee $OUT/gpu.txt
S=$(date +%s)
if [[ $MODE == check ]]; then
  timeout ${CHECK_T:-560} /tmp/kascade check --device cuda --json $OUT/check.json > $OUT/check.txt 2>$OUT/check.err
  echo "check rc=$? ($(( $(date +%s) - S )) s)"; tail -2 $OUT/check.err; grep -E "FAIL|passed" $OUT/check.txt | tail -6
fi
if [[ $MODE == sanitize ]]; then
  for tool in memcheck racecheck; do
    timeout ${SAN_T:-270} compute-sanitizer --tool $tool --print-limit 10 /tmp/kascade check --device cuda --small --seed 7 ${SAN_ARGS:-} > $OUT/san_$tool.txt 2>&1
    echo "sanitizer $tool rc=$? ($(( $(date +%s) - S )) s): $(grep -E 'ERROR SUMMARY|RACECHECK SUMMARY|passed' $OUT/san_$tool.txt | tail -2 | tr '\n' ' ')"
    grep -m 6 -A 4 "Invalid\|Hazard" $OUT/san_$tool.txt | head -24
  done
fi
if [[ $MODE == attend ]]; then
  # Inputs as float32 and as float32 holding bf16 values (what the GPU rounds to): with rounded inputs
  # only the summation order differs, so the selecting methods pick the same keys as the CPU.
  cd /tmp && python3 - <<'PY' | tee $OUT/attend.txt
import numpy as np, subprocess
def bf16(x):
    u = x.astype(np.float32).view(np.uint32)
    return ((u + 0x7FFF + ((u >> 16) & 1)) & 0xFFFF0000).view(np.float32)
r = np.random.default_rng(7)
arrays = {'q': (2, 32, 1, 128), 'k': (2, 8, 5001, 128), 'v': (2, 8, 5001, 128),
          'qc': (1, 32, 300, 128), 'kc': (1, 8, 1000, 128), 'vc': (1, 8, 1000, 128)}
for name, shape in arrays.items():
    x = r.standard_normal(shape).astype(np.float32)
    np.save(name + '.npy', x)
    np.save(name + '_r.npy', bf16(x))
runs = [('dense decode', 'dense', 'q', []), ('dense causal', 'dense', 'qc', ['--causal'])]
runs += [(m + ' decode', m, 'q', []) for m in ['quest', 'twilight', 'vattention', 'streaming', 'anchor']]
runs += [('streaming causal', 'streaming', 'qc', ['--causal']), ('anchor causal', 'anchor', 'qc', ['--causal']),
         ('kascade pooled decode', 'kascade', 'q', ['--variant', 'pooled']), ('kascade causal', 'kascade', 'qc', ['--causal']),
         ('kascade pooled causal', 'kascade', 'qc', ['--causal', '--variant', 'pooled']),
         ('reuse decode', 'reuse', 'q', ['--indices', 'i_anchor decode.npy']),
         ('reuse causal', 'reuse', 'qc', ['--causal', '--indices', 'i_anchor causal.npy'])]
def agreement(a, b):
    same = total = 0
    for ra, rb in zip(a.reshape(-1, a.shape[-1]), b.reshape(-1, b.shape[-1])):
        sa, sb = set(ra[ra >= 0].tolist()), set(rb[rb >= 0].tolist())
        same += len(sa & sb); total += len(sa)
    return same / max(total, 1)
for suffix, label in [('', 'float32 inputs'), ('_r', 'bf16-valued inputs')]:
    for tag, method, q, extra in runs:
        k, v = ('kc', 'vc') if q == 'qc' else ('k', 'v')
        outs, idx = {}, {}
        for dev in ['cpu', 'cuda']:
            cmd = ['/tmp/kascade', 'attend', '--method', method, '--device', dev, '--q', q + suffix + '.npy',
                   '--k', k + suffix + '.npy', '--v', v + suffix + '.npy', '--out', f'o_{dev}.npy'] + extra
            if method == 'anchor': cmd += ['--indices-out', f'i_{dev}.npy']
            rc = subprocess.run(cmd, capture_output=True, text=True)
            if rc.returncode: print(tag, dev, 'rc', rc.returncode, rc.stderr.strip()); break
            outs[dev] = np.load(f'o_{dev}.npy')
            if method == 'anchor':
                idx[dev] = np.load(f'i_{dev}.npy')
                if dev == 'cpu': np.save(f'i_{tag}.npy', idx[dev])      # the reuse rows read the CPU's selection
        if len(outs) == 2:
            a, b = outs['cpu'], outs['cuda']
            extra_txt = f", index agreement {agreement(idx['cpu'], idx['cuda']):.4f}" if len(idx) == 2 else ''
            print(f"attend {tag} {list(a.shape)}, {label}: cuda vs cpu rel err {np.linalg.norm(a - b) / np.linalg.norm(a):.2e}{extra_txt}")
PY
  cd - >/dev/null
fi
if [[ $MODE == bench ]]; then
  timeout 420 /tmp/kascade bench-cuda --json $OUT/bench.json --prefill-lengths , > $OUT/bench.txt 2>&1
  echo "bench rc=$? ($(( $(date +%s) - S )) s)"; tail -30 $OUT/bench.txt
  timeout 150 python3 "$HERE/baselines.py" --prefill-lengths= --json $OUT/baselines.json > $OUT/baselines.txt 2>&1
  echo "baselines rc=$? ($(( $(date +%s) - S )) s)"; tail -14 $OUT/baselines.txt
  python3 "$HERE/gpu_report.py" $OUT --svg $OUT/gpu_decode_speedup.svg --md $OUT/decode.md && cat $OUT/decode.md | head -40
fi
