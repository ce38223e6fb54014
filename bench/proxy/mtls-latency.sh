#!/usr/bin/env bash
# Added latency of mutual TLS between two sidecars (issue #9): a client at a fixed 1,000 requests/s
# through sidecar A (outbound) and sidecar B (inbound) to an NGINX backend (1 KB file), once in
# plaintext and once with Istio-shaped mTLS between A and B (ECDSA P-256 certificates with SPIFFE
# URI SANs, client certificate required, the peer's SAN checked), through the *same* two proxies.
# Rounds alternate plaintext / mTLS after a warm-up of both; reported per round: p50, p99 (hey's
# 0.1 ms resolution) and the CPU both sidecars used per 1,000 requests.
#
#   bench/proxy/mtls-latency.sh [seconds per round (default 10)] [rounds (default 3)]
#   RATE=1000 CONNS=10 WARMUP=20 bench/proxy/mtls-latency.sh
#
# The load is `hey -q` (a fixed rate per connection: CONNS connections of RATE/CONNS requests/s
# each; at sub-millisecond latencies against a 10 ms interval it behaves like an open-loop client).
# Loopback only; installs nginx-light and hey from Debian packages if missing. Both sidecars on
# core 1, load generator and backend on core 0.
set -euo pipefail
DURATION=${1:-10}
ROUNDS=${2:-3}
RATE=${RATE:-1000}
CONNS=${CONNS:-10}
WARMUP=${WARMUP:-20}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
source "$ROOT/bench/proxy/lib.sh"
bench_work bowline-mtls-lat
bench_packages nginx:nginx-light hey openssl

bench_root "$WORK/certs"; C=$CERTS
bench_leaf a URI:spiffe://cluster.local/ns/bench/sa/a
bench_leaf b URI:spiffe://cluster.local/ns/bench/sa/b
chmod -R a+rX "$WORK"

BACKEND=127.0.7.31:8081
bench_backend "$BACKEND"

hcm() { # cluster
  cat <<CONF
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: $1
          codec_type: HTTP1
          http_filters:
          - name: envoy.filters.http.router
            typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
          route_config:
            virtual_hosts:
            - {name: all, domains: ["*"], routes: [{match: {prefix: /}, route: {cluster: $1}}]}
CONF
}
static_cluster() { # name ip port
  cat <<CONF
  - name: $1
    type: STATIC
    load_assignment:
      cluster_name: $1
      endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: $2, port_value: $3}}}}]}]
CONF
}
# sidecar A: outbound, plaintext listener 9080 -> B:9081, mTLS listener 9090 -> B:9443 (mTLS)
cat > "$WORK/a.yaml" <<CONF
node: {id: sidecar-a}
admin: {address: {socket_address: {address: 127.0.7.32, port_value: 15000}}}
static_resources:
  listeners:
  - name: plain_out
    address: {socket_address: {address: 127.0.7.32, port_value: 9080}}
    filter_chains:
    - filters:
$(hcm to_b_plain)
  - name: mtls_out
    address: {socket_address: {address: 127.0.7.32, port_value: 9090}}
    filter_chains:
    - filters:
$(hcm to_b_mtls)
  clusters:
$(static_cluster to_b_plain 127.0.7.33 9081)
$(static_cluster to_b_mtls 127.0.7.33 9443)
    transport_socket:
      name: envoy.transport_sockets.tls
      typed_config:
        "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext
        common_tls_context:
          alpn_protocols: [istio-peer-exchange, istio]
          tls_certificates: [{certificate_chain: {filename: $C/a.pem}, private_key: {filename: $C/a.key}}]
          validation_context:
            trusted_ca: {filename: $C/root.pem}
            match_typed_subject_alt_names: [{san_type: URI, matcher: {exact: "spiffe://cluster.local/ns/bench/sa/b"}}]
CONF
# sidecar B: inbound, plaintext 9081 and mTLS 9443 (client certificate required), both -> backend
cat > "$WORK/b.yaml" <<CONF
node: {id: sidecar-b}
admin: {address: {socket_address: {address: 127.0.7.33, port_value: 15000}}}
static_resources:
  listeners:
  - name: plain_in
    address: {socket_address: {address: 127.0.7.33, port_value: 9081}}
    filter_chains:
    - filters:
