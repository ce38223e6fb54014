package dev.bowline.proxy.http;

import dev.bowline.proxy.config.CodecOptions;
import dev.bowline.proxy.runtime.ProxyRuntime;
import dev.bowline.proxy.stats.HttpStats;
import io.netty.channel.Channel;
import io.netty.handler.codec.http2.Http2FrameCodec;
import java.util.concurrent.TimeUnit;

/**
 * {@code common_http_protocol_options.max_connection_duration} of a connection manager, as Envoy's
 * {@code onConnectionDurationTimeout}: once a downstream connection is that old it is counted
 * ({@code downstream_cx_max_duration_reached}) and drained. HTTP/2: GOAWAY, the open streams
 * finish, then the connection closes (at most {@code drain_timeout} later). HTTP/1: the next
 * response says {@code connection: close} and the connection closes after it; when {@code
 * drain_timeout} runs out, an idle connection is closed then, and one with a response under way
 * (its head sent before the drain began) closes after that response's last byte. A connection that
 * has not sent a byte by then has no codec in Envoy ({@code !codec_}): it is closed at once, no
 * GOAWAY, no drain (Envoy marks the connection's own stream info {@code DT}, {@code
 * max_duration_timeout}; no stream exists to log them, here or there).
 */
final class ConnectionDuration {
  private ConnectionDuration() {}

  /**
   * Starts {@code ch}'s clock; the timer goes with the connection. Call before the codec is added:
   * a marker ahead of it notes the connection's first bytes.
   */
  static void arm(Channel ch, CodecOptions options, HttpStats stats) {
    ch.pipeline().addLast(new FirstBytes());
    var timer =
        ch.eventLoop()
            .schedule(
                () -> expired(ch, options, stats),
                options.maxConnectionDuration().toNanos(),
                TimeUnit.NANOSECONDS);
    ch.closeFuture().addListener(f -> timer.cancel(false));
  }

  private static void expired(Channel ch, CodecOptions options, HttpStats stats) {
    if (!ch.isActive()) {
      return;
    }
    stats.downstreamCxMaxDurationReached().inc();
    var firstBytes = ch.pipeline().context(FirstBytes.class);
    if (firstBytes != null) {
      // not a byte yet: Envoy has made no codec, and closes such a connection at once; closed
      // from the marker, so past the codec (an HTTP/2 one would send GOAWAY) and through TLS
      firstBytes.close();
      return;
    }
    if (ch.pipeline().get(Http2FrameCodec.class) != null) {
      HttpConnectionManager.drain(ch); // GOAWAY; the codec waits drain_timeout for the streams
      return;
    }
    // HTTP/1 (or a connection whose protocol is not known yet): drain like a replaced listener's
    // connection, whose next response says connection: close
    drainHttp1(ch, options);
  }

  /**
   * Envoy's drain sequence on HTTP/1 connection {@code ch} ({@code startDrainSequence}, then {@code
   * onDrainTimeout}): the next response says {@code connection: close}; when {@code drain_timeout}
   * runs out, an idle connection is closed, and one with a response under way closes after that
   * response's last byte. Event loop.
   */
  static void drainHttp1(Channel ch, CodecOptions options) {
    ch.attr(ProxyRuntime.CONNECTION_DRAINING).set(Boolean.TRUE);
    ch.eventLoop()
        .schedule(
            () -> {
              if (!ch.isActive()) {
                return;
              }
              HttpConnection c = ch.pipeline().get(HttpConnection.class);
              if (c == null || c.idle()) {
                ch.close(); // Envoy's drain timeout: a connection without a stream closes
              } else {
                // Envoy's drain state "closing": the response under way finishes (it says
                // connection: close if its head is still to come), then the connection closes
                c.closeAfterStream = true;
              }
            },
            options.drainTimeout().toNanos(),
            TimeUnit.NANOSECONDS);
  }

  /**
   * In the pipeline of a connection with {@code max_connection_duration} until its first bytes come
   * (Envoy makes its codec then), which remove it.
   */
  private static final class FirstBytes extends io.netty.channel.ChannelInboundHandlerAdapter {
    @Override
    public void channelRead(io.netty.channel.ChannelHandlerContext ctx, Object msg) {
      ctx.pipeline().remove(this);
      ctx.fireChannelRead(msg);
    }
  }
}
