#!/usr/bin/env bash
# Load-independent figures of the proxy's HTTP/1.1 router path (decision 0030, addendum 4): bytes
# allocated per request, young GCs and GC pause per 100k requests, CPU per 1,000 requests of the
# whole process and of its event loop alone, syscalls per request. The set-up is run.sh's (NGINX
# backend with a 1 KB file and wrk -t1 -c50 on core 0, the proxy alone on core 1), but only
# Bowline runs, once per variant, alternating, so variants compared share the machine's load.
#
#   bench/proxy/alloc.sh [rounds (default 2)] [variant ...]
#   variant = name:jar-dir[:extra JVM flags, comma-separated]   (default: current:cli/target);
#             the proxy runs from jar-dir/bowline-proxy.jar, or bowline.jar in builds before decision 0038;
#             or nginx / haproxy: the peer reverse proxies of run.sh, for their CPU split and syscalls
#   e.g. bench/proxy/alloc.sh 3 before:/tmp/old-build after:cli/target \
#          noleak:cli/target:-Dio.netty.leakDetection.level=disabled
#   CDS=1: each variant runs with a static AppCDS archive of its jar, made as run.sh makes Bowline's
#   (a 3 s training run, -Xshare:dump), so with the heap run.sh's Bowline has (decision 0037,
#   addendum 1: without an archive a start-up full GC resizes the young generation)
#   PROFILE=S: perf record -g of S seconds of the measured run into WORK/<run>/perf.data (add
#   -XX:+DumpPerfMapAtExit to a Java variant's flags for its JIT symbols; bench/proxy/kpaths.py splits
#   its kernel time per 1k by system call path)
#   PROTO=h2: HTTP/2 to the proxy (h2c with prior knowledge, h2load -t1 -c5 -m10, run.sh's PROTO=h2
#   load; HTTP/1.1 to the backend), Bowline variants only (decision 0042)
#   UPSTREAM=h2: HTTP/2 from the proxy to the backend (NGINX listening h2c with prior knowledge, the
#   cluster with http2_protocol_options), for the upstream HTTP/2 path; any PROTO
#   WARMUP_RUNS=N: the warm-up as N wrk runs (run.sh's default: one per 5 s of WARMUP), so its
#   connections close and reopen while the JIT compiles; one long run lets C2 compile the close
#   paths away, and its code deoptimises when the measured run starts (decision 0037, addendum 10)
#   WRK_SCRIPT=file: wrk's Lua script for the warm-up and the measured run (h1 only), e.g.
#   bench/proxy/mixed-heads.lua: one head in 4 browser-sized, so heads split across reads
#   WARMUP=20 DURATION=10 SYSCALLS=1 (perf stat over the measured run; SYSCALL_EVENTS=a,b,... counts
#   other tracepoints, e.g. 'raw_syscalls:sys_enter,syscalls:sys_enter_epoll_wait') EXACT=1 (a 2 s JFR
#   recording of every allocation, without TLABs, summarised by site; slow, its own run)
#
# B/request is what the young collections inside the measured window freed, divided by the
# requests of that window (the proxy's heap is small, so there are tens of collections).
set -euo pipefail
ROUNDS=${1:-2}
shift || true
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
VARIANTS=("$@")
[ ${#VARIANTS[@]} -gt 0 ] || VARIANTS=("current:$ROOT/cli/target")
WARMUP=${WARMUP:-20}
WARMUP_RUNS=${WARMUP_RUNS:-$(( WARMUP >= 10 ? WARMUP / 5 : 1 ))}
DURATION=${DURATION:-10}
source "$ROOT/bench/proxy/lib.sh"
bench_work bowline-alloc 127.0.7.11
bench_packages nginx:nginx-light haproxy wrk h2load:nghttp2-client
PROTO=${PROTO:-h1}
case "$PROTO" in h1) CODEC=HTTP1 CURL=();; h2) CODEC=HTTP2 CURL=(--http2-prior-knowledge);; *) echo "PROTO is h1 or h2" >&2; exit 2;; esac
JAVA=${BOWLINE_JAVA:-$(ls -d /usr/lib/jvm/*25*/bin/java 2>/dev/null | head -1)}
OPTS="$ROOT/cli/src/main/resources/dev/bowline/cli/mesh/proxy.jvm-options"
ADDR=${ADDR:-127.0.7.11} # another loopback address (ADDR=127.0.7.51) skips the bench lock: two runs share the machine
UPSTREAM=${UPSTREAM:-h1}
BACKEND_CURL=()
case "$UPSTREAM" in
  h1) ;;
  h2)
    BACKEND_LISTEN_FLAGS=http2 BACKEND_CURL=(--http2-prior-knowledge)
    CLUSTER_OPTIONS='typed_extension_protocol_options: {envoy.extensions.upstreams.http.v3.HttpProtocolOptions: {"@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions, explicit_http_config: {http2_protocol_options: {}}}}'
    ;;
  *) echo "UPSTREAM is h1 or h2" >&2; exit 2;;
