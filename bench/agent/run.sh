#!/usr/bin/env bash
# Time to first workload certificate: a CA on 127.0.0.1, then per round a fresh agent (ECDSA P-256
# key, CSR, TLS with token, CA signing, validation) with an SDS client already subscribed to
# `default`. Prints the cold first round and warm p50/p90/p99. About 30 s.
#   args: [warmup rounds] [measured rounds] (default 30 200)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=../../tools/find-java.sh
. "$root/tools/find-java.sh"
bowline_find_java || exit 1
out="$root/bench/agent/target"
"$root/mvnw" -q -f "$root/pom.xml" package -pl bench/agent -am -DskipTests -Dspotless.check.skip=true
cp="$out/classes:$root/agent/target/classes:$root/ca/target/classes:$(cat "$out/classpath.txt")"
"$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow \
  -Djava.util.logging.config.file=/dev/null \
  -cp "$cp" dev.bowline.agent.bench.TimeToFirstCertificate "$@" 2>"$out/bench-agent.log"
