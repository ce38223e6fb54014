package dev.bowline.proxy.http;

import dev.bowline.proxy.config.HttpConnectionManagerConfig;
import dev.bowline.proxy.http.filter.HttpFilterFactory;
import dev.bowline.proxy.runtime.ProxyRuntime;
import dev.bowline.proxy.stats.HttpStats;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2ConnectionDecoder;
import io.netty.handler.codec.http2.Http2ConnectionEncoder;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannel;
import java.util.List;

/**
 * {@code envoy.filters.network.http_connection_manager}: puts the HTTP codec (HTTP/1.1, h2c with
 * prior knowledge, or either by sniffing the preface for {@code AUTO}) and the per-connection
 * request handling on a new downstream channel.
 */
public final class HttpConnectionManager {
  private HttpConnectionManager() {}

  /**
   * The listener's {@code per_connection_buffer_limit_bytes} on a downstream channel (0: none): the
   * most body a stream holds while its filter chain waits before it stops reading (absent: 1 MiB).
   */
  public static final io.netty.util.AttributeKey<Integer> BUFFER_LIMIT =
      io.netty.util.AttributeKey.valueOf("bowline.bufferLimit");

  /** Installs the connection manager {@code config} on the fresh channel {@code ch}. */
  public static void install(Channel ch, HttpConnectionManagerConfig config, ProxyRuntime runtime) {
    HttpFilterFactory<?>[] factories =
        config.httpFilters().stream()
            .map(f -> runtime.filters().find(f.typeUrl()).orElseThrow())
            .toArray(HttpFilterFactory<?>[]::new);
    HttpStats stats = runtime.stats().http(config.statPrefix());
    // counts the connection (downstream_cx_total, _active) and how it ends (downstream_cx_destroy*)
    boolean tls = ch.pipeline().get(io.netty.handler.ssl.SslHandler.class) != null;
    ch.pipeline().addFirst(new ConnectionEnd(stats, tls));
    if (!config.codecOptions().maxConnectionDuration().isZero()) {
      ConnectionDuration.arm(ch, config.codecOptions(), stats);
    }
    switch (config.codec()) {
      case HTTP1 -> {
        ch.pipeline().addLast(new ConnectionEnd.FirstBytes(false)); // Envoy's codec: first bytes
        http1(ch.pipeline(), config, runtime, factories);
      }
      case HTTP2 -> {
        ch.pipeline().addLast(new ConnectionEnd.FirstBytes(true));
        http2(ch.pipeline(), config, runtime, factories);
      }
      case AUTO -> ch.pipeline().addLast(new PrefaceSniffer(config, runtime, factories));
    }
  }

  /**
   * Starts draining the downstream connection {@code ch}, as Envoy does: an HTTP/2 connection gets
   * a shutdown notice (GOAWAY with the last stream id 2^31-1), one round trip later the GOAWAY
   * naming the last stream it still serves, and closes once those streams are done ({@link
   * Http2Drain}); an HTTP/1.1 connection answers its next response with {@code connection: close}
   * (the draining flag, {@link ProxyRuntime#isDraining(Channel)}). Whatever is still open when the
   * listener's drain time ends is closed by the listener. Any thread.
   */
  public static void drain(Channel ch) {
    Http2Drain.start(ch);
  }

  /**
   * The proxy is about to close downstream connection {@code ch} past its handlers (a drained
   * listener's drain time ended): counted as Envoy counts a close from outside its connection
   * manager ({@code downstream_cx_destroy_local}, and an open stream as {@code
   * downstream_cx_destroy_remote_active_rq}). The connection's event loop.
   */
  public static void closingFromOutside(Channel ch) {
    ConnectionEnd.closingFromOutside(ch);
  }

  static void http1(
      ChannelPipeline p,
      HttpConnectionManagerConfig config,
      ProxyRuntime runtime,
      HttpFilterFactory<?>[] f) {
    int max = config.maxRequestHeadersBytes();
    // the codec keeps the stream idle timeout itself: one pipeline hop less per read and write
    p.addLast(
        new dev.bowline.proxy.transport.Http1ServerCodec(
            dev.bowline.proxy.transport.Http1Decoding.config(max, max, 65536),
            config.streamIdleTimeout(),
            config.codecOptions().idleTimeout(),
            config.codecOptions().requestHeadersTimeout()));
    p.addLast(new HttpConnection(config, runtime, f, false));
  }

