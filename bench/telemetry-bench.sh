#!/usr/bin/env bash
# Telemetry benchmarks (issue #10): the per-request cost and allocation of the stats filter, the
# tracing decision (unsampled) and a sampled span, metadata exchange and one access-log line (JMH
# with the GC profiler; gc.alloc.rate.norm is bytes per request). Not part of the tests.
#   bench/telemetry-bench.sh
#   CPU=1 bench/telemetry-bench.sh    # also thread-CPU ns per operation (ObservabilityCpu), which a
#                                      # loaded machine distorts far less than JMH's wall clock
set -euo pipefail
cd "$(dirname "$0")/.."
. tools/find-java.sh
bowline_find_java || exit 1
JAVA="$JAVA_HOME/bin/java"
./mvnw -q -pl bench -am package -DskipTests -Dspotless.check.skip=true
CP="bench/target/classes:$(cat bench/target/classpath.txt)"
FLAGS="--enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow"
"$JAVA" $FLAGS -cp "$CP" org.openjdk.jmh.Main 'dev.bowline.bench.telemetry.(StatsFilter|Observability)Benchmark' \
  -prof gc -rf text -rff bench/target/telemetry-jmh.txt
grep -E "Benchmark|avgt|alloc.rate.norm" bench/target/telemetry-jmh.txt
if [ -n "${CPU:-}" ]; then
  "$JAVA" $FLAGS -XX:+UseSerialGC -cp "$CP" dev.bowline.bench.telemetry.ObservabilityCpu
fi
