# shellcheck shell=bash
# Shared by the bench/proxy scripts: work directory and clean-up, Debian packages, the NGINX
# backend serving 1 KB, test certificates, and /proc helpers. Source it from a script that runs
# with `set -euo pipefail`:
#
#   source "$(dirname "$0")/lib.sh"
#   bench_work bowline-bench                 # $WORK, $TCK, $PIDS (stopped on exit)
#   bench_packages nginx:nginx-light wrk     # installs what is missing; sets $NGINX, $HAPROXY
#   bench_backend 127.0.7.1:8081             # NGINX on core 0 serving $WORK/www/1k
#   bench_nginx_proxy DIR LISTEN BACKEND / bench_haproxy FILE LISTEN BACKEND   # the peers' configs

# bench_work PREFIX [DEFAULT_ADDR]: a fresh, world-readable /tmp/PREFIX.XXXXXX in $WORK (NGINX
# workers read it), the clock ticks per second in $TCK, and $PIDS, every process in it killed when
# the script exits. First it takes the bench lock (bench_lock), unless the script takes its loopback
# address from $ADDR (it passes its default as DEFAULT_ADDR) and ADDR names another one.
bench_work() {
  if [ -z "${2:-}" ] || [ -z "${ADDR:-}" ] || [ "$ADDR" = "$2" ]; then
    bench_lock
  fi
  WORK=$(mktemp -d "/tmp/$1.XXXXXX")
  chmod 755 "$WORK"
  TCK=$(getconf CLK_TCK)
  PIDS=()
  trap bench_cleanup EXIT
}
bench_cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }

# bench_lock: one bench script at a time on this machine. The scripts bind fixed loopback addresses
# (run.sh 127.0.7.1-4, alloc.sh and tls.sh 127.0.7.11, ...), and two at once also share the cores
# they measure. An flock on /tmp/bowline-bench.lock (the work directories' parent), held until the
# script exits (its background processes inherit it, and they hold the addresses too); the file
# names the holder, and a second script says whom it waits for before it blocks.
bench_lock() {
  BENCH_LOCK=${BENCH_LOCK:-/tmp/bowline-bench.lock}
  exec {BENCH_LOCK_FD}<>"$BENCH_LOCK"
  if ! flock -n "$BENCH_LOCK_FD"; then
    echo "waiting for the bench lock $BENCH_LOCK, held by: $(cat "$BENCH_LOCK" 2>/dev/null || echo '?')" \
      "(ADDR=127.0.x.y lets alloc.sh run beside it)" >&2
    flock "$BENCH_LOCK_FD"
  fi
  printf 'pid %s %s (%s), since %s UTC\n' "$$" "$(basename "$0")" "$(id -un 2>/dev/null || id -u)" \
    "$(date -u +%H:%M:%S)" >"$BENCH_LOCK"
}
need() { command -v "$1" >/dev/null 2>&1; }

# bench_packages COMMAND[:PACKAGE]...: when a command is missing, apt-get installs the packages of
# all of them (PACKAGE defaults to COMMAND). Then $NGINX and $HAPROXY name those binaries.
bench_packages() {
  local missing="" packages=() arg
  for arg in "$@"; do
    packages+=("${arg#*:}")
    need "${arg%%:*}" || missing=1
  done
  if [ -n "$missing" ]; then
    echo "installing ${packages[*]} (Debian packages)" >&2
    local sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
    $sudo apt-get install -y -q "${packages[@]}" >/dev/null
  fi
  NGINX=$(command -v nginx || echo /usr/sbin/nginx)
  HAPROXY=$(command -v haproxy || echo /usr/sbin/haproxy)
}

# bench_backend ADDRESS:PORT: NGINX (one worker, keep-alive without limit, no access log) serving
# the 1 KB file $WORK/www/1k, pinned to core 0 beside the load generator. BACKEND_LISTEN_FLAGS:
# flags of its listen directive (http2: h2c with prior knowledge only).
bench_backend() {
  mkdir -p "$WORK/www" "$WORK/backend/logs"
  head -c 1024 /dev/zero | tr '\0' 'x' > "$WORK/www/1k"
  chmod -R a+rX "$WORK"
  cat > "$WORK/backend/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $WORK/backend/nginx.pid;
error_log stderr error;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  server { listen $1 ${BACKEND_LISTEN_FLAGS:-}; location / { root $WORK/www; } }
}
CONF
  taskset -c 0 "$NGINX" -p "$WORK/backend" -c "$WORK/backend/nginx.conf" 2>"$WORK/backend.err" &
  PIDS+=($!)
}

