#!/usr/bin/env bash
# Control-plane xDS load: a control plane in one JVM, simulated proxies (half SotW, half delta) in
# another, all on 127.0.0.1. Prints a table: first full sync, endpoint change -> every watcher
# (P50/P99/max), retained heap per proxy, reconnect storm. Control-plane log in bench/controlplane/target/.
#   usage: bench/controlplane/run.sh [SERVICES ENDPOINTS PROXIES CHANGES]   (default 1000 10 2000 20)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=../../tools/find-java.sh
. "$root/tools/find-java.sh"
bowline_find_java || exit 1
here="$root/bench/controlplane"
out="$here/target"

"$root/mvnw" -q -f "$root/pom.xml" package -pl bench/controlplane -am -DskipTests -Dspotless.check.skip=true
cp="$out/classes:$(cat "$out/classpath.txt")"
"$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow \
  -cp "$cp" dev.bowline.bench.controlplane.XdsLoad "${1:-1000}" "${2:-10}" "${3:-2000}" "${4:-20}" \
  "$out/bench-controlplane.log"
