#!/usr/bin/env python3
"""PTX of every decode kernel entry, for checking that a source change leaves the code unchanged.

Compiles the decode attention builds (CUDA-core and tensor-core, as KernelSource composes them) and
the selection module over a grid of definitions with NVRTC, for compute_90a, and writes each
entry's PTX without line information as JSON. `compare A B` reports the entries whose PTX differs
beyond label numbering. Needs NVRTC (libnvrtc.so, e.g. from the nvidia-cuda-nvrtc wheel) on
LD_LIBRARY_PATH and its headers under $CUDA_HOME/include; no GPU.

    python3 bench/ptx_entries.py write before.json     # on the old tree
    python3 bench/ptx_entries.py write after.json      # on the new tree
    python3 bench/ptx_entries.py compare before.json after.json
"""
import ctypes, itertools, json, os, re, sys

KERNELS = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'Sources', 'KascadeCUDA', 'kernels')


def read(name):
    path = os.path.join(KERNELS, name)
    return open(path).read() if os.path.exists(path) else ''


def compile_ptx(lib, src, opts):
    prog = ctypes.c_void_p()
    if lib.nvrtcCreateProgram(ctypes.byref(prog), src.encode(), b'k.cu', 0, None, None) != 0:
        sys.exit('nvrtcCreateProgram failed')
    arr = (ctypes.c_char_p * len(opts))(*[o.encode() for o in opts])
    if lib.nvrtcCompileProgram(prog, len(opts), arr) != 0:
        n = ctypes.c_size_t(); lib.nvrtcGetProgramLogSize(prog, ctypes.byref(n))
        log = ctypes.create_string_buffer(n.value); lib.nvrtcGetProgramLog(prog, log)
        sys.exit('compile error: ' + log.value.decode()[:2000])
    n = ctypes.c_size_t(); lib.nvrtcGetPTXSize(prog, ctypes.byref(n))
    buf = ctypes.create_string_buffer(n.value); lib.nvrtcGetPTX(prog, buf)
    text = '\n'.join(l for l in buf.value.decode().splitlines()
                     if not l.strip().startswith(('.loc', '.file', '//')) and 'Ltmp' not in l)
    return {m.group(1): m.group(0) for m in re.finditer(r'\.entry (\w+)\((.*?)\n\}\n', text, re.S)}


def write(path):
    try:
        lib = ctypes.CDLL('libnvrtc.so.13')
    except OSError:
        lib = ctypes.CDLL('libnvrtc.so.12')
    base = ['--gpu-architecture=compute_90a', '-std=c++17', '-default-device', '-lineinfo',
            '--include-path=' + os.path.join(os.environ.get('CUDA_HOME', '/usr/local/cuda'), 'include')]
    common = read('grid_dependency.cuh') + '\n' + read('common.cuh') + '\n'
    entries = read('decode_attention_entries.cu')
    cuda_core = common + read('decode_attention.cu') + entries
    mma = common + read('decode_attention_mma.cu') + entries
    topk = read('grid_dependency.cuh') + '\n' + read('decode_topk.cu') + read('decode_pool_select.cu')
    out = {}
    for bf, d, g in itertools.product([0, 1], [64, 128], [1, 3, 4, 8, 16]):
        defs = [f'-DKV_BF16={bf}', f'-DHEAD_DIM={d}', f'-DGROUP={g}']
        for stages, tile in [(2, 32), (3, 64)]:
            out[f'cuda-core {bf} {d} {g} {stages} {tile}'] = compile_ptx(lib, cuda_core, base + defs + [f'-DPIPE_STAGES={stages}', f'-DTILE_KEYS={tile}'])
        for stages in [2, 3]:
            out[f'mma {bf} {d} {g} {stages}'] = compile_ptx(lib, mma, base + defs + [f'-DPIPE_STAGES={stages}'])
    for g in [1, 2, 3, 4, 8, 16]:
        out[f'topk {g}'] = compile_ptx(lib, topk, base + [f'-DGROUP={g}'])
    json.dump(out, open(path, 'w'))
    print(f'{len(out)} configurations, {sum(len(v) for v in out.values())} entries -> {path}')


def compare(a_path, b_path):
    a, b = json.load(open(a_path)), json.load(open(b_path))
    norm = lambda s: re.sub(r'\$L__BB\d+_', 'L_', s)
    differ = [(c, e) for c in sorted(set(a) | set(b)) for e in sorted(set(a.get(c, {})) | set(b.get(c, {})))
              if norm(a.get(c, {}).get(e, '')) != norm(b.get(c, {}).get(e, ''))]
    for c, e in differ:
        print('differs:', c, e)
    print(f'{sum(len(v) for v in a.values())} entries, {len(differ)} differ beyond label numbering')
    return 1 if differ else 0


if __name__ == '__main__':
    if len(sys.argv) == 3 and sys.argv[1] == 'write':
        write(sys.argv[2])
    elif len(sys.argv) == 4 and sys.argv[1] == 'compare':
        sys.exit(compare(sys.argv[2], sys.argv[3]))
    else:
        sys.exit(__doc__)
