import json, re, sys
r = json.load(open(sys.argv[1]))
routes = {}
for line in open(sys.argv[2]):
    m = re.search(r"B=(\d+) N=(\d+):.*select (\S+):", line)
    if m: routes[(int(m.group(1)), int(m.group(2)))] = m.group(3)
print(f"copy {r['copyTBPerSecond']:.2f} TB/s; median us; old = split path (decode_pool + decode_select), new = automatic path")
print(f"{'B':>3} {'N':>7} {'route':>9} {'sel.old':>8} {'sel.new':>8} {'anc.old':>8} {'anc.new':>8} {'l0.old':>8} {'l0.new':>8} {'dense':>8} {'anc/dns':>7} {'model':>8} {'dns/mdl':>7}")
for s in r['shapes']:
    k = s['kernels']; us = lambda n: k[n]['medianMs'] * 1000 if n in k else float('nan')
    old = lambda n: us(n + '.split') if n + '.split' in k else us(n)
    print(f"{s['batch']:>3} {s['length']:>7} {routes.get((s['batch'], s['length']), '?'):>9} {old('anchor.select'):8.2f} {us('anchor.select'):8.2f} "
          f"{old('anchor'):8.2f} {us('anchor'):8.2f} {old('layer0'):8.2f} {us('layer0'):8.2f} {us('dense'):8.2f} "
          f"{us('anchor') / us('dense'):7.2f} {s['modelLevelMs'] * 1000:8.2f} {us('dense') / (s['modelLevelMs'] * 1000):7.2f}")
print("every selection path, us (auto = the route above):")
names = ['split', 'fused1', 'fused2', 'fused4', 'fused8', 'fused1r2', 'fused2r2', 'fused4r2', 'fused8r2']
print(f"{'B':>3} {'N':>7} " + ' '.join(f"{n:>8}" for n in names))
for s in r['shapes']:
    k = s['kernels']; route = routes.get((s['batch'], s['length']))
    vals = []
    for n in names:
        key = 'anchor.select' if n == route else 'anchor.select.' + n
        vals.append(f"{k[key]['medianMs'] * 1000:8.2f}" if key in k else f"{'-':>8}")
    print(f"{s['batch']:>3} {s['length']:>7} " + ' '.join(vals))
