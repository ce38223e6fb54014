#!/usr/bin/env bash
# JWT verification cost per token (issue #9): parse + time + signature check as jwt_authn does it,
# ES256 / RS256 / PS256 (JMH, average time). Not part of the tests.
#   bench/jwt-bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. tools/find-java.sh
bowline_find_java || exit 1
JAVA="$JAVA_HOME/bin/java"
./mvnw -q -pl bench -am package -DskipTests -Dspotless.check.skip=true
CP="bench/target/classes:$(cat bench/target/classpath.txt)"
FLAGS="--enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow"
"$JAVA" $FLAGS -cp "$CP" org.openjdk.jmh.Main 'dev.bowline.proxy.http.filter.jwt.JwtVerifyBenchmark' \
  -f 1 -wi 3 -w 2s -i 5 -r 2s -prof gc -rf text -rff bench/target/jwt-jmh.txt
grep -E "Benchmark|avgt|alloc.rate.norm" bench/target/jwt-jmh.txt
