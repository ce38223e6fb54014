package dev.bowline.proxy.http;

import dev.bowline.proxy.config.HttpConnectionManagerConfig;
import dev.bowline.proxy.http.filter.HttpFilter;
import dev.bowline.proxy.http.filter.HttpFilterFactory;
import dev.bowline.proxy.http.filter.ResponseFlag;
import dev.bowline.proxy.http.filter.StreamInfo;
import dev.bowline.proxy.stats.HttpStats;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import org.jspecify.annotations.Nullable;

/**
 * A request the codec could not parse into a request head (Envoy's codec protocol error before the
 * connection manager saw headers). Envoy still has a stream for it: HTTP/1 answers it locally
 * through a filter chain created for the purpose ({@code sendLocalReplyViaFilterChain}), and either
 * codec's stream is logged with the response flag {@code DPE} and the codec's response code details
 * ({@code http1.codec_error}, {@code http1.headers_too_large}, {@code
 * http2.violation.of.messaging.rule}, ...). This is that stream's {@link StreamInfo}: no method,
 * path or request headers ({@code -} in access logs). Rare path; event loop only.
 */
final class CodecError implements LocalReplyMapper.View {
  private final long startEpochMillis = System.currentTimeMillis();
  private final long startNanos = System.nanoTime();
  private long endNanos;
  private final Channel connection; // the downstream connection (the parent of an HTTP/2 stream)
  private final String protocol;
  private final String details;
  private int flags;
  private int code;
  private long bytesSent;
  private @Nullable HttpHeaders responseHeaders;
  private Object @Nullable [] state;

  private CodecError(
      Channel connection, String protocol, String details, @Nullable ResponseFlag flag) {
    this.connection = connection;
    this.protocol = protocol;
    this.details = details;
    flags |= flag == null ? 0 : flag.bit();
  }

  /**
   * HTTP/1: the codec could not parse a request head. Answers {@code status} ({@code connection:
   * close}), passes the answer through the response side of a fresh filter chain, counts it as
   * Envoy does ({@code downstream_rq_total}, {@code downstream_rq_4xx}, {@code
   * downstream_cx_protocol_error}), logs it and closes the connection once written.
   */
  static void reply(HttpConnection conn, ChannelHandlerContext ctx, int status, String details) {
    reply(
        conn,
        ctx,
        status,
        status == 431 ? "Request Header Fields Too Large" : "Bad Request",
        details,
        ResponseFlag.DPE,
        true);
  }

  /**
   * HTTP/1: a request whose head never became a request is answered {@code status} with {@code
   * body} ({@code connection: close}), logged with {@code flag} and {@code details}, and counted as
   * {@link #reply(HttpConnection, ChannelHandlerContext, int, String)} says, the protocol error
   * only if {@code protocolError}; the connection closes once the answer is written.
   */
  static void reply(
      HttpConnection conn,
      ChannelHandlerContext ctx,
      int status,
      String body,
      String details,
      @Nullable ResponseFlag flag,
      boolean protocolError) {
    HttpStats stats = conn.stats;
    stats.downstreamRqTotal().inc();
    if (protocolError) {
      stats.downstreamCxProtocolError().inc();
    }
    stats.downstreamRqResponseBeforeRqComplete().inc(); // the codec never saw the request end
    CodecError info = new CodecError(ctx.channel(), "HTTP/1.1", details, flag);
    LocalReplyMapper mapper = conn.config.replies().localReply();
    FullHttpResponse r;
    if (mapper == null) {
      r = LocalReply.build(ctx.alloc(), status, body, conn.config.serverName(), false);
    } else {
      // Envoy answers a codec error through the connection manager's local reply, mapper too
      r =
          LocalReply.build(
              ctx.alloc(), mapper.rewrite(info, status, body), conn.config.serverName(), false);
      status = info.code;
    }
    stats.response(status);
    r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    HttpFilter[] filters = filters(conn.config, conn.filterFactories, info);
    for (int i = filters.length - 1; i >= 0; i--) {
      filters[i].onResponseHeaders(r);
    }
    info.code = status;
    info.bytesSent = r.content().readableBytes();
    info.responseHeaders = r.headers();
    info.complete(conn.config, filters);
    ctx.writeAndFlush(r)
        .addListener(
            f ->
                DelayedClose.close(
                    ctx.channel(),
                    conn.config.codecOptions().delayedCloseTimeout(),
                    stats.downstreamCxDelayedCloseTimeout()));
  }

