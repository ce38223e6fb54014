#!/usr/bin/env bash
# Config churn under load (issue #6): ConfigChurnTest at a chosen rate. An open-loop in-JVM
# client (Netty, keep-alive, a request due every 1/rate s whatever the answers do) sends through
# the proxy while java-control-plane's SimpleCache replaces the listener, the route config and the
# cluster 20 times; every due request is accounted for. Prints the achieved rate, failures and
# latency from when each request was due, with the load average beside them.
#
#   bench/proxy/churn.sh [rps (default 10000)] [rounds (default 1)]
#
# The proxy (2 workers), the client, the backends and the xDS server share one JVM, so on a
# 2-core machine the rate the proxy sustains is bounded by what the client and backends leave it.
set -euo pipefail
RPS=${1:-10000}
ROUNDS=${2:-1}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
# errors: answered wrongly, lost on a closed connection, or a failed connect (must be 0);
# backlog: due but not answered within 60 s of the end (the rate was more than the JVM could offer)
printf '%-6s %-8s %-8s %-7s %-8s %-6s %-9s %-9s %-9s %s\n' round target achieved errors backlog conns p50_ms p99_ms max_ms load_avg
for r in $(seq 1 "$ROUNDS"); do
  ./mvnw -q -o -pl proxy -am test -Dtest=ConfigChurnTest -Dsurefire.failIfNoSpecifiedTests=false \
    -Dchurn.rps="$RPS" -Dchurn.warmup.ms=3000 >/tmp/bowline-churn-$$.log 2>&1 || true
  line=$(grep -h '^churn target_rps' proxy/target/surefire-reports/dev.bowline.proxy.ConfigChurnTest-output.txt || true)
  if [ -z "$line" ]; then
    echo "round $r: no result; see /tmp/bowline-churn-$$.log" >&2
    continue
  fi
  val() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$line"; }
  errors=$(( $(val rejected) + $(val lost) + $(val connect) ))
  printf '%-6s %-8s %-8s %-7s %-8s %-6s %-9s %-9s %-9s %s\n' "$r" "$RPS" "$(val achieved_rps)" "$errors" "$(val unanswered)" \
    "$(val connections)" "$(val p50_ms)" "$(val p99_ms)" "$(val max_ms)" "$(val load_avg)"
  echo "  $line"
done