  static void http2(
      ChannelPipeline p,
      HttpConnectionManagerConfig config,
      ProxyRuntime runtime,
      HttpFilterFactory<?>[] f) {
    // Envoy's premature-reset rule for this connection's streams (rapid reset)
    var resets =
        new PrematureResets(
            p.channel(), runtime.stats().http(config.statPrefix()), runtime.values());
    p.addLast(
        new ServerCodecBuilder(config, runtime, resets)
            .initialSettings(
                Http2Settings.defaultSettings()
                    .maxHeaderListSize(nettyHeaderListSize(config.maxRequestHeadersBytes()))
                    .maxConcurrentStreams(config.maxConcurrentStreams())
                    .initialWindowSize(config.codecOptions().initialStreamWindowSize()))
            .build());
    var keepalive = config.codecOptions().http2Keepalive();
    if (keepalive != null) {
      // connection_keepalive: PINGs, and the close when one is not answered (set only)
      p.addLast(
          new dev.bowline.proxy.transport.Http2Keepalive(
              keepalive, ctx -> keepaliveTimeout(ctx, runtime)));
    }
    // Envoy's initial_connection_window_size: a WINDOW_UPDATE on stream 0 after SETTINGS
    p.addLast(
        new dev.bowline.proxy.transport.Http2ConnectionWindow(
            config.codecOptions().initialConnectionWindowSize()));
    // the stream idle and route timeouts of all the connection's streams: one task between them
    // and the connection's idle timeout (no stream for idle_timeout), checked by the same task
    var timers =
        new Http2StreamTimers(
            config.streamIdleTimeout(),
            p.channel().eventLoop(),
            resets,
            config.codecOptions().idleTimeout(),
            () -> connectionIdle(p.channel(), runtime.stats().http(config.statPrefix())));
    p.channel().closeFuture().addListener(closed -> timers.close());
    var firstFilters = new FirstFilters(); // the filters the connection's streams share
    // the frames of a stream to HTTP/1 objects and back: one codec for all of a connection's
    // streams, which is also what the multiplexer puts on each new stream; it adds the stream's
    // handler after itself (no initializer to add and remove per stream)
    p.addLast(
        new Http2MultiplexHandler(
            new dev.bowline.proxy.transport.Http2ServerStreamCodec(
                stream ->
                    stream.addLast(
                        new HttpConnection(config, runtime, f, true, timers, firstFilters)))));
    p.addLast(ConnectionErrors.INSTANCE);
    if (runtime.isDraining(p.channel())) {
      Http2Drain.start(p.channel()); // its preface came after its listener began to drain
    }
  }

  /**
   * A PING of {@code connection_keepalive} went unanswered: as Envoy's codec ({@code
   * onKeepaliveResponseTimeout}), {@code http2.keepalive_timeout} counted and the connection closed
   * at once without GOAWAY (past the codec, through TLS if any), a close from outside the
   * connection manager (Envoy's {@code LocalClose}). {@code ctx} is the keepalive handler's.
   */
  private static void keepaliveTimeout(ChannelHandlerContext ctx, ProxyRuntime runtime) {
    runtime.stats().http2().keepaliveTimeout().inc();
    ConnectionEnd.closingFromOutside(ctx.channel());
    ChannelHandlerContext c = ctx.pipeline().context(Http2FrameCodec.class);
    (c != null ? c : ctx).close(); // the codec's own close would write GOAWAY and wait
  }

