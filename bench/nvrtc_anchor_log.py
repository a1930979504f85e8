# Compiles prefill_wgmma.cu + prefill_anchor_wgmma.cu with NVRTC (ptxas -v) and prints the resource
# and warning lines of the anchor kernels (serialised wgmma, spills, registers).
import ctypes, sys
src_dir = sys.argv[1]
text = open(f"{src_dir}/prefill_wgmma.cu").read() + "\n" + open(f"{src_dir}/prefill_anchor_wgmma.cu").read()
lib = ctypes.CDLL("/usr/local/cuda/lib64/libnvrtc.so")
for group in (4, 2):
    prog = ctypes.c_void_p()
    assert lib.nvrtcCreateProgram(ctypes.byref(prog), text.encode(), b"anchor.cu", 0, None, None) == 0
    opts = ["--gpu-architecture=sm_90a", "-std=c++17", "-default-device", "-lineinfo", "--include-path=/usr/local/cuda/include",
            "-DGROUP=%d" % group, "-DHEAD_DIM=128", "-DKV_BF16=1", "-DLSE_ONLY=1", "-DSTAGES=3", "-DTILE_N=128", "--ptxas-options=-v"]
    arr = (ctypes.c_char_p * len(opts))(*[o.encode() for o in opts])
    rc = lib.nvrtcCompileProgram(prog, len(opts), arr)
    n = ctypes.c_size_t()
    lib.nvrtcGetProgramLogSize(prog, ctypes.byref(n))
    buf = ctypes.create_string_buffer(n.value)
    lib.nvrtcGetProgramLog(prog, buf)
    log = buf.value.decode(errors="replace")
    print(f"== GROUP={group} nvrtc rc={rc}")
    keep = [l for l in log.splitlines() if any(w in l for w in ("anchor_scores", "wgmma", "serial", "Performance", "registers", "spill", "error", "warning", "C75", "Compiling"))]
    print("\n".join(keep[:40]))
