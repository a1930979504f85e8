#!/usr/bin/env python3
"""Turns one device call's prefill_bench.json (kascade bench-cuda --prefill-json) and baselines.json
(bench/baselines.py) into the Kascade prefill Markdown table and an SVG of the model-level speed-up
over the faster dense baseline against context length.

Usage: python3 bench/prefill_report.py RESULTS_DIR [--svg docs/gpu_prefill_speedup.svg] [--md out.md]
"""
import argparse
import json
import os
import tempfile


def atomic_write(path, text):
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(path)))
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def baseline(base, n):
    for e in base.get("prefill", []):
        if e["batch"] == 1 and e["length"] == n:
            times = {k: v["medianMs"] for k, v in e["backends"].items() if "medianMs" in v}
            if times:
                name = min(times, key=times.get)
                return name, times[name], times
    return None, None, {}


def rows_of(ours, base):
    rows = []
    for a in ours["anchor"]:
        n = a["length"]
        name, best, times = baseline(base, n)
        model = min(a["modelLevelMs"], a["modelLevelLsePassMs"])
        rows.append({"n": n, "a": a, "best": best, "bestName": name, "times": times,
                     "speedup": best / model if best else None,
                     "speedupDense": best / a["modelLevelMs"] if best else None})
    return rows


def markdown(rows):
    ms = lambda x: f"{x:.3f}" if x < 10 else f"{x:.2f}"
    out = ["| N | dense | lse pass | scores | select | sparse | reuse | layer 0 | anchor (dense / lse pass) | "
           "model-level (dense / lse pass) | cuDNN | FA2 | best / model-level | scratch | selection |",
           "|" + " --- |" * 15]
    for r in rows:
        a, m = r["a"], r["a"]["ms"]
        t = r["times"]
        gib = lambda b: f"{b / 2**20:.0f} MiB"
        sp = (f"{r['speedupDense']:.2f}x / {r['speedup']:.2f}x" if r["speedup"] else "-")
        out.append(f"| {r['n']} | {ms(m['dense'])} | {ms(m['lse'])} | {ms(m['scores'])} | {ms(m['select'])} | "
                   f"{ms(m['sparse'])} | {ms(m['reuse'])} | {ms(a['layer0Ms'])} | {ms(a['anchorMs'])} / {ms(a['anchorLsePassMs'])} | "
                   f"{ms(a['modelLevelMs'])} / {ms(a['modelLevelLsePassMs'])} | {ms(t['cudnn']) if 'cudnn' in t else '-'} | "
                   f"{ms(t['flash']) if 'flash' in t else '-'} | {sp} | {gib(a['scratchBytes'])} ({a['chunks']} chunks) | "
                   f"{gib(a['selectionBytes'])} |")
    return "\n".join(out) + "\n"


def svg(rows, path):
    W, H, L, R, T, B = 640, 360, 60, 150, 34, 50
    rows = [r for r in rows if r["speedup"]]
    lengths = [r["n"] for r in rows]
    ymax = max(3.0, max(max(r["speedup"], r["speedupDense"]) for r in rows) * 1.15)
    xs = {n: L + i * (W - L - R) / max(1, len(lengths) - 1) for i, n in enumerate(lengths)}
    y = lambda v: T + (H - T - B) * (1 - v / ymax)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">',
           f'<rect width="{W}" height="{H}" fill="white"/>',
           f'<text x="{(L + W - R) / 2:.0f}" y="18" font-size="14" text-anchor="middle">Kascade prefill, model-level speed-up over '
           f'the best dense kernel (H100, bf16, 10%)</text>']
    step = 0.5 if ymax <= 4 else 1.0
    v = 0.0
    while v <= ymax:
        out.append(f'<line x1="{L}" x2="{W - R}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{L - 8}" y="{y(v) + 4:.1f}" text-anchor="end">{v:g}x</text>')
        v += step
    for n in lengths:
        out.append(f'<text x="{xs[n]:.1f}" y="{H - B + 18}" text-anchor="middle">{n // 1024}k</text>')
    out.append(f'<text x="{(L + W - R) / 2:.1f}" y="{H - 10}" text-anchor="middle">context length N (batch 1, T = N)</text>')
    for level, label, color in [(2.2, "target 2.2x", "#888"), (1.0, "dense = 1x", "#bbb")]:
        out.append(f'<line x1="{L}" x2="{W - R}" y1="{y(level):.1f}" y2="{y(level):.1f}" stroke="{color}" stroke-dasharray="4 3"/>')
        out.append(f'<text x="{W - R + 4}" y="{y(level) + 4:.1f}" fill="#666">{label}</text>')
    for key, label, color in [("speedup", "anchor: lse pass", "#d62728"), ("speedupDense", "anchor: dense + lse", "#1f77b4")]:
        pts = [(xs[r["n"]], y(r[key])) for r in rows]
        out.append('<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>'
                   % (color, " ".join(f"{px:.1f},{py:.1f}" for px, py in pts)))
        for (px, py), r in zip(pts, rows):
            out.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3" fill="{color}"/>')
            out.append(f'<text x="{px:.1f}" y="{py - 7:.1f}" text-anchor="middle" fill="{color}">{r[key]:.2f}x</text>')
        ly = y(rows[-1][key])
        out.append(f'<text x="{W - R + 4}" y="{ly + (14 if key == "speedupDense" else -4):.1f}" fill="{color}">{label}</text>')
    out.append("</svg>\n")
    atomic_write(path, "\n".join(out))


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("results")
    ap.add_argument("--svg")
    ap.add_argument("--md")
    a = ap.parse_args()
    with open(os.path.join(a.results, "prefill_bench.json")) as f:
        ours = json.load(f)
    with open(os.path.join(a.results, "baselines.json")) as f:
        base = json.load(f)
    rows = rows_of(ours, base)
    md = markdown(rows)
    print(md)
    if a.md:
        atomic_write(a.md, md)
    if a.svg:
        svg(rows, a.svg)


if __name__ == "__main__":
    main()
