#!/usr/bin/env python3
"""Compiles the tensor-core decode kernels (common helpers + decode_attention_mma.cu + entries) to PTX with
NVRTC for every build the check and bench use (bf16/fp16, d 64/128, group 1/3/4/8/16, 2/3 stages, with
and without L2_PREFETCH) from two kernel folders, and reports the builds whose PTX differs once line
records and comments are dropped. Needs libnvrtc (and its builtins) on LD_LIBRARY_PATH and the CUDA
headers in CUDA_HOME/include.

    git show REV:Sources/KascadeCUDA/kernels/decode_attention_mma.cu > old/decode_attention_mma.cu  # and the others
    python3 ptx_compare.py old/ Sources/KascadeCUDA/kernels/
"""
import ctypes, itertools, os, sys

lib = ctypes.CDLL("libnvrtc.so.13")
include = os.path.join(os.environ.get("CUDA_HOME", "/usr/local/cuda"), "include")


def source(folder):
    read = lambda f: open(os.path.join(folder, f)).read()
    return read("grid_dependency.cuh") + "\n" + read("common.cuh") + "\n" + read("decode_attention_mma.cu") + read("decode_attention_entries.cu")


def ptx(text, defines):
    prog = ctypes.c_void_p()
    assert lib.nvrtcCreateProgram(ctypes.byref(prog), text.encode(), b"k.cu", 0, None, None) == 0
    opts = [b"--gpu-architecture=compute_90a", b"-std=c++17", b"-default-device", f"--include-path={include}".encode()]
    opts += [f"-D{k}={v}".encode() for k, v in defines.items()]
    if lib.nvrtcCompileProgram(prog, len(opts), (ctypes.c_char_p * len(opts))(*opts)) != 0:
        n = ctypes.c_size_t(); lib.nvrtcGetProgramLogSize(prog, ctypes.byref(n))
        log = ctypes.create_string_buffer(n.value); lib.nvrtcGetProgramLog(prog, log)
        sys.exit(log.value.decode())
    n = ctypes.c_size_t(); lib.nvrtcGetPTXSize(prog, ctypes.byref(n))
    out = ctypes.create_string_buffer(n.value); lib.nvrtcGetPTX(prog, out)
    return [l for l in out.value.decode().split("\n") if not l.strip().startswith((".loc", ".file", "//"))]


old, new = source(sys.argv[1]), source(sys.argv[2])
builds = differ = 0
for bf, d, g, st, pf in itertools.product([1, 0], [64, 128], [1, 3, 4, 8, 16], [2, 3], [0, 1]):
    defines = {"KV_BF16": bf, "HEAD_DIM": d, "GROUP": g, "PIPE_STAGES": st}
    if pf: defines["L2_PREFETCH"] = 1
    builds += 1
    if ptx(old, defines) != ptx(new, defines):
        differ += 1
        print("differs:", defines)
print(f"{differ} of {builds} builds differ")
