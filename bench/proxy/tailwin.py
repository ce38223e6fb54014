#!/usr/bin/env python3
"""bench/proxy/tailwin.sh's slices: h2load's per-request log (start µs since epoch, status, µs to the
end of the response) cut into 100 ms slices for the window's first second, then 1 s slices; with a
JVM log (-Xlog:...:timemillis,uptime,tags) the JIT, deoptimisation, safepoint and GC events in each.

  tailwin.py H2LOAD_LOG [JVM_LOG]
"""
import re
import sys


def pct(a, p):
    i = int(len(a) * p / 100 + 0.999999)
    return a[max(1, min(i, len(a))) - 1]


def main():
    rows = []
    with open(sys.argv[1]) as f:
        for line in f:
            c = line.split()
            if len(c) >= 3:
                rows.append((int(c[0]), int(c[2]) / 1000))
    t0 = min(r[0] for r in rows)
    end = max(r[0] + r[1] * 1000 for r in rows)

    def sl(t_us):  # -1: the second before the window (the warm-up's last connections closing)
        x = (t_us - t0) / 1e6
        return -1 if x < 0 else int(x * 10) if x < 1 else 9 + int(x)

    lat = {}
    for s, d in rows:
        lat.setdefault(sl(s), []).append(d)
    ev = {}
    pauses = []
    if len(sys.argv) > 2 and sys.argv[2]:
        stamp = re.compile(r"\[(\d+)ms\]")
        with open(sys.argv[2], errors="replace") as f:
            for line in f:
                m = stamp.search(line)
                if not m:
                    continue
                t = int(m.group(1)) * 1000
                if t < t0 - 1e6 or t > end:
                    continue
                e = ev.setdefault(sl(t), {"comp": 0, "mne": 0, "deopt": 0, "sp": 0, "sp_ms": 0.0, "gc": 0})
                if "jit,compilation" in line:
                    if "made not entrant" in line:
                        e["mne"] += 1
                    else:
                        e["comp"] += 1
                elif "[deoptimization" in line:
                    e["deopt"] += 1
                elif "safepoint" in line and "Total:" in line:
                    e["sp"] += 1
                    n = re.search(r"Total: (\d+) ns", line)
                    if n:
                        e["sp_ms"] += int(n.group(1)) / 1e6
                if re.search(r"\[gc\s*\]", line) and "Pause" in line:
                    e["gc"] += 1
                    d = re.search(r"([0-9.]+)ms$", line.strip())
                    if d:  # logged at the pause's end: [start, end] in µs
                        pauses.append((t - float(d.group(1)) * 1000, t))
    print("  %-9s %7s %7s %7s %7s %7s | %5s %5s %5s %4s %6s %3s" % (
        "slice", "reqs", "p50", "p99", "p99.9", "max", "comp", "mne", "deopt", "sp", "sp_ms", "gc"))
    for k in sorted(set(lat) | ({-1} if -1 in ev else set())):
        a = sorted(lat.get(k, [0]))
        lab = "before" if k < 0 else "%.1f-%.1fs" % (k / 10, (k + 1) / 10) if k < 10 else "%d-%ds" % (k - 9, k - 8)
        e = ev.get(k, {})
        print("  %-9s %7d %7.2f %7.2f %7.2f %7.2f | %5d %5d %5d %4d %6.2f %3d" % (
            lab, len(a), pct(a, 50), pct(a, 99), pct(a, 99.9), a[-1], e.get("comp", 0), e.get("mne", 0),
            e.get("deopt", 0), e.get("sp", 0), e.get("sp_ms", 0), e.get("gc", 0)))
    a = sorted(d for _, d in rows)
    first = sorted(d for s, d in rows if sl(s) < 10)
    rest = sorted(d for s, d in rows if sl(s) >= 10)
    # where the window's slowest 0.1% (its 99.9th percentile and above) started: the first second
    # holds a tenth of the window's requests, so a tail spread evenly puts ~10% of them there
    cut = pct(a, 99.9)
    slow = [sl(s) for s, d in rows if d >= cut]
    print("  slowest 0.1%% (>= %.2f ms): %d, %d of them in the first 0.1 s, %d in the first 1 s" % (
        cut, len(slow), sum(1 for k in slow if k == 0), sum(1 for k in slow if k < 10)))
    # the slowest 1% (P99 and above): in the first second, and held by a young pause (the request
    # was in flight while one ran)
    cut99 = pct(a, 99)
    slow99 = [(s, d) for s, d in rows if d >= cut99]
    held = sum(1 for s, d in slow99 if any(s < pe and s + d * 1000 > ps for ps, pe in pauses))
    allheld = sum(1 for s, d in rows if any(s < pe and s + d * 1000 > ps for ps, pe in pauses))
    print("  slowest 1%% (>= %.2f ms): %d, %d in the first 1 s, %d in flight during a young pause"
          " (%d pauses in the log; all requests in flight during one: %d)" % (
              cut99, len(slow99), sum(1 for s, _ in slow99 if sl(s) < 10), held, len(pauses), allheld))
    for name, b in (("window", a), ("first 1s", first), ("after 1s", rest)):
        if b:
            print("  %-9s %7d %7.2f %7.2f %7.2f %7.2f  p99.99 %.2f" % (
                name, len(b), pct(b, 50), pct(b, 99), pct(b, 99.9), b[-1], pct(b, 99.99)))


main()
