#!/usr/bin/env bash
# Observability overhead (issue #10): the same Bowline proxy, same backend and load, once with the
# router alone and once as an Istio sidecar observes: istiod's metadata exchange and stats filters
# (null-VM Wasm, Istio's config), tracing at Istio's default 1% random sampling to OpenTelemetry
# (OTLP/gRPC to a real receiver: `bowline control-plane`'s, on core 0) and an access log to a file
# in Istio's text format. Reports rps and CPU per 1,000 requests of each, and the ratio (target:
# observed >= 85% of the router alone). Runs the two alternately ROUNDS times in the same session.
#
#   bench/proxy/observability.sh [duration-seconds (default 15)] [connections (default 50)]
#   ROUNDS=2 WARMUP=10 bench/proxy/observability.sh
#   CONFIGS="router stats alog trace observed" bench/proxy/observability.sh 10 50   # attribute the cost
#   PROXY_EXTRA_OPTS="-XX:StartFlightRecording=..." to profile the proxy
#   THREADS=1 ... also prints the proxy's CPU per 1,000 requests by thread (event loop, GC = "VM
#     Thread" with Serial, JIT compilers, access-log writer, span exporter, gRPC)
#   BASE_JAR=/tmp/old/cli/target/bowline-proxy.jar CONFIGS="router trace router@base trace@base" ...
#     compares another build in the same window: NAME@base runs NAME with BASE_JAR, and its ratio
#     is against router@base
#
# Backend: NGINX serving 1 KB, with wrk and the OTLP receiver, on core 0; the proxy alone on core 1.
# Loopback only. Run it on a quiet machine (load < 1): the figures are meaningless otherwise.
set -euo pipefail
DURATION=${1:-15}
CONNS=${2:-50}
WARMUP=${WARMUP:-10}
ROUNDS=${ROUNDS:-2}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
source "$ROOT/bench/proxy/lib.sh"
bench_work bowline-bench-obs
bench_packages nginx:nginx-light wrk
BACKEND=127.0.8.1:8081
bench_backend "$BACKEND"

bootstrap() { # $1: file, $2: extra HTTP filters (YAML), $3: extra HCM fields (YAML)
  cat > "$1" <<CONF
node:
  id: sidecar~127.0.8.4~bench-v1.bench~bench.svc.cluster.local
  cluster: bench.bench
  locality: {zone: zone-a}
  metadata: {NAME: bench-v1, NAMESPACE: bench, WORKLOAD_NAME: bench-v1, CLUSTER_ID: Kubernetes, LABELS: {app: bench, version: v1}}
admin: {address: {socket_address: {address: 127.0.8.4, port_value: 15000}}}
static_resources:
  listeners:
  - name: http
    address: {socket_address: {address: 127.0.8.4, port_value: 8080}}
    traffic_direction: INBOUND
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: bench
          codec_type: HTTP1
$3
          http_filters:
$2
          - name: envoy.filters.http.router
            typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
          route_config:
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes:
              - match: {prefix: /}
                route: {cluster: backend}
                decorator: {operation: "bench.bench.svc.cluster.local:8080/*"}
  clusters:
  - name: backend
    type: STATIC
    load_assignment:
      cluster_name: backend
      endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.8.1, port_value: 8081}}}}]}]
  - name: "outbound|4317||otel-collector.istio-system.svc.cluster.local"
    type: STATIC
    load_assignment:
      cluster_name: otel
      endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.8.5, port_value: 4317}}}}]}]
