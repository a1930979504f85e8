#!/usr/bin/env python3
"""Checks and times the wgmma prefill kernel (and the mma.sync one) against torch in one process.
NVRTC and the driver API through ctypes; torch for memory, references and baselines."""
import argparse, ctypes, json, math, os, sys, time
import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel

HERE = os.path.dirname(os.path.abspath(__file__))
KDIR = os.environ.get("KERNELS", HERE)          # folder of prefill_wgmma.cu and prefill_attention.cu
nvrtc = ctypes.CDLL('/usr/local/cuda/lib64/libnvrtc.so')
cu = ctypes.CDLL('libcuda.so.1')
cu.cuTensorMapEncodeTiled.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_uint32, ctypes.c_void_p, ctypes.c_void_p,
                                      ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_int]
cu.cuLaunchKernel.argtypes = [ctypes.c_void_p] + [ctypes.c_uint] * 7 + [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
cu.cuModuleLoadData.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
cu.cuModuleGetFunction.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_char_p]
cu.cuFuncSetAttribute.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int]
cu.cuFuncGetAttribute.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p]


def check_cu(rc, what):
    if rc != 0:
        name = ctypes.c_char_p()
        cu.cuGetErrorName(rc, ctypes.byref(name))
        raise RuntimeError(f"{what}: {name.value}")


def compile_cubin(path, defines):
    src = open(path, 'rb').read()
    opts = [b'--gpu-architecture=sm_90a', b'-std=c++17', b'--include-path=/usr/local/cuda/include', b'-lineinfo']
    opts += [f'-D{k}={v}'.encode() for k, v in defines.items()]
    prog = ctypes.c_void_p()
    assert nvrtc.nvrtcCreateProgram(ctypes.byref(prog), src, b'k.cu', 0, None, None) == 0
    arr = (ctypes.c_char_p * len(opts))(*opts)
    rc = nvrtc.nvrtcCompileProgram(prog, len(opts), arr)
    n = ctypes.c_size_t()
    nvrtc.nvrtcGetProgramLogSize(prog, ctypes.byref(n))
    log = ctypes.create_string_buffer(n.value)
    nvrtc.nvrtcGetProgramLog(prog, log)
    text = log.value.decode(errors='replace')
    if rc != 0:
        raise RuntimeError("compile failed: " + text[-2000:])
    nvrtc.nvrtcGetCUBINSize(prog, ctypes.byref(n))
    buf = ctypes.create_string_buffer(n.value)
    nvrtc.nvrtcGetCUBIN(prog, buf)
    return buf.raw, text


class Kernel:
    def __init__(self, path, defines, name, smem):
        cubin, self.log = compile_cubin(path, defines)
        self.cubin = cubin
        mod = ctypes.c_void_p()
        check_cu(cu.cuModuleLoadData(ctypes.byref(mod), cubin), "cuModuleLoadData")
        fn = ctypes.c_void_p()
        check_cu(cu.cuModuleGetFunction(ctypes.byref(fn), mod, name.encode()), "cuModuleGetFunction")
        self.mod, self.fn, self.smem = mod, fn, smem
        if smem > 48 * 1024:
            check_cu(cu.cuFuncSetAttribute(fn, 8, smem), "cuFuncSetAttribute")
        v = ctypes.c_int()
        cu.cuFuncGetAttribute(ctypes.byref(v), 4, fn); self.regs = v.value
        cu.cuFuncGetAttribute(ctypes.byref(v), 3, fn); self.local = v.value

    def launch(self, grid, block, args):
        holders = []
        for a in args:
            if isinstance(a, float):
                holders.append(ctypes.c_float(a))
            elif isinstance(a, tuple) and a[0] == 'i64':
                holders.append(ctypes.c_int64(a[1]))
            elif isinstance(a, tuple) and a[0] == 'ptr':
                holders.append(ctypes.c_uint64(a[1]))
            elif isinstance(a, tuple) and a[0] == 'bytes':
                holders.append(ctypes.create_string_buffer(a[1], len(a[1])))
            else:
                holders.append(ctypes.c_int32(a))
        params = (ctypes.c_void_p * len(holders))(*[ctypes.cast(ctypes.pointer(h), ctypes.c_void_p) for h in holders])
        stream = torch.cuda.current_stream().cuda_stream
        check_cu(cu.cuLaunchKernel(self.fn, grid[0], grid[1], grid[2], block, 1, 1, self.smem, stream, params, None),
                 "cuLaunchKernel")


