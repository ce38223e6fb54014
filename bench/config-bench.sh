#!/usr/bin/env bash
# Config benchmarks (issue #4): parse + validate throughput on one core (JMH), and the heap a store
# of 50,000 resources retains, each next to fabric8's Istio model as the peer. Not part of the tests.
#   bench/config-bench.sh            # everything, about two minutes
#   bench/config-bench.sh cpu        # resources per CPU-second only
#   bench/config-bench.sh footprint  # heap only
set -euo pipefail
cd "$(dirname "$0")/.."
. tools/find-java.sh
bowline_find_java || exit 1
JAVA="$JAVA_HOME/bin/java"
./mvnw -q -pl bench -am package -DskipTests -Dspotless.check.skip=true
CP="bench/target/classes:$(cat bench/target/classpath.txt)"
FLAGS="--enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow"
if [[ "${1:-all}" == all ]]; then
  "$JAVA" $FLAGS -cp "$CP" org.openjdk.jmh.Main 'dev.bowline.bench.config.ParseValidateBenchmark' -rf text -rff bench/target/config-jmh.txt
fi
if [[ "${1:-all}" == all || "${1:-all}" == cpu ]]; then
  # Per CPU-second of one thread: steady on a loaded machine, unlike JMH's wall-clock figures.
  "$JAVA" $FLAGS -Xmx512m -cp "$CP" dev.bowline.bench.config.CpuThroughput 5
fi
[[ "${1:-all}" == cpu ]] && exit 0
# Directory source: edit-to-event latency (target: within 1 s).
"$JAVA" $FLAGS -cp "$CP" dev.bowline.bench.config.WatchLatency 20
for model in bowline fabric8; do
  "$JAVA" $FLAGS -Xmx512m -cp "$CP" dev.bowline.bench.config.StoreFootprint 50000 "$model"
done