CONF
}
FILTERS=$(cat <<'F'
          - name: istio.metadata_exchange
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm
              config:
                vm_config: {runtime: envoy.wasm.runtime.null, code: {local: {inline_string: envoy.wasm.metadata_exchange}}}
                configuration: {"@type": type.googleapis.com/envoy.tcp.metadataexchange.config.MetadataExchange}
          - name: istio.stats
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm
              config:
                root_id: stats_inbound
                vm_config: {vm_id: stats_inbound, runtime: envoy.wasm.runtime.null, code: {local: {inline_string: envoy.wasm.stats}}}
                configuration: {"@type": type.googleapis.com/google.protobuf.StringValue, value: '{}'}
F
)
ALOG=$(cat <<H
          access_log:
          - name: envoy.access_loggers.file
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
              path: $WORK/access.log
              log_format: {text_format_source: {inline_string: "[%START_TIME%] \"%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%\" %RESPONSE_CODE% %RESPONSE_FLAGS% %RESPONSE_CODE_DETAILS% %CONNECTION_TERMINATION_DETAILS% \"%UPSTREAM_TRANSPORT_FAILURE_REASON%\" %BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% \"%REQ(X-FORWARDED-FOR)%\" \"%REQ(USER-AGENT)%\" \"%REQ(X-REQUEST-ID)%\" \"%REQ(:AUTHORITY)%\" \"%UPSTREAM_HOST%\" %UPSTREAM_CLUSTER% %UPSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS% %REQUESTED_SERVER_NAME% %ROUTE_NAME%\n"}}
H
)
TRACE=$(cat <<'H'
          tracing:
            client_sampling: {value: 100}
            random_sampling: {value: 1}
            overall_sampling: {value: 100}
            custom_tags:
            - {tag: istio.canonical_service, literal: {value: bench}}
            - {tag: istio.mesh_id, literal: {value: cluster.local}}
            provider:
              name: envoy.tracers.opentelemetry
              typed_config:
                "@type": type.googleapis.com/envoy.config.trace.v3.OpenTelemetryConfig
                grpc_service: {envoy_grpc: {cluster_name: "outbound|4317||otel-collector.istio-system.svc.cluster.local", authority: otel-collector.istio-system.svc.cluster.local}}
H
)
# CONFIGS picks what runs: router (bare), observed (everything), and one-feature variants to
# attribute the cost: stats (metadata exchange + stats), alog (access log), trace (1% tracing).
CONFIGS=${CONFIGS:-"router observed"}
bootstrap "$WORK/router.yaml" "" ""
bootstrap "$WORK/observed.yaml" "$FILTERS" "$ALOG
$TRACE"
bootstrap "$WORK/stats.yaml" "$FILTERS" ""
bootstrap "$WORK/alog.yaml" "" "$ALOG"
bootstrap "$WORK/trace.yaml" "" "$TRACE"