esac
bench_backend "$ADDR:8081"
bench_router_bootstrap "$WORK/bowline.yaml" "$ADDR" "$ADDR" 8081 "$CODEC"
bench_nginx_proxy "$WORK/peer" "$ADDR:8082" "$ADDR:8081"
bench_haproxy "$WORK/haproxy.cfg" "$ADDR:8083" "$ADDR:8081"
URL=http://$ADDR:8080/1k
# load SECONDS URL [REPORT]: wrk -t1 -c50, or for PROTO=h2 h2load with 5 connections of 10 streams;
# the report has wrk's "N requests in" and "Requests/sec:" lines either way
load() {
  if [ "$PROTO" = h1 ]; then
    taskset -c 0 wrk -t1 -c50 -d"$1s" ${3:+--latency} ${WRK_SCRIPT:+-s "$WRK_SCRIPT"} "$2" >"${3:-/dev/null}"
    return
  fi
  taskset -c 0 h2load -t1 -c5 -m10 -D "$1" "$2" >"$WORK/h2load.out"
  [ -z "${3:-}" ] || awk '/^requests:/ {print $2 " requests in (h2load)"}
    /^finished in/ {split($0, f, ", "); split(f[2], r, " "); print "Requests/sec: " r[1]}' "$WORK/h2load.out" >"$3"
}
for _ in $(seq 1 100); do curl -sf "${BACKEND_CURL[@]}" -o /dev/null "http://$ADDR:8081/1k" && break; sleep 0.05; done

