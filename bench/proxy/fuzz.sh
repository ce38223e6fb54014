#!/usr/bin/env bash
# Fuzzes the proxy's Jazzer targets (issue #6), each for N minutes, one after the other, and prints
# a table. Coverage feedback comes from Bowline's classes and Netty's HTTP codecs.
#
#   bench/proxy/fuzz.sh [minutes per target (default 5)] [target ...]
#   targets: Http1FuzzTest Http2FuzzTest#anyFramesAfterThePrefaceAreHandled
#            Http2FuzzTest#composedFramesAreHandled XdsParserFuzzTest (downstream and xDS), and the
#            upstream side: Http1UpstreamFuzzTest Http2UpstreamFuzzTest#anyFramesAfterTheSettings
#            Http2UpstreamFuzzTest#composedFramesAreHandled, and the bootstrap's two parse paths:
#            BootstrapParseFuzzTest (the default: all eight);
#   a class with several @FuzzTest methods needs Class#method (Jazzer fuzzes one per JVM)
#
# A finding fails the target: Jazzer writes the input as crash-<sha1> next to the seeds
# (proxy/src/test/resources/dev/bowline/proxy/<package>/<Target>Inputs/<method>/), where it then runs as
# a regression test in `./mvnw verify` until the bug is fixed; keep it there as a seed (rename it).
# The corpus Jazzer grows is kept in proxy/.cifuzz-corpus/ (ignored by git) for the next run.
# Logs: bench/results/fuzz-<target>.log.
set -euo pipefail
MINUTES=${1:-5}
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(Http1FuzzTest Http2FuzzTest#anyFramesAfterThePrefaceAreHandled
  Http2FuzzTest#composedFramesAreHandled XdsParserFuzzTest Http1UpstreamFuzzTest
  Http2UpstreamFuzzTest#anyFramesAfterTheSettings Http2UpstreamFuzzTest#composedFramesAreHandled
  BootstrapParseFuzzTest)
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
mkdir -p bench/results
# a bounded heap, so the JVM collects long before libFuzzer's 2 GB RSS limit
FLAGS="--enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow -Xmx768m"

declare -A RESULT
for t in "${TARGETS[@]}"; do
  class=${t%%#*}
  log="bench/results/fuzz-${t/\#/-}.log"
  echo "fuzzing $t for $MINUTES min (log: $log)" >&2
  start=$(date +%s)
  set +e
  JAZZER_FUZZ=1 JAZZER_MAX_DURATION="${MINUTES}m" \
    JAZZER_INSTRUMENT='dev.bowline.**,io.netty.handler.codec.**' \
    ./mvnw -o -pl proxy -am test -Dtest="$t" -Dsurefire.failIfNoSpecifiedTests=false \
    -Dspotless.check.skip=true -Dbowline.jvm.flags="$FLAGS" >"$log.mvn" 2>&1
  rc=$?
  set -e
  secs=$(( $(date +%s) - start ))
  # the targets live in the package of what they fuzz (fuzz, upstream, bootstrap)
  cp proxy/target/surefire-reports/dev.bowline.proxy.*."$class"-output.txt "$log" 2>/dev/null || true
  last=$(cat "$log" "$log.mvn" 2>/dev/null | grep -aE '^#[0-9]+[[:space:]]' | tail -1 || true)
  runs=$(sed -nE 's/^#([0-9]+).*/\1/p' <<<"$last")
  cov=$(sed -nE 's/.*cov: ([0-9]+).*/\1/p' <<<"$last")
  ft=$(sed -nE 's/.*ft: ([0-9]+).*/\1/p' <<<"$last")
  corp=$(sed -nE 's/.*corp: ([0-9]+).*/\1/p' <<<"$last")
  status=ok
  [ $rc -eq 0 ] || status="FINDING (see $log.mvn)"
  RESULT[$t]="$secs|${runs:-?}|${cov:-?}|${ft:-?}|${corp:-?}|$status"
done

printf '\n| target | seconds | runs | cov | ft | corpus | result |\n|---|---|---|---|---|---|---|\n'
for t in "${TARGETS[@]}"; do
  IFS='|' read -r secs runs cov ft corp status <<<"${RESULT[$t]}"
  printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$t" "$secs" "$runs" "$cov" "$ft" "$corp" "$status"
done
echo "load: $(uptime | sed 's/.*load average/load average/')"
