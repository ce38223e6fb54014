package dev.bowline.proxy.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.DictionaryFile;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.bowline.proxy.transport.Http1ClientCodec;
import dev.bowline.proxy.transport.ResponseDecoding;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.util.ResourceLeakDetector;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Upstream HTTP/1.1 responses from raw bytes: whatever an upstream sends, in whatever pieces, to up
 * to three requests in turn on one pooled connection, the proxy's real upstream path ({@link
 * Http1ClientCodec} with its fast heads, then {@link UpstreamConnection}) ends every request
 * exactly once, with a response (interim heads, one final head, content, its last part, in that
 * order) or a reset with a defined reason ({@code protocol error}, {@code connection termination});
 * no exception reaches the pipeline; every buffer is released (the fixture's allocator counts them,
 * Netty's detector is paranoid too); nothing stays counted in flight on the host or its circuit
 * breaker; and a well-formed response on a new connection then parses. The codec with fast heads
 * decodes exactly what it decodes with Netty's decoder alone.
 *
 * <p>Input: the bytes the upstream sends, then the cut sizes, then one byte with the three
 * requests' methods (two bits each: GET, HEAD, POST with a body, CONNECT), then how many cut sizes
 * there are (one byte, mod 9); a seed ending in a zero byte is sent whole. Seeds in {@code
 * src/test/resources/dev/bowline/proxy/upstream/Http1UpstreamFuzzTestInputs}.
 */
class Http1UpstreamFuzzTest {
  static {
    ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
  }

  private static final HttpMethod[] METHODS = {
    HttpMethod.GET, HttpMethod.HEAD, HttpMethod.POST, HttpMethod.CONNECT
  };

  private static final String RESET_PROTOCOL = UpstreamConnection.PROTOCOL_ERROR;

  /** The reset reasons of an HTTP/1.1 upstream connection. */
  private static final java.util.Set<String> REASONS =
      java.util.Set.of(RESET_PROTOCOL, "connection termination");

  private final UpstreamFixture fixture = new UpstreamFixture("");

  @FuzzTest(maxDuration = "10s")
  @DictionaryFile(resourcePath = "/dev/bowline/proxy/upstream/http1-response.dict")
  void anyResponseBytesEndTheirRequestsCleanly(FuzzedDataProvider data) {
    int nCuts = data.consumeInt(0, 8);
    int methodBits = data.consumeInt(0, 63);
    byte[] input = data.consumeBytes(Math.max(0, data.remainingBytes() - nCuts));
    byte[] cuts = data.consumeRemainingAsBytes();
    List<HttpMethod> methods = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      methods.add(METHODS[(methodBits >> (2 * i)) & 3]);
    }

    List<Exchange> exchanges = exchange(input, cuts, methods);
    for (Exchange e : exchanges) {
      assertThat(e.violations).as("%s: %s", e.method, e.events).isEmpty();
      assertThat(e.ended || e.reset != null).as("request %s ended", e.method).isTrue();
    }
    fixture.assertNothingInFlight();
    fixture.alloc.assertAllReleased();

    // a new connection is unaffected by whatever the last one read
    byte[] ok =
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".getBytes(StandardCharsets.US_ASCII);
    List<Exchange> fresh = exchange(ok, new byte[0], List.of(HttpMethod.GET));
    assertThat(fresh.getFirst().events).containsExactly("head 200", "body ok", "end");
    assertThat(fresh.getFirst().pooled).as("the good response's connection is pooled").isTrue();
    fixture.assertNothingInFlight();
    fixture.alloc.assertAllReleased();

    // the codec's fast heads decode as Netty's decoder does (requests pipelined up front)
    int head = dev.bowline.proxy.config.ClusterPolicy.DEFAULT.http1ResponseHeadBytes();
    var config = dev.bowline.proxy.transport.Http1Decoding.config(head, head, 65536);
    assertThat(ResponseDecoding.decode(config, true, methods, input, cuts))
        .isEqualTo(ResponseDecoding.decode(config, false, methods, input, cuts));
  }

  /**
   * Sends the requests one at a time on a new connection as the pool does (the next once the
   * connection is back in the pool), feeding {@code input} in pieces, then closes the connection.
   */
  private List<Exchange> exchange(byte[] input, byte[] cuts, List<HttpMethod> methods) {
    EmbeddedChannel ch = fixture.channel();
    Http1ClientCodec codec = Worker.http1Codec(fixture.cluster.config);
    List<Throwable> exceptions = new ArrayList<>();
    UpstreamConnection uc =
        new UpstreamConnection(fixture.worker, fixture.host, fixture.cluster, ch, codec);
    ch.pipeline().addLast(codec, new UpstreamFixture.Exceptions(exceptions), uc);
    long protocolErrors = fixture.cluster.stats.upstreamCxProtocolError().value();

    List<Exchange> exchanges = new ArrayList<>();
    int at = 0;
    int i = 0;
    do {
      if (exchanges.size() < methods.size()
          && (exchanges.isEmpty() || fixture.host.idle.remove(ch))) {
        Exchange e = new Exchange(methods.get(exchanges.size()), REASONS);
        exchanges.add(e);
        uc.bind(e);
        ch.writeOutbound(e.request());
        ch.releaseOutbound();
      }
      if (at >= input.length) {
        break;
      }
      int n = cuts.length == 0 ? input.length : 1 + (cuts[i++ % cuts.length] & 0xff);
      n = Math.min(n, input.length - at);
      ch.writeInbound(fixture.alloc.copy(input, at, n));
      ch.runPendingTasks();
      at += n;
    } while (ch.isOpen());
    Exchange last = exchanges.getLast();
    last.pooled = last.ended && fixture.host.idle.contains(ch);
    fixture.host.idle.remove(ch);
    ch.close();
    ch.runPendingTasks();
    ch.checkException();
    assertThat(exceptions).as("exceptions in the upstream pipeline").isEmpty();
    assertThat(ch.inboundMessages()).as("messages past the upstream connection").isEmpty();
    ch.finishAndReleaseAll();

    boolean protocolError = exchanges.stream().anyMatch(e -> RESET_PROTOCOL.equals(e.reset));
    if (protocolError) {
      assertThat(fixture.cluster.stats.upstreamCxProtocolError().value())
          .as("upstream_cx_protocol_error")
          .isGreaterThan(protocolErrors);
    }
    return exchanges;
  }
}
