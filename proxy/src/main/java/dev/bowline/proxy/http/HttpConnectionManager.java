package dev.bowline.proxy.http;

import dev.bowline.proxy.config.HttpConnectionManagerConfig;
import dev.bowline.proxy.http.filter.HttpFilterFactory;
import dev.bowline.proxy.runtime.ProxyRuntime;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import java.util.List;

/**
 * {@code envoy.filters.network.http_connection_manager}: puts the HTTP codec (HTTP/1.1, h2c with
 * prior knowledge, or either by sniffing the preface for {@code AUTO}) and the per-connection
 * request handling on a new downstream channel.
 */
public final class HttpConnectionManager {
  private HttpConnectionManager() {}

  /** Installs the connection manager {@code config} on the fresh channel {@code ch}. */
  public static void install(Channel ch, HttpConnectionManagerConfig config, ProxyRuntime runtime) {
    HttpFilterFactory<?>[] factories =
        config.httpFilters().stream()
            .map(f -> runtime.filters().find(f.typeUrl()).orElseThrow())
            .toArray(HttpFilterFactory<?>[]::new);
    runtime.stats().http(config.statPrefix()).downstreamCxTotal().inc();
    switch (config.codec()) {
      case HTTP1 -> http1(ch.pipeline(), config, runtime, factories);
      case HTTP2 -> http2(ch.pipeline(), config, runtime, factories);
      case AUTO -> ch.pipeline().addLast(new PrefaceSniffer(config, runtime, factories));
    }
  }

  static void http1(
      ChannelPipeline p,
      HttpConnectionManagerConfig config,
      ProxyRuntime runtime,
      HttpFilterFactory<?>[] f) {
    int max = config.maxRequestHeadersBytes();
    p.addLast(
        new HttpServerCodec(
            new HttpDecoderConfig()
                .setMaxInitialLineLength(max)
                .setMaxHeaderSize(max)
                .setMaxChunkSize(65536)));
    idleTimer(p, config);
    p.addLast(new HttpConnection(config, runtime, f, false));
  }

  static void http2(
      ChannelPipeline p,
      HttpConnectionManagerConfig config,
      ProxyRuntime runtime,
      HttpFilterFactory<?>[] f) {
    p.addLast(
        Http2FrameCodecBuilder.forServer()
            .initialSettings(
                Http2Settings.defaultSettings().maxHeaderListSize(config.maxRequestHeadersBytes()))
            .build());
    p.addLast(
        new Http2MultiplexHandler(
            new ChannelInitializer<Http2StreamChannel>() {
              @Override
              protected void initChannel(Http2StreamChannel stream) {
                stream.pipeline().addLast(new Http2StreamFrameToHttpObjectCodec(true));
                idleTimer(stream.pipeline(), config);
                stream.pipeline().addLast(new HttpConnection(config, runtime, f, true));
              }
            }));
  }

  /** {@code stream_idle_timeout}: no bytes either way for that long ends the stream in flight. */
  private static void idleTimer(ChannelPipeline p, HttpConnectionManagerConfig config) {
    if (!config.streamIdleTimeout().isZero()) {
      p.addLast(
          new io.netty.handler.timeout.IdleStateHandler(
              0,
              0,
              config.streamIdleTimeout().toMillis(),
              java.util.concurrent.TimeUnit.MILLISECONDS));
    }
  }

  /** {@code codec_type: AUTO}: HTTP/2 if the connection opens with the client preface. */
  private static final class PrefaceSniffer extends ByteToMessageDecoder {
    private static final byte[] PREFACE =
        ByteBufUtil.getBytes(Http2CodecUtil.connectionPrefaceBuf());
    private final HttpConnectionManagerConfig config;
    private final ProxyRuntime runtime;
    private final HttpFilterFactory<?>[] factories;

    PrefaceSniffer(
        HttpConnectionManagerConfig config,
        ProxyRuntime runtime,
        HttpFilterFactory<?>[] factories) {
      this.config = config;
      this.runtime = runtime;
      this.factories = factories;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
      int n = Math.min(in.readableBytes(), PREFACE.length);
      boolean h2 = true;
      for (int i = 0; i < n; i++) {
        if (in.getByte(in.readerIndex() + i) != PREFACE[i]) {
          h2 = false;
          break;
        }
      }
      if (h2 && n < PREFACE.length) {
        return; // need more bytes to tell
      }
      ChannelPipeline p = ctx.pipeline();
      if (h2) {
        http2(p, config, runtime, factories);
      } else {
        http1(p, config, runtime, factories);
      }
      p.remove(this); // hands the buffered bytes to the codec just added
    }
  }
}
