#!/usr/bin/env bash
# CPU the proxy spends to become ready, per thread, load-independent (decision 0043): the proxy
# starts alone on core 1 with the benchmark's bootstrap and proxy.jvm-options; at its first 200
# (polled every ~10 ms from core 0) the script reads every thread's CPU time (/proc/PID/task/*/
# schedstat, nanoseconds) and the whole process's (utime+stime of /proc/PID/stat, with the threads
# that already ended). On a quiet machine ready is about this CPU time, since the proxy has its core
# to itself; on a shared one the wall time is the machine's, the CPU time still the proxy's.
# Variants alternate, so compared builds or flags share the machine's load.
#
#   bench/proxy/startcpu.sh [rounds (default 5)] name[@archive]:jar[:flags,comma-separated] ...
#   archive: cds (default: a static AppCDS archive trained as run.sh trains it: start, 3 s of
#            wrk -c50, stop, -Xshare:dump), aot (a JDK 25 AOT cache: -XX:AOTCacheOutput in the same
#            training, then -XX:AOTCache), none (the JDK's archive only)
#   e.g. bench/proxy/startcpu.sh 5 main:/tmp/main/bowline-proxy.jar new:cli/target/bowline-proxy.jar
#   ADDR=127.0.7.31 (loopback address of backend and proxy; give concurrent runs different ones)
#   JFR=1: each run also records JFR's execution samples every 1 ms (a copy of the JDK's profile
#          settings), class loads with stacks and every JIT compilation, to
#          WORK/<name>.<round>/start.jfr; the recording costs CPU itself (JFR's start-up, its own
#          class spinning and compiles), so those runs' figures are not comparable with others
#   CLASSES=1: -Xlog:class+load with uptime to WORK/<name>.<round>/classes.txt (counted: classes
#          loaded, and of them not from the archive)
#
# Columns: wall s to the first 200; process CPU s; main thread, C1 and C2 compiler threads, the
# event loop(s), everything else (VM thread, GC, Netty's and the JDK's helpers), all in s of CPU;
# classes loaded and not from the archive (CLASSES=1); the load average.
set -euo pipefail
ROUNDS=${1:-5}
shift || true
[ $# -gt 0 ] || { sed -n '2,25p' "$0" >&2; exit 2; }
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
source "$ROOT/bench/proxy/lib.sh"
bench_work bowline-startcpu 127.0.7.31
bench_packages nginx:nginx-light wrk
JAVA=${BOWLINE_JAVA:-$(ls -d /usr/lib/jvm/*25*/bin/java 2>/dev/null | head -1)}
OPTS="$ROOT/cli/src/main/resources/dev/bowline/cli/mesh/proxy.jvm-options"
A=${ADDR:-127.0.7.31}
bench_backend "$A:8081"
bench_router_bootstrap "$WORK/b.yaml" "$A" "$A" 8081
URL=http://$A:8080/1k
for _ in $(seq 1 100); do curl -sf -o /dev/null "http://$A:8081/1k" && break; sleep 0.05; done
FLAGS=(--enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow)
if [ -n "${JFR:-}" ]; then # the JDK's profile settings with execution samples every 1 ms
  sed -e '/<event name="jdk.ExecutionSample">/,/<\/event>/s|\(<setting name="period"[^>]*>\)[^<]*<|\11 ms<|' \
    -e '/<event name="jdk.ClassLoad">/,/<\/event>/s|\(<setting name="enabled"[^>]*>\)false<|\1true<|' \
    -e '/<event name="jdk.ClassLoad">/,/<\/event>/s|<setting name="threshold">[^<]*<|<setting name="threshold">0 ms<|' \
    -e '/<event name="jdk.ClassDefine">/,/<\/event>/s|\(<setting name="enabled"[^>]*>\)false<|\1true<|' \
    -e '/<event name="jdk.Compilation">/,/<\/event>/s|\(<setting name="threshold"[^>]*>\)[^<]*<|\10 ms<|' \
    "${JAVA%/bin/java}/lib/jfr/profile.jfc" >"$WORK/start.jfc"
fi
up() { # polls until the first 200, at most 30 s
  for _ in $(seq 1 3000); do taskset -c 0 curl -sf -o /dev/null "$URL" && return 0; sleep 0.01; done
  echo "not up: $URL" >&2; exit 1
}
archive() { # name jar kind flags...: train (start, 3 s of load, stop) and make the archive
  local n=$1 jar=$2 kind=$3; shift 3
  local train
  case "$kind" in
    none) return ;;
    cds) train=(-XX:DumpLoadedClassList="$WORK/$n.classlist") ;;
    aot) train=(-XX:AOTCacheOutput="$WORK/$n.aot") ;;
    *) echo "archive is cds, aot or none, not $kind" >&2; exit 2 ;;
  esac
  taskset -c 1 "$JAVA" "@$OPTS" "$@" "${train[@]}" "${FLAGS[@]}" \
    -jar "$jar" proxy -c "$WORK/b.yaml" --concurrency 1 --drain-time-s 0 >"$WORK/$n.train.out" 2>&1 &
  local t=$!; PIDS+=($t)
  up
  taskset -c 0 wrk -t1 -c50 -d3s "$URL" >/dev/null
  kill $t; wait $t 2>/dev/null || true
  if [ "$kind" = aot ]; then
    [ -f "$WORK/$n.aot" ] || { echo "no AOT cache for $n; see $WORK/$n.train.out" >&2; exit 1; }
    return
  fi
  sed -i '/^@cp picocli\//d' "$WORK/$n.classlist" # as run.sh and ./bowline do (decision 0036)
  "$JAVA" "@$OPTS" "$@" "${FLAGS[@]}" -Xshare:dump -XX:SharedClassListFile="$WORK/$n.classlist" \
    -XX:SharedArchiveFile="$WORK/$n.jsa" -cp "$jar" >"$WORK/$n.dump.out" 2>&1 ||
    { echo "no CDS archive for $n; see $WORK/$n.dump.out" >&2; exit 1; }
  sync "$WORK/$n.jsa"
}
# thread CPU in ns, summed by group: main, C1, C2, the event loops, the rest
threads() {
  local pid=$1 t comm ns
  declare -A g=([main]=0 [c1]=0 [c2]=0 [loop]=0 [other]=0)
  for t in /proc/"$pid"/task/*; do
    comm=$(cat "$t/comm" 2>/dev/null) || continue
    ns=$(cut -d' ' -f1 "$t/schedstat" 2>/dev/null) || continue
    # the launcher's primordial thread (tid = pid) waits; main() runs in the other "java" thread
    [ "$comm" != java ] || [ "${t##*/}" = "$pid" ] || comm=main
    case "$comm" in
      main) g[main]=$((g[main] + ns)) ;;
      "C1 CompilerThre") g[c1]=$((g[c1] + ns)) ;;
      "C2 CompilerThre") g[c2]=$((g[c2] + ns)) ;;
      multiThreadIoEv* | epollEventLoop* | ioUring* | nioEventLoop*) g[loop]=$((g[loop] + ns)) ;;
      *) g[other]=$((g[other] + ns)) ;;
    esac
  done
  printf '%6.3f %6.3f %6.3f %6.3f %6.3f' "$(echo "${g[main]} / 10^9" | bc -l)" "$(echo "${g[c1]} / 10^9" | bc -l)" \
    "$(echo "${g[c2]} / 10^9" | bc -l)" "$(echo "${g[loop]} / 10^9" | bc -l)" "$(echo "${g[other]} / 10^9" | bc -l)"
}
run() { # round name jar kind flags...
  local r=$1 n=$2 jar=$3 kind=$4; shift 4
  local out=$WORK/$n.$r; mkdir -p "$out"
  local extra=()
  case "$kind" in
    cds) extra=(-XX:SharedArchiveFile="$WORK/$n.jsa" -Xshare:auto) ;;
    aot) extra=(-XX:AOTCache="$WORK/$n.aot") ;;
  esac
  [ -z "${CLASSES:-}" ] || extra+=("-Xlog:class+load:file=$out/classes.txt:uptime")
  # JFR: the recording is dumped at ready to start.jfr (the exit's own dump goes elsewhere: written to
  # the same file it would add every event a second time)
  [ -z "${JFR:-}" ] || extra+=("-XX:StartFlightRecording=filename=$out/exit.jfr,settings=$WORK/start.jfc")
  local start; start=$(date +%s.%N)
  taskset -c 1 "$JAVA" "@$OPTS" "$@" "${extra[@]}" "${FLAGS[@]}" \
    -jar "$jar" proxy -c "$WORK/b.yaml" --concurrency 1 >"$out/proxy.out" 2>&1 &
  local pid=$!; PIDS+=($pid)
  up
  local split; split=$(threads $pid)
  local ticks; ticks=$(cut -d')' -f2- "/proc/$pid/stat" | awk '{print $12 + $13}')
  local wall; wall=$(echo "$(date +%s.%N) - $start" | bc)
  if [ -n "${JFR:-}" ]; then "${JAVA%/java}/jcmd" $pid JFR.dump filename="$out/start.jfr" >/dev/null 2>&1 || true; fi
  kill $pid; wait $pid 2>/dev/null || true
  local classes=- notcds=-
  if [ -n "${CLASSES:-}" ]; then
    classes=$(wc -l <"$out/classes.txt")
    notcds=$(grep -vc 'shared objects file' "$out/classes.txt" || true)
  fi
  printf '%-10s %2s %6.2f %6.2f %s %7s %6s %5s\n' "$n" "$r" "$wall" "$(echo "scale=2; $ticks / $TCK" | bc)" \
    "$split" "$classes" "$notcds" "$(cut -d' ' -f1 /proc/loadavg)"
}
spec() { # name[@archive]:jar[:flags] -> n j k fl (the flags may contain colons)
  IFS=: read -r n j f <<< "$1"; k=cds; [[ "$n" != *@* ]] || { k=${n#*@}; n=${n%@*}; }
  fl=(); [ -z "${f:-}" ] || IFS=, read -ra fl <<< "$f"
}
for v in "$@"; do spec "$v"; archive "$n" "$j" "$k" ${fl[@]+"${fl[@]}"}; done
printf '%-10s %2s %6s %6s %6s %6s %6s %6s %6s %7s %6s %5s\n' variant r wall_s cpu_s main c1 c2 loop other classes notCDS load
for r in $(seq 1 "$ROUNDS"); do
  for v in "$@"; do spec "$v"; run "$r" "$n" "$j" "$k" ${fl[@]+"${fl[@]}"}; done
done
echo "proxy alone on core 1 (proxy.jvm-options), CPU at its first 200; work dir $WORK"
