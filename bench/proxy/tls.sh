#!/usr/bin/env bash
# TLS benchmark (issues #6, #9): Bowline vs NGINX terminating the same TLS in front of the same
# NGINX backend (1 KB file), in one run. Two figures per proxy:
#   - mutual-TLS handshakes: `openssl s_time -new` (a full handshake per connection, client
#     certificate presented and verified, ECDSA P-256 keys as Istio's), server CPU per handshake;
#   - requests over TLS on keep-alive connections: wrk https (server certificate only: wrk cannot
#     present a client certificate), CPU per 1,000 requests.
# Bowline runs twice: BoringSSL (netty-tcnative, the default) and the JDK's SSLEngine
# (-Dbowline.tls.provider=jdk). Load generator and backend on core 0, proxy alone on core 1.
#
#   bench/proxy/tls.sh [seconds per measurement (default 10)]
#   PROXIES="nginx bowline bowline-jdk" bench/proxy/tls.sh 5
#
# Loopback only; installs nginx-light and wrk from Debian packages if missing.
set -euo pipefail
DURATION=${1:-10}
CONNS=${CONNS:-50}
WARMUP=${WARMUP:-5}
# keep-alive warm-up: the TLS request path compiles late under load (decision 0011 addendum)
WARMUP_KA=${WARMUP_KA:-20}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
source "$ROOT/bench/proxy/lib.sh"
bench_work bowline-tls-bench
bench_packages nginx:nginx-light wrk openssl

# --- certificates: a root, a server and a client, SPIFFE URI SANs, ECDSA P-256 -------------------
bench_root "$WORK/certs"; C=$CERTS
bench_leaf server URI:spiffe://cluster.local/ns/bench/sa/server,DNS:localhost
bench_leaf client URI:spiffe://cluster.local/ns/bench/sa/client,DNS:localhost
chmod -R a+rX "$WORK"

BACKEND=127.0.7.11:8081
mkdir -p "$WORK/peer"
bench_backend "$BACKEND"

# NGINX terminating TLS, optional client certificates verified against the root (like Bowline's
# PERMISSIVE-free mTLS chain: s_time presents one, wrk does not), TLS 1.3 and 1.2.
bench_nginx_proxy "$WORK/peer" "127.0.7.12:8443 ssl" "$BACKEND" "    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_certificate $C/server.pem;
    ssl_certificate_key $C/server.key;
    ssl_client_certificate $C/root.pem;
    ssl_verify_client optional;
    ssl_session_cache off;
    ssl_session_tickets off;"
cat > "$WORK/bowline.yaml" <<CONF
node: {id: tls-bench}
admin: {address: {socket_address: {address: 127.0.7.13, port_value: 15000}}}
static_resources:
  listeners:
  - name: https
    address: {socket_address: {address: 127.0.7.13, port_value: 8443}}
    filter_chains:
    - transport_socket:
        name: envoy.transport_sockets.tls
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext
          common_tls_context:
            tls_certificates: [{certificate_chain: {filename: $C/server.pem}, private_key: {filename: $C/server.key}}]
            validation_context:
              trusted_ca: {filename: $C/root.pem}
              match_typed_subject_alt_names: [{san_type: URI, matcher: {prefix: "spiffe://cluster.local/"}}]
      filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: bench
          codec_type: HTTP1
          http_filters:
          - name: envoy.filters.http.router
            typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
          route_config:
            virtual_hosts:
            - {name: all, domains: ["*"], routes: [{match: {prefix: /}, route: {cluster: backend}}]}
  clusters:
  - name: backend
    type: STATIC
    load_assignment:
      cluster_name: backend
      endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.7.11, port_value: 8081}}}}]}]
CONF

[ -f "$ROOT/cli/target/bowline-proxy.jar" ] || "$ROOT/mvnw" -q -pl cli -am package -DskipTests -Dspotless.check.skip=true >/dev/null
source "$ROOT/tools/find-java.sh" >/dev/null 2>&1 || true
JAVA=${BOWLINE_JAVA:-$(ls -d /usr/lib/jvm/*25*/bin/java 2>/dev/null | head -1)}
# The proxy's JVM options: the file every proxy process uses (decision 0030), then overrides.
JAVA_OPTS="@$ROOT/cli/src/main/resources/dev/bowline/cli/mesh/proxy.jvm-options ${BOWLINE_BENCH_JAVA_OPTS:-}"