def tensor_map(t, dims, strides, box):
    m = (ctypes.c_uint64 * 16)()
    r = len(dims)
    gd = (ctypes.c_uint64 * r)(*dims)
    gs = (ctypes.c_uint64 * (r - 1))(*strides)
    bd = (ctypes.c_uint32 * r)(*box)
    es = (ctypes.c_uint32 * r)(*([1] * r))
    check_cu(cu.cuTensorMapEncodeTiled(ctypes.byref(m), 1, r, ctypes.c_void_p(t.data_ptr()), gd, gs, bd, es, 0, 3, 2, 0),
             "cuTensorMapEncodeTiled")
    return bytes(m)


class Wgmma:
    """The wgmma kernel for one (dtype, d, tile, stages) build."""
    def __init__(self, dtype, d, bn=128, stages=2, extra=None):
        self.d, self.bn = d, bn
        defines = {"KV_BF16": 1 if dtype == torch.bfloat16 else 0, "HEAD_DIM": d, "TILE_N": bn, "STAGES": stages}
        defines.update(extra or {})
        halves = d // 64
        smem = halves * 128 * 128 + 2 * stages * halves * bn * 128 + 8 * (1 + 4 * stages) + 1024
        self.k = Kernel(os.path.join(KDIR, "prefill_wgmma.cu"), defines, "prefill_wgmma", smem)

    def prepare(self, q, k, v, N):
        B, H, T, d = q.shape
        G, cap = k.shape[1], k.shape[2]
        mq = tensor_map(q, [d, T, B * H], [2 * d, 2 * d * T], [64, 128, 1])
        mk = tensor_map(k, [d, N, B * G], [2 * d, 2 * d * cap], [64, self.bn, 1])
        mv = tensor_map(v, [d, N, B * G], [2 * d, 2 * d * cap], [64, self.bn, 1])
        return mq + mk + mv

    def run(self, maps, q, k, N, out, lse):
        B, H, T, d = q.shape
        G = k.shape[1]
        self.k.launch(((T + 127) // 128, H, B), 384,
                      [('bytes', maps), T, N, H // G, 1.0 / math.sqrt(d), ('ptr', out.data_ptr()),
                       ('ptr', lse.data_ptr() if lse is not None else 0)])


class MmaSync:
    """The current mma.sync kernel (4 warps x 2 m-tiles x 64 keys)."""
    def __init__(self, dtype, d, warps=4, mt=2, keys=64):
        self.d, self.bm = d, 16 * mt * warps
        defines = {"KV_BF16": 1 if dtype == torch.bfloat16 else 0, "HEAD_DIM": d, "WARPS": warps, "MTILES": mt, "TILE_KEYS": keys}
        smem = (self.bm + 4 * keys) * (d * 2 + 16)
        self.warps = warps
        self.k = Kernel(os.path.join(KDIR, "prefill_attention.cu"), defines, "prefill_causal", smem)

    def prepare(self, q, k, v, N):
        return (k, v)

    def run(self, maps, q, k, N, out, lse):
        kk, vv = maps
        B, H, T, d = q.shape
        G, cap = kk.shape[1], kk.shape[2]
        self.k.launch(((T + self.bm - 1) // self.bm, H, B), 32 * self.warps,
                      [('ptr', q.data_ptr()), ('ptr', kk.data_ptr()), ('ptr', vv.data_ptr()), ('i64', G * cap * d), ('i64', cap * d),
                       T, N, H // G, 1.0 / math.sqrt(d), ('ptr', out.data_ptr()), ('ptr', lse.data_ptr() if lse is not None else 0)])


def reference(q, k, v, N):
    B, H, T, d = q.shape
    G = k.shape[1]
    qf, kf, vf = q.double(), k[:, :, :N].double(), v[:, :, :N].double()
    kf = kf.repeat_interleave(H // G, dim=1)
    vf = vf.repeat_interleave(H // G, dim=1)
    s = torch.matmul(qf, kf.transpose(-1, -2)) / math.sqrt(d)
    t = torch.arange(T, device=q.device)[:, None]
    n = torch.arange(N, device=q.device)[None, :]
    s = s.masked_fill(n > (N - T) + t, float('-inf'))
    lse = torch.logsumexp(s, dim=-1)
    out = torch.matmul(torch.softmax(s, dim=-1), vf)
    return out, lse


def check_case(kern, dtype, d, B, H, G, N, T=None, cap=None, gen=None):
    T = T or N
    cap = cap or N
    q = ((torch.rand(B, H, T, d, device='cuda', generator=gen) * 2 - 1) * 2.5).to(dtype)
    k = (torch.rand(B, G, cap, d, device='cuda', generator=gen) * 2 - 1).to(dtype)
    v = (torch.rand(B, G, cap, d, device='cuda', generator=gen) * 2 - 1).to(dtype)
    if cap > N:   # poison the unused tail: it must never be read into the result
        k[:, :, N:] = float('nan'); v[:, :, N:] = float('nan')
    out = torch.full((B, H, T, d), float('nan'), device='cuda', dtype=dtype)
    lse = torch.full((B, H, T), float('nan'), device='cuda', dtype=torch.float32)
    maps = kern.prepare(q, k, v, N)
    kern.run(maps, q, k, N, out, lse)
    torch.cuda.synchronize()
    ref, rlse = reference(q, k, v, N)
    finite = bool(torch.isfinite(out).all()) and bool(torch.isfinite(lse).all())
    err = float((out.double() - ref).norm() / ref.norm())
    lerr = float((lse.double() - rlse).abs().max())
    ok = finite and err <= 1e-2 and lerr <= 1e-3
    return {"case": f"{str(dtype)[6:]} d={d} B={B} H={H} G={G} T={T} N={N} cap={cap}", "relErr": err, "lseMaxAbs": lerr,
            "finite": finite, "ok": ok}


def time_fn(fn, warmup=2, runs=None, budget_ms=300.0):
    s0, e0 = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    s0.record()
    for _ in range(warmup):
        fn()
    e0.record(); e0.synchronize()
    est = s0.elapsed_time(e0) / warmup
    runs = runs or max(5, min(30, int(budget_ms / max(est, 1e-3))))
    evs = [(torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)) for _ in range(runs)]
    for s, e in evs:
        s.record(); fn(); e.record()
    torch.cuda.synchronize()
    ts = sorted(s.elapsed_time(e) for s, e in evs)
    return ts[len(ts) // 2], ts[0], runs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--check", default="full")          # full, quick, none
    ap.add_argument("--bench", default="8192,32768")
    ap.add_argument("--variants", default="s2")         # comma list: s2, s3, n64, swap, old
    ap.add_argument("--baselines", type=int, default=1)
    ap.add_argument("--json", default=None)
    ap.add_argument("--dims", default="128")            # head dims to time
    a = ap.parse_args()
    torch.cuda.init(); torch.empty(1, device='cuda')
    res = {"device": torch.cuda.get_device_name(), "checks": {}, "bench": []}
    gen = torch.Generator(device='cuda'); gen.manual_seed(int(time.time()))
    variants = {
        "s2": lambda dt, d: Wgmma(dt, d, 128, 2),
        "s3": lambda dt, d: Wgmma(dt, d, 128, 3),
        "n64": lambda dt, d: Wgmma(dt, d, 64, 2),
        "swap": lambda dt, d: Wgmma(dt, d, 128, 2, {"V_LBO_SWAP": 1}),
        "pp": lambda dt, d: Wgmma(dt, d, 128, 2, {"PINGPONG": 1}),
        "epi": lambda dt, d: Wgmma(dt, d, 128, 2, {"EPI_SMEM": 1}),
        "ppepi": lambda dt, d: Wgmma(dt, d, 128, 2, {"PINGPONG": 1, "EPI_SMEM": 1}),
        "s3pp": lambda dt, d: Wgmma(dt, d, 128, 3, {"PINGPONG": 1, "EPI_SMEM": 1}),
        "old": lambda dt, d: MmaSync(dt, d),
    }
    names = a.variants.split(",")
    table = []
    for name in names:
        kerns = {}
        def get(dt, d):
            if (dt, d) not in kerns:
                t0 = time.time()
                kerns[(dt, d)] = variants[name](dt, d)
                kk = kerns[(dt, d)].k
                print(f"[{name}] compiled {dt} d={d}: {kk.regs} regs, {kk.local} local bytes, smem {kk.smem}, {time.time()-t0:.1f}s"
                      + (f"\n{kk.log.strip()[:600]}" if kk.log.strip() else ""), flush=True)
            return kerns[(dt, d)]
        rows = []
        if a.check != "none":
            bf, hf = torch.bfloat16, torch.float16
            cases = [(bf, 128, 2, 4, 2, 100, None, None), (bf, 128, 1, 8, 2, 1000, None, None), (bf, 128, 1, 6, 2, 1000, 333, 1100)]
            if a.check == "full":
                cases += [(bf, 128, 2, 4, 1, 4099, None, None), (hf, 128, 1, 4, 2, 777, None, None), (bf, 128, 1, 32, 8, 2048, None, None),
                          (bf, 128, 1, 4, 4, 130, 3, None), (bf, 64, 2, 4, 2, 1001, None, None), (hf, 64, 1, 2, 1, 211, 77, None),
                          (bf, 64, 1, 8, 2, 2500, None, 2600)]
            for (dt, d, B, H, G, N, T, cap) in cases:
                try:
                    r = check_case(get(dt, d), dt, d, B, H, G, N, T, cap, gen)
                except Exception as e:
                    r = {"case": f"{dt} d={d} B={B} H={H} G={G} N={N} T={T}", "ok": False, "error": str(e)[:300]}
                print(f"[{name}] check {r}", flush=True)
                rows.append(r)
            res["checks"][name] = rows
            if not all(r["ok"] for r in rows):
                print(f"[{name}] CHECK FAILED", flush=True)
                if not any(r["ok"] for r in rows):
                    continue
        H, G = 32, 8
        for D, N in [(int(dd), int(x)) for dd in a.dims.split(",") for x in a.bench.split(",") if x]:
            q = torch.randn(1, H, N, D, device='cuda', dtype=torch.bfloat16)
            k = torch.randn(1, G, N, D, device='cuda', dtype=torch.bfloat16)
            v = torch.randn(1, G, N, D, device='cuda', dtype=torch.bfloat16)
            out = torch.empty_like(q)
            lse = torch.empty(1, H, N, device='cuda', dtype=torch.float32)
            flops = 4.0 * H * D * (N * N - N * (N - 1) / 2)
            kern = get(torch.bfloat16, D)
            maps = kern.prepare(q, k, v, N)
            med, mn, runs = time_fn(lambda: kern.run(maps, q, k, N, out, lse))
            e = {"variant": name if D == 128 else f"{name}-d{D}", "D": D, "N": N, "medianMs": med, "minMs": mn, "runs": runs, "tflops": flops / med / 1e9}
            print(f"[{name}] d={D} N={N}: {med:.3f} ms ({e['tflops']:.1f} TFLOP/s) min {mn:.3f}", flush=True)
            res["bench"].append(e); table.append(e)
            del q, k, v, out, lse, maps
            torch.cuda.empty_cache()
    if a.baselines:
        H, G = 32, 8
        for D, N in [(int(dd), int(x)) for dd in a.dims.split(",") for x in a.bench.split(",") if x]:
            q = torch.randn(1, H, N, D, device='cuda', dtype=torch.bfloat16)
            k = torch.randn(1, G, N, D, device='cuda', dtype=torch.bfloat16)
            v = torch.randn(1, G, N, D, device='cuda', dtype=torch.bfloat16)
            flops = 4.0 * H * D * (N * N - N * (N - 1) / 2)
            for bname, backend in [("cudnn", SDPBackend.CUDNN_ATTENTION), ("flash2", SDPBackend.FLASH_ATTENTION)]:
                try:
                    with sdpa_kernel(backend):
                        med, mn, runs = time_fn(lambda: F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True))
                    e = {"variant": bname if D == 128 else f"{bname}-d{D}", "D": D, "N": N, "medianMs": med, "minMs": mn, "runs": runs, "tflops": flops / med / 1e9}
                    print(f"[{bname}] d={D} N={N}: {med:.3f} ms ({e['tflops']:.1f} TFLOP/s)", flush=True)
                    res["bench"].append(e); table.append(e)
                except Exception as ex:
                    print(f"[{bname}] N={N}: unavailable {str(ex)[:150]}", flush=True)
            del q, k, v
            torch.cuda.empty_cache()
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=1)
    print("\n== table (bf16, B=1, H=32, G=8, d=128, causal)")
    best = {}
    for e in table:
        if e["variant"].split("-")[0] in ("cudnn", "flash2"):
            best[(e["N"], e["D"])] = max(best.get((e["N"], e["D"]), 0), e["tflops"])
    for e in table:
        ratio = e["tflops"] / best[(e["N"], e["D"])] if (e["N"], e["D"]) in best else float('nan')
        print(f"{e['variant']:>7} N={e['N']:>6} {e['medianMs']:9.3f} ms {e['tflops']:7.1f} TFLOP/s  x{ratio:.2f} of best baseline")
    for name, rows in res["checks"].items():
        print(f"{name}: checks {sum(r['ok'] for r in rows)}/{len(rows)} passed, max relErr "
              f"{max((r.get('relErr', float('nan')) for r in rows), default=0):.2e}, max lse err {max((r.get('lseMaxAbs', float('nan')) for r in rows), default=0):.2e}")


if __name__ == "__main__":
    main()