  /**
   * HTTP/2 connection {@code ch} had no stream for {@code idle_timeout}: as Envoy's {@code
   * onIdleTimeout}, counted, and drained (GOAWAY, {@link Http2Drain}) unless it drains already; a
   * connection whose preface never came (no codec in Envoy) is closed at once, without GOAWAY.
   */
  static void connectionIdle(Channel ch, HttpStats stats) {
    Http2FrameCodec codec = ch.pipeline().get(Http2FrameCodec.class);
    if (codec == null || !ch.isActive()) {
      return;
    }
    stats.downstreamCxIdleTimeout().inc();
    if (!codec.decoder().prefaceReceived()) {
      // past the codec (whose close would write GOAWAY), through TLS if any
      ChannelHandlerContext c = ch.pipeline().context(codec);
      if (c != null) {
        c.close();
      }
      return;
    }
    Http2Drain.start(ch);
  }

  /**
   * Netty's own header list limit for a listener whose {@code max_request_headers_kb} is {@code
   * limit} bytes. Netty ends the connection (GOAWAY) once a header block's encoded bytes pass 1.25
   * times its limit, and buffers the block up to there before it decodes it; Envoy (oghttp2)
   * decodes as it reads, resets only the stream of a header list over the limit, and ends the
   * connection (GOAWAY COMPRESSION_ERROR) once the block's encoded bytes pass 4 times the limit. So
   * Netty gets 3.2 times the limit, which puts its GOAWAY bound at 4 times it, and the limit itself
   * is checked on the decoded headers ({@link ServerCodecBuilder}, as Envoy counts: names and
   * values). What one client can make a connection buffer stays bounded, at 4 times the limit.
   */
  static long nettyHeaderListSize(int limit) {
    return (16L * limit + 4) / 5;
  }

  /**
   * Netty's server frame codec, closing gracefully, and with Envoy's answer to invalid HTTP
   * messaging: a received HEADERS with bad pseudo-headers or connection-specific headers (Netty's
   * stream errors of type PROTOCOL_ERROR on inbound frames) ends the whole connection with GOAWAY
   * PROTOCOL_ERROR, as Envoy does unless {@code override_stream_error_on_invalid_http_message} (or
   * its fallbacks) is set; with it, only that stream is reset (RST_STREAM PROTOCOL_ERROR, Netty's
   * own answer).
   */
  private static final class ServerCodecBuilder extends Http2FrameCodecBuilder {
    private final boolean streamErrorOnInvalid;
    private final HttpConnectionManagerConfig config;
    private final ProxyRuntime runtime;
    private final PrematureResets resets;

    ServerCodecBuilder(
        HttpConnectionManagerConfig config, ProxyRuntime runtime, PrematureResets resets) {
      this.streamErrorOnInvalid = config.codecOptions().http2StreamErrorOnInvalid();
      this.config = config;
      this.runtime = runtime;
      this.resets = resets;
      connection(new Http2ServerConnection()); // a server's, which remembers refused streams
      // Rapid reset is bounded by Envoy's premature-reset rule (PrematureResets), not by Netty's
      // caps of 200 RST_STREAM received, or sent, per 30 s: those end the connection of a client
      // that cancels many long-lived streams, or whose streams the proxy resets or refuses, which
      // Envoy serves. Streams the codec resets for what the client sent (MadeYouReset) end without
      // a response and count as premature, as in Envoy; refused streams start no work.
      decoderEnforceMaxRstFramesPerWindow(0, 0);
      encoderEnforceMaxRstFramesPerWindow(0, 0);
      // an HTTP/2 connection closing for another reason than a listener drain (an I/O error, max
      // connection duration) gives its open streams the HCM's drain_timeout after GOAWAY; a
      // listener
      // drain waits for them until its drain time ends (Http2Drain)
      gracefulShutdownTimeoutMillis(config.codecOptions().drainTimeout().toMillis());
    }

