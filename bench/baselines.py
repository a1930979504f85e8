#!/usr/bin/env python3
"""Dense decode and causal prefill baselines for the GPU benchmark: PyTorch SDPA with the cuDNN and
FlashAttention backends at the benchmark's shapes (32 query / 8 KV heads, d = 128, bf16), timed like our kernels:
CUDA events around each call, warm-up, median of many runs, input sets rotated so that they exceed
L2. Also measures device-to-device copy bandwidth. Writes JSON (--json) and prints a table."""
import argparse
import json
import os
import sys
import tempfile

import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel


def time_fn(fn, warmup=3, budget_ms=250.0):
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    for i in range(warmup):
        fn(i)
    end.record()
    end.synchronize()
    est = start.elapsed_time(end) / warmup
    runs = max(5, min(50, int(budget_ms / max(est, 1e-3))))
    evs = [(torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)) for _ in range(runs)]
    for i, (s, e) in enumerate(evs):
        s.record()
        fn(warmup + i)
        e.record()
    torch.cuda.synchronize()
    ts = sorted(s.elapsed_time(e) for s, e in evs)
    return ts[len(ts) // 2], ts[0], runs


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--batches", default="1,8,64")
    ap.add_argument("--lengths", default="8192,32768,65536,131072")
    ap.add_argument("--prefill-lengths", default="8192,32768,65536",
                    help="causal prefill lengths (batch 1, T = N); empty for none")
    ap.add_argument("--json")
    a = ap.parse_args()
    H, G, D = 32, 8, 128
    dev = torch.device("cuda")
    props = torch.cuda.get_device_properties(dev)
    l2 = getattr(props, "L2_cache_size", 50 << 20)
    out = {"device": props.name, "torch": torch.__version__, "queryHeads": H, "kvHeads": G, "headDim": D,
           "dtype": "bf16", "shapes": []}

    n = 1 << 30
    src = torch.empty(n, dtype=torch.uint8, device=dev)
    dst = torch.empty_like(src)
    med, _, _ = time_fn(lambda i: dst.copy_(src), warmup=2)
    out["copyTBPerSecond"] = 2 * n / (med * 1e-3) / 1e12
    del src, dst
    print(f"torch copy bandwidth {out['copyTBPerSecond']:.2f} TB/s", flush=True)

    ints = lambda text: [int(x) for x in text.split(",") if x.strip()]
    for B in ints(a.batches):
        for N in ints(a.lengths):
            kv_bytes = 2 * B * G * N * D * 2
            sets = max(1, min(8, -(-4 * l2 // kv_bytes)))
            qs = [torch.randn(B, H, 1, D, device=dev, dtype=torch.bfloat16) for _ in range(sets)]
            ks = [torch.randn(B, G, N, D, device=dev, dtype=torch.bfloat16) for _ in range(sets)]
            vs = [torch.randn(B, G, N, D, device=dev, dtype=torch.bfloat16) for _ in range(sets)]
            entry = {"batch": B, "length": N, "sets": sets, "bytes": kv_bytes, "backends": {}}
            ref = F.scaled_dot_product_attention(qs[0].float(), ks[0].float(), vs[0].float(), enable_gqa=True) if B * N <= 8 * 32768 else None
            for name, backend in [("cudnn", SDPBackend.CUDNN_ATTENTION), ("flash", SDPBackend.FLASH_ATTENTION)]:
                try:
                    with sdpa_kernel(backend):
                        o = F.scaled_dot_product_attention(qs[0], ks[0], vs[0], enable_gqa=True)
                        err = None
                        if ref is not None:
                            err = ((o.float() - ref).norm() / ref.norm()).item()
                        med, mn, runs = time_fn(lambda i: F.scaled_dot_product_attention(
                            qs[i % sets], ks[i % sets], vs[i % sets], enable_gqa=True))
                    entry["backends"][name] = {"medianMs": med, "minMs": mn, "runs": runs,
                                               "tbPerSecond": kv_bytes / (med * 1e-3) / 1e12, "relErrorVsFloat32": err}
                    print(f"B={B} N={N} {name}: {med*1e3:.1f} us ({kv_bytes/(med*1e-3)/1e12:.2f} TB/s)"
                          + (f" rel.err {err:.1e}" if err is not None else ""), flush=True)
                except Exception as e:  # a backend that refuses the shape is recorded, not faked
                    entry["backends"][name] = {"error": str(e).splitlines()[0][:200]}
                    print(f"B={B} N={N} {name}: unavailable: {str(e).splitlines()[0][:120]}", flush=True)
            out["shapes"].append(entry)
            del qs, ks, vs, ref
            torch.cuda.empty_cache()

    out["prefill"] = []
    for N in ints(a.prefill_lengths):
        B = 1
        flops = 4.0 * B * H * D * (N * N - N * (N - 1) / 2)
        q = torch.randn(B, H, N, D, device=dev, dtype=torch.bfloat16)
        k = torch.randn(B, G, N, D, device=dev, dtype=torch.bfloat16)
        v = torch.randn(B, G, N, D, device=dev, dtype=torch.bfloat16)
        entry = {"batch": B, "length": N, "flops": flops, "backends": {}}
        for name, backend in [("cudnn", SDPBackend.CUDNN_ATTENTION), ("flash", SDPBackend.FLASH_ATTENTION)]:
            try:
                with sdpa_kernel(backend):
                    med, mn, runs = time_fn(lambda i: F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True),
                                            warmup=2)
                entry["backends"][name] = {"medianMs": med, "minMs": mn, "runs": runs, "tflops": flops / (med * 1e-3) / 1e12}
                print(f"prefill B={B} N={N} {name}: {med:.3f} ms ({flops/(med*1e-3)/1e12:.1f} TFLOP/s)", flush=True)
            except Exception as e:  # a backend that refuses the shape is recorded, not faked
                entry["backends"][name] = {"error": str(e).splitlines()[0][:200]}
                print(f"prefill B={B} N={N} {name}: unavailable: {str(e).splitlines()[0][:120]}", flush=True)
        out["prefill"].append(entry)
        del q, k, v
        torch.cuda.empty_cache()

    if a.json:
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(a.json)))
        with os.fdopen(fd, "w") as f:
            json.dump(out, f, indent=1)
        os.replace(tmp, a.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
