#!/usr/bin/env bash
# Proxy benchmark (issue #6): Bowline vs NGINX vs HAProxy as reverse proxies in front of the same
# NGINX backend serving a 1 KB file, HTTP/1.1 keep-alive load from wrk.
#
# On a 2-core machine: load generator and backend share core 0, the proxy under test runs alone on
# core 1 (taskset). Throughput is then capped by core 0, so the headline figure is the proxy's CPU
# time per 1,000 requests (utime+stime from /proc, all threads and processes of the proxy), with
# rps, P50/P99 latency and memory after the run beside it: RSS, and from /proc/PID/smaps_rollup Pss
# (shared pages such as libjvm's or a class archive's divided among the processes mapping them) and
# Private_Dirty (what no other process shares: a mesh pays that per sidecar).
# usr/1k and sys/1k split the CPU per 1,000 requests into user and system time: kernel TCP is ~2/3
# of it for every proxy here and the same work per request (nstat: 4 segments per request for each),
# so the proxies differ mostly in user time, and a machine that is slower that day shows in both.
#
#   bench/proxy/run.sh [duration-seconds (default 15)] [connections (default 50)]
#   PROXIES="bowline" WARMUP=10 BOWLINE_BENCH_JAVA_OPTS="..." bench/proxy/run.sh
#   ROUNDS=3 WARMUP=30 bench/proxy/run.sh 10 50   (every proxy 3 times, alternating; medians at the end)
#   TAIL=1 bench/proxy/run.sh   (also each run's latency distribution, 50th to 99.99th percentile)
#   BOWLINE_BENCH_ARGS="--transport io_uring"   (appended to bowline proxy's arguments)
#   PROXIES="haproxy bowline bowline-b" BOWLINE_B_JAVA_OPTS="..."   (bowline-b: the same build and
#                    archive with these JVM options appended: an A/B of options inside every round)
#   ABBA=1   (with bowline-b: it runs before bowline in even rounds, after it in odd ones; in a
#                    fixed order the slot right after HAProxy was the slower one in NOISE runs)
#   PROTO=h2 bench/proxy/run.sh 10 50   (HTTP/2 load from h2load instead of wrk: every proxy listens
#                    h2c with prior knowledge and keeps HTTP/1.1 keep-alive to the backend; the 50
#                    requests in flight are STREAMS (default 10) streams on each of 50/STREAMS
#                    connections; latency from h2load's per-request log)
#   NOISE=30 bench/proxy/run.sh   (a controlled disturbance every proxy meets alike: bench/proxy/noise.c
#                    on core 1 during each measured window, 30% of the core in bursts of
#                    NOISE_BURST_US (default 2000) at random, SCHED_FIFO so that a burst takes the
#                    core whatever runs there, as a busy host takes the VM's vCPU (steal time);
#                    NOISE_POLICY=other makes it an ordinary process the fair scheduler weighs)
#   BOOST=-15   (during each measured window, the nice value of this script's autogroup: the
#                    proxy, the load generator and the backend then take their cores from other
#                    sessions' work (another helper's build) instead of sharing them: with
#                    sched_autogroup_enabled each session is one group of equal weight otherwise.
#                    Set back to 0 after the window; NOISE's SCHED_FIFO bursts still take the core)
#   THREADS=1   (each proxy thread's CPU time, time runnable but waiting for the CPU and time
#                    slices over the measured window, from schedstat; and core 1's steal time)
#   ADDR=127.0.7.70   (the backend's address; NGINX, HAProxy, Bowline and the Netty floor listen on
#                    the next four. An ADDR other than 127.0.7.1 runs without the bench lock)
#   WARMUP_RUNS=N   (the warm-up as N wrk runs of WARMUP/N s each; default one run per 5 s of
#                    WARMUP, at least one. WARMUP_RUNS=1 is one long keep-alive run.)
#
# Why the warm-up is several runs: a long-running proxy sees connections open and close all the
# time, so its JIT profiles include connection set-up. One long keep-alive warm-up opens its
# connections before any profile exists; C2 then compiles the hottest methods without those paths,
# and the measured run's 50 fresh connections hit ~40 uncommon traps and ~130 recompilations on the
# proxy's only core, 0.4-0.7 s of slow code that is the JVM proxies' P99 (decision 0037, lead
# addenda of sessions 7 and 8). Every proxy gets the same warm-up; the peers have no JIT to train.
#
# PROXIES (default "nginx haproxy bowline"): bowline starts from a static AppCDS archive trained in
# the same run, as ./bowline proxy does; bowline-aot from a JDK 25 AOT cache; bowline-noaot plain;
# netty-floor is bench/proxy/Floor.java, the least a Netty proxy on the same JVM options needs.
# The proxy's JVM options are cli/src/main/resources/dev/bowline/cli/mesh/proxy.jvm-options
# (BOWLINE_BENCH_JAVA_OPTS appended).
#
# Installs nginx-light, haproxy and wrk from Debian packages if missing. Loopback only.
set -euo pipefail
DURATION=${1:-15}
CONNS=${2:-50}
WARMUP=${WARMUP:-10}
WARMUP_RUNS=${WARMUP_RUNS:-$(( WARMUP >= 10 ? WARMUP / 5 : 1 ))}
ROUNDS=${ROUNDS:-1}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
source "$ROOT/bench/proxy/lib.sh"
ADDR=${ADDR:-127.0.7.1}
bench_work bowline-bench 127.0.7.1
trap '[ -z "${BOOST:-}" ] || echo 0 > /proc/$$/autogroup; bench_cleanup' EXIT
bench_packages nginx:nginx-light haproxy wrk h2load:nghttp2-client
PROTO=${PROTO:-h1}
case "$PROTO" in
  h1) LISTEN_FLAGS=""; HAPROXY_FLAGS=""; CODEC=HTTP1; PROXY_CURL="";;
  # h2c with prior knowledge: NGINX's plaintext http2 listener, HAProxy's proto h2, Envoy's HTTP2
  h2) LISTEN_FLAGS=" http2"; HAPROXY_FLAGS=" proto h2"; CODEC=HTTP2; PROXY_CURL=--http2-prior-knowledge
      STREAMS=${STREAMS:-10}; H2_CLIENTS=$(( CONNS / STREAMS > 0 ? CONNS / STREAMS : 1 ));;
  *) echo "PROTO is h1 or h2, not $PROTO" >&2; exit 2;;