  /**
   * HTTP/2: the codec refused a stream before it became a request: Envoy's stream for it is reset
   * and logged with response code 0 and {@code flag}: {@code DPE} for invalid HEADERS (the codec's
   * own reset), {@code DR} for a header list over the limits (which Envoy's codec reports as the
   * peer's reset). Counts {@code downstream_rq_total}; a connection error is counted by the caller.
   */
  static void resetStream(
      HttpConnectionManagerConfig config,
      HttpStats stats,
      Channel connection,
      String details,
      ResponseFlag flag) {
    stats.downstreamRqTotal().inc();
    new CodecError(connection, "HTTP/2", details, flag).complete(config, new HttpFilter[0]);
  }

  private static HttpFilter[] filters(
      HttpConnectionManagerConfig config, HttpFilterFactory<?>[] factories, StreamInfo info) {
    HttpFilter[] filters = new HttpFilter[factories.length];
    for (int i = 0; i < factories.length; i++) {
      filters[i] = create(factories[i], config.httpFilters().get(i).config(), info);
    }
    return filters;
  }

  @SuppressWarnings("unchecked")
  private static <C> HttpFilter create(HttpFilterFactory<C> f, Object config, StreamInfo info) {
    return f.create((C) config, info);
  }

  private void complete(HttpConnectionManagerConfig config, HttpFilter[] filters) {
    endNanos = System.nanoTime();
    for (HttpFilter f : filters) {
      try {
        f.onStreamComplete(this);
      } catch (RuntimeException e) {
        System.getLogger(CodecError.class.getName())
            .log(
                System.Logger.Level.WARNING,
                "event=filter_complete_failed error={0}",
                e.toString());
      }
    }
    for (var log : config.accessLogs()) {
      log.log(this, dev.bowline.proxy.accesslog.AccessLogType.DownstreamEnd);
    }
  }

  @Override
  public long startEpochMillis() {
    return startEpochMillis;
  }

  @Override
  public long startNanos() {
    return startNanos;
  }

  @Override
  public long durationNanos() {
    return endNanos == 0 ? 0 : endNanos - startNanos;
  }

  @Override
  public long responseStartNanos() {
    return code == 0 ? 0 : endNanos - startNanos;
  }

  @Override
  public int responseCode() {
    return code;
  }

  private @Nullable String localReplyBody;

  @Override
  public void showLocalReply(int code, @Nullable HttpHeaders headers, @Nullable String body) {
    this.code = code;
    this.responseHeaders = headers;
    this.localReplyBody = body;
  }

  @Override
  public @Nullable String localReplyBody() {
    return localReplyBody;
  }

  @Override
  public int responseFlags() {
    return flags;
  }

  @Override
  public String responseCodeDetails() {
    return details;
  }

  @Override
  public long bytesReceived() {
    return 0;
  }

  @Override
  public long bytesSent() {
    return bytesSent;
  }

  @Override
  public String protocol() {
    return protocol;
  }

  @Override
  public HttpHeaders requestHeaders() {
    return EmptyHttpHeaders.INSTANCE;
  }

  @Override
  public String method() {
    return "";
  }

  @Override
  public String path() {
    return "";
  }

  @Override
  public @Nullable HttpHeaders responseHeaders() {
    return responseHeaders;
  }

  @Override
  public @Nullable HttpHeaders responseTrailers() {
    return null;
  }

  @Override
  public @Nullable String upstreamCluster() {
    return null;
  }

  @Override
  public @Nullable String upstreamHost() {
    return null;
  }

  @Override
  public @Nullable String routeName() {
    return null;
  }

  @Override
  public String downstreamRemoteAddress() {
    return StreamInfo.ipPort(connection.remoteAddress());
  }

  @Override
  public String downstreamLocalAddress() {
    return StreamInfo.ipPort(dev.bowline.proxy.config.ConnectionInfo.localAddress(connection));
  }

  @Override
  public Channel downstreamConnection() {
    return connection;
  }

  @Override
  @SuppressWarnings("unchecked")
  public <T> @Nullable T get(StateKey<T> key) {
    Object[] st = state;
    if (st != null) {
      for (int i = 0; i < st.length; i += 2) {
        if (st[i] == key) {
          return (T) st[i + 1];
        }
      }
    }
    return null;
  }

  @Override
  public <T> void put(StateKey<T> key, T value) {
    Object[] st = state;
    if (st != null) {
      for (int i = 0; i < st.length; i += 2) {
        if (st[i] == key) {
          st[i + 1] = value;
          return;
        }
      }
    }
    Object[] grown = st == null ? new Object[2] : java.util.Arrays.copyOf(st, st.length + 2);
    grown[grown.length - 2] = key;
    grown[grown.length - 1] = value;
    state = grown;
  }
}