# bench_nginx_proxy DIR LISTEN BACKEND [SERVER_LINES]: DIR/nginx.conf, NGINX as the peer reverse
# proxy (one worker, upstream keep-alive) from LISTEN (address:port, plus listen flags such as ssl)
# to BACKEND, with SERVER_LINES (e.g. ssl_* directives) in its server block; run it with -p DIR -c
# DIR/nginx.conf.
bench_nginx_proxy() {
  mkdir -p "$1/logs"
  cat > "$1/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $1/nginx.pid;
error_log stderr error;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  upstream backend { server $3; keepalive 64; }
  server {
    listen $2;${4:+
$4}
    location / { proxy_pass http://backend; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
}
CONF
}

# bench_haproxy FILE LISTEN BACKEND: HAProxy as the peer reverse proxy (one thread, keep-alive and
# connection reuse both ways) from LISTEN (address:port) to BACKEND; run it with -db -f FILE.
bench_haproxy() {
  cat > "$1" <<CONF
global
  nbthread 1
  maxconn 4096
defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
  http-reuse always
  option http-keep-alive
frontend fe
  bind $2
  default_backend be
backend be
  server s1 $3
CONF
}

# bench_router_bootstrap FILE ADDRESS BACKEND_IP BACKEND_PORT [CODEC]: the bare router as an Envoy
# bootstrap for Bowline (listener on ADDRESS:8080 with the HCM codec_type CODEC, default HTTP1;
# admin on ADDRESS:15000; one STATIC cluster, HTTP/1.1 upstream). HCM_OPTIONS: more HCM fields on
# one line, e.g. 'common_http_protocol_options: {headers_with_underscores_action: DROP_HEADER}';
# CLUSTER_OPTIONS: more cluster fields on one line (e.g. the HTTP/2 upstream of alloc.sh's UPSTREAM=h2).
# VHOST_OPTIONS: more fields of the virtual host, inline, e.g.
# 'virtual_clusters: [{name: gets, headers: [{name: ":method", string_match: {exact: GET}}]}]'.
bench_router_bootstrap() {
  cat > "$1" <<CONF
node: {id: bench}
admin: {address: {socket_address: {address: $2, port_value: 15000}}}
static_resources:
  listeners:
  - name: http
    address: {socket_address: {address: $2, port_value: 8080}}
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: bench
          codec_type: ${5:-HTTP1}
          ${HCM_OPTIONS:-}
          http_filters:
          - name: envoy.filters.http.router
            typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
          route_config:
            virtual_hosts:
            - {name: all, domains: ["*"], ${VHOST_OPTIONS:+$VHOST_OPTIONS, }routes: [{match: {prefix: /}, route: {cluster: backend}}]}
  clusters:
  - name: backend
    type: STATIC
    load_assignment:
      cluster_name: backend
      endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: $3, port_value: $4}}}}]}]
    ${CLUSTER_OPTIONS:-}
CONF
}

# bench_root DIR: a test root CA (ECDSA P-256) in DIR/root.{key,pem}; bench_leaf then signs leaves.
bench_root() {
  CERTS=$1; mkdir -p "$CERTS"
  openssl ecparam -name prime256v1 -genkey -noout -out "$CERTS/root.key" 2>/dev/null
  openssl req -x509 -new -key "$CERTS/root.key" -subj "/CN=bench root" -days 2 -out "$CERTS/root.pem" 2>/dev/null
}

# bench_leaf NAME SAN: a leaf in $CERTS/NAME.{key,pem} (PKCS#8 key) for server and client use, with
# subjectAltName SAN (e.g. URI:spiffe://cluster.local/ns/bench/sa/a,DNS:localhost).
bench_leaf() {
  openssl ecparam -name prime256v1 -genkey -noout -out "$CERTS/$1.ec" 2>/dev/null
  openssl pkcs8 -topk8 -nocrypt -in "$CERTS/$1.ec" -out "$CERTS/$1.key"
  openssl req -new -key "$CERTS/$1.key" -subj "/" -out "$CERTS/$1.csr" 2>/dev/null
  printf 'subjectAltName=critical,%s\nextendedKeyUsage=serverAuth,clientAuth\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n' "$2" > "$CERTS/$1.ext"
  openssl x509 -req -in "$CERTS/$1.csr" -CA "$CERTS/root.pem" -CAkey "$CERTS/root.key" -CAcreateserial -days 1 -extfile "$CERTS/$1.ext" -out "$CERTS/$1.pem" 2>/dev/null
}

# bench_proxy_jar DIR: the jar a proxy process runs from in build DIR (cli/target or a copy of it):
# bowline-proxy.jar, whose class path is the proxy's runtime jars only (decision 0038), or
# bowline.jar in builds from before it. Both take the same arguments (proxy -c ...).
bench_proxy_jar() { if [ -f "$1/bowline-proxy.jar" ]; then echo "$1/bowline-proxy.jar"; else echo "$1/bowline.jar"; fi; }

cpu_ticks() { # sum utime+stime of the given pids (gone ones count 0)
  local t=0
  for p in "$@"; do
    local s; s=$(cut -d')' -f2- "/proc/$p/stat" 2>/dev/null) || continue
    set -- $s; t=$((t + ${12} + ${13}))
  done
  echo "$t"
}
cpu_split() { # "utime stime" ticks summed over the given pids (gone ones count 0)
  local u=0 k=0
  for p in "$@"; do
    local s; s=$(cut -d')' -f2- "/proc/$p/stat" 2>/dev/null) || continue
    set -- $s; u=$((u + ${12})); k=$((k + ${13}))
  done
  echo "$u $k"
}
rss_kb() { local r=0; for p in "$@"; do r=$((r + $(awk '/VmRSS/{print $2}' "/proc/$p/status" 2>/dev/null || echo 0))); done; echo "$r"; }
family() { echo "$1"; pgrep -P "$1" || true; }
# wait_http URL: until URL answers 2xx (at least 10 s); BENCH_CURL_ARGS such as --http2-prior-knowledge.
# Polls every 10 ms: run.sh's ready_s is the time to the first 2xx, and a 50 ms poll added ~25 ms of
# quantisation on average to a figure whose target is 1 s.
wait_http() { for _ in $(seq 1 1000); do curl -sf ${BENCH_CURL_ARGS:-} -o /dev/null "$1" && return 0; sleep 0.01; done; echo "not up: $1" >&2; return 1; }
ms() { # wrk prints 1.23ms / 456.00us / 1.01s
  case "$1" in
    *ms) echo "${1%ms}";;
    *us) echo "scale=3; ${1%us}/1000" | bc;;
    *s) echo "scale=3; ${1%s}*1000" | bc;;
    *) echo "$1";;
  esac
}
