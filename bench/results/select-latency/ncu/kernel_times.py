import csv, sys, lzma, statistics, collections, io
f = sys.argv[1]
txt = lzma.open(f, 'rt').read()
lines = [l for l in txt.splitlines() if l.startswith('"')]
r = csv.DictReader(io.StringIO("\n".join(lines)))
agg = collections.OrderedDict()
for row in r:
    key = (row['Kernel Name'], row.get('Grid Size',''), row.get('Block Size',''))
    v = float(row['Metric Value'].replace(',',''))
    unit = row['Metric Unit']
    if unit == 'nsecond': v /= 1000
    elif unit == 'usecond': pass
    elif unit == 'msecond': v *= 1000
    agg.setdefault(key, []).append(v)
for k, vs in agg.items():
    print(f"{k[0][:40]:40s} grid {k[1]:14s} blk {k[2]:10s} n={len(vs):4d} median {statistics.median(vs):8.2f} us  min {min(vs):8.2f}")
