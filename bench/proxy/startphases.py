#!/usr/bin/env python3
"""Main-thread execution samples of a start-up JFR recording (bench/proxy/startcpu.sh with JFR=1),
per start-up phase of `bowline proxy` (decision 0043). A sample goes to the first phase all of whose
frames its stack contains; the rest are listed by their top frame.

  bench/proxy/startphases.py WORK/<name>.<round>/start.jfr [jfr binary, default: JDK 25's]
"""
import collections
import glob
import json
import subprocess
import sys

# (phase, frames that must all be on the stack), checked in this order
PHASES = [
    ("bootstrap: Envoy descriptors (Bootstrap.getDescriptor)", ["Bootstrap.getDescriptor"]),
    ("bootstrap: JsonFormat's parser init (BigDecimal)", ["JsonFormat$ParserImpl.<clinit>"]),
    ("bootstrap: the rest (YAML, JSON, registry)", ["BootstrapLoader.parse"]),
    ("options: epoll (native library)", ["Transport.detect"]),
    ("options: the rest", ["ProxyOptions"]),
    ("Proxy.start: the first log line", ["Proxy.begin", "LoggingProviderImpl"]),
    ("Proxy.start: the rest", ["Proxy.start"]),
    ("picocli (outside ProxyCommand.call)", ["picocli/"]),
    ("ProxyMain: the rest", ["ProxyMain"]),
]


def main():
    recording = sys.argv[1]
    jfr = sys.argv[2] if len(sys.argv) > 2 else (glob.glob("/usr/lib/jvm/*25*/bin/jfr") or ["jfr"])[0]
    out = subprocess.run(
        [jfr, "print", "--json", "--stack-depth", "300", "--events", "jdk.ExecutionSample", recording],
        capture_output=True, text=True, check=True).stdout
    counts = collections.Counter()
    total = 0
    seen = set()
    for event in json.loads(out)["recording"]["events"]:
        values = event["values"]
        thread = values["sampledThread"]
        if (thread.get("javaName") or thread.get("osName")) != "main":
            continue
        if values["startTime"] in seen:  # a recording dumped twice into one file repeats events
            continue
        seen.add(values["startTime"])
        total += 1
        frames = [f["method"]["type"]["name"] + "." + f["method"]["name"]
                  for f in (values.get("stackTrace") or {}).get("frames", [])]
        for phase, needed in PHASES:
            if all(any(n in f for f in frames) for n in needed):
                counts[phase] += 1
                break
        else:
            counts["other, top frame " + (frames[0] if frames else "?")] += 1
    print(f"{total} main-thread samples")
    for phase, n in counts.most_common(25):
        print(f"{n:5d} {100 * n / total:5.1f}% {phase}")


if __name__ == "__main__":
    main()