wait_tls() { for _ in $(seq 1 300); do curl -skf -o /dev/null "$1" && return 0; sleep 0.05; done; echo "not up: $1" >&2; return 1; }

printf '%-12s %10s %13s %12s %10s %14s %9s\n' proxy mtls_hs/s cpu_ms/1k_hs hs/cpu_sec rps_tls cpu_ms/1k_req p99_ms
run_one() {
  local name=$1 hostport=$2; shift 2
  taskset -c 1 "$@" >"$WORK/$name.out" 2>&1 &
  local pid=$!; PIDS+=($pid)
  wait_tls "https://$hostport/1k"
  local fam; fam=$(family $pid | tr '\n' ' ')
  local st=(openssl s_time -connect "$hostport" -new -cert "$C/client.pem" -key "$C/client.key" -CAfile "$C/root.pem")
  taskset -c 0 "${st[@]}" -time "$WARMUP" >/dev/null 2>&1 || true
  local c0; c0=$(cpu_ticks $fam)
  taskset -c 0 "${st[@]}" -time "$DURATION" > "$WORK/$name.stime" 2>&1 || true
  local c1; c1=$(cpu_ticks $fam)
  local conns; conns=$(awk '/connections in [0-9.]+s;/{print $1; exit}' "$WORK/$name.stime")
  local hs; hs=$(awk '/connections\/user sec/{print $1; exit}' "$WORK/$name.stime")
  hs=$(echo "scale=1; $conns / $DURATION" | bc)
  local hs_cpu; hs_cpu=$(echo "scale=3; ($c1 - $c0) * 1000 / $TCK * 1000 / $conns" | bc)
  taskset -c 0 wrk -t1 -c"$CONNS" -d"${WARMUP_KA}s" "https://$hostport/1k" >/dev/null
  c0=$(cpu_ticks $fam)
  taskset -c 0 wrk -t1 -c"$CONNS" -d"${DURATION}s" --latency "https://$hostport/1k" > "$WORK/$name.wrk"
  c1=$(cpu_ticks $fam)
  local reqs; reqs=$(awk '/requests in/{print $1}' "$WORK/$name.wrk")
  local rps; rps=$(awk '/Requests\/sec/{print $2}' "$WORK/$name.wrk")
  local p99; p99=$(awk '$1=="99%"{print $2}' "$WORK/$name.wrk")
  local per1k; per1k=$(echo "scale=2; ($c1 - $c0) * 1000 / $TCK * 1000 / $reqs" | bc)
  local per_core; per_core=$(echo "scale=0; 1000000 / $hs_cpu" | bc)
  printf '%-12s %10s %13s %12s %10s %14s %9s\n' "$name" "$hs" "$hs_cpu" "$per_core" "$rps" "$per1k" "$(ms "$p99")"
  kill "$pid"; wait "$pid" 2>/dev/null || true
}

PROXIES=${PROXIES:-"nginx bowline bowline-jdk"}
want() { [[ " $PROXIES " == *" $1 "* ]]; }
BOWLINE=(-jar "$ROOT/cli/target/bowline-proxy.jar" proxy -c "$WORK/bowline.yaml" --concurrency 1)
want nginx && run_one nginx 127.0.7.12:8443 "$NGINX" -p "$WORK/peer" -c "$WORK/peer/nginx.conf"
want bowline && run_one bowline 127.0.7.13:8443 "$JAVA" $JAVA_OPTS --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow "${BOWLINE[@]}"
want bowline-jdk && run_one bowline-jdk 127.0.7.13:8443 "$JAVA" $JAVA_OPTS -Dbowline.tls.provider=jdk --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow "${BOWLINE[@]}"
echo "s_time -new (mTLS, ECDSA P-256, ${DURATION}s after ${WARMUP}s warm-up); hs/cpu_sec = full mTLS handshakes per CPU-second of the server (per core); wrk -t1 -c$CONNS -d${DURATION}s https keep-alive after ${WARMUP_KA}s warm-up; load + backend on core 0, proxy alone on core 1; load average: $(cut -d' ' -f1-3 /proc/loadavg); work dir $WORK"
