package dev.bowline.proxy.fuzz;

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
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The real downstream pipeline of an HTTP connection manager on an {@link EmbeddedChannel}: the
 * same {@link HttpConnectionManager#install} a listener runs, with routes that answer directly (or
 * name a cluster that does not exist), so no upstream is needed.
 */
final class FuzzPipeline {
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
                codec_type: %s
                max_request_headers_kb: 2
                http2_protocol_options: {max_concurrent_streams: 8}
                upgrade_configs: [{upgrade_type: websocket}, {upgrade_type: CONNECT}]
                http_filters:
                - name: envoy.filters.http.router
                  typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
                route_config:
                  virtual_hosts:
                  - name: all
                    domains: ["*"]
                    routes:
                    - {match: {connect_matcher: {}}, route: {cluster: missing, upgrade_configs: [{upgrade_type: CONNECT, connect_config: {}}]}}
                    - {match: {prefix: /a, headers: [{name: x-h, present_match: true}]}, direct_response: {status: 200, body: {inline_string: a}}}
                    - {match: {safe_regex: {regex: "/r[0-9]+"}}, direct_response: {status: 201}}
                    - {match: {prefix: /q, query_parameters: [{name: k, string_match: {exact: v}}]}, direct_response: {status: 202}}
                    - {match: {prefix: /x}, route: {cluster: missing}}
                    - {match: {prefix: /}, direct_response: {status: 404, body: {inline_string: none}}}
      """;

  private final HttpConnectionManagerConfig hcm;
  private final java.util.logging.Logger proxyLogger =
      java.util.logging.Logger.getLogger("dev.bowline.proxy");
  private final java.util.List<String> warnings = new java.util.ArrayList<>();

  FuzzPipeline(String codec) {
    try {
      var l =
          new BootstrapLoader()
              .parse("fuzz.yaml", LISTENER.formatted(codec))
              .getStaticResources()
              .getListeners(0);
      hcm =
          (HttpConnectionManagerConfig)
              new ListenerParser(FilterRegistry.builtIn())
                  .parse(l)
                  .filterChains()
                  .getFirst()
                  .filter();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
    proxyLogger.addHandler(
        new java.util.logging.Handler() {
          @Override
          public void publish(java.util.logging.LogRecord r) {
            if (r.getLevel().intValue() >= java.util.logging.Level.WARNING.intValue()) {
              warnings.add(
                  r.getLoggerName()
                      + ": "
                      + r.getMessage()
                      + " "
                      + java.util.Arrays.toString(r.getParameters()));
            }
          }

          @Override
          public void flush() {}

          @Override
          public void close() {}
        });
  }

  /**
   * Warnings the proxy logged since the last call: an exception that reached the connection's
   * handler and was not the peer's doing is logged as one, so any is a finding.
   */
  java.util.List<String> takeWarnings() {
    var w = java.util.List.copyOf(warnings);
    warnings.clear();
    return w;
  }

  /** A fresh connection with the connection manager installed, as a listener would. */
  EmbeddedChannel connection() {
    // accepted by a server channel, as on a listener (Netty's HTTP/2 multiplexer tells server from
    // client by the parent)
    EmbeddedChannel ch =
        new EmbeddedChannel(
            new io.netty.channel.local.LocalServerChannel(),
            io.netty.channel.DefaultChannelId.newInstance(),
            true,
            false);
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
    return ch;
  }

  /**
   * Feeds {@code input} in pieces whose sizes come from {@code cuts} (so decoders see split frames
   * and lines too), running tasks after each, and stops early once the channel closed.
   */
  static void feed(EmbeddedChannel ch, byte[] input, byte[] cuts) {
    int at = 0;
    int i = 0;
    while (at < input.length && ch.isOpen()) {
      int n = cuts.length == 0 ? input.length : 1 + (cuts[i++ % cuts.length] & 0xff);
      n = Math.min(n, input.length - at);
      ch.writeInbound(Unpooled.copiedBuffer(input, at, n));
      ch.runPendingTasks();
      at += n;
    }
    ch.runPendingTasks();
  }

  /**
   * Ends {@code ch} however it stands: releases what it holds, then closes it past its handlers, as
   * the proxy's drain time closes a connection. An HTTP/2 connection with a stream still open would
   * otherwise wait for the stream, for good: {@code EmbeddedChannel.close()} cancels the codec's
   * timer that ends that wait, and a header block half sent would stay in the frame reader.
   */
  static void close(EmbeddedChannel ch) {
    ch.finishAndReleaseAll();
    if (ch.isOpen()) {
      ch.unsafe().close(ch.unsafe().voidPromise());
      ch.runPendingTasks();
      ch.releaseOutbound();
    }
  }

  /** Everything the channel wrote, as one buffer (the caller releases it). */
  static ByteBuf outbound(EmbeddedChannel ch) {
    CompositeByteBuf all = Unpooled.compositeBuffer(Integer.MAX_VALUE);
    Object o;
    while ((o = ch.readOutbound()) != null) {
      if (o instanceof ByteBuf b) {
        all.addComponent(true, b);
      } else {
        throw new AssertionError("the pipeline wrote a non-byte message: " + o);
      }
    }
    return all;
  }
}