$(hcm backend)
  - name: mtls_in
    address: {socket_address: {address: 127.0.7.33, port_value: 9443}}
    filter_chains:
    - transport_socket:
        name: envoy.transport_sockets.tls
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext
          require_client_certificate: true
          common_tls_context:
            alpn_protocols: [istio-peer-exchange, istio]
            tls_certificates: [{certificate_chain: {filename: $C/b.pem}, private_key: {filename: $C/b.key}}]
            validation_context:
              trusted_ca: {filename: $C/root.pem}
              match_typed_subject_alt_names: [{san_type: URI, matcher: {prefix: "spiffe://cluster.local/"}}]
      filters:
$(hcm backend)
  clusters:
$(static_cluster backend 127.0.7.31 8081)
CONF

[ -f "$ROOT/cli/target/bowline-proxy.jar" ] || "$ROOT/mvnw" -q -pl cli -am package -DskipTests -Dspotless.check.skip=true >/dev/null
source "$ROOT/tools/find-java.sh" >/dev/null 2>&1 || true
JAVA=${BOWLINE_JAVA:-$(ls -d /usr/lib/jvm/*25*/bin/java 2>/dev/null | head -1)}
JAVA_OPTS=${BOWLINE_BENCH_JAVA_OPTS:-"-XX:+UseSerialGC -Xms64m -Xmx64m -XX:ActiveProcessorCount=1 -Xss512k -XX:+UseCompactObjectHeaders"}
for s in a b; do
  taskset -c 1 "$JAVA" $JAVA_OPTS --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow \
    -jar "$ROOT/cli/target/bowline-proxy.jar" proxy -c "$WORK/$s.yaml" --concurrency 1 >"$WORK/$s.out" 2>&1 &
  PIDS+=($!); eval "PID_$s=$!"
done
up() { for _ in $(seq 1 400); do curl -sf -o /dev/null "$1" && return 0; sleep 0.05; done; echo "not up: $1" >&2; exit 1; }
PLAIN=http://127.0.7.32:9080/1k
MTLS=http://127.0.7.32:9090/1k
up "$PLAIN"; up "$MTLS"

QPS=$((RATE / CONNS))
load() { taskset -c 0 hey -z "${1}s" -c "$CONNS" -q "$QPS" -disable-compression "$2"; }
load "$WARMUP" "$PLAIN" >/dev/null
load "$WARMUP" "$MTLS" >/dev/null
pct() { awk -v p="$1%" '$1==p && $2=="in" {printf "%.2f", $3*1000}' "$2"; }
printf '%-6s %6s %8s %9s %9s %13s\n' round path rps p50_ms p99_ms cpu_ms/1k_req
declare -A P99S
for r in $(seq 1 "$ROUNDS"); do
  for path in plain mtls; do
    url=$PLAIN; [ "$path" = mtls ] && url=$MTLS
    c0=$(cpu_ticks "$PID_a" "$PID_b")
    load "$DURATION" "$url" > "$WORK/$path.$r.txt"
    c1=$(cpu_ticks "$PID_a" "$PID_b")
    n=$(awk '/\[200\]/{print $2}' "$WORK/$path.$r.txt")
    rps=$(awk '/Requests\/sec/{printf "%.0f", $2}' "$WORK/$path.$r.txt")
    p99=$(pct 99 "$WORK/$path.$r.txt")
    P99S[$path]="${P99S[$path]:-} $p99"
    printf '%-6s %6s %8s %9s %9s %13s\n' "$r" "$path" "$rps" "$(pct 50 "$WORK/$path.$r.txt")" "$p99" \
      "$(echo "scale=1; ($c1 - $c0) * 1000 / $TCK * 1000 / ${n:-1}" | bc)"
  done
done
med() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
mp=$(echo "${P99S[plain]}" | med); mm=$(echo "${P99S[mtls]}" | med)
echo "median p99: plain ${mp} ms, mtls ${mm} ms, added by mTLS $(echo "scale=2; $mm - $mp" | bc) ms (target <= +0.1 ms)"
echo "hey -c $CONNS -q $QPS (${RATE} rps) ${DURATION}s x $ROUNDS rounds after ${WARMUP}s warm-up each; sidecars A+B on core 1, hey + backend on core 0; load average: $(cut -d' ' -f1-3 /proc/loadavg); work dir $WORK"
