#!/usr/bin/env bash
# The HTTP/1.1 codec work of one proxied exchange (decision 0040): wrk's request and NGINX's 1 KB
# response through the downstream and upstream codecs on embedded channels, in one JVM, the codecs
# before 0040 (Netty's HttpServerCodec, Netty's response decoder, String header values) against the
# proxy's (one-pass heads, AsciiString values), warmed up alike, then pairs of half-second batches
# in alternating order: CPU time of the thread per exchange (not wall time, which counts the waits
# for a core on a machine others load) and the median ratio. Not a test.
#   bench/proxy/codec-bench.sh [warm-up seconds (30)] [pairs (30)]
#   bench/proxy/codec-bench.sh h2 [warm-up seconds (30)] [pairs (30)]: the HTTP/2 stream codec of one
#   h2load exchange instead, Netty's Http2StreamFrameToHttpObjectCodec against the proxy's (0042),
#   CPU time and bytes allocated per exchange
set -euo pipefail
cd "$(dirname "$0")/../.."
. tools/find-java.sh
bowline_find_java || exit 1
./mvnw -q -o -pl bench -am package -DskipTests -Dspotless.check.skip=true
MAIN=dev.bowline.bench.proxy.Http1CodecBenchmark
if [ "${1:-}" = h2 ]; then
  MAIN=dev.bowline.bench.proxy.Http2StreamCodecBenchmark
  shift
fi
"$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow \
  -XX:+UseSerialGC -Xmx256m -cp "bench/target/classes:$(cat bench/target/classpath.txt)" \
  $MAIN $([ "$MAIN" = dev.bowline.bench.proxy.Http1CodecBenchmark ] && echo paired) "${1:-30}" "${2:-30}"