"$ROOT/mvnw" -q -pl cli -am package -DskipTests -Dspotless.check.skip=true >/dev/null
JAVA=${BOWLINE_JAVA:-$(ls -d /usr/lib/jvm/*25*/bin/java 2>/dev/null | head -1)}
# The proxy's JVM options: the file every proxy process uses (decision 0030), then overrides.
JAVA_OPTS="@$ROOT/cli/src/main/resources/dev/bowline/cli/mesh/proxy.jvm-options ${BOWLINE_BENCH_JAVA_OPTS:-}"
# utime+stime ticks of each of $1's threads, one "name ticks" line per thread (names without digits)
thread_ticks() { for t in /proc/$1/task/*; do
  local st; st=$(cat "$t/stat" 2>/dev/null) || continue
  local name=${st#*(}; name=${name%)*}; local rest=${st##*) }
  set -- $rest; echo "${name//[0-9]/} $((${12} + ${13}))"; done; }
# The OTLP receiver: the control plane's, as in bowline up (its xDS and monitoring ports unused).
taskset -c 0 "$JAVA" -XX:+UseSerialGC -Xmx128m -jar "$ROOT/cli/target/bowline.jar" control-plane \
  --address 127.0.8.5 --xds-port 0 --monitoring-port 15014 --otlp-port 4317 >"$WORK/receiver.out" 2>&1 &
PIDS+=($!)
wait_http "http://127.0.8.5:15014/ready"
URL=http://127.0.8.4:8080/1k
declare -A RPS CPU
run_one() { # $1: name, or name@base for BASE_JAR's build
  local jar="$ROOT/cli/target/bowline-proxy.jar" cfg=${1%@base}
  [ "$cfg" = "$1" ] || jar=${BASE_JAR:?"$1 needs BASE_JAR"}
  taskset -c 1 "$JAVA" $JAVA_OPTS ${PROXY_EXTRA_OPTS:-} --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow \
    -jar "$jar" proxy -c "$WORK/$cfg.yaml" --concurrency 1 >"$WORK/$1.out" 2>&1 &
  local pid=$!; PIDS+=($pid)
  wait_http "$URL"
  taskset -c 0 wrk -t1 -c"$CONNS" -d"${WARMUP}s" "$URL" > "$WORK/$1.warm"
  local c0; c0=$(cpu_ticks $pid)
  [ -z "${THREADS:-}" ] || thread_ticks $pid > "$WORK/$1.t0"
  taskset -c 0 wrk -t1 -c"$CONNS" -d"${DURATION}s" "$URL" > "$WORK/$1.wrk"
  local c1; c1=$(cpu_ticks $pid)
  [ -z "${THREADS:-}" ] || thread_ticks $pid > "$WORK/$1.t1"
  local reqs; reqs=$(awk '/requests in/{print $1}' "$WORK/$1.wrk")
  local rps; rps=$(awk '/Requests\/sec/{print $2}' "$WORK/$1.wrk")
  local errs; errs=$(awk '/Non-2xx|Socket errors/' "$WORK/$1.wrk")
  local per1k; per1k=$(echo "scale=2; ($c1 - $c0) * 1000 * 1000 / $TCK / $reqs" | bc)
  printf '%-9s %10s %14s %s\n' "$1" "$rps" "$per1k" "$errs"
  if [ -n "${THREADS:-}" ]; then # threads that ended during the run are not counted
    awk -v reqs="$reqs" -v tck="$TCK" '
      function key(line) { k=line; sub(/ [0-9]+$/,"",k); return k }
      function val(line) { n=split(line,f," "); return f[n] }
      FNR==NR { before[key($0)]+=val($0); next }
      { after[key($0)]+=val($0) }
      END { for (k in after) { d=(after[k]-before[k])*1000*1000/tck/reqs; if (d>0.05) printf "    %-24s %8.2f ms/1k\n", k, d } }' \
      "$WORK/$1.t0" "$WORK/$1.t1" | sort -k1,1
  fi
  RPS[$1]="${RPS[$1]:-} $rps"; CPU[$1]="${CPU[$1]:-} $per1k"
  kill "$pid"; wait "$pid" 2>/dev/null || true
}
wait_http "http://$BACKEND/1k"
printf '%-9s %10s %14s\n' config rps cpu_ms/1k_req
for _ in $(seq 1 "$ROUNDS"); do for c in $CONFIGS; do run_one "$c"; done; done
mean() { echo "$@" | tr ' ' '\n' | awk 'NF{s+=$1;n++} END{printf "%.1f", s/n}'; }
median() { echo "$@" | tr ' ' '\n' | awk 'NF' | sort -g | awk '{v[NR]=$1} END{printf "%.1f", NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
for c in $CONFIGS; do
  router=router; [ "${c%@base}" = "$c" ] || router=router@base
  [ -n "${RPS[$router]:-}" ] || { echo "$c: no $router run, no ratio"; continue; }
  r=$(mean ${RPS[$router]}); rc=$(mean ${CPU[$router]}); rm=$(median ${RPS[$router]})
  p=$(mean ${RPS[$c]}); pc=$(mean ${CPU[$c]}); pm=$(median ${RPS[$c]})
  if [ "$c" = "$router" ]; then echo "mean: $c $p rps (median $pm), $pc ms/1k"; continue; fi
  echo "mean: $c $p rps (median $pm), $pc ms/1k; ratio rps $c/$router: $(echo "scale=3; $p / $r" | bc), of medians $(echo "scale=3; $pm / $rm" | bc) (target for observed >= 0.85); cpu $router/$c: $(echo "scale=3; $rc / $pc" | bc)"
done
echo "spans received by the OTLP receiver: $(curl -s http://127.0.8.5:15014/debug/tracez); access log lines: $(wc -l < "$WORK/access.log" 2>/dev/null || echo 0)"
echo "wrk -t1 -c$CONNS -d${DURATION}s (after ${WARMUP}s warm-up) nginx 1 KB + wrk + OTLP receiver on core 0; proxy alone on core 1; $WORK"
