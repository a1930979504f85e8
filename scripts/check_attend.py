#!/usr/bin/env python3
"""Checks `kascade attend` against a NumPy float64 reference on random inputs.

Usage: python3 scripts/check_attend.py [path/to/kascade] [--seed S]
Covers dense (all-keys and causal, float32 and float16 inputs), Kascade anchor (indices equal the
pooled post-softmax top-k, decode style and causal tiles with the rolling budget) and reuse
(masked softmax over given indices). Exits non-zero on the first mismatch.
"""
import math
import os
import subprocess
import sys
import tempfile

import numpy as np

TILE = 32


def run(binary, args):
    r = subprocess.run([binary, "attend", *args], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"kascade attend {' '.join(args)} failed: {r.stderr.strip()}")


def keys_of(fraction, kmin, n):
    return min(max(kmin, math.ceil(fraction * n)), n) if n > 0 else 0


def softmax_rows(s):
    s = s - s.max(axis=-1, keepdims=True)
    e = np.exp(s)
    return e / e.sum(axis=-1, keepdims=True)


def masked_attention(q, k, v, keys):
    """q [d], k/v [N, d], keys: list of positions -> [d] float64."""
    if len(keys) == 0:
        return np.zeros(q.shape[-1])
    s = (k[keys] @ q) / math.sqrt(q.shape[-1])
    p = softmax_rows(s)
    return p @ v[keys]


