#!/usr/bin/env python3
"""Attributes a proxy's memory after a bench/proxy/footprint.sh run against another run (the floor,
or another build): resident MB per mapping category (smaps joined with jcmd System.map's NMT
categories), NMT committed per category, classes loaded per library group, live heap histogram.
Decision 0041.

  bench/proxy/attribute.py WORK/bowline.1 WORK/floor.1   (per-run dirs of NMT=1 footprint.sh)
"""
import re, sys, os, collections

def smaps(path):
    maps = []  # (start, end, name, {field: kB})
    cur = None
    for line in open(path):
        m = re.match(r'^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \S+\s*(.*)$', line)
        if m:
            cur = [int(m.group(1), 16), int(m.group(2), 16), m.group(3).strip(), {}]
            maps.append(cur)
            continue
        m = re.match(r'^(\w+):\s+(\d+) kB', line)
        if m and cur:
            cur[3][m.group(1)] = int(m.group(2))
    return maps

def sysmap(path):
    """jcmd System.map: from to ... with an NMT note per line; returns [(start, end, note)]"""
    out = []
    if not os.path.exists(path):
        return out
    for line in open(path):
        m = re.match(r'^0x([0-9a-f]+)\s*-\s*0x([0-9a-f]+)\s+(.*)$', line.strip())
        if m:
            out.append((int(m.group(1), 16), int(m.group(2), 16), m.group(3)))
    return out

NOTES = ['JAVAHEAP', 'CDS', 'CODE', 'META', 'CLASS', 'STACK', 'NMT', 'GC', 'POLL', 'MEMFILE', 'HEAP']

def category(name, note):
    if name.endswith('libjvm.so'): return 'libjvm.so'
    if name.endswith('.jsa'): return 'class archive (.jsa)'
    if name.endswith('/lib/modules'): return 'JDK modules file'
    if '.so' in name: return 'other .so'
    if name.endswith('.jar'): return 'jars (mapped)'
    if name == '[heap]': return 'malloc (brk)'
    if name.startswith('[stack'): return 'main stack'
    if note:
        n = note.upper()
        if 'JAVAHEAP' in n: return 'Java heap'
        if 'CDS' in n: return 'class archive (.jsa)'
        if 'CODE' in n: return 'code cache'
        if 'META' in n or 'CLASS' in n: return 'metaspace + class space'
        if 'STACK' in n: return 'thread stacks'
        if 'GC' in n: return 'GC data'
        if 'NMT' in n: return 'NMT'
    if name == '' or name.startswith('['): return 'anon (malloc arenas, other)'
    return 'other files'

def attribute(d):
    maps = smaps(os.path.join(d, 'smaps.txt'))
    notes = sysmap(os.path.join(d, 'map.txt'))
    res = collections.OrderedDict()
    for start, end, name, f in maps:
        note = ''
        for s, e, n in notes:
            if s <= start < e or start <= s < end:
                note = n
                break
        c = category(name, note)
        r = res.setdefault(c, [0, 0, 0])
        r[0] += f.get('Rss', 0); r[1] += f.get('Pss', 0); r[2] += f.get('Private_Dirty', 0)
    return res

def nmt(d):
    out = collections.OrderedDict()
    p = os.path.join(d, 'nmt.txt')
    if not os.path.exists(p): return out
    for line in open(p):
        m = re.match(r'^-\s+(.+?) \(reserved=(\d+)KB, committed=(\d+)KB', line.strip())
        if m: out[m.group(1).strip()] = int(m.group(3))
    return out

GROUPS = [
    ('JDK security/crypto', ('java.security', 'javax.crypto', 'sun.security', 'javax.security', 'com.sun.crypto', 'javax.net.ssl')),
    ('JDK logging (JUL)', ('java.util.logging', 'sun.util.logging', 'jdk.internal.logger')),
    ('JDK jfr', ('jdk.jfr',)),
    ('JDK net.http/httpserver', ('java.net.http', 'jdk.internal.net.http', 'com.sun.net.httpserver', 'sun.net.httpserver')),
    ('JDK other', ('java.', 'javax.', 'jdk.', 'sun.', 'com.sun.')),
    ('Netty HTTP/2', ('io.netty.handler.codec.http2',)),
    ('Netty TLS/tcnative', ('io.netty.handler.ssl', 'io.netty.internal.tcnative')),
    ('Netty other', ('io.netty.',)),
    ('Envoy/xds/udpa/pgv API', ('io.envoyproxy.', 'com.github.xds', 'com.github.udpa', 'xds.', 'udpa.', 'io.envoyproxy.pgv', 'com.google.api', 'com.google.rpc', 'google.', 'io.opencensus', 'io.opentelemetry.proto', 'io.prometheus.client')),
    ('protobuf', ('com.google.protobuf.',)),
    ('Bowline', ('dev.bowline.',)),
    ('picocli', ('picocli.',)),
    ('snakeyaml', ('org.yaml.',)),
    ('gson', ('com.google.gson',)),
    ('gRPC', ('io.grpc.',)),
    ('Jackson', ('com.fasterxml.',)),
    ('guava', ('com.google.common.',)),
    ('Bouncy Castle', ('org.bouncycastle.',)),
    ('Floor', ('Floor',)),
]

