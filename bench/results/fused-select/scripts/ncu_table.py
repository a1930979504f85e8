import csv, sys, statistics, collections
rows = [l for l in open(sys.argv[1]) if l.startswith('"')]
rd = list(csv.reader(rows))
hdr = rd[0]; idx = {h: i for i, h in enumerate(hdr)}
groups = collections.OrderedDict()
for row in rd[1:]:
    if len(row) != len(hdr) or not row[idx['Kernel Name']].startswith('decode'): continue
    try: t = float(row[idx['gpu__time_duration.sum']])
    except ValueError: continue
    key = (row[idx['Kernel Name']], row[idx['launch__grid_size']], row[idx['launch__shared_mem_per_block_dynamic']])
    groups.setdefault(key, []).append(t)
unit = next((r[idx['gpu__time_duration.sum']] for r in rd[1:] if len(r) == len(hdr) and not r[idx['Kernel Name']]), '?')
print(f"kernel, grid, dynamic smem: launches, GPU duration per launch (ncu gpu__time_duration.sum, {unit})")
for (name, grid, smem), ts in groups.items():
    print(f"{name:28s} grid {grid:>6} smem {smem:>8}: n={len(ts):3d} median {statistics.median(ts):10.2f} min {min(ts):10.2f}")
