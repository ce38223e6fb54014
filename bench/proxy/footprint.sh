#!/usr/bin/env bash
# Footprint of the proxy's start and of a short run, per build, load-independent where it can be
# (decision 0038): CPU seconds to ready, smaps_rollup (RSS/Pss/Private_Dirty) 3 s after ready and
# after DURATION s of wrk -t1 -c50, loaded classes and how many came from the archive, jars the
# process holds open, the live heap after a full GC (jcmd GC.class_histogram), and with NMT=1 the
# VM.native_memory summary. Set-up as run.sh's: NGINX backend with 1 KB and wrk on core 0, the proxy
# alone on core 1, its bootstrap, proxy.jvm-options, and per variant a static AppCDS archive trained
# as run.sh trains it. Variants alternate, so compared builds share the machine's load.
#
#   bench/proxy/footprint.sh [rounds (default 3)] name:jar[:extra JVM flags, comma-separated] ...
#   e.g. bench/proxy/footprint.sh 3 before:/tmp/main/bowline.jar after:cli/target/bowline-proxy.jar
#   NMT=1 ... name:jar:-XX:NativeMemoryTracking=summary   (NMT summary kept in the work dir)
#   DURATION=10 (seconds of load after the idle snapshot)
#   ADDR=127.0.7.41 (loopback address of backend and proxy; give concurrent runs different ones)
# A jar is a bowline-proxy.jar or, for builds before decision 0038, a bowline.jar; both run
# `proxy -c ...`. The jar `floor` runs bench/proxy/Floor.java instead (run.sh's netty-floor: the
# Netty jars of FLOOR_LIB, default cli/target/lib, on the same options, the JDK's CDS archive only).
# Per-run files (class+load log, histogram, smaps, with NMT=1 the NMT summary and jcmd System.map,
# which names the NMT category of every mapping) stay in the work dir; bench/proxy/attribute.py
# compares two of them category by category (decision 0041).
set -euo pipefail
ROUNDS=${1:-3}
shift || true
[ $# -gt 0 ] || { sed -n '2,22p' "$0" >&2; exit 2; }
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
source "$ROOT/bench/proxy/lib.sh"
bench_work bowline-footprint
bench_packages nginx:nginx-light wrk
JAVA=${BOWLINE_JAVA:-$(ls -d /usr/lib/jvm/*25*/bin/java 2>/dev/null | head -1)}
JCMD=${JAVA%/java}/jcmd
OPTS="$ROOT/cli/src/main/resources/dev/bowline/cli/mesh/proxy.jvm-options"
DURATION=${DURATION:-10}
A=${ADDR:-127.0.7.21}
bench_backend "$A:8081"
bench_router_bootstrap "$WORK/b.yaml" "$A" "$A" 8081
URL=http://$A:8080/1k
for _ in $(seq 1 100); do curl -sf -o /dev/null "http://$A:8081/1k" && break; sleep 0.05; done
FLAGS=(--enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow)
smaps() { awk '/^Rss:/{r=$2} /^Pss:/{p=$2} /^Private_Dirty:/{d=$2} END {printf "%.1f/%.1f/%.1f", r/1024, p/1024, d/1024}' "/proc/$1/smaps_rollup"; }
ticks() { cut -d')' -f2- "/proc/$1/stat" | awk '{print $12 + $13}'; }
up() { for _ in $(seq 1 1200); do curl -sf -o /dev/null "$URL" && return 0; sleep 0.02; done; echo "not up: $URL" >&2; exit 1; }
FLOOR_LIB=${FLOOR_LIB:-$ROOT/cli/target/lib}
archive() { # name jar flags...: train (start, 3 s of load, stop) and dump, as run.sh does
  local n=$1 jar=$2; shift 2
  if [ "$jar" = floor ]; then # no app archive, as run.sh runs it: compile it once
    FLOOR_CP=$(ls "$FLOOR_LIB"/netty-*.jar | tr '\n' ':')
    mkdir -p "$WORK/floor"
    [ -f "$WORK/floor/Floor.class" ] || "${JAVA%/java}/javac" -d "$WORK/floor" -cp "$FLOOR_CP" "$ROOT/bench/proxy/Floor.java"
    return
  fi
  taskset -c 1 "$JAVA" "@$OPTS" "$@" -XX:DumpLoadedClassList="$WORK/$n.classlist" "${FLAGS[@]}" \
    -jar "$jar" proxy -c "$WORK/b.yaml" --concurrency 1 --drain-time-s 0 >"$WORK/$n.train.out" 2>&1 &
  local t=$!; PIDS+=($t)
  up
  taskset -c 0 wrk -t1 -c50 -d3s "$URL" >/dev/null
  kill $t; wait $t 2>/dev/null || true
  sed -i '/^@cp picocli\//d' "$WORK/$n.classlist" # as run.sh and ./bowline do (decision 0036)
  "$JAVA" "@$OPTS" "$@" "${FLAGS[@]}" -Xshare:dump -XX:SharedClassListFile="$WORK/$n.classlist" \
    -XX:SharedArchiveFile="$WORK/$n.jsa" -cp "$jar" >"$WORK/$n.dump.out" 2>&1 ||
    { echo "no CDS archive for $n; see $WORK/$n.dump.out" >&2; exit 1; }
  sync "$WORK/$n.jsa"
}
run() { # round name jar flags...
  local r=$1 n=$2 jar=$3; shift 3
  local out=$WORK/$n.$r; mkdir -p "$out"
  local start; start=$(date +%s.%N)
  local main=(-XX:SharedArchiveFile="$WORK/$n.jsa" -Xshare:auto -jar "$jar" proxy -c "$WORK/b.yaml" --concurrency 1)
  [ "$jar" != floor ] || main=(-cp "$WORK/floor:$FLOOR_CP" Floor "$A:8080" "$A:8081")
  taskset -c 1 "$JAVA" "@$OPTS" "$@" "-Xlog:class+load:file=$out/classes.txt" "${FLAGS[@]}" \
    "${main[@]}" >"$out/proxy.out" 2>&1 &
  local pid=$!; PIDS+=($pid)
  up
  local cready; cready=$(ticks $pid)
  local wall; wall=$(echo "$(date +%s.%N) - $start" | bc)
  sleep 3
  local idle; idle=$(smaps $pid)
  local c0 t0 t1 c1; c0=$(ticks $pid); t0=$(date +%s.%N)
  taskset -c 0 wrk -t1 -c50 -d"${DURATION}s" "$URL" >"$out/wrk"
  t1=$(date +%s.%N); c1=$(ticks $pid)
  local after; after=$(smaps $pid)
  local reqs; reqs=$(awk '/requests in/{print $1}' "$out/wrk")
  # find fails when a descriptor closes while it lists them (wrk's connections): not an error here
  local jars; jars=$({ find "/proc/$pid/fd" -lname '*.jar' 2>/dev/null || true; } | wc -l)
  cp "/proc/$pid/smaps" "$out/smaps.txt" # the moment of `after`, before the histogram's full GC
  if [ -n "${NMT:-}" ]; then
    "$JCMD" $pid VM.native_memory summary >"$out/nmt.txt" 2>/dev/null || true
    "$JCMD" $pid System.map >"$out/map.txt" 2>/dev/null || true
  fi
  "$JCMD" $pid GC.class_histogram >"$out/histogram.txt" 2>/dev/null || true
  local live; live=$(awk '/^Total/{printf "%.1f", $3/1048576}' "$out/histogram.txt")
  kill $pid; wait $pid 2>/dev/null || true
  local classes; classes=$(grep -c 'class,load' "$out/classes.txt" || true)
  local fromjar; fromjar=$(grep 'class,load' "$out/classes.txt" | grep -vc 'shared objects file' || true)
  printf '%-10s %2s %6.2f %6.2f %17s %8s %7.0f %8.2f %17s %6s %6s %5s %7s %5s\n' "$n" "$r" "$wall" \
    "$(echo "scale=2; $cready / $TCK" | bc)" "$idle" "$reqs" "$(echo "$reqs / ($t1 - $t0)" | bc)" \
    "$(echo "scale=2; ($c1 - $c0) * 1000000 / $TCK / $reqs" | bc)" "$after" "$classes" "$fromjar" \
    "$jars" "$live" "$(cut -d' ' -f1 /proc/loadavg)"
}
for v in "$@"; do
  IFS=: read -r n j f <<< "$v"; fl=(); [ -z "${f:-}" ] || IFS=, read -ra fl <<< "$f"
  archive "$n" "$j" ${fl[@]+"${fl[@]}"}
done
printf '%-10s %2s %6s %6s %17s %8s %7s %8s %17s %6s %6s %5s %7s %5s\n' variant r ready_s cpu_s \
  idle_R/P/PD_MB requests rps cpu_ms/1k after_R/P/PD_MB classes notCDS jars live_MB load
for r in $(seq 1 "$ROUNDS"); do
  for v in "$@"; do
    IFS=: read -r n j f <<< "$v"; fl=(); [ -z "${f:-}" ] || IFS=, read -ra fl <<< "$f"
    run "$r" "$n" "$j" ${fl[@]+"${fl[@]}"}
  done
done
echo "wrk -t1 -c50 ${DURATION}s; proxy alone on core 1 (proxy.jvm-options, AppCDS per variant); work dir $WORK"