    @Override
    protected Http2FrameCodec build(
        Http2ConnectionDecoder decoder, Http2ConnectionEncoder encoder, Http2Settings settings) {
      // Netty's codec raises the connection window by twice what the SETTINGS stream window adds;
      // Envoy sets it to initial_connection_window_size (Http2ConnectionWindow, next in the
      // pipeline). The codec reads the stream window from these settings when it is made and
      // keeps the object to announce in its preface, so the window goes back in after.
      Long streamWindow =
          settings.initialWindowSize() == null ? null : (long) settings.initialWindowSize();
      settings.remove(Http2CodecUtil.SETTINGS_INITIAL_WINDOW_SIZE);
      // The frame reader took Netty's header list limit from these settings when it was made; they
      // are also what the preface announces and what the client's SETTINGS ACK applies again (at
      // Netty's 1.25 GOAWAY factor). Envoy announces no SETTINGS_MAX_HEADER_LIST_SIZE, so neither
      // do we, and the reader keeps the bound it was made with.
      Long nettyLimit = settings.maxHeaderListSize();
      long goAwayBound =
          nettyLimit == null ? -1 : Http2CodecUtil.calculateMaxHeaderListSizeGoAway(nettyLimit);
      settings.remove(Http2CodecUtil.SETTINGS_MAX_HEADER_LIST_SIZE);
      String blockTooLarge = "Header size exceeded max allowed size (" + goAwayBound + ")";
      Http2ServerConnection streams = (Http2ServerConnection) decoder.connection();
      Http2FrameCodec codec =
          new Http2FrameCodec(
              encoder,
              new HeaderCountLimit(decoder),
              settings,
              decoupleCloseAndGoAway(),
              flushPreface()) {
            @Override
            public void onError(ChannelHandlerContext ctx, boolean outbound, Throwable cause) {
              Throwable c = cause;
              Http2Exception h2 = Http2CodecUtil.getEmbeddedHttp2Exception(cause);
              if (!outbound
                  && h2 instanceof Http2Exception.StreamException e
                  && e.error() == Http2Error.REFUSED_STREAM
                  && connection().stream(e.streamId()) == null) {
                // refused before it was created (past a GOAWAY's last stream id, or past
                // max_concurrent_streams): what the client already sent on it is dropped later
                streams.refused(e.streamId());
              }
              if (!outbound
                  && h2 instanceof Http2Exception.HeaderListSizeException hl
                  && hl.duringDecode()) {
                // over max_request_headers_kb: Envoy resets only this stream (INTERNAL_ERROR, no
                // 431) and logs it; Netty would answer 431 and reset with PROTOCOL_ERROR
                headerOverflow(
                    ctx.channel(), hl.streamId(), connection().stream(hl.streamId()) == null);
                c =
                    Http2Exception.streamError(
                        hl.streamId(), Http2Error.INTERNAL_ERROR, cause, "%s", hl.getMessage());
              } else if (!outbound
                  && h2 != null
                  && !(h2 instanceof Http2Exception.StreamException)
                  && h2.error() == Http2Error.PROTOCOL_ERROR
                  && blockTooLarge.equals(h2.getMessage())) {
                // a header block past 4 times the limit: Envoy's HPACK decoder gives up on the
                // connection there, with COMPRESSION_ERROR
                c =
                    Http2Exception.connectionError(
                        Http2Error.COMPRESSION_ERROR,
                        cause,
                        "header block over %d encoded bytes",
                        goAwayBound);
              } else if (!outbound
                  && h2 instanceof Http2Exception.StreamException e
                  && e.error() == Http2Error.PROTOCOL_ERROR) {
                // invalid messaging: Envoy's stream for it is logged (DPE, the codec's details)
                invalidMessaging(ctx.channel(), e.getMessage(), config, runtime);
                if (!streamErrorOnInvalid) {
                  c =
                      Http2Exception.connectionError(
                          Http2Error.PROTOCOL_ERROR,
                          cause,
                          "invalid HTTP messaging on stream %d: %s",
                          e.streamId(),
                          e.getMessage());
                }
              }
              if (!outbound
                  && c instanceof Http2Exception x
                  && !(x instanceof Http2Exception.StreamException)
                  && x.error() != Http2Error.NO_ERROR) {
                protocolError(ctx.channel(), x.error(), config, runtime);
              }
              if (!outbound
                  && c instanceof Http2Exception.StreamException se
                  && se.error() == Http2Error.FLOW_CONTROL_ERROR
                  && connection().stream(se.streamId()) != null) {
                // a stream window overrun: Envoy's codec resets the stream with FLOW_CONTROL_ERROR
                // and reports its close as the peer's reset (DR, http2.remote_reset). Netty hands
                // the error to the stream's channel, whose close would say CANCEL: the reset goes
                // first, so that close adds none
                streamCodecError(ctx.channel(), se.streamId(), "http2.remote_reset");
                resetStream(ctx, se.streamId(), se.error().code(), ctx.newPromise());
              }
              super.onError(ctx, outbound, c);
            }

            @Override
            public io.netty.channel.ChannelFuture resetStream(
                ChannelHandlerContext ctx,
                int streamId,
                long errorCode,
                io.netty.channel.ChannelPromise promise) {
              var stream = connection().stream(streamId);
              if (stream == null || !stream.isResetSent()) {
                // Envoy's codec counts every RST_STREAM it sends (the proxy's, the codec's)
                runtime.stats().http2().txReset().inc();
              }
              return super.resetStream(ctx, streamId, errorCode, promise);
            }
          };
      if (streamWindow != null) {
        settings.initialWindowSize(streamWindow.intValue());
      }
      codec.gracefulShutdownTimeoutMillis(gracefulShutdownTimeoutMillis());
      return codec;
    }

