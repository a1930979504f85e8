#!/usr/bin/env python3
"""Markdown table of the kernel variants of one `kascade bench-cuda --json` run, side by side per shape:
dense, layer 0, anchor scores, anchor, reuse and model-level microseconds, and the model-level
speed-up over the best torch baseline when that run's `bench/baselines.py --json` file is given.

    python3 bench/variant_table.py bench.json [baselines.json]
"""
import json, sys


def best_baselines(path):
    if not path:
        return {}
    best = {}
    for r in json.load(open(path))["shapes"]:
        ms = [b["medianMs"] for name, b in r["backends"].items() if name in ("cudnn", "flash") and b.get("medianMs")]
        if ms:
            best[(r["batch"], r["length"])] = min(ms)
    return best


def main():
    ours = json.load(open(sys.argv[1]))
    best = best_baselines(sys.argv[2] if len(sys.argv) > 2 else None)
    cols = ["dense", "layer0", "anchor.scores", "anchor", "reuse"]
    print("| B | N | variant | " + " | ".join(c + " us" for c in cols) + " | model-level us | speed-up vs best |")
    print("| --- | --- | --- | " + " | ".join("---" for _ in cols) + " | --- | --- |")
    for s in sorted(ours["shapes"], key=lambda s: (s["batch"], s["length"])):
        k = s["kernels"]
        us = [f"{k[c]['medianMs'] * 1000:.1f}" if c in k else "-" for c in cols]
        b = best.get((s["batch"], s["length"]))
        up = f"{b / s['modelLevelMs']:.3f}x" if b else "-"
        print(f"| {s['batch']} | {s['length'] // 1024}k | `{s['variant']}` | " + " | ".join(us)
              + f" | {s['modelLevelMs'] * 1000:.1f} | {up} |")


if __name__ == "__main__":
    main()