def dense_reference(q, k, v, causal):
    B, H, T, d = q.shape
    G, N = k.shape[1], k.shape[2]
    g = H // G
    out = np.zeros((B, H, T, d))
    for b in range(B):
        for h in range(H):
            for t in range(T):
                vis = N - T + t + 1 if causal else N
                out[b, h, t] = masked_attention(q[b, h, t], k[b, h // g], v[b, h // g], list(range(vis)))
    return out


def check_topk(got, score, k, what):
    got = [int(x) for x in got if x >= 0]
    order = sorted(range(len(score)), key=lambda i: (-score[i], i))
    want = sorted(order[:k])
    if len(got) != k:
        sys.exit(f"{what}: {len(got)} indices, expected {k}")
    if got != want:
        kth = score[order[k - 1]]
        for p in set(got) - set(want):
            if abs(score[p] - kth) > 1e-6 * max(kth, 1e-12):
                sys.exit(f"{what}: index {p} (score {score[p]}) is not in the top-{k} (k-th score {kth})")


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 and not sys.argv[1].startswith("--") else ".build/debug/kascade"
    seed = int(sys.argv[sys.argv.index("--seed") + 1]) if "--seed" in sys.argv else 0
    rng = np.random.default_rng(seed)
    B, H, G, d, N = 2, 6, 2, 16, 200
    frac, kmin = 0.1, 8
    with tempfile.TemporaryDirectory() as tmp:
        p = lambda name: os.path.join(tmp, name)
        for T, causal in [(3, False), (70, True), (N, True)]:
            q = (rng.standard_normal((B, H, T, d)) * 1.5).astype(np.float32)
            k = (rng.standard_normal((B, G, N, d)) * 1.5).astype(np.float32)
            v = rng.standard_normal((B, G, N, d)).astype(np.float16)   # float16 input is widened exactly
            np.save(p("q.npy"), q); np.save(p("k.npy"), k); np.save(p("v.npy"), v)
            q64, k64, v64 = q.astype(np.float64), k.astype(np.float64), v.astype(np.float64)
            flag = ["--causal"] if causal else []
            common = ["--q", p("q.npy"), "--k", p("k.npy"), "--v", p("v.npy"), "--budget", str(frac), "--k-min", str(kmin)] + flag

            run(binary, ["--method", "dense", "--out", p("dense.npy")] + common)
            ref = dense_reference(q64, k64, v64, causal)
            err = np.linalg.norm(np.load(p("dense.npy")) - ref) / np.linalg.norm(ref)
            if err > 1e-5:
                sys.exit(f"dense T={T} causal={causal}: relative error {err}")

            run(binary, ["--method", "anchor", "--out", p("anchor.npy"), "--indices-out", p("idx.npy")] + common)
            idx = np.load(p("idx.npy"))
            if idx.dtype != np.int32:
                sys.exit(f"indices dtype {idx.dtype}")
            out = np.load(p("anchor.npy"))
            gs = H // G
            first = (N - T) // TILE
            rows = (N - 1) // TILE - first + 1 if causal else T
            if idx.shape[:3] != (B, G, rows):
                sys.exit(f"anchor indices shape {idx.shape}, expected ({B}, {G}, {rows}, k)")
            want_out = np.zeros_like(ref)
            for b in range(B):
                for g in range(G):
                    for r in range(rows):
                        if causal:
                            t0 = (first + r) * TILE
                            ts = range(max(t0, N - T) - (N - T), min(t0 + TILE, N) - (N - T))
                            score = np.zeros(t0)
                            for h in range(g * gs, (g + 1) * gs):
                                for t in ts:
                                    vis = N - T + t + 1
                                    score += softmax_rows((k64[b, g, :vis] @ q64[b, h, t]) / math.sqrt(d))[:t0]
                            kt = keys_of(frac, kmin, t0)
                        else:
                            ts = [r]
                            score = np.zeros(N)
                            for h in range(g * gs, (g + 1) * gs):
                                score += softmax_rows((k64[b, g] @ q64[b, h, r]) / math.sqrt(d))
                            kt = keys_of(frac, kmin, N)
                        row = idx[b, g, r]
                        check_topk(row, list(score), kt, f"anchor T={T} causal={causal} b={b} g={g} row={r}")
                        sel = sorted(int(x) for x in row if x >= 0)
                        for h in range(g * gs, (g + 1) * gs):
                            for t in ts:
                                keys = sel + (list(range(t0, N - T + t + 1)) if causal else [])
                                want_out[b, h, t] = masked_attention(q64[b, h, t], k64[b, g], v64[b, g], keys)
            err = np.linalg.norm(out - want_out) / np.linalg.norm(want_out)
            if err > 1e-5:
                sys.exit(f"anchor output T={T} causal={causal}: relative error {err}")

            # Reuse the anchor's indices with fresh q, k, v (another layer), -1 padding included.
            q2 = rng.standard_normal((B, H, T, d)).astype(np.float32)
            k2 = rng.standard_normal((B, G, N, d)).astype(np.float32)
            v2 = rng.standard_normal((B, G, N, d)).astype(np.float32)
            np.save(p("q2.npy"), q2); np.save(p("k2.npy"), k2); np.save(p("v2.npy"), v2)
            run(binary, ["--method", "reuse", "--q", p("q2.npy"), "--k", p("k2.npy"), "--v", p("v2.npy"),
                         "--indices", p("idx.npy"), "--out", p("reuse.npy")] + flag)
            want = np.zeros((B, H, T, d))
            for b in range(B):
                for h in range(H):
                    g = h // gs
                    for t in range(T):
                        pos = N - T + t
                        r = (pos // TILE - first) if causal else t
                        keys = sorted(int(x) for x in idx[b, g, r] if x >= 0)
                        if causal:
                            keys += list(range((pos // TILE) * TILE, pos + 1))
                        want[b, h, t] = masked_attention(q2[b, h, t].astype(np.float64), k2[b, g].astype(np.float64),
                                                         v2[b, g].astype(np.float64), keys)
            err = np.linalg.norm(np.load(p("reuse.npy")) - want) / np.linalg.norm(want)
            if err > 1e-5:
                sys.exit(f"reuse T={T} causal={causal}: relative error {err}")
            print(f"ok: T={T} causal={causal} (dense, anchor indices and output, reuse)")


if __name__ == "__main__":
    main()
