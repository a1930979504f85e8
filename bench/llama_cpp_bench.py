#!/usr/bin/env python3
"""llama.cpp baseline (llama-cpp-python) for the CPU model benchmark of docs/BENCHMARKS.md.

Measures, on the same GGUF and thread count as `kascade`: prompt processing of a P-token prompt
(tokens/s) and decoding at a C-token context (tokens/s over D steps after a C-token prefill).
Token ids are the same deterministic sequence `kascade` uses (see bench/cpu_model_bench.sh):
id_i = 1000 + (i * 7919) % 40000. Prints one JSON object.
    python3 bench/llama_cpp_bench.py MODEL.gguf --threads 2 --prompt 2048 --context 4096 --decode 64
"""
import argparse
import json
import time

from llama_cpp import Llama


def ids(n):
    return [1000 + (i * 7919) % 40000 for i in range(n)]


ap = argparse.ArgumentParser()
ap.add_argument("model")
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--prompt", type=int, default=2048)
ap.add_argument("--context", type=int, default=4096)
ap.add_argument("--decode", type=int, default=64)
ap.add_argument("--batch", type=int, default=512)
a = ap.parse_args()

llm = Llama(model_path=a.model, n_ctx=max(a.prompt, a.context + a.decode) + 16, n_threads=a.threads,
            n_threads_batch=a.threads, n_batch=a.batch, n_ubatch=a.batch, verbose=False, logits_all=False)

llm.reset()
t0 = time.perf_counter()
llm.eval(ids(a.prompt))
pp = time.perf_counter() - t0

llm.reset()
ctx = ids(a.context)
llm.eval(ctx)
tok = ctx[-1]
t0 = time.perf_counter()
for i in range(a.decode):
    llm.eval([1000 + (tok * 31 + i) % 40000])
dec = time.perf_counter() - t0

print(json.dumps({
    "engine": "llama.cpp (llama-cpp-python)",
    "threads": a.threads,
    "prompt_tokens": a.prompt,
    "prompt_tokens_per_s": a.prompt / pp,
    "context": a.context,
    "decode_tokens": a.decode,
    "decode_tokens_per_s": a.decode / dec,
}))