ticks() { cut -d')' -f2- "$1" | awk '{print $12 + $13}'; }
usr_sys() { cut -d')' -f2- "$1" | awk '{print $12 "," $13}'; } # utime,stime (clock ticks)
thread_ticks() { # pid name-pattern: utime+stime of the matching threads
  local t=0
  for d in /proc/$1/task/*; do
    grep -q "$2" "$d/comm" 2>/dev/null && t=$((t + $(ticks "$d/stat")))
  done
  echo $t
}

run() { # name jar-dir flags; a jar-dir of nginx or haproxy runs that peer instead
  local name=$1 dir=$2 flags=${3:-}
  local out=$WORK/$name; mkdir -p "$out"
  local extra=(); [ -n "$flags" ] && IFS=, read -ra extra <<< "$flags"
  local start; start=$(date +%s.%N)
  local URL=$URL
  case "$dir" in
    nginx)
      URL=http://$ADDR:8082/1k
      taskset -c 1 "$NGINX" -p "$WORK/peer" -c "$WORK/peer/nginx.conf" >"$out/proxy.out" 2>&1 & ;;
    haproxy)
      URL=http://$ADDR:8083/1k
      taskset -c 1 "$HAPROXY" -db -f "$WORK/haproxy.cfg" >"$out/proxy.out" 2>&1 & ;;
    *)
      [ -z "${CDS:-}" ] || extra+=("-XX:SharedArchiveFile=$(archive "$dir")" -Xshare:auto)
      if [ -n "${EXACT:-}" ]; then
        extra+=(-XX:-UseTLAB "-XX:StartFlightRecording=delay=$((WARMUP + 3))s,duration=2s,settings=profile,jdk.ObjectAllocationSample#enabled=false,jdk.ObjectAllocationOutsideTLAB#enabled=true,jdk.ObjectAllocationOutsideTLAB#stackTrace=true,filename=$out/alloc.jfr")
      fi
      taskset -c 1 "$JAVA" "@$OPTS" "-Xlog:gc,gc+heap:file=$out/gc.log" "${extra[@]}" \
        --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow \
        -jar "$(bench_proxy_jar "$dir")" proxy -c "$WORK/bowline.yaml" --concurrency 1 >"$out/proxy.out" 2>&1 & ;;
  esac
  local pid=$!; PIDS+=($pid)
  for _ in $(seq 1 400); do curl -sf "${CURL[@]}" -o /dev/null "$URL" && break; sleep 0.05; done
  local master=$pid
  [ "$dir" != nginx ] || pid=$(pgrep -P $master | head -1) # its one worker does the work
  [ -z "${PROFILE:-}" ] || (sleep "$((WARMUP + 1))"; perf record -F 999 -g -p $pid -o "$out/perf.data" -- sleep "$PROFILE" >/dev/null 2>&1) &
  local w; for ((w = 0; w < WARMUP_RUNS; w++)); do load "$((WARMUP / WARMUP_RUNS))" "$URL"; done
  local c0 e0 v0 t0 t1 c1 e1 v1 perf=""
  c0=$(ticks /proc/$pid/stat); e0=$(thread_ticks $pid IoEv); v0=$(thread_ticks $pid "VM Thread")
  local us0; us0=$(usr_sys /proc/$pid/stat)
  if [ -n "${SYSCALLS:-}" ]; then
    perf stat -e "${SYSCALL_EVENTS:-raw_syscalls:sys_enter,syscalls:sys_enter_recvfrom,syscalls:sys_enter_sendto,syscalls:sys_enter_writev}" \
      -p $pid -o "$out/perfstat" & perf=$!
  fi
  t0=$(date +%s.%N)
  load "$DURATION" "$URL" "$out/wrk"
  t1=$(date +%s.%N)
  [ -z "$perf" ] || { kill -INT $perf; wait $perf || true; }
  c1=$(ticks /proc/$pid/stat); e1=$(thread_ticks $pid IoEv); v1=$(thread_ticks $pid "VM Thread")
  local us1; us1=$(usr_sys /proc/$pid/stat)
  local rss; rss=$(awk '/^Rss:/{r=$2} /^Pss:/{p=$2} END {printf "%.1f/%.1f", r/1024, p/1024}' /proc/$pid/smaps_rollup)
  [ -z "${EXACT:-}" ] || sleep 3
  kill $master; wait $master 2>/dev/null || true
  python3 - "$name" "$out" "$start" "$t0" "$t1" "$c0" "$c1" "$e0" "$e1" "$v0" "$v1" "$(getconf CLK_TCK)" "$rss" "$us0" "$us1" <<'PY'
import re, sys, os
name, out, start, t0, t1 = sys.argv[1], sys.argv[2], *map(float, sys.argv[3:6])
c0, c1, e0, e1, v0, v1, tck = map(int, sys.argv[6:13])
rss = sys.argv[13]
(u0, s0), (u1, s1) = (map(int, a.split(',')) for a in sys.argv[14:16])
wrk = open(f'{out}/wrk').read()
reqs = int(re.search(r'(\d+) requests in', wrk).group(1))
rps = re.search(r'Requests/sec:\s+([\d.]+)', wrk).group(1)
# young collections in the window: count, pause; allocation = young occupancy before a collection
# minus after the previous one (KB exact, from gc+heap's DefNew line), over the span they cover
n = 0; pause = 0.0; young = []; pauses = []
for l in (open(f'{out}/gc.log') if os.path.exists(f'{out}/gc.log') else []):
    t = re.match(r'\[([\d.]+)s\]', l)
    if not t or not t0 <= start + float(t.group(1)) <= t1:
        continue
    m = re.search(r'DefNew: (\d+)K\(\d+K\)->(\d+)K', l)
    if m:
        young.append((start + float(t.group(1)), int(m.group(1)), int(m.group(2))))
    m = re.search(r'Pause Young.* ([\d.]+)ms', l)
    if m:
        n += 1; pause += float(m.group(1)); pauses.append(float(m.group(1)))
alloc_kb = sum(young[i + 1][1] - young[i][2] for i in range(len(young) - 1))
span_reqs = reqs * (young[-1][0] - young[0][0]) / (t1 - t0) if len(young) > 1 else 0
ms = lambda t: t * 1000 / tck * 1000 / reqs
line = (f'{name:14} {reqs / 1e3:7.0f}k req {float(rps):8.0f} rps | B/req {alloc_kb * 1024 / span_reqs if span_reqs else 0:5.0f} | '
        f'young GCs/100k {1e5 * n / reqs:5.1f}, pause ms/100k {1e5 * pause / reqs:5.1f} | '
        f'CPU ms/1k: process {ms(c1 - c0):5.2f} (usr {ms(u1 - u0):5.2f} + sys {ms(s1 - s0):5.2f}), event loop {ms(e1 - e0):5.2f}, VM thread {ms(v1 - v0):5.2f}')
if os.path.exists(f'{out}/perfstat'):
    counts = {m.group(2): int(m.group(1).replace(',', '')) for m in re.finditer(r'^\s*([\d,]+)\s+(\S+)', open(f'{out}/perfstat').read(), re.M)}
    line += ' | syscalls/req ' + ', '.join(f'{k.split(":")[1].replace("sys_enter_", "") if "sys_enter" in k else k} {v / reqs:.2f}' for k, v in counts.items() if v)
pauses.sort()
if pauses:
    line += f' | young pause ms median {pauses[len(pauses) // 2]:.3f} max {pauses[-1]:.3f}'
line += f' | RSS/PSS MB after {rss}'
print(line, f'| load {os.getloadavg()[0]:.1f}', flush=True)
PY
  if [ -n "${EXACT:-}" ] && [ -f "$out/alloc.jfr" ]; then
    jfr print --events jdk.ObjectAllocationOutsideTLAB --stack-depth 12 "$out/alloc.jfr" | python3 -c '
import re, sys, collections
w = collections.Counter(); c = collections.Counter(); tot = 0; streams = 0
for e in sys.stdin.read().split("jdk.ObjectAllocationOutsideTLAB")[1:]:
    if "IoEventLoop" not in e: continue
    m = re.search(r"allocationSize = ([\d.]+) (\w+)", e)
    size = float(m.group(1)) * {"kB": 1024, "MB": 1048576}.get(m.group(2), 1)
    cls = re.search(r"objectClass = (\S+)", e).group(1)
    frames = [re.sub(r"\(.*", "", f.strip()) for f in re.search(r"stackTrace = \[(.*?)\n\s*\]", e, re.S).group(1).strip().split("\n")] if "stackTrace = [" in e else []
    streams += cls == "dev.bowline.proxy.http.HttpStream"
    key = cls + " <- " + " <- ".join(frames[:2])
    w[key] += size; c[key] += 1; tot += size
print(f"  exact (2 s, no TLABs): {tot / max(streams, 1):.0f} B and {sum(c.values()) / max(streams, 1):.1f} objects per request")
for k, v in w.most_common(25): print(f"  {v / max(streams, 1):7.1f} B {c[k] / max(streams, 1):5.2f}x {k}")'
    rm -f "$out/alloc.jfr"
  fi
}

archive() { # jar-dir: the static AppCDS archive of that build, made once per run of this script
  local jsa; jsa="$WORK/cds-$(echo "$1" | md5sum | cut -c1-8)"
  if [ ! -f "$jsa.jsa" ]; then
    taskset -c 1 "$JAVA" "@$OPTS" -XX:DumpLoadedClassList="$jsa.classlist" \
      --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow \
      -jar "$(bench_proxy_jar "$1")" proxy -c "$WORK/bowline.yaml" --concurrency 1 >"$jsa.train.out" 2>&1 &
    local t=$!; PIDS+=($t)
    for _ in $(seq 1 400); do curl -sf "${CURL[@]}" -o /dev/null "$URL" && break; sleep 0.05; done
    load 3 "$URL"
    kill $t; wait $t 2>/dev/null || true
    sed -i '/^@cp picocli\//d' "$jsa.classlist" # as run.sh and ./bowline do (decision 0036)
    "$JAVA" "@$OPTS" --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow -Xshare:dump \
      -XX:SharedClassListFile="$jsa.classlist" -XX:SharedArchiveFile="$jsa.jsa" \
      -cp "$(bench_proxy_jar "$1")" >"$jsa.dump.out" 2>&1 || { echo "no CDS archive; see $jsa.dump.out" >&2; exit 1; }
    sync "$jsa.jsa"
  fi
  echo "$jsa.jsa"
}

[ -z "${CDS:-}" ] || for v in "${VARIANTS[@]}"; do IFS=: read -r _ d _ <<< "$v"; case "$v" in nginx|haproxy) ;; *) archive "$d" >/dev/null;; esac; done
for r in $(seq 1 "$ROUNDS"); do
  for v in "${VARIANTS[@]}"; do
    IFS=: read -r n d f <<< "$v"
    case "$v" in nginx|haproxy) n=$v d=$v f="";; esac
    run "$n-$r" "$d" "${f:-}"
  done
done
echo "$([ "$PROTO" = h1 ] && echo "wrk -t1 -c50" || echo "h2load -t1 -c5 -m10 (h2c)") ${DURATION}s after ${WARMUP}s warm-up, proxy alone on core 1 (proxy.jvm-options + Xlog:gc${CDS:+, AppCDS}); work dir $WORK"