    /**
     * Envoy's answer to a header block over {@code max_request_headers_kb} or {@code
     * max_headers_count}: {@code http2.header_overflow} counted and the refused stream logged with
     * {@code DR} and {@code http2.too_many_headers} (Envoy's codec closes such a stream with
     * INTERNAL_ERROR, which its connection manager takes for a remote reset): a request's headers
     * as a stream of their own, trailers as the reset of the request they end (taken by its handler
     * when it sees the reset).
     */
    void headerOverflow(Channel ch, int streamId, boolean request) {
      runtime.stats().http2().headerOverflow().inc();
      if (request) {
        CodecError.resetStream(
            config,
            runtime.stats().http(config.statPrefix()),
            ch,
            "http2.too_many_headers",
            dev.bowline.proxy.http.filter.ResponseFlag.DR);
      } else {
        streamCodecError(ch, streamId, "http2.too_many_headers");
      }
    }

    /**
     * {@code common_http_protocol_options.max_headers_count} on HTTP/2, as Envoy's codec counts it
     * (pseudo-headers included): a HEADERS frame with more fields resets its stream with RST_STREAM
     * INTERNAL_ERROR and never reaches the stream's handler; the connection goes on.
     */
    private final class HeaderCountLimit
        extends io.netty.handler.codec.http2.DecoratingHttp2ConnectionDecoder {
      private final int max;
      private final int maxBytes;

      private final io.netty.handler.codec.http2.Http2Connection.PropertyKey requestSeen;

      private final int underscores;

      /**
       * Envoy's HTTP/2 codec under {@code headers_with_underscores_action}, request headers and
       * trailers ({@link UnderscoreHeaders}); a rejected request's stream is reset as nghttp2 and
       * oghttp2 answer the header callback's {@code NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE}:
       * RST_STREAM INTERNAL_ERROR, returning true; the connection goes on.
       */
      private boolean underscoresRejected(
          ChannelHandlerContext ctx,
          int streamId,
          io.netty.handler.codec.http2.Http2Headers headers) {
        boolean any = false;
        for (var e : headers) { // looked at here first: the common request passes no iterator on
          if (io.netty.util.AsciiString.indexOf(e.getKey(), '_', 0) >= 0) {
            any = true;
            break;
          }
        }
        if (!any
            || !UnderscoreHeaders.rejected(
                headers,
                headers.iterator(),
                io.netty.handler.codec.http2.Http2Headers::remove,
                underscores,
                runtime.stats().http2())) {
          return false;
        }
        var stream = connection().stream(streamId);
        if (stream == null || stream.getProperty(requestSeen) == null) {
          // a request's headers: Envoy's stream for them is logged with the codec's details
          CodecError.resetStream(
              config,
              runtime.stats().http(config.statPrefix()),
              ctx.channel(),
              "http2.unexpected_underscore",
              dev.bowline.proxy.http.filter.ResponseFlag.DR);
        }
        ((io.netty.handler.codec.http2.Http2ConnectionHandler) ctx.handler())
            .resetStream(ctx, streamId, Http2Error.INTERNAL_ERROR.code(), ctx.newPromise());
        return true;
      }

      HeaderCountLimit(Http2ConnectionDecoder decoder) {
        super(decoder);
        this.underscores = config.codecOptions().headersWithUnderscoresAction();
        this.max = config.codecOptions().maxHeadersCount();
        this.maxBytes = config.maxRequestHeadersBytes();
        this.requestSeen = decoder.connection().newKey();
      }

      /** A header list's size as Envoy's header map counts it: names and values. */
      private static long byteSize(io.netty.handler.codec.http2.Http2Headers headers) {
        long n = 0;
        for (var e : headers) {
          n += e.getKey().length() + e.getValue().length();
        }
        return n;
      }

      @Override
      public void frameListener(io.netty.handler.codec.http2.Http2FrameListener listener) {
        super.frameListener(
            new dev.bowline.proxy.transport.Http2HeadersCheck(
                listener,
                (ctx, streamId, headers) ->
                    !resets.tripped() && !overflow(ctx, streamId, headers)) {
              @Override
              public void onRstStreamRead(ChannelHandlerContext ctx, int streamId, long errorCode)
                  throws Http2Exception {
                // Envoy's codec counts every RST_STREAM it receives
                runtime.stats().http2().rxReset().inc();
                super.onRstStreamRead(ctx, streamId, errorCode);
              }
            });
      }

      private boolean overflow(
          ChannelHandlerContext ctx,
          int streamId,
          io.netty.handler.codec.http2.Http2Headers headers) {
        if (headers.size() <= max && byteSize(headers) <= maxBytes) {
          if (underscores != dev.bowline.proxy.config.CodecOptions.UNDERSCORES_ALLOW
              && underscoresRejected(ctx, streamId, headers)) {
            return true;
          }
          var stream = connection().stream(streamId);
          if (stream != null) {
            stream.setProperty(requestSeen, Boolean.TRUE); // later HEADERS are trailers
          }
          return false;
        }
        var stream = connection().stream(streamId);
        headerOverflow(
            ctx.channel(), streamId, stream == null || stream.getProperty(requestSeen) == null);
        ((io.netty.handler.codec.http2.Http2ConnectionHandler) ctx.handler())
            .resetStream(ctx, streamId, Http2Error.INTERNAL_ERROR.code(), ctx.newPromise());
        return true;
      }
    }
  }

