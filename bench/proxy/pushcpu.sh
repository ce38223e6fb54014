#!/usr/bin/env bash
# CPU a sidecar spends on a big mesh's config, load-independent: Bowline's control plane
# (bench/controlplane's BenchControlPlane: SERVICES gRPC services of ENDPOINTS endpoints each) on
# core 0, one `bowline proxy` with a sidecar's bootstrap (ADS, SotW) alone on core 1. Per run it
# reads the process's CPU and its main and compiler threads' when the first full config has been
# applied, then when each of PUSHES full pushes has been (a service added, then removed again:
# every push carries all SERVICES clusters and the whole route table, as Istio's SotW CDS/RDS do).
# "Applied": /ready answers 200 (the first sync only), the process has used CPU since the push,
# then at most 10 ms over 1 s; after the CPU is read, /clusters must hold the expected count.
# Variants alternate, so builds or JVM flags share the machine's load. Decision 0043 (whether
# protobuf's descriptor classes may be kept from the JIT).
#
#   bench/proxy/pushcpu.sh [rounds (default 3)] name:jar[:flags,comma-separated] ...
#   e.g. bench/proxy/pushcpu.sh 3 main:cli/target/bowline-proxy.jar \
#          excl:cli/target/bowline-proxy.jar:-XX:CompileCommandFile=/tmp/excl.txt
#   SERVICES=2000 ENDPOINTS=10 PUSHES=4 ADDR=127.0.7.56 (the proxy's admin and listeners)
#
# Columns: the first sync (s of CPU: whole process, main, C1, C2, the rest: config thread, gRPC,
# event loop, GC), then the mean per push of the same, and the load average.
set -euo pipefail
ROUNDS=${1:-3}
shift || true
[ $# -gt 0 ] || { sed -n '2,19p' "$0" >&2; exit 2; }
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
source "$ROOT/bench/proxy/lib.sh"
bench_work bowline-pushcpu 127.0.7.56
A=${ADDR:-127.0.7.56}
SERVICES=${SERVICES:-2000}
ENDPOINTS=${ENDPOINTS:-10}
PUSHES=${PUSHES:-4}
JAVA=${BOWLINE_JAVA:-$(ls -d /usr/lib/jvm/*25*/bin/java 2>/dev/null | head -1)}
OPTS="$ROOT/cli/src/main/resources/dev/bowline/cli/mesh/proxy.jvm-options"
FLAGS=(--enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow)

"$ROOT/mvnw" -q -o -f "$ROOT/pom.xml" package -pl bench/controlplane -am -DskipTests \
  -Dspotless.check.skip=true -Dit.test=none -Dfailsafe.failIfNoSpecifiedTests=false >"$WORK/build.out" 2>&1 ||
  { cat "$WORK/build.out" >&2; exit 1; }
CPDIR="$ROOT/bench/controlplane/target"
mkfifo "$WORK/cp.in"
taskset -c 0 "${JAVA}" "${FLAGS[@]}" -Xmx2g -cp "$CPDIR/classes:$(cat "$CPDIR/classpath.txt")" \
  dev.bowline.bench.controlplane.BenchControlPlane "$SERVICES" "$ENDPOINTS" <"$WORK/cp.in" >"$WORK/cp.out" 2>"$WORK/cp.err" &
PIDS+=($!)
exec 3>"$WORK/cp.in"
for _ in $(seq 1 600); do grep -q '^ready ' "$WORK/cp.out" && break; sleep 0.1; done
read -r _ XDS _ < <(grep '^ready ' "$WORK/cp.out") || { echo "control plane not ready; see $WORK/cp.err" >&2; exit 1; }
cp_say() { # command answer-prefix: sends a command and waits for its answer line
  local n; n=$(grep -c "^$2" "$WORK/cp.out" || true)
  echo "$1" >&3
  for _ in $(seq 1 600); do [ "$(grep -c "^$2" "$WORK/cp.out" || true)" -gt "$n" ] && return 0; sleep 0.05; done
  echo "control plane did not answer '$1'" >&2; exit 1
}

cat >"$WORK/b.yaml" <<YAML
node:
  id: sidecar~$A~client-0.bench~bench.svc.cluster.local
  cluster: client.bench
  metadata:
    NAMESPACE: bench
    LABELS: {app: client}
    ISTIO_VERSION: 1.16.0
    INTERCEPTION_MODE: NONE
    INSTANCE_IPS: $A
    NAME: client-0
    WORKLOAD_NAME: client
    SERVICE_ACCOUNT: default
    CLUSTER_ID: Kubernetes
    MESH_ID: cluster.local
admin:
  address: {socket_address: {address: $A, port_value: 15000}}
dynamic_resources:
  ads_config:
    api_type: GRPC
    transport_api_version: V3
    grpc_services: [{envoy_grpc: {cluster_name: xds-grpc}}]
  lds_config: {ads: {}, resource_api_version: V3}
  cds_config: {ads: {}, resource_api_version: V3}
static_resources:
  clusters:
  - name: xds-grpc
    type: STATIC
    connect_timeout: 1s
    typed_extension_protocol_options:
      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
        "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
        explicit_http_config: {http2_protocol_options: {}}
    load_assignment:
      cluster_name: xds-grpc
      endpoints:
      - lb_endpoints:
        - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: $XDS}}}
YAML

