#!/usr/bin/env bash
# The latency tail over time (issue #6, decision 0037 addendum 13): run.sh's shape (proxy alone on
# core 1, load generator and NGINX backend on core 0, warm-up as several wrk -c50 runs) but the
# measured window is h2load --h1 -c50 -m1 (one request in flight per connection, as wrk) with its
# per-request log, so the window's latency can be cut into slices: per 100 ms for the first second,
# then per second. With JLOG=1 the Bowline rows also log JIT compilations, deoptimisations, GC and
# safepoints with epoch-millisecond stamps, printed per slice beside the latency.
#
#   ADDR=127.0.7.80 ROUNDS=3 WARMUP=30 bench/proxy/tailwin.sh 10 [JAR]
#   VARIANTS="haproxy bowline bowline-b" B_OPTS="-XX:PerMethodTrapLimit=0" ...
#   WARMUP_RUNS=N (default WARMUP/5, as run.sh); B_WARMUP_RUNS=N for bowline-b only (the warm-up's
#   shape as the A/B: the same WARMUP seconds in more, shorter runs is more connections opened)
#   NOISE=30 BOOST=-15 NOISE_BURST_US=2000 NOISE_POLICY=fifo: as run.sh (see its header), during the window
# Addresses: ADDR is the backend (port 8081); HAProxy on ADDR+1, Bowline on ADDR+2 (port 8080).
set -euo pipefail
DURATION=${1:-10}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
JAR=${2:-$ROOT/cli/target/bowline-proxy.jar}
WARMUP=${WARMUP:-30}
WARMUP_RUNS=${WARMUP_RUNS:-$(( WARMUP >= 10 ? WARMUP / 5 : 1 ))}
WARMUP_CONNS=${WARMUP_CONNS:-50}
ROUNDS=${ROUNDS:-1}
VARIANTS=${VARIANTS:-"haproxy bowline"}
ADDR=${ADDR:-127.0.7.80}
source "$ROOT/bench/proxy/lib.sh"
bench_work bowline-tailwin 127.0.7.80
bench_packages nginx:nginx-light haproxy wrk h2load:nghttp2-client
P=${ADDR%.*}; L=${ADDR##*.}
BACKEND=$ADDR:8081; HA=$P.$((L + 1)); BW=$P.$((L + 2))
bench_backend "$BACKEND"
bench_haproxy "$WORK/haproxy.cfg" "$HA:8080" "$BACKEND"
bench_router_bootstrap "$WORK/bowline.yaml" "$BW" "$ADDR" 8081 HTTP1
JAVA=${BOWLINE_JAVA:-$(ls -d /usr/lib/jvm/*25*/bin/java 2>/dev/null | head -1)}
JAVA_OPTS="@$ROOT/cli/src/main/resources/dev/bowline/cli/mesh/proxy.jvm-options ${A_OPTS:-}"
ARGS=(--enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow -jar "$JAR" proxy -c "$WORK/bowline.yaml" --concurrency 1)
wait_http "http://$BACKEND/1k"
# the static AppCDS archive as run.sh makes it: start, 3 s of load, stop, dump
# shellcheck disable=SC2086
taskset -c 1 "$JAVA" $JAVA_OPTS -XX:DumpLoadedClassList="$WORK/bowline.classlist" "${ARGS[@]}" --drain-time-s 0 >"$WORK/train.out" 2>&1 &
t=$!; PIDS+=($t); wait_http "http://$BW:8080/1k"
taskset -c 0 wrk -t1 -c50 -d3s "http://$BW:8080/1k" >/dev/null; kill $t; wait $t 2>/dev/null || true
sed -i '/^@cp picocli\//d' "$WORK/bowline.classlist"
# shellcheck disable=SC2086
"$JAVA" --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow $JAVA_OPTS -Xshare:dump \
  -XX:SharedClassListFile="$WORK/bowline.classlist" -XX:SharedArchiveFile="$WORK/bowline.jsa" -cp "$JAR" >"$WORK/dump.out" 2>&1
sync "$WORK/bowline.jsa"

[ -z "${NOISE:-}" ] || gcc -O2 -o "$WORK/noise" "$ROOT/bench/proxy/noise.c" -lm
trap '[ -z "${BOOST:-}" ] || echo 0 > /proc/$$/autogroup; bench_cleanup' EXIT
slices() { python3 "$ROOT/bench/proxy/tailwin.py" "$@"; }

threads() { # threads PID: "<ns> <thread name>" per thread of PID
  local t; for t in /proc/"$1"/task/*; do
    echo "$(cut -d' ' -f1 "$t/schedstat" 2>/dev/null || echo 0) $(cat "$t/comm" 2>/dev/null)"; done
}
cpu_slices() { # cpu_slices PREFIX: CPU ms in the window's first second and in seconds 5-6, by role
  awk -v f="$1" '
    function role(n) { return n ~ /^C[12] Comp/ ? substr(n, 1, 2) : n ~ /ventLoop|multiThreadIo|worker|epoll|haproxy/ ? "loop" : "other" }
    function load(file, a,   line, ns, name) { while ((getline line < file) > 0) { ns = line; sub(/ .*/, "", ns); name = line; sub(/^[0-9]+ /, "", name); a[name "#" (++k)] = ns; r[name "#" k] = role(name) } }
    BEGIN {
      for (i = 0; i <= 6; i++) { delete x; k = 0; if (i == 0 || i == 1 || i == 5 || i == 6) { load(f ".cpu" i, x); for (n in x) { c[i, r[n]] += x[n] } } }
      printf "  cpu ms   first 1 s: loop %.0f C1 %.0f C2 %.0f other %.0f | s 5-6: loop %.0f C1 %.0f C2 %.0f other %.0f\n",
        (c[1, "loop"] - c[0, "loop"]) / 1e6, (c[1, "C1"] - c[0, "C1"]) / 1e6, (c[1, "C2"] - c[0, "C2"]) / 1e6, (c[1, "other"] - c[0, "other"]) / 1e6,
        (c[6, "loop"] - c[5, "loop"]) / 1e6, (c[6, "C1"] - c[5, "C1"]) / 1e6, (c[6, "C2"] - c[5, "C2"]) / 1e6, (c[6, "other"] - c[5, "other"]) / 1e6
    }'
}