  /**
   * The streams of an HTTP/2 connection that its codec reset for what they sent (trailers over the
   * header limits), with Envoy's details for each; made on the first such reset.
   */
  private static final io.netty.util.AttributeKey<io.netty.util.collection.IntObjectMap<String>>
      STREAM_CODEC_ERRORS = io.netty.util.AttributeKey.valueOf("bowline.streamCodecErrors");

  private static void streamCodecError(Channel connection, int streamId, String details) {
    var errors = connection.attr(STREAM_CODEC_ERRORS);
    var m = errors.get();
    if (m == null) {
      m = new io.netty.util.collection.IntObjectHashMap<>(4);
      errors.set(m);
    }
    m.put(streamId, details);
  }

  /**
   * The details the codec reset HTTP/2 stream channel {@code stream} with, if it did (once: the
   * record goes); null for any other end of the stream.
   */
  static @org.jspecify.annotations.Nullable String takeStreamCodecError(Channel stream) {
    if (!(stream instanceof Http2StreamChannel sc) || stream.parent() == null) {
      return null;
    }
    var m = stream.parent().attr(STREAM_CODEC_ERRORS).get();
    return m == null || m.isEmpty() ? null : m.remove(sc.stream().id());
  }

  /**
   * An HTTP/2 connection's error detail once the codec ended it on a protocol error: its open
   * streams are reset with {@code DPE} and this detail (Envoy's {@code codec_error:...}).
   */
  static final io.netty.util.AttributeKey<String> CODEC_ERROR =
      io.netty.util.AttributeKey.valueOf("bowline.codecError");

