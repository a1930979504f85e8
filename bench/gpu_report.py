#!/usr/bin/env python3
"""Turns one device call's bench.json (kascade bench-cuda) and baselines.json (bench/baselines.py)
into the "GPU decode" Markdown section and an SVG speed-up curve.

Usage: python3 bench/gpu_report.py RESULTS_DIR [--svg docs/gpu_decode_speedup.svg] [--md out.md]
"""
import argparse
import json
import os
import tempfile


def load(d):
    with open(os.path.join(d, "bench.json")) as f:
        ours = json.load(f)
    with open(os.path.join(d, "baselines.json")) as f:
        base = json.load(f)
    return ours, base


def best_baseline(base, b, n):
    for s in base["shapes"]:
        if s["batch"] == b and s["length"] == n:
            times = {k: v["medianMs"] for k, v in s["backends"].items() if "medianMs" in v}
            name = min(times, key=times.get)
            return name, times[name], times
    return None, None, {}


def atomic_write(path, text):
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(path)))
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def svg_curve(rows, path):
    """Model-level Kascade speed-up over the best dense baseline against context, one line per batch."""
    W, H, L, R, T, B = 640, 360, 60, 130, 30, 50
    lengths = sorted({r["n"] for r in rows})
    batches = sorted({r["b"] for r in rows})
    ymax = max(5.0, max(r["speedup"] for r in rows) * 1.1)
    xs = {n: L + i * (W - L - R) / max(1, len(lengths) - 1) for i, n in enumerate(lengths)}
    y = lambda v: T + (H - T - B) * (1 - v / ymax)
    colors = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"]
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">',
           f'<rect width="{W}" height="{H}" fill="white"/>',
           f'<text x="{W/2 - 40}" y="18" font-size="14" text-anchor="middle">Kascade decode, model-level speed-up over the best dense kernel (H100, bf16, 10%)</text>']
    for v in range(0, int(ymax) + 1):
        out.append(f'<line x1="{L}" x2="{W-R}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{L-8}" y="{y(v)+4:.1f}" text-anchor="end">{v}x</text>')
    for n in lengths:
        out.append(f'<text x="{xs[n]:.1f}" y="{H-B+18}" text-anchor="middle">{n//1024}k</text>')
    out.append(f'<text x="{(L + W - R)/2:.1f}" y="{H-10}" text-anchor="middle">context length N</text>')
    out.append(f'<line x1="{L}" x2="{W-R}" y1="{y(4.5):.1f}" y2="{y(4.5):.1f}" stroke="#888" stroke-dasharray="4 3"/>')
    out.append(f'<text x="{W-R+4}" y="{y(4.5)+4:.1f}" fill="#666">target 4.5x</text>')
    for i, b in enumerate(batches):
        pts = [(xs[r["n"]], y(r["speedup"])) for r in sorted(rows, key=lambda r: r["n"]) if r["b"] == b]
        c = colors[i % len(colors)]
        out.append('<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>' % (c, " ".join(f"{px:.1f},{py:.1f}" for px, py in pts)))
        for px, py in pts:
            out.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3" fill="{c}"/>')
        out.append(f'<text x="{pts[-1][0]+8:.1f}" y="{pts[-1][1]+4:.1f}" fill="{c}">batch {b}</text>')
    out.append("</svg>")
    atomic_write(path, "\n".join(out) + "\n")


