#!/usr/bin/env bash
# Route policy overhead (issue #8): the same Bowline proxy, same backend and load, once with the
# router alone and once with a route carrying a retry policy, CORS (per-route policy, the request
# carries an allowed Origin), a local rate limit that never triggers and a fault filter at 0%.
# Reports rps and CPU per 1,000 requests of each, and the ratio (target: policies >= 90% of the
# router alone). Runs the two alternately ROUNDS times in the same session.
#
#   bench/proxy/policies.sh [duration-seconds (default 15)] [connections (default 50)]
#   ROUNDS=2 WARMUP=10 bench/proxy/policies.sh
#
# Backend: NGINX serving 1 KB, with wrk, on core 0; the proxy alone on core 1. Loopback only.
set -euo pipefail
DURATION=${1:-15}
CONNS=${2:-50}
WARMUP=${WARMUP:-10}
ROUNDS=${ROUNDS:-2}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
source "$ROOT/bench/proxy/lib.sh"
bench_work bowline-bench-pol
bench_packages nginx:nginx-light wrk
BACKEND=127.0.8.1:8081
bench_backend "$BACKEND"

bootstrap() { # $1: file, $2: extra HTTP filters (YAML), $3: extra route fields (YAML)
  cat > "$1" <<CONF
node: {id: bench}
admin: {address: {socket_address: {address: 127.0.8.4, port_value: 15000}}}
static_resources:
  listeners:
  - name: http
    address: {socket_address: {address: 127.0.8.4, port_value: 8080}}
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: bench
          codec_type: HTTP1
          http_filters:
$2
          - name: envoy.filters.http.router
            typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
          route_config:
            virtual_hosts:
            - name: all
              domains: ["*"]
              include_request_attempt_count: true
              routes:
              - match: {prefix: /}
                route:
                  cluster: backend
$3
  clusters:
  - name: backend
    type: STATIC
    load_assignment:
      cluster_name: backend
      endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.8.1, port_value: 8081}}}}]}]
CONF
}
bootstrap "$WORK/router.yaml" "" ""
bootstrap "$WORK/policies.yaml" "$(cat <<'F'
          - name: envoy.filters.http.fault
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault
              abort: {http_status: 503, percentage: {numerator: 0}}
              delay: {fixed_delay: 1s, percentage: {numerator: 0}}
          - name: envoy.filters.http.cors
            typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors}
          - name: envoy.filters.http.local_ratelimit
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit
              stat_prefix: bench
              token_bucket: {max_tokens: 1000000000, tokens_per_fill: 1000000000, fill_interval: 1s}
              filter_enabled: {runtime_key: e, default_value: {numerator: 100}}
              filter_enforced: {runtime_key: f, default_value: {numerator: 100}}
F
)" "$(cat <<'R'
                  retry_policy:
                    retry_on: connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes
                    num_retries: 2
                    retriable_status_codes: [503]
                    host_selection_retry_max_attempts: 5
                    retry_host_predicate:
                    - name: envoy.retry_host_predicates.previous_hosts
                      typed_config: {"@type": type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate}
                typed_per_filter_config:
                  envoy.filters.http.cors:
                    "@type": type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy
                    allow_origin_string_match: [{exact: "https://bench.example"}]
                    allow_methods: GET
                    expose_headers: x-a
R
)"

"$ROOT/mvnw" -q -pl cli -am package -DskipTests -Dspotless.check.skip=true >/dev/null
JAVA=${BOWLINE_JAVA:-$(ls -d /usr/lib/jvm/*25*/bin/java 2>/dev/null | head -1)}
# The proxy's JVM options: the file every proxy process uses (decision 0030), then overrides.
JAVA_OPTS="@$ROOT/cli/src/main/resources/dev/bowline/cli/mesh/proxy.jvm-options ${BOWLINE_BENCH_JAVA_OPTS:-}"
URL=http://127.0.8.4:8080/1k
declare -A RPS CPU
run_one() { # $1: name
  taskset -c 1 "$JAVA" $JAVA_OPTS --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow \
    -jar "$ROOT/cli/target/bowline-proxy.jar" proxy -c "$WORK/$1.yaml" --concurrency 1 >"$WORK/$1.out" 2>&1 &
  local pid=$!; PIDS+=($pid)
  wait_http "$URL"
  taskset -c 0 wrk -t1 -c"$CONNS" -d"${WARMUP}s" -H "Origin: https://bench.example" "$URL" >/dev/null
  local c0; c0=$(cpu_ticks $pid)
  taskset -c 0 wrk -t1 -c"$CONNS" -d"${DURATION}s" -H "Origin: https://bench.example" "$URL" > "$WORK/$1.wrk"
  local c1; c1=$(cpu_ticks $pid)
  local reqs; reqs=$(awk '/requests in/{print $1}' "$WORK/$1.wrk")
  local rps; rps=$(awk '/Requests\/sec/{print $2}' "$WORK/$1.wrk")
  local errs; errs=$(awk '/Non-2xx|Socket errors/' "$WORK/$1.wrk")
  local per1k; per1k=$(echo "scale=2; ($c1 - $c0) * 1000 * 1000 / $TCK / $reqs" | bc)
  printf '%-9s %10s %14s %s\n' "$1" "$rps" "$per1k" "$errs"
  RPS[$1]="${RPS[$1]:-} $rps"; CPU[$1]="${CPU[$1]:-} $per1k"
  kill "$pid"; wait "$pid" 2>/dev/null || true
}
wait_http "http://$BACKEND/1k"
printf '%-9s %10s %14s\n' config rps cpu_ms/1k_req
for _ in $(seq 1 "$ROUNDS"); do run_one router; run_one policies; done
mean() { echo "$@" | tr ' ' '\n' | awk 'NF{s+=$1;n++} END{printf "%.1f", s/n}'; }
r=$(mean ${RPS[router]}); p=$(mean ${RPS[policies]})
rc=$(mean ${CPU[router]}); pc=$(mean ${CPU[policies]})
echo "mean: router $r rps, $rc ms/1k; policies $p rps, $pc ms/1k"
echo "ratio rps policies/router: $(echo "scale=3; $p / $r" | bc); cpu router/policies: $(echo "scale=3; $rc / $pc" | bc)"
echo "wrk -t1 -c$CONNS -d${DURATION}s (after ${WARMUP}s warm-up) with Origin; nginx 1 KB + wrk on core 0; proxy alone on core 1; $WORK"
