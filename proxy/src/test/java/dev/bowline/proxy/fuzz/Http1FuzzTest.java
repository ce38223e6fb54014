package dev.bowline.proxy.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.bowline.proxy.bootstrap.BootstrapLoader;
import dev.bowline.proxy.config.HttpConnectionManagerConfig;
import dev.bowline.proxy.config.ProxySnapshot;
import dev.bowline.proxy.http.HttpConnectionManager;
import dev.bowline.proxy.http.filter.FilterRegistry;
import dev.bowline.proxy.runtime.ProxyRuntime;
import dev.bowline.proxy.stats.Stats;
import dev.bowline.proxy.transport.Transport;
import dev.bowline.proxy.upstream.Worker;
import dev.bowline.proxy.xds.ListenerParser;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The HTTP/1.1 request path from raw bytes: whatever arrives, the connection manager answers with
 * well-formed HTTP/1.1 responses (or nothing yet) and never throws. Routes answer directly, so no
 * upstream is needed.
 */
class Http1FuzzTest {
  private static final String LISTENER =
      """
      static_resources:
        listeners:
        - name: fuzz
          address: {socket_address: {address: 127.0.0.1, port_value: 1}}
          filter_chains:
          - filters:
            - name: hcm
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                stat_prefix: fuzz
                codec_type: HTTP1
                max_request_headers_kb: 2
                http_filters:
                - name: envoy.filters.http.router
                  typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
                route_config:
                  virtual_hosts:
                  - name: all
                    domains: ["*"]
                    routes:
                    - {match: {prefix: /a, headers: [{name: x-h, present_match: true}]}, direct_response: {status: 200, body: {inline_string: a}}}
                    - {match: {safe_regex: {regex: "/r[0-9]+"}}, direct_response: {status: 201}}
                    - {match: {prefix: /q, query_parameters: [{name: k, string_match: {exact: v}}]}, direct_response: {status: 202}}
                    - {match: {prefix: /x}, route: {cluster: missing}}
      """;

  private final HttpConnectionManagerConfig hcm;

  Http1FuzzTest() throws Exception {
    var l = new BootstrapLoader().parse("fuzz.yaml", LISTENER).getStaticResources().getListeners(0);
    hcm =
        (HttpConnectionManagerConfig)
            new ListenerParser(FilterRegistry.builtIn())
                .parse(l)
                .filterChains()
                .getFirst()
                .filter();
  }

  @FuzzTest(maxDuration = "10s")
  void anyBytesGetWellFormedAnswers(byte[] input) {
    EmbeddedChannel ch = new EmbeddedChannel();
    Stats stats = new Stats();
    Worker w = new Worker(ch.eventLoop(), Transport.NIO, new SplittableRandom(1), stats);
    ProxyRuntime rt =
        new ProxyRuntime(
            new AtomicReference<>(ProxySnapshot.empty()),
            Map.of(ch.eventLoop(), w),
            stats,
            FilterRegistry.builtIn(),
            new AtomicBoolean());
    HttpConnectionManager.install(ch, hcm, rt);
    ch.writeInbound(Unpooled.wrappedBuffer(input));
    ch.runPendingTasks();
    StringBuilder out = new StringBuilder();
    ByteBuf b;
    while ((b = ch.readOutbound()) != null) {
      out.append(b.toString(StandardCharsets.ISO_8859_1));
      b.release();
    }
    if (!out.isEmpty()) {
      assertThat(out.toString()).startsWith("HTTP/1.1 ");
    }
    ch.finishAndReleaseAll();
  }
}