def classes(d):
    cnt = collections.Counter(); shared = collections.Counter()
    p = os.path.join(d, 'classes.txt')
    for line in open(p):
        m = re.search(r'\[class,load\s*\] (\S+) source: (.*)$', line)
        if not m: continue
        name, src = m.group(1), m.group(2)
        g = 'other'
        if '$$Lambda' in name or 'LambdaForm$' in name or '$$' in name or 'Lookup' in src or '__' in src:
            g = 'hidden/lambda/generated'
        else:
            for gname, prefixes in GROUPS:
                if name.startswith(prefixes): g = gname; break
        cnt[g] += 1
        if 'shared objects file' in src: shared[g] += 1
    return cnt, shared

def histo(d, n=15):
    rows = []
    p = os.path.join(d, 'histogram.txt')
    total = 0
    for line in open(p):
        m = re.match(r'^\s*\d+:\s+(\d+)\s+(\d+)\s+(\S+)', line)
        if m: rows.append((int(m.group(2)), int(m.group(1)), m.group(3)))
        m = re.match(r'^Total\s+(\d+)\s+(\d+)', line)
        if m: total = int(m.group(2))
    return total, rows

a, b = sys.argv[1], sys.argv[2]
mb = lambda k: k / 1024
print('## smaps after the run, by mapping (MB): Rss / Pss / Private_Dirty')
A, B = attribute(a), attribute(b)
print('| category | A rss/pss/pd | B rss/pss/pd | A-B rss |')
print('|---|---|---|---|')
tot = [[0,0,0],[0,0,0]]
for c in list(dict.fromkeys(list(A) + list(B))):
    x, y = A.get(c, [0,0,0]), B.get(c, [0,0,0])
    for i in range(3): tot[0][i] += x[i]; tot[1][i] += y[i]
    print(f'| {c} | {mb(x[0]):.1f} / {mb(x[1]):.1f} / {mb(x[2]):.1f} | {mb(y[0]):.1f} / {mb(y[1]):.1f} / {mb(y[2]):.1f} | {mb(x[0]-y[0]):+.1f} |')
print(f'| total | {mb(tot[0][0]):.1f} / {mb(tot[0][1]):.1f} / {mb(tot[0][2]):.1f} | {mb(tot[1][0]):.1f} / {mb(tot[1][1]):.1f} / {mb(tot[1][2]):.1f} | {mb(tot[0][0]-tot[1][0]):+.1f} |')
NA, NB = nmt(a), nmt(b)
if NA or NB:
    print('\n## NMT committed (MB)')
    print('| category | A | B | A-B |'); print('|---|---|---|---|')
    for c in list(dict.fromkeys(list(NA) + list(NB))):
        x, y = NA.get(c, 0), NB.get(c, 0)
        if x < 100 and y < 100: continue
        print(f'| {c} | {mb(x):.1f} | {mb(y):.1f} | {mb(x-y):+.1f} |')
print('\n## classes loaded (from the archive)')
(ca, sa), (cb, sb) = classes(a), classes(b)
print('| group | A | B | A-B |'); print('|---|---|---|---|')
for g in sorted(set(ca) | set(cb), key=lambda g: -(ca[g] - cb[g])):
    print(f'| {g} | {ca[g]} ({sa[g]}) | {cb[g]} ({sb[g]}) | {ca[g]-cb[g]:+d} |')
print(f'| total | {sum(ca.values())} ({sum(sa.values())}) | {sum(cb.values())} ({sum(sb.values())}) | {sum(ca.values())-sum(cb.values()):+d} |')
ta, ra = histo(a); tb, rb = histo(b)
print(f'\n## live heap (full GC): A {ta/1048576:.2f} MB, B {tb/1048576:.2f} MB')
db = {r[2]: r for r in rb}
print('| class | A MB (count) | B MB (count) |'); print('|---|---|---|')
for by, n, c in ra[:20]:
    y = db.get(c, (0, 0, c))
    print(f'| {c} | {by/1048576:.2f} ({n}) | {y[0]/1048576:.2f} ({y[1]}) |')
