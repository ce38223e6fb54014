#!/usr/bin/env bash
# RBAC benchmark (issue #9): one request through an istiod-shaped ALLOW engine, allowed and denied
# (JMH with the GC profiler; gc.alloc.rate.norm is bytes per evaluation). Not part of the tests.
#   bench/rbac-bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. tools/find-java.sh
bowline_find_java || exit 1
JAVA="$JAVA_HOME/bin/java"
./mvnw -q -pl bench -am package -DskipTests -Dspotless.check.skip=true
CP="bench/target/classes:$(cat bench/target/classpath.txt)"
FLAGS="--enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow"
"$JAVA" $FLAGS -cp "$CP" org.openjdk.jmh.Main 'dev.bowline.bench.rbac.RbacEngineBenchmark' \
  -prof gc -rf text -rff bench/target/rbac-jmh.txt
grep -E "Benchmark|avgt|alloc.rate.norm" bench/target/rbac-jmh.txt