# CPU in ns: the whole process (/proc/PID/stat, threads that ended included: the config thread
# ends after 1 s idle, decision 0037 addendum 8), main, C1, C2 (schedstat), the rest
threads() {
  local pid=$1 t comm ns main=0 c1=0 c2=0 all
  all=$(( $(cut -d')' -f2- "/proc/$pid/stat" | awk '{print $12 + $13}') * 1000000000 / TCK ))
  for t in /proc/"$pid"/task/*; do
    comm=$(cat "$t/comm" 2>/dev/null) || continue
    ns=$(cut -d' ' -f1 "$t/schedstat" 2>/dev/null) || continue
    [ "$comm" != java ] || [ "${t##*/}" = "$pid" ] || comm=main
    case "$comm" in
      main) main=$((main + ns)) ;;
      "C1 CompilerThre") c1=$((c1 + ns)) ;;
      "C2 CompilerThre") c2=$((c2 + ns)) ;;
    esac
  done
  echo "$all $main $c1 $c2 $((all - main - c1 - c2))"
}
all_ns() { local s; s=$(threads "$1"); set -- $s; echo "$1"; }
settle() { # pid before: until the process has used CPU since before (if >= 0), then < 10 ms over 1 s
  local pid=$1 before=$2 a b
  while [ "$before" -ge 0 ]; do [ "$(all_ns "$pid")" -gt $((before + 20000000)) ] && break; sleep 0.05; done
  a=$(all_ns "$pid")
  for _ in $(seq 1 240); do
    sleep 1
    b=$(all_ns "$pid")
    [ $((b - a)) -le 10000000 ] && return 0
    a=$b
  done
  echo "proxy $pid never settled" >&2; exit 1
}
clusters() { # distinct clusters in /clusters (kept in $1)
  curl -sf "http://$A:15000/clusters" >"$1"
  cut -d: -f1 "$1" | sort -u | wc -l
}
sec() { echo "scale=3; $1 / 10^9" | bc -l; }
row() { # ns figures -> s figures
  local out="" v
  for v in "$@"; do out+=$(printf ' %6.3f' "$(sec "$v")"); done
  echo "$out"
}
EXTRA=$((SERVICES + 100000))
run() { # round name jar flags...
  local r=$1 n=$2 jar=$3; shift 3
  local out=$WORK/$n.$r; mkdir -p "$out"
  taskset -c 1 "$JAVA" "@$OPTS" "$@" "${FLAGS[@]}" \
    -jar "$jar" proxy -c "$WORK/b.yaml" --concurrency 1 >"$out/proxy.out" 2>&1 &
  local pid=$!; PIDS+=($pid)
  for _ in $(seq 1 2400); do curl -sf -o /dev/null "http://$A:15000/ready" && break; sleep 0.05; done
  settle "$pid" -1
  local first; first=$(clusters "$out/clusters.0")
  # a build from before session 14 says ready before its first config has warmed: wait for it
  for _ in $(seq 1 120); do
    [ "$first" -lt "$SERVICES" ] || break
    sleep 1; settle "$pid" -1; first=$(clusters "$out/clusters.0")
  done
  local s0; s0=$(threads "$pid")
  [ "$first" -ge "$SERVICES" ] || { echo "$n: only $first clusters after the first sync; see $out/proxy.out" >&2; exit 1; }
  local k prev cur sum=(0 0 0 0 0) i
  prev=($s0)
  for k in $(seq 1 "$PUSHES"); do
    if [ $((k % 2)) = 1 ]; then cp_say "add $EXTRA" added; else cp_say "remove $EXTRA" removed; fi
    settle "$pid" "${prev[0]}"
    cur=($(threads "$pid"))
    for i in 0 1 2 3 4; do sum[i]=$((sum[i] + cur[i] - prev[i])); done
    local want=$first; [ $((k % 2)) = 0 ] || want=$((first + 1))
    local got; got=$(clusters "$out/clusters.$k")
    [ "$got" = "$want" ] || { echo "$n: push $k left $got clusters, not $want" >&2; exit 1; }
    prev=($(threads "$pid"))
  done
  for t in /proc/"$pid"/task/*; do echo "$(cat "$t/comm") $(cut -d' ' -f1 "$t/schedstat")"; done >"$out/threads.txt" 2>/dev/null || true
  kill "$pid"; wait "$pid" 2>/dev/null || true
  for i in 0 1 2 3 4; do sum[i]=$((sum[i] / PUSHES)); done
  printf '%-8s %2s %6s%s |%s %5s\n' "$n" "$r" "$first" "$(row $s0)" "$(row "${sum[@]}")" "$(cut -d' ' -f1 /proc/loadavg)"
}
spec() { # name:jar[:flags] -> n j fl (the flags may contain colons)
  IFS=: read -r n j f <<< "$1"
  fl=(); [ -z "${f:-}" ] || IFS=, read -ra fl <<< "$f"
}
echo "control plane: $SERVICES services x $ENDPOINTS endpoints on 127.0.0.1:$XDS; $PUSHES pushes per run"
printf '%-8s %2s %6s %6s %6s %6s %6s %6s | %6s %6s %6s %6s %6s %5s\n' variant r clust \
  sync main c1 c2 other push main c1 c2 other load
for r in $(seq 1 "$ROUNDS"); do
  for v in "$@"; do spec "$v"; run "$r" "$n" "$j" ${fl[@]+"${fl[@]}"}; done
done
echo 'seconds of CPU: the first sync (from the start), then the mean per full push; work dir' "$WORK"