  /**
   * The codec ends HTTP/2 connection {@code ch} on a protocol error: counted ({@code
   * downstream_cx_protocol_error}), and its open streams will be reset as protocol errors.
   */
  static void protocolError(
      Channel ch, Http2Error error, HttpConnectionManagerConfig config, ProxyRuntime runtime) {
    if (ch.attr(CODEC_ERROR).setIfAbsent("codec_error:" + error.name()) == null) {
      runtime.stats().http(config.statPrefix()).downstreamCxProtocolError().inc();
    }
  }

  /**
   * HEADERS on HTTP/2 connection {@code ch} that make no valid request (Envoy's {@code
   * rx_messaging_error}): counted, and the refused stream logged with {@code DPE} and Envoy's
   * details for it.
   */
  static void invalidMessaging(
      Channel ch,
      @org.jspecify.annotations.Nullable String message,
      HttpConnectionManagerConfig config,
      ProxyRuntime runtime) {
    runtime.stats().http2().rxMessagingError().inc();
    String m = message == null ? "" : message.toLowerCase(java.util.Locale.ROOT);
    String details =
        m.contains("content-length") || m.contains("mandatory") || m.contains("missing")
            ? "http2.violation.of.messaging.rule"
            : "http2.invalid.header.field";
    CodecError.resetStream(
        config,
        runtime.stats().http(config.statPrefix()),
        ch,
        details,
        dev.bowline.proxy.http.filter.ResponseFlag.DPE);
  }

  /**
   * Last on an HTTP/2 connection. The frame codec passes a protocol error on before it answers it
   * with GOAWAY (or RST_STREAM) and closes the connection itself: the error ends here instead of at
   * the pipeline's tail, where Netty would log a warning per bad client, and nothing here closes
   * first (a close now would be the graceful one, GOAWAY NO_ERROR, hiding the error code).
   */
  @io.netty.channel.ChannelHandler.Sharable
  private static final class ConnectionErrors
      extends io.netty.channel.ChannelInboundHandlerAdapter {
    static final ConnectionErrors INSTANCE = new ConnectionErrors();
    private static final System.Logger LOG =
        System.getLogger(HttpConnectionManager.class.getName());

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      if (cause instanceof io.netty.handler.codec.http2.Http2Exception) {
        LOG.log(System.Logger.Level.DEBUG, "event=h2_protocol_error error={0}", cause.toString());
        return; // the codec answers with the error's code, then closes
      }
      if (!(cause instanceof java.io.IOException)) {
        LOG.log(System.Logger.Level.WARNING, "event=downstream_error error={0}", cause.toString());
      }
      ctx.close();
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

    // the connection manager's idle timeout while no byte has come (Envoy has no codec yet)
    private io.netty.util.concurrent.@org.jspecify.annotations.Nullable ScheduledFuture<?>
        idleTimer;

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
      java.time.Duration idle = config.codecOptions().idleTimeout();
      if (idle.isPositive()) {
        idleTimer =
            ctx.executor()
                .schedule(
                    () -> {
                      if (ctx.channel().isActive() && !ctx.isRemoved()) {
                        // Envoy's onIdleTimeout without a codec: counted, closed at once
                        runtime.stats().http(config.statPrefix()).downstreamCxIdleTimeout().inc();
                        ctx.close();
                      }
                    },
                    idle.toNanos(),
                    java.util.concurrent.TimeUnit.NANOSECONDS);
      }
    }

    @Override
    protected void handlerRemoved0(ChannelHandlerContext ctx) {
      var t = idleTimer;
      if (t != null) {
        idleTimer = null;
        t.cancel(false);
      }
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
      ConnectionEnd.codecMade(p, h2); // the first bytes: Envoy makes its codec now
      if (h2) {
        http2(p, config, runtime, factories);
      } else {
        http1(p, config, runtime, factories);
      }
      p.remove(this); // hands the buffered bytes to the codec just added
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      dev.bowline.proxy.transport.PeerErrors.caught(ctx, cause); // reset before the first bytes
    }
  }
}