def peers_table(d):
    """Quest, Twilight and vAttention against dense of the same run, from bench.peers.json when present."""
    path = os.path.join(d, "bench.peers.json")
    if not os.path.exists(path):
        return []
    with open(path) as f:
        peers = json.load(f)
    out = ["", f"Quest, Twilight and vAttention decode at {peers['fraction']:.0%} (speed-up = dense time of the same run / method time; "
           "`peaked`: group-shared heavy keys, `random`: i.i.d. inputs, flat attention; top-10% mass = softmax mass on the "
           "10% heaviest keys of the generated data):", "",
           "| inputs | B | N | top-10% mass | dense us | Quest us (x dense) | Twilight us (x dense, kept of candidates) | vAttention us (x dense, b) |",
           "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for s in peers["shapes"]:
        k, sp = s["kernels"], s["speedupOverDense"]
        us = lambda x: k[x]["medianMs"] * 1e3
        kept = f", kept {s['twilightMeanKept']:.0f} of {16 * s['twilightCandidatePages']}" if "twilightMeanKept" in s else ""
        b = f", b {s['vattentionMeanSample']:.0f}" if "vattentionMeanSample" in s else ""
        out.append(f"| {s.get('mode', 'random')} | {s['batch']} | {s['length']//1024}k | {s.get('topTenthMass', float('nan')):.2f} | "
                   f"{us('dense'):.0f} | {us('quest'):.0f} ({sp['quest']:.2f}x) | {us('twilight'):.0f} ({sp['twilight']:.2f}x{kept}) | "
                   f"{us('vattention'):.0f} ({sp['vattention']:.2f}x{b}) |")
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("results")
    ap.add_argument("--svg", default="docs/gpu_decode_speedup.svg")
    ap.add_argument("--md")
    a = ap.parse_args()
    ours, base = load(a.results)
    copy = ours["copyTBPerSecond"]
    lines = []
    lines.append(f"Device: {ours['device']}; {ours['queryHeads']} query / {ours['kvHeads']} KV heads, d = {ours['headDim']}, "
                 f"{ours['dtype']}, budget {ours['fraction']:.0%}. Copy bandwidth measured in the same run: {copy:.2f} TB/s "
                 f"(ours), {base['copyTBPerSecond']:.2f} TB/s (torch). Baselines: torch {base['torch']} SDPA, cuDNN and "
                 f"FlashAttention backends, same shapes, same process order, same call. Times are medians (CUDA events, warm-up, "
                 f"inputs rotated over more than L2).")
    lines.append("")
    lines.append("| B | N | cuDNN us | FA2 us | dense us (TB/s, x best) | layer 0 us | anchor us (x dense) | reuse us (TB/s, % copy) | model-level us | speed-up vs best |")
    lines.append("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    rows = []
    variants = sorted({s["variant"] for s in ours["shapes"]})
    main_variant = ours["shapes"][0]["variant"]
    for s in ours["shapes"]:
        if s["variant"] != main_variant:
            continue
        b, n, k = s["batch"], s["length"], s["kernels"]
        name, best, times = best_baseline(base, b, n)
        dense, l0, anc, reu = (k[x]["medianMs"] * 1e3 for x in ("dense", "layer0", "anchor", "reuse"))
        model = s["modelLevelMs"] * 1e3
        sp = best * 1e3 / model if best else float("nan")
        rows.append({"b": b, "n": n, "speedup": sp})
        lines.append(f"| {b} | {n//1024}k | {times.get('cudnn', float('nan'))*1e3:.0f} | {times.get('flash', float('nan'))*1e3:.0f} | "
                     f"{dense:.0f} ({k['dense']['tbPerSecond']:.2f}, {best*1e3/dense:.2f}x) | {l0:.0f} | {anc:.0f} ({anc/dense:.2f}x) | "
                     f"{reu:.0f} ({k['reuse']['tbPerSecond']:.2f}, {100*k['reuse']['tbPerSecond']/copy:.0f}%) | {model:.0f} | **{sp:.2f}x** |")
    lines.append("")
    main_build, _, gather_build = main_variant.partition("+")
    on = lambda v: "tensor cores" if v.startswith("mma") else "CUDA cores"
    lines.append(f"Kernel variant: `{main_variant}` (dense and anchor scores on {on(main_build)}, gathers (anchor output, reuse) on {on(gather_build or main_build)}); "
                 f"variants timed in this run: {', '.join('`'+v+'`' for v in variants)}. Model-level = "
                 f"(T_layer0 + 4 T_anchor + 27 T_reuse) / 32; speed-up = best baseline dense time / model-level time.")
    extra = [s for s in ours["shapes"] if s["variant"] == main_variant and "streaming" in s["kernels"]]
    if extra:
        lines.append("")
        lines.append("| B | N | anchor us (values only over its scores) | anchor us (K and V gathered) | pooled: layer 0 / anchor / reuse us | pooled model-level us (speed-up vs best) | StreamingLLM us (x dense) |")
        lines.append("| --- | --- | --- | --- | --- | --- | --- |")
        for s in extra:
            b, n, k = s["batch"], s["length"], s["kernels"]
            name, best, times = best_baseline(base, b, n)
            us = lambda x: k[x]["medianMs"] * 1e3 if x in k else float("nan")
            pm = (s.get("pooledModelLevelMs") or float("nan")) * 1e3
            lines.append(f"| {b} | {n//1024}k | {us('anchor'):.0f} | {us('anchor.gatherKV'):.0f} | {us('layer0.pooled'):.0f} / "
                         f"{us('anchor.pooled'):.0f} / {us('reuse.pooled'):.0f} | {pm:.0f} ({best*1e3/pm:.2f}x) | "
                         f"{us('streaming'):.0f} ({us('dense')/us('streaming'):.1f}x) |")
    lines += peers_table(a.results)
    md = "\n".join(lines) + "\n"
    if a.md:
        atomic_write(a.md, md)
    else:
        print(md)
    svg_curve(rows, a.svg)


if __name__ == "__main__":
    main()
