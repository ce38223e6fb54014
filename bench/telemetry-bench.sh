#!/usr/bin/env bash
# Telemetry benchmarks (issue #10): the stats filter's per-request cost and allocation (JMH with
# the GC profiler; gc.alloc.rate.norm is bytes per request). Not part of the tests.
#   bench/telemetry-bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. tools/find-java.sh
bowline_find_java || exit 1
JAVA="$JAVA_HOME/bin/java"
./mvnw -q -pl bench -am package -DskipTests -Dspotless.check.skip=true
CP="bench/target/classes:$(cat bench/target/classpath.txt)"
FLAGS="--enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow"
"$JAVA" $FLAGS -cp "$CP" org.openjdk.jmh.Main 'dev.bowline.bench.telemetry.StatsFilterBenchmark' \
  -prof gc -rf text -rff bench/target/telemetry-jmh.txt
grep -E "Benchmark|avgt|alloc.rate.norm" bench/target/telemetry-jmh.txt