esac

# ADDR is the backend (port 8081); NGINX on ADDR+1, HAProxy on ADDR+2, Bowline on ADDR+3, the Netty
# floor on ADDR+4 (port 8080)
AP=${ADDR%.*}; AL=${ADDR##*.}
NGINX_A=$AP.$((AL + 1)); HAPROXY_A=$AP.$((AL + 2)); BOWLINE_A=$AP.$((AL + 3)); FLOOR_A=$AP.$((AL + 4))
BACKEND=$ADDR:8081
# --- backend: NGINX with a 1 KB file, on core 0 -------------------------------------------------
bench_backend "$BACKEND"

# --- peers ----------------------------------------------------------------------------------------
bench_nginx_proxy "$WORK/peer" "$NGINX_A:8080$LISTEN_FLAGS" "$BACKEND"
bench_haproxy "$WORK/haproxy.cfg" "$HAPROXY_A:8080$HAPROXY_FLAGS" "$BACKEND"
bench_router_bootstrap "$WORK/bowline.yaml" "$BOWLINE_A" "$ADDR" 8081 "$CODEC"

"$ROOT/mvnw" -q -pl cli -am package -DskipTests -Dspotless.check.skip=true >/dev/null
source "$ROOT/tools/find-java.sh" >/dev/null 2>&1 || true
JAVA=${BOWLINE_JAVA:-$(ls -d /usr/lib/jvm/*25*/bin/java 2>/dev/null | head -1)}
# The proxy's JVM options: the same file the mesh runner and ./bowline use (decision 0030);
# BOWLINE_BENCH_JAVA_OPTS come after it, so they can override any of them.
JAVA_OPTS="@$ROOT/cli/src/main/resources/dev/bowline/cli/mesh/proxy.jvm-options ${BOWLINE_BENCH_JAVA_OPTS:-}"
# bowline-proxy.jar: bowline proxy on the proxy's own class path, as every proxy process runs it (0038)
PROXY_JAR=$(bench_proxy_jar "$ROOT/cli/target")
BOWLINE_ARGS=(--enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow -jar "$PROXY_JAR" proxy -c "$WORK/bowline.yaml" --concurrency 1 ${BOWLINE_BENCH_ARGS:-})

# smaps_rollup field (kB) summed over pids: Pss shares each page among the processes mapping it (what
# a host of many proxies pays per proxy: libjvm, the JDK's modules and a class archive are shared
# file pages); Private_Dirty is what no other process can share.
smaps_kb() { local f=$1 r=0; shift; for p in "$@"; do r=$((r + $(awk -v f="$f:" '$1==f{print $2}' "/proc/$p/smaps_rollup" 2>/dev/null || echo 0))); done; echo "$r"; }

# load SECONDS URL [REPORT]: the load generator on core 0 for SECONDS against URL. With REPORT, the
# measured run: wrk's report there (with --latency, and percentiles.lua's "pct" lines under TAIL);
# for h2load the same lines made from its summary and its per-request log, so one parser reads both.
load() {
  if [ "$PROTO" = h1 ]; then
    if [ -z "${3:-}" ]; then taskset -c 0 wrk -t1 -c"$CONNS" -d"$1s" "$2" >/dev/null; return; fi
    taskset -c 0 wrk -t1 -c"$CONNS" -d"$1s" --latency ${TAIL:+-s "$ROOT/bench/proxy/percentiles.lua"} "$2" > "$3"
    return
  fi
  if [ -z "${3:-}" ]; then taskset -c 0 h2load -t1 -c"$H2_CLIENTS" -m"$STREAMS" -D "$1" "$2" >/dev/null; return; fi
  rm -f "$3.log" # h2load appends to an existing log, and every round writes the same path
  taskset -c 0 h2load -t1 -c"$H2_CLIENTS" -m"$STREAMS" -D "$1" --log-file "$3.log" "$2" > "$3.h2load"
  # column 3 of the log: microseconds to the end of the response
  sort -n -k3,3 "$3.log" | awk -v tail="${TAIL:-}" -v h2="$3.h2load" '
    { d[NR] = $3 / 1000; sum += $3 / 1000; sq += ($3 / 1000) ^ 2 }
    function pct(p,   i) { i = int(NR * p / 100 + 0.999999); if (i < 1) i = 1; if (i > NR) i = NR; return d[i] }
    END {
      while ((getline line < h2) > 0) {
        if (line ~ /^finished in/) { split(line, f, ", "); split(f[2], r, " "); rps = r[1] }
        if (line ~ /^requests:/ && line !~ / 0 failed, 0 errored/) bad = line
        if (line ~ /^status codes:/ && line !~ / 0 3xx, 0 4xx, 0 5xx/) bad = bad " " line
      }
      printf "%d requests in (h2load)\nRequests/sec: %s\n", NR, rps
      printf "50%% %.3fms\n99%% %.3fms\n", pct(50), pct(99)
      if (bad != "") print "Non-2xx or Socket errors: " bad
      if (tail != "") {
        n = split("50 75 90 95 97 98 99 99.5 99.9 99.99", ps, " ")
        for (k = 1; k <= n; k++) printf "pct %s %.3f\n", ps[k], pct(ps[k])
        mean = sum / NR
        printf "pct max %.3f\npct mean %.3f\npct stdev %.3f\n", d[NR], mean, sqrt(sq / NR - mean ^ 2)
      }
    }' > "$3"
}

# THREADS=1: each thread's CPU time, time waiting for the CPU while runnable and time slices over
# the measured window (/proc/PID/task/TID/schedstat), threads of one name summed
threads() { local p t; for p in "$@"; do for t in /proc/"$p"/task/*; do
  echo "$(tr -d '\n' < "$t/comm" 2>/dev/null | tr ' ' _) $(cat "$t/schedstat" 2>/dev/null || echo 0 0 0)"; done; done; }
steal() { awk '$1 == "cpu1" { print $9 }' /proc/stat; }
thread_deltas() {
  awk -v n="$3" 'FNR == NR { r[$1] += $2; w[$1] += $3; c[$1] += $4; next } { R[$1] += $2; W[$1] += $3; C[$1] += $4 }
    END { printf "  %s threads (run / wait ms, slices):", n
      for (k in R) if (R[k] - r[k] > 1e6 || W[k] - w[k] > 1e6) printf " %s %.0f / %.0f, %d;", k, (R[k] - r[k]) / 1e6, (W[k] - w[k]) / 1e6, C[k] - c[k]
      print "" }' "$1" "$2"
}
# NOISE=P: bench/proxy/noise.c on core 1 during every measured window (see the header)
if [ -n "${NOISE:-}" ]; then
  NOISE_BURST_US=${NOISE_BURST_US:-2000}; NOISE_POLICY=${NOISE_POLICY:-fifo}
  gcc -O2 -o "$WORK/noise" "$ROOT/bench/proxy/noise.c" -lm
fi

printf '%-13s %10s %10s %10s %10s %8s %9s %14s %8s %8s %8s %8s\n' proxy rps p50_ms p99_ms rss_mb pss_mb pdirty_mb cpu_ms/1k_req ready_s cpu_% usr/1k sys/1k
run_one() {
  local name=$1 url=$2; shift 2
  local start; start=$(date +%s.%N)
  taskset -c 1 "$@" >"$WORK/$name.out" 2>&1 &
  local pid=$!; PIDS+=($pid)
  BENCH_CURL_ARGS=$PROXY_CURL wait_http "$url"
  local ready; ready=$(echo "$(date +%s.%N) - $start" | bc)
  local w; for ((w = 0; w < WARMUP_RUNS; w++)); do
    load "$((WARMUP / WARMUP_RUNS))" "$url"
  done
  local fam; fam=$(family $pid | tr '\n' ' ')
  local c0; c0=$(cpu_ticks $fam)
  local s0; s0=$(cpu_split $fam)
  [ -z "${THREADS:-}" ] || { threads $fam > "$WORK/$name.threads0"; steal > "$WORK/$name.steal0"; }
  [ -z "${BOOST:-}" ] || echo "$BOOST" > /proc/$$/autogroup
  local noise=""
  if [ -n "${NOISE:-}" ]; then
    taskset -c 1 "$WORK/noise" "$NOISE" "$NOISE_BURST_US" "$NOISE_POLICY" & noise=$!; PIDS+=($noise)
  fi
  local t0; t0=$(date +%s.%N)
  load "$DURATION" "$url" "$WORK/$name.wrk"
  local t1; t1=$(date +%s.%N)
  [ -z "$noise" ] || { kill "$noise"; wait "$noise" 2>/dev/null || true; }
  [ -z "${BOOST:-}" ] || echo 0 > /proc/$$/autogroup
  [ -z "${THREADS:-}" ] || { threads $fam > "$WORK/$name.threads1"; steal > "$WORK/$name.steal1"; }
  local c1; c1=$(cpu_ticks $fam)
  local s1; s1=$(cpu_split $fam)
  local reqs; reqs=$(awk '/requests in/{print $1}' "$WORK/$name.wrk")
  local rps; rps=$(awk '/Requests\/sec/{print $2}' "$WORK/$name.wrk")
  local p50; p50=$(awk '$1=="50%"{print $2}' "$WORK/$name.wrk")
  local p99; p99=$(awk '$1=="99%"{print $2}' "$WORK/$name.wrk")
  local errors; errors=$(awk '/Non-2xx|Socket errors/' "$WORK/$name.wrk")
  local rss; rss=$(rss_kb $fam)
  local pss; pss=$(smaps_kb Pss $fam)
  local pdirty; pdirty=$(smaps_kb Private_Dirty $fam)
  local cpu_ms; cpu_ms=$(echo "scale=3; ($c1 - $c0) * 1000 / $TCK" | bc)
  local per1k; per1k=$(echo "scale=2; $cpu_ms * 1000 / $reqs" | bc)
  local util; util=$(echo "scale=0; $cpu_ms / 10 / ($t1 - $t0)" | bc)
  # user and system time apart: kernel TCP is ~2/3 of every proxy's CPU here and the same work per
  # request for all three (4 segments per request), so a difference in user time is the proxy's own
  local usr1k sys1k; read -r usr1k sys1k < <(echo "$s0 $s1" | awk -v t="$TCK" -v r="$reqs" '{printf "%.2f %.2f\n", ($3 - $1) * 1e6 / t / r, ($4 - $2) * 1e6 / t / r}')
  printf '%-13s %10s %10s %10s %10s %8s %9s %14s %8.2f %8s %8s %8s\n' "$name" "$rps" "$(ms "$p50")" "$(ms "$p99")" "$((rss / 1024))" "$((pss / 1024))" "$((pdirty / 1024))" "$per1k" "$ready" "$util" "$usr1k" "$sys1k"
  echo "$ROUND $name $rps $(ms "$p50") $(ms "$p99") $((rss / 1024)) $((pss / 1024)) $((pdirty / 1024)) $per1k $ready $util $usr1k $sys1k" >> "$WORK/rows"
  [ -z "$errors" ] || echo "  $name: $errors" >&2
  [ -z "${TAIL:-}" ] || awk -v n="$name" '$1=="pct"{printf "%s%s %s", (c++ ? " " : "  " n " latency ms:"), $2, $3} END{print ""}' "$WORK/$name.wrk"
  [ -z "${THREADS:-}" ] || { thread_deltas "$WORK/$name.threads0" "$WORK/$name.threads1" "$name"
    echo "  $name core 1 steal (host): $(( ($(cat "$WORK/$name.steal1") - $(cat "$WORK/$name.steal0")) * 1000 / TCK )) ms"; }
  kill "$pid"; wait "$pid" 2>/dev/null || true
}

wait_http "http://$BACKEND/1k"
PROXIES=${PROXIES:-"nginx haproxy bowline"}
want() { [[ " $PROXIES " == *" $1 "* ]]; }
# bowline: with the static AppCDS archive ./bowline proxy makes (decision 0030): a training run in
# this script (start, 3 s of load, stop) records the class list, java -Xshare:dump archives it.
# bowline-aot: a JDK 25 AOT cache (JEP 514/515) trained the same way instead. bowline-noaot: neither.
train() { # train <extra JVM flags...>: start, wait for ready, 3 s of load, stop
  # shellcheck disable=SC2086
  taskset -c 1 "$JAVA" $JAVA_OPTS "$@" "${BOWLINE_ARGS[@]}" --drain-time-s 0 >"$WORK/bowline-train.out" 2>&1 &
  local t=$!; PIDS+=($t)
  BENCH_CURL_ARGS=$PROXY_CURL wait_http http://$BOWLINE_A:8080/1k
  load 3 http://$BOWLINE_A:8080/1k
  kill "$t"; wait "$t" 2>/dev/null || true
}
if want bowline || want bowline-b; then
  train -XX:DumpLoadedClassList="$WORK/bowline.classlist"
  # as ./bowline does: JDK 25's constant-pool resolutions of picocli's Java 5 classes would keep
  # them out of the archive (decision 0036)
  sed -i '/^@cp picocli\//d' "$WORK/bowline.classlist"
  # shellcheck disable=SC2086
  "$JAVA" --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow $JAVA_OPTS -Xshare:dump \
    -XX:SharedClassListFile="$WORK/bowline.classlist" -XX:SharedArchiveFile="$WORK/bowline.jsa" \
    -cp "$PROXY_JAR" >"$WORK/bowline-dump.out" 2>&1 ||
    { echo "no CDS archive written; see $WORK/bowline-dump.out" >&2; exit 1; }
  # written back before the run, as an archive on a host is: freshly written page-cache pages are
  # dirty, and smaps would count the mapped archive as the proxy's private dirty memory
  sync "$WORK/bowline.jsa"
fi
if want bowline-aot; then
  train -XX:AOTCacheOutput="$WORK/bowline.aot"
  [ -f "$WORK/bowline.aot" ] || { echo "no AOT cache written; see $WORK/bowline-train.out" >&2; exit 1; }
fi
# netty-floor: bench/proxy/Floor.java, Netty's HTTP codecs and a relay on the same JVM and options and
# nothing else: the footprint floor the bowline row is measured against (decision 0036).
if want netty-floor && [ "$PROTO" = h2 ]; then
  echo "netty-floor speaks HTTP/1.1 only; leave it out of PROXIES with PROTO=h2" >&2; exit 2
fi
if want netty-floor; then
  NETTY_CP=$(ls "$ROOT"/cli/target/lib/netty-*.jar | tr '\n' ':')
  mkdir -p "$WORK/floor"
  "${JAVA%/java}/javac" -d "$WORK/floor" -cp "$NETTY_CP" "$ROOT/bench/proxy/Floor.java"
fi

# ROUNDS > 1 runs every proxy again in each round, in the same order, so that a noisy minute hits
# one round rather than one proxy; the summary gives each column's median over the rounds and the
# medians of the per-round ratios the issue's targets are stated in.
for ROUND in $(seq 1 "$ROUNDS"); do
  [ "$ROUNDS" = 1 ] || echo "# round $ROUND"
  want nginx && run_one nginx http://$NGINX_A:8080/1k "$NGINX" -p "$WORK/peer" -c "$WORK/peer/nginx.conf"
  want haproxy && run_one haproxy http://$HAPROXY_A:8080/1k "$HAPROXY" -db -f "$WORK/haproxy.cfg"
  # shellcheck disable=SC2086
  want bowline-noaot && run_one bowline-noaot http://$BOWLINE_A:8080/1k "$JAVA" $JAVA_OPTS "${BOWLINE_ARGS[@]}"
  # ABBA=1: bowline-b before bowline in even rounds, so that neither always follows HAProxy
  # shellcheck disable=SC2086
  [ -z "${ABBA:-}" ] || [ $((ROUND % 2)) = 1 ] || ! want bowline-b ||
    run_one bowline-b http://$BOWLINE_A:8080/1k "$JAVA" $JAVA_OPTS ${BOWLINE_B_JAVA_OPTS:-} -XX:SharedArchiveFile="$WORK/bowline.jsa" -Xshare:auto "${BOWLINE_ARGS[@]}"
  # shellcheck disable=SC2086
  want bowline && run_one bowline http://$BOWLINE_A:8080/1k "$JAVA" $JAVA_OPTS -XX:SharedArchiveFile="$WORK/bowline.jsa" -Xshare:auto "${BOWLINE_ARGS[@]}"
  # shellcheck disable=SC2086
  { [ -z "${ABBA:-}" ] || [ $((ROUND % 2)) = 1 ]; } && want bowline-b && run_one bowline-b http://$BOWLINE_A:8080/1k "$JAVA" $JAVA_OPTS ${BOWLINE_B_JAVA_OPTS:-} -XX:SharedArchiveFile="$WORK/bowline.jsa" -Xshare:auto "${BOWLINE_ARGS[@]}"
  # shellcheck disable=SC2086
  want bowline-aot && run_one bowline-aot http://$BOWLINE_A:8080/1k "$JAVA" $JAVA_OPTS -XX:AOTCache="$WORK/bowline.aot" "${BOWLINE_ARGS[@]}"
  # shellcheck disable=SC2086
  want netty-floor && run_one netty-floor http://$FLOOR_A:8080/1k "$JAVA" $JAVA_OPTS --enable-native-access=ALL-UNNAMED \
    -cp "$WORK/floor:$NETTY_CP" Floor $FLOOR_A:8080 "$BACKEND"
done
if [ "$ROUNDS" != 1 ]; then
  echo "# medians over $ROUNDS rounds"
  awk -f "$ROOT/bench/proxy/medians.awk" "$WORK/rows"
fi
[ -z "${NOISE:-}" ] || echo "noise: $NOISE% of core 1 in bursts of ${NOISE_BURST_US} us at random ($NOISE_POLICY) during each measured window"
if [ "$PROTO" = h1 ]; then LOADGEN="wrk -t1 -c$CONNS"; else LOADGEN="h2load -t1 -c$H2_CLIENTS -m$STREAMS (h2c)"; fi
echo "$LOADGEN ${DURATION}s (after ${WARMUP}s warm-up in $WARMUP_RUNS runs); backend nginx 1 KB (HTTP/1.1 keep-alive) on core 0 with the load generator; proxy alone on core 1; work dir $WORK"