run_one() { # run_one NAME URL COMMAND... (WARMUP_RUNS from $RUNS)
  local name=$1 url=$2 WARMUP_RUNS=$RUNS; shift 2
  taskset -c 1 "$@" >"$WORK/$name.out" 2>&1 &
  local pid=$!; PIDS+=($pid)
  wait_http "$url"
  local w; for ((w = 0; w < WARMUP_RUNS; w++)); do
    taskset -c 0 wrk -t1 -c"$WARMUP_CONNS" -d"$((WARMUP / WARMUP_RUNS))s" "$url" >/dev/null
  done
  rm -f "$WORK/$name.log"
  date +%s%3N > "$WORK/$name.start"
  # per-thread CPU (schedstat ns) at the window's start, after its first second, and over seconds
  # 5-6: CPU spent in the first second against a steady one, whatever the machine's load
  threads "$pid" > "$WORK/$name.cpu0"
  (sleep 1; threads "$pid" > "$WORK/$name.cpu1"; sleep 4; threads "$pid" > "$WORK/$name.cpu5"
   sleep 1; threads "$pid" > "$WORK/$name.cpu6") &
  local snaps=$!
  [ -z "${BOOST:-}" ] || echo "$BOOST" > /proc/$$/autogroup
  local noise=""
  [ -z "${NOISE:-}" ] || { taskset -c 1 "$WORK/noise" "$NOISE" "${NOISE_BURST_US:-2000}" "${NOISE_POLICY:-fifo}" & noise=$!; PIDS+=($noise); }
  taskset -c 0 h2load --h1 -t1 -c50 -m1 -D "$DURATION" --log-file "$WORK/$name.log" "$url" > "$WORK/$name.h2load"
  [ -z "$noise" ] || { kill "$noise"; wait "$noise" 2>/dev/null || true; }
  [ -z "${BOOST:-}" ] || echo 0 > /proc/$$/autogroup
  wait $snaps
  echo "# round $ROUND $name ($(grep -m1 '^requests:' "$WORK/$name.h2load"))"
  cpu_slices "$WORK/$name"
  slices "$WORK/$name.log" "$([ -f "$WORK/$name.jvm.log" ] && echo "$WORK/$name.jvm.log")"
  kill "$pid"; wait "$pid" 2>/dev/null || true
  [ ! -f "$WORK/$name.jvm.log" ] || mv "$WORK/$name.jvm.log" "$WORK/$name.r$ROUND.jvm.log"
  mv "$WORK/$name.log" "$WORK/$name.r$ROUND.log"
}
JLOG_OPTS=""
for ROUND in $(seq 1 "$ROUNDS"); do
  for v in $VARIANTS; do
    [ -z "${JLOG:-}" ] || JLOG_OPTS="-Xlog:jit+compilation=debug,deoptimization=debug,gc,safepoint:file=$WORK/$v.jvm.log:timemillis,uptime,tags"
    RUNS=$WARMUP_RUNS; [ "$v" != bowline-b ] || RUNS=${B_WARMUP_RUNS:-$WARMUP_RUNS}
    case $v in
      haproxy) run_one haproxy "http://$HA:8080/1k" "$HAPROXY" -db -f "$WORK/haproxy.cfg";;
      # shellcheck disable=SC2086
      bowline) run_one bowline "http://$BW:8080/1k" "$JAVA" $JAVA_OPTS $JLOG_OPTS -XX:SharedArchiveFile="$WORK/bowline.jsa" -Xshare:auto "${ARGS[@]}";;
      # shellcheck disable=SC2086
      bowline-b) run_one bowline-b "http://$BW:8080/1k" "$JAVA" $JAVA_OPTS ${B_OPTS:-} $JLOG_OPTS -XX:SharedArchiveFile="$WORK/bowline.jsa" -Xshare:auto "${ARGS[@]}";;
    esac
  done
done
echo "work dir $WORK"
