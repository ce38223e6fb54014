package dev.bowline.proxy.http;

import dev.bowline.proxy.config.HttpConnectionManagerConfig;
import dev.bowline.proxy.http.filter.HttpFilterFactory;
import dev.bowline.proxy.http.filter.ResponseFlag;
import dev.bowline.proxy.runtime.ProxyRuntime;
import dev.bowline.proxy.stats.HttpStats;
import dev.bowline.proxy.transport.LoopClock;
import dev.bowline.proxy.upstream.Worker;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * One downstream HTTP connection (or one HTTP/2 stream's child channel): runs its requests one at a
 * time, in order, so pipelined HTTP/1.1 requests are answered in the order they came. Lives on the
 * channel's event loop.
 */
final class HttpConnection extends ChannelInboundHandlerAdapter
    implements dev.bowline.proxy.transport.StreamActivity,
        dev.bowline.proxy.transport.RequestScheme {
  /** Pipelined messages held while a request is in flight; beyond this we stop reading. */
  private static final int MAX_QUEUED = 64;

  final HttpConnectionManagerConfig config;
  final ProxyRuntime runtime;
  final HttpStats stats;
  final HttpFilterFactory<?>[] filterFactories;
  final boolean http2Stream;

  /**
   * The {@code server} header value: an {@link io.netty.util.AsciiString} (the encoder copies its
   * bytes whole) when the configured name is ASCII, else the configured text as it is.
   */
  final CharSequence serverName;

  /** This connection's {@code x-forwarded-client-cert} element, once built. */
  final ForwardedClientCert.ElementCache xfcc = new ForwardedClientCert.ElementCache();

  // The downstream addresses as text, made on first use (access logs, metrics) and kept for the
  // connection's life; event loop only.
  @Nullable String remoteAddressText;
  @Nullable String localAddressText;
  io.netty.util.@Nullable AsciiString localPortText; // append_x_forwarded_port's value
  @Nullable String serverNameText; // SNI from the connection's ConnectionInfo

  // the original destination the original_dst listener filter restored (ORIGINAL_DST clusters)
  dev.bowline.proxy.config.@Nullable SocketAddr restoredDestination;
  boolean restoredDestinationRead;

  // The last millisecond count written as header text (x-envoy-expected-rq-timeout-ms is the same
  // for every request of a route): kept so a keep-alive connection makes the string once.
  private long lastMillis = -1;
  private String lastMillisText = "";

  /**
   * The filters of the downstream connection's first stream; later streams share them where the
   * same (an HTTP/2 stream's handler holds its connection's).
   */
  final FirstFilters firstFilters;

  @Nullable Worker worker;
  @Nullable ChannelHandlerContext ctx;
  String remoteIp = "";
  private @Nullable HttpStream current;
  private boolean discarding; // skipping the rest of a request body after an early reply
  // The connection ends after the response just written: what the codec still decodes from bytes
  // it already read (a request pipelined behind a refused upgrade, say, while the delayed close
  // waits) is dropped, not served
  private boolean closing;
  // the messages read and not yet dispatched: pipelined requests on an HTTP/1 connection; on an
  // HTTP/2 stream (a handler per stream) one message at a time, so its array starts at 2 slots
  // (16 B) instead of ArrayDeque's default 17 (80 B)
  private final ArrayDeque<HttpObject> queue;

  /**
   * The current stream's {@code max_stream_duration} timer, when one is configured: kept here, not
   * in the stream, so a request that has none carries no field for it (one stream at a time runs on
   * a connection, and an HTTP/2 stream has a connection of its own).
   */
  io.netty.util.concurrent.@Nullable ScheduledFuture<?> durationTimer;

  /** The listener's per_connection_buffer_limit_bytes (0: none); set when the handler is added. */
  int bufferLimit = 1 << 20;

  // A stream holds more body than bufferLimit while its chain waits: reading stays off until it
  // hands the body on (Envoy's high/low watermark on the decoder buffer).
  private boolean bodyPaused;

  // The current stream's upstream connection is over its write watermark: reading stays off until
  // it drains (Envoy's onDecoderFilterAboveWriteBufferHighWatermark), whatever a read batch does.
  private boolean upstreamPaused;

  // HTTP/2: the error code of the client's RST_STREAM on this stream; -1 while none came
  private long remoteReset = -1;

  /**
   * HTTP/1: the connection's drain timeout ran out with a stream in flight (Envoy's drain state
   * "closing"): the connection closes once that stream's response is written, whatever its head
   * said.
   */
  boolean closeAfterStream;

  HttpConnection(
      HttpConnectionManagerConfig config,
      ProxyRuntime runtime,
      HttpFilterFactory<?>[] filterFactories,
      boolean http2Stream) {
    this(config, runtime, filterFactories, http2Stream, null, new FirstFilters());
  }

  /**
   * An HTTP/2 stream's handler whose stream idle timeout and route timeout {@code timers} keep (its
   * connection's, one task for all its streams, which also carry the connection's premature-reset
   * count); null: this handler's own route timer. {@code firstFilters} is the downstream
   * connection's (shared by an HTTP/2 connection's streams).
   */
  HttpConnection(
      HttpConnectionManagerConfig config,
      ProxyRuntime runtime,
      HttpFilterFactory<?>[] filterFactories,
      boolean http2Stream,
      @Nullable Http2StreamTimers timers,
      FirstFilters firstFilters) {
    this.timers = timers;
    this.firstFilters = firstFilters;
    this.config = config;
    this.runtime = runtime;
    this.stats = runtime.stats().http(config.statPrefix());
    this.filterFactories = filterFactories;
    this.http2Stream = http2Stream;
    this.queue = http2Stream ? new ArrayDeque<>(1) : new ArrayDeque<>();
    String server = config.serverName();
    this.serverName =
        server.chars().allMatch(c -> c < 0x80) ? io.netty.util.AsciiString.cached(server) : server;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
    this.clock = LoopClock.current();
    this.worker = runtime.worker(ctx.channel().eventLoop());
    var remote =
        http2Stream ? ctx.channel().parent().remoteAddress() : ctx.channel().remoteAddress();
    if (remote instanceof InetSocketAddress isa) {
      remoteIp = isa.getAddress().getHostAddress();
    }
    var ch = http2Stream ? ctx.channel().parent() : ctx.channel();
    Integer limit = ch == null ? null : ch.attr(HttpConnectionManager.BUFFER_LIMIT).get();
    if (limit != null) {
      bufferLimit = limit;
    }
    io.netty.channel.Channel own = ctx.channel();
    io.netty.channel.Channel parent = own.parent();
    drainingFlag =
        (parent != null && !(parent instanceof io.netty.channel.ServerChannel) ? parent : own)
            .attr(ProxyRuntime.CONNECTION_DRAINING);
    healthDrain = ch == null || !ch.hasAttr(ProxyRuntime.MODIFY_ONLY_DRAIN);
    tlsPeer = dev.bowline.proxy.tls.TlsPeer.attribute(own);
    parentTlsPeer = parent == null ? null : dev.bowline.proxy.tls.TlsPeer.attribute(parent);
    if (timers != null) {
      timers.add(this);
    }
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    if (timers != null) {
      timers.remove(this); // a CONNECT tunnel took the stream over, or it closed
    }
  }

  /**
   * This HTTP/2 stream's request completes after {@code lifetimeNanos}, {@code responded} or not:
   * counted for its connection's premature-reset rule (Envoy counts every stream its connection
   * closes), unless the client's RST_STREAM came first and was counted then ({@link
   * #userEventTriggered}). Nothing for HTTP/1. No field of its own: HttpConnection is allocated per
   * HTTP/2 stream (decision 0042), so the count lives with the connection's timers.
   */
  void countStreamEnd(long lifetimeNanos, boolean responded) {
    Http2StreamTimers t = timers;
    if (t != null && remoteReset < 0) {
      t.resets().streamClosed(lifetimeNanos, responded);
    }
  }

  // An HTTP/2 stream's timers, kept by its connection's Http2StreamTimers (null otherwise): the
  // last time a frame was read or written on it, and its place in the connection's list.
  private final @Nullable Http2StreamTimers timers;
  long lastActivity;
  // the event loop's clock (decision 0037, addendum 14): inside an HTTP/1 codec's read batch its
  // time, else System.nanoTime; the loop's own once the handler is added
  LoopClock clock = LoopClock.current();
  @Nullable HttpConnection timedPrev;
  @Nullable HttpConnection timedNext;

  // the current request's :scheme: on an HTTP/2 stream first the client's own (its codec says so),
  // then for either version Envoy's, as the connection manager leaves it (HttpStream.decodeHeaders)
  private @Nullable CharSequence requestScheme;

  @Override
  public void requestScheme(@Nullable CharSequence scheme) {
    requestScheme = scheme;
  }

  @Override
  public @Nullable CharSequence requestScheme() {
    return requestScheme;
  }

  /** A frame was written on this HTTP/2 stream (its codec says so): it is not idle. */
  @Override
  public void streamActive() {
    lastActivity = System.nanoTime();
  }

  /** The stream idle timeout of this HTTP/2 stream: no frame either way for that long. */
  void onStreamIdle() {
    HttpStream s = current;
    if (s != null) {
      s.onIdle(); // stream_idle_timeout; an idle connection without a stream stays open
    }
  }

  /** Whether a route timeout is armed (an HTTP/2 stream's, kept by its connection's timers). */
  boolean routeArmed() {
    return timedStream != null;
  }

  /** The armed route timeout's deadline ({@link System#nanoTime}). */
  long routeDeadline() {
    return timedDeadline;
  }

  /** Whether the armed route timeout is due at {@code now}. */
  boolean routeDue(long now) {
    return timedStream != null && now - timedDeadline >= 0;
  }

  /** The route timeout of the stream that armed it fires (its connection's timers found it due). */
  void onRouteTimeout() {
    HttpStream s = timedStream;
    timedStream = null;
    if (s != null) {
      s.onTimeout();
    }
  }

  // The connection's draining flag and TLS peer as attributes looked up once: a request reads them
  // without searching the channel's attribute map (ProxyRuntime.isDraining, TlsPeer.of).
  private io.netty.util.@Nullable Attribute<Boolean> drainingFlag;
  private io.netty.util.@Nullable Attribute<dev.bowline.proxy.tls.TlsPeer> tlsPeer;
  private io.netty.util.@Nullable Attribute<dev.bowline.proxy.tls.TlsPeer> parentTlsPeer;

  // false on a connection of a drain_type: MODIFY_ONLY listener: the failed health check leaves it
  private boolean healthDrain = true;

  /**
   * Whether the proxy or this connection drains ({@code ProxyRuntime.isDraining(Channel)}), or, on
   * a listener of {@code drain_type: DEFAULT}, the proxy's health check is failed (Envoy's {@code
   * DrainManagerImpl::drainClose}): the response then closes the connection.
   */
  boolean draining() {
    var d = drainingFlag;
    return (healthDrain ? runtime.drainClose() : runtime.isDraining())
        || d != null && Boolean.TRUE.equals(d.get());
  }

  /** Whether the proxy or this connection drains already (its drain time closes it). */
  private boolean drainStarted() {
    var d = drainingFlag;
    return runtime.isDraining() || d != null && Boolean.TRUE.equals(d.get());
  }

  /**
   * An HTTP/2 stream's response head goes out: while the proxy's health check is failed, a
   * connection of a {@code drain_type: DEFAULT} listener starts its drain (GOAWAY, {@link
   * Http2Drain}), counted as {@code downstream_cx_drain_close}, as Envoy's connection manager does
   * at {@code encodeHeaders}. One volatile read otherwise.
   */
  void drainCloseHttp2() {
    if (!healthDrain || !runtime.healthCheckFailed().get() || ctx == null) {
      return;
    }
    io.netty.channel.Channel parent = ctx.channel().parent();
    if (parent != null
        && parent.pipeline().get(Http2Drain.class) == null
        && !Boolean.TRUE.equals(drainingFlag == null ? null : drainingFlag.get())
        && Http2Drain.start(parent)) {
      stats.downstreamCxDrainClose().inc();
    }
  }

  /** The downstream TLS peer of this connection (or stream's connection), null without TLS. */
  dev.bowline.proxy.tls.@Nullable TlsPeer tlsPeer() {
    var a = tlsPeer;
    dev.bowline.proxy.tls.TlsPeer p = a == null ? null : a.get();
    if (p == null && parentTlsPeer != null) {
      p = parentTlsPeer.get();
    }
    return p;
  }

  /**
   * Stops ({@code true}) or resumes reading for the current stream's held body; for an HTTP/2
   * stream this withholds its WINDOW_UPDATEs, so the client stops sending.
   */
  void pauseBody(boolean pause) {
    ChannelHandlerContext c = ctx;
    if (pause != bodyPaused && c != null) {
      bodyPaused = pause;
      flowControl(c, pause);
    }
  }

  /**
   * Stops ({@code true}) or resumes reading because the current stream's upstream connection is
   * above ({@code true}) or back below its write buffer watermark; counted as Envoy counts it.
   */
  void pauseForUpstream(boolean pause) {
    ChannelHandlerContext c = ctx;
    if (pause != upstreamPaused && c != null) {
      upstreamPaused = pause;
      flowControl(c, pause);
    }
  }

  /** Counts a pause or resume; reading resumes only once no reason to hold it is left. */
  private void flowControl(ChannelHandlerContext c, boolean pause) {
    if (pause) {
      stats.downstreamFlowControlPausedReadingTotal().inc();
      c.channel().config().setAutoRead(false);
    } else {
      stats.downstreamFlowControlResumedReadingTotal().inc();
      if (!flowControlled() && queue.size() <= MAX_QUEUED) {
        c.channel().config().setAutoRead(true);
      }
    }
  }

  /** A held body or a full upstream keeps reading off, whatever a read batch does. */
  private boolean flowControlled() {
    return bodyPaused || upstreamPaused;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (timers != null) {
      lastActivity = System.nanoTime();
    }
    if (closing || !(msg instanceof HttpObject obj)) {
      ReferenceCountUtil.release(msg);
      return;
    }
    queue.add(obj);
    if (queue.size() > MAX_QUEUED) {
      ctx.channel().config().setAutoRead(false);
    }
    drain();
  }

  /**
   * Whether an HTTP/1 stream is open in Envoy's sense: a request in flight, or a head begun and not
   * answered (Envoy's stream exists from a message's first byte).
   */
  boolean streamOpen() {
    if (current != null) {
      return true;
    }
    ChannelHandlerContext c = ctx;
    return c != null
        && !closing
        && c.pipeline().get(dev.bowline.proxy.transport.Http1ServerCodec.class)
            instanceof dev.bowline.proxy.transport.Http1ServerCodec codec
        && codec.headBegun();
  }

  /** Whether no request is in flight or queued on this connection. */
  boolean idle() {
    return current == null && queue.isEmpty();
  }

  /**
   * {@code millis} as decimal text: a shared value for the common ones (whole seconds, so a route
   * timeout's text is never made per connection), else the last one made on this connection.
   */
  CharSequence millisText(long millis) {
    CharSequence shared = HttpStream.sharedMillis(millis);
    if (shared != null) {
      return shared;
    }
    if (millis != lastMillis) {
      lastMillisText = Long.toString(millis);
      lastMillis = millis;
    }
    return lastMillisText;
  }

  private void drain() {
    HttpObject o;
    while ((o = queue.peek()) != null) {
      if (o instanceof HttpRequest && current != null) {
        return; // the next pipelined request waits for the current response
      }
      queue.poll();
      dispatch(o);
    }
    if (ctx != null && !flowControlled() && !ctx.channel().config().isAutoRead()) {
      ctx.channel().config().setAutoRead(true);
    }
  }

  private void dispatch(HttpObject o) {
    if (o instanceof HttpRequest req) {
      discarding = false;
      if (req.decoderResult().isFailure()) {
        ReferenceCountUtil.release(o);
        Throwable cause = req.decoderResult().cause();
        boolean tooLarge =
            cause instanceof TooLongHttpHeaderException
                || cause instanceof TooLongHttpLineException;
        codecError(
            tooLarge ? 431 : 400, tooLarge ? "http1.headers_too_large" : "http1.codec_error");
        return;
      }
      if (!http2Stream && req.headers().size() > config.codecOptions().maxHeadersCount()) {
        ReferenceCountUtil.release(o);
        codecError(431, "http1.too_many_headers"); // Envoy's codec: max_headers_count
        return;
      }
      if (!http2Stream && underscoresRejected(req.headers())) {
        // Envoy's HTTP/1 codec: a protocol error, 400 and the close
        ReferenceCountUtil.release(req);
        codecError(400, "http1.unexpected_underscore");
        return;
      }
      stats.downstreamRqTotal().inc();
      stats.downstreamRqActive().increment(); // back at the stream's end (HttpStream.complete)
      HttpStream s = new HttpStream(this, req);
      current = s;
      int maxRequests = config.codecOptions().maxRequestsPerConnection();
      if (maxRequests > 0) {
        maxRequests(s, maxRequests);
      }
      s.start(req);
      return;
    }
    if (o instanceof HttpContent c) {
      if (c.decoderResult().isFailure()) {
        ReferenceCountUtil.release(c);
        // trailers over max_request_headers_kb are Envoy's 431 (Balsa's "trailers size exceeds
        // limit" maps to http1.headers_too_large); anything else in a body is a codec error
        boolean tooLarge = c.decoderResult().cause() instanceof TooLongHttpHeaderException;
        int status = tooLarge ? 431 : 400;
        String details = tooLarge ? "http1.headers_too_large" : "http1.codec_error";
        HttpStream s = current;
        if (s != null && !discarding) {
          // the stream answers it (DPE and the codec's details) unless its response began
          s.codecError(status, details);
          return;
        }
        codecError(status, details);
        return;
      }
      if (!http2Stream
          && c instanceof LastHttpContent last
          && last != LastHttpContent.EMPTY_LAST_CONTENT
          && !last.trailingHeaders().isEmpty()) {
        c = requestTrailers(last);
        if (c == null) {
          return;
        }
      }
      HttpStream s = current;
      if (s != null && !discarding) {
        s.onRequestContent(c);
      } else {
        ReferenceCountUtil.release(c);
        if (c instanceof LastHttpContent) {
          discarding = false;
        }
      }
    }
  }

  /**
   * Envoy's {@code newStream} under {@code max_requests_per_connection}: from the connection's
   * {@code max}th request on, each is counted ({@code downstream_cx_max_requests_reached}); HTTP/1:
   * that request's response says {@code connection: close} and the connection closes after it;
   * HTTP/2: the connection drains (GOAWAY), unless it does already.
   */
  private void maxRequests(HttpStream s, int max) {
    Http2StreamTimers t = timers;
    int n = t != null ? t.requestStarted() : ++requests;
    if (n < max) {
      return;
    }
    stats.downstreamCxMaxRequestsReached().inc();
    if (t == null) {
      s.lastOnConnection();
    } else if (ctx != null && ctx.channel().parent() != null) {
      Http2Drain.start(ctx.channel().parent()); // does nothing on a connection that drains
    }
  }

  // HTTP/1: the requests this connection has carried, counted only under
  // max_requests_per_connection
  private int requests;

  /**
   * An HTTP/1 request body's trailers, as Envoy's HTTP/1 codec takes them: dropped unless {@code
   * http_protocol_options.enable_trailers} (the body then ends without them); with it, each field
   * goes through {@code headers_with_underscores_action} as a header field does (a rejected one is
   * a codec error, 400 {@code http1.unexpected_underscore}), and more fields than {@code
   * max_headers_count} left are a codec error (431 {@code http1.too_many_headers}); null returned
   * for an error. The byte limit applies either way, in the decoder.
   */
  private @Nullable LastHttpContent requestTrailers(LastHttpContent last) {
    var options = config.codecOptions();
    if (!options.enableTrailers()) {
      return new DefaultLastHttpContent(last.content()); // takes the content over
    }
    if (underscoresRejected(last.trailingHeaders())) {
      trailersError(last, 400, "http1.unexpected_underscore");
      return null;
    }
    if (last.trailingHeaders().size() <= options.maxHeadersCount()) {
      return last;
    }
    trailersError(last, 431, "http1.too_many_headers");
    return null;
  }

  /**
   * {@code headers_with_underscores_action} on a request's headers or trailers ({@link
   * UnderscoreHeaders}), looked at in place first; true: rejected, for the caller to answer.
   */
  private boolean underscoresRejected(io.netty.handler.codec.http.HttpHeaders headers) {
    int action = config.codecOptions().headersWithUnderscoresAction();
    return action != dev.bowline.proxy.config.CodecOptions.UNDERSCORES_ALLOW
        && dev.bowline.proxy.transport.Http1Decoding.anyNameContains(headers, '_')
        && UnderscoreHeaders.rejected(
            headers,
            headers.iteratorCharSequence(),
            io.netty.handler.codec.http.HttpHeaders::remove,
            action,
            runtime.stats().http1());
  }

  /** Request trailers the codec refuses: the stream answers unless its response began. */
  private void trailersError(LastHttpContent last, int status, String details) {
    ReferenceCountUtil.release(last);
    HttpStream s = current;
    if (s != null && !discarding) {
      s.codecError(status, details);
    } else {
      codecError(status, details);
    }
  }

  /**
   * The codec could not parse what came (Envoy's {@code sendProtocolError}): answers {@code status}
   * with Envoy's codec details, logs it with {@code DPE} and closes; after a stream's response
   * began, only closes.
   */
  private void codecError(int status, String details) {
    ChannelHandlerContext c = ctx;
    if (c == null) {
      return;
    }
    closing = true;
    queue.forEach(ReferenceCountUtil::release);
    queue.clear();
    HttpStream s = current;
    current = null;
    if (s != null) {
      s.resetByDownstream(); // its response already went out: nothing more can be said
      ConnectionEnd.closingWithStream(c.channel()); // Envoy: downstream_cx_destroy_local_active_rq
      c.close();
      return;
    }
    CodecError.reply(this, c, status, details);
  }

  /**
   * The stream idle timeout of a request head that began and never ended (a slow or stalled
   * client): Envoy's HTTP/1 stream exists from the head's first byte, so its idle timeout answers
   * it as any stream's before its response: 408 {@code stream timeout}, response flag {@code SI},
   * details {@code stream_idle_timeout}, {@code downstream_rq_idle_timeout} counted; the request
   * never ended, so the connection closes after the reply.
   */
  private void headTimedOut(ChannelHandlerContext c) {
    closing = true;
    queue.forEach(ReferenceCountUtil::release);
    queue.clear();
    stats.downstreamRqIdleTimeout().inc();
    CodecError.reply(this, c, 408, "stream timeout", "stream_idle_timeout", ResponseFlag.SI, false);
  }

  /**
   * A request head not whole {@code request_headers_timeout} after its first byte: Envoy's stream
   * for it answers as its {@code onRequestHeaderTimeout} does, 408 {@code request header timeout},
   * details {@code request_header_timeout}, {@code downstream_rq_header_timeout} counted (no
   * response flag); the request never ended, so the connection closes after the reply.
   */
  private void headersTimedOut(ChannelHandlerContext c) {
    closing = true;
    queue.forEach(ReferenceCountUtil::release);
    queue.clear();
    stats.downstreamRqHeaderTimeout().inc();
    CodecError.reply(this, c, 408, "request header timeout", "request_header_timeout", null, false);
  }

  /**
   * The HTTP/1 connection read and wrote nothing for {@code
   * common_http_protocol_options.idle_timeout} (its codec's clock says so). Idle in Envoy's sense
   * only without a stream: none in flight or queued, no head begun. Then, as Envoy's {@code
   * onIdleTimeout}: {@code downstream_cx_idle_timeout} counted, and a connection that never sent a
   * byte (no codec in Envoy) closed at once, any other drained unless it drains already: the next
   * response says {@code connection: close}, and {@code drain_timeout} later the connection closes
   * if idle.
   */
  private void connectionIdle(ChannelHandlerContext ctx) {
    if (closing || current != null || !queue.isEmpty()) {
      return;
    }
    var codec = ctx.pipeline().get(dev.bowline.proxy.transport.Http1ServerCodec.class);
    if (codec != null && codec.headBegun()) {
      return; // Envoy's stream exists from the head's first byte
    }
    stats.downstreamCxIdleTimeout().inc();
    if (codec != null && !codec.bytesSeen()) {
      closing = true;
      ctx.close();
      return;
    }
    if (!drainStarted()) { // a failed health check closes only at a response: the timeout drains
      ConnectionDuration.drainHttp1(ctx.channel(), config.codecOptions());
    }
  }

  // The route timeout (Envoy's router timeout) of the stream in flight, by one timer per connection
  // instead of a scheduled task per request: armed with the stream's deadline, the timer fires at
  // the deadline of the stream that armed it, or earlier, and then looks again: a stream done by
  // then has disarmed it, a later deadline (a later request on this connection) reschedules it for
  // the remaining time. Keep-alive requests thus share one task per timeout period. Event loop
  // only.
  private @Nullable HttpStream timedStream;
  private long timedDeadline;
  private io.netty.util.concurrent.@Nullable ScheduledFuture<?> routeTimer;
  private long routeTimerAt;
  private final Runnable onRouteTimer = this::onRouteTimer;

  /** Calls {@code s.onTimeout()} after {@code nanos} unless {@link #disarmRouteTimeout} first. */
  void armRouteTimeout(HttpStream s, long nanos) {
    ChannelHandlerContext c = ctx;
    if (c == null) {
      return;
    }
    long now = clock.nanoTime();
    timedStream = s;
    timedDeadline = now + nanos;
    if (timers != null) {
      timers.due(timedDeadline); // the connection's one task for its streams' timers
      return;
    }
    var t = routeTimer;
    if (t != null && routeTimerAt - timedDeadline > 0) {
      t.cancel(false); // fires after this deadline: schedule anew
      t = null;
    }
    if (t == null) {
      routeTimerAt = timedDeadline;
      routeTimer = c.executor().schedule(onRouteTimer, nanos, TimeUnit.NANOSECONDS);
    }
  }

  /** {@code s} needs its route timeout no more. */
  void disarmRouteTimeout(HttpStream s) {
    if (timedStream == s) {
      timedStream = null;
    }
  }

  private void onRouteTimer() {
    routeTimer = null;
    HttpStream s = timedStream;
    ChannelHandlerContext c = ctx;
    if (s == null || c == null) {
      return; // no stream to time: the next one schedules again
    }
    long left = timedDeadline - System.nanoTime();
    if (left > 0) {
      routeTimerAt = timedDeadline;
      routeTimer = c.executor().schedule(onRouteTimer, left, TimeUnit.NANOSECONDS);
      return;
    }
    timedStream = null;
    s.onTimeout();
  }

  /** Called by the current stream once its response has been written whole. */
  void streamDone(HttpStream s, boolean keepAlive, boolean requestComplete) {
    if (s != current) {
      return;
    }
    current = null;
    upstreamPaused = false; // that stream's upstream is no longer this connection's concern
    if (!keepAlive && ctx != null) {
      closing = true;
      queue.forEach(ReferenceCountUtil::release);
      queue.clear();
      if (requestComplete || http2Stream) {
        ctx.close();
      } else {
        // the client may still be sending the body: Envoy's delayed close
        DelayedClose.close(
            ctx.channel(),
            config.codecOptions().delayedCloseTimeout(),
            stats.downstreamCxDelayedCloseTimeout());
      }
      return;
    }
    discarding = !requestComplete;
    drain();
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    HttpStream s = current;
    if (s != null) {
      s.downstreamWritabilityChanged(ctx.channel().isWritable());
    }
    ctx.fireChannelWritabilityChanged();
  }

  /** Envoy's codec details for the client's RST_STREAM with {@code code}. */
  static String remoteResetDetails(long code) {
    return code == io.netty.handler.codec.http2.Http2Error.REFUSED_STREAM.code()
        ? "http2.remote_refuse"
        : "http2.remote_reset";
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt instanceof io.netty.handler.codec.http2.Http2ResetFrame r) {
      HttpStream s = current;
      Http2StreamTimers t = timers;
      if (s != null && t != null && !s.done()) {
        // counted now, as the frame is read, not when the stream's channel closes (a task for
        // later): a read of many streams opened and reset (rapid reset) is stopped within it
        t.resets().streamClosed(System.nanoTime() - s.startNanos(), s.responseCode() != 0);
      }
      remoteReset = r.errorCode(); // Netty's multiplexer closes the stream's channel right after
      return;
    }
    if (evt == dev.bowline.proxy.transport.RequestHeadersTimeoutEvent.INSTANCE) {
      if (!closing && current == null) {
        headersTimedOut(ctx);
      }
      return;
    }
    if (evt == dev.bowline.proxy.transport.ConnectionIdleEvent.INSTANCE) {
      connectionIdle(ctx);
      return;
    }
    if (evt instanceof io.netty.handler.timeout.IdleStateEvent) {
      HttpStream s = current;
      if (s != null) {
        s.onIdle(); // stream_idle_timeout; an idle connection without a stream stays open
      } else if (!closing
          && ctx.pipeline().get(dev.bowline.proxy.transport.Http1ServerCodec.class)
              instanceof dev.bowline.proxy.transport.Http1ServerCodec codec
          && codec.headBegun()) {
        headTimedOut(ctx); // a head begun and never ended: Envoy's stream for it timed out
      }
      return;
    }
    ctx.fireUserEventTriggered(evt);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    if (timers != null) {
      timers.remove(this);
    }
    var t = routeTimer;
    if (t != null) {
      routeTimer = null;
      t.cancel(false);
    }
    HttpStream s = current;
    current = null;
    queue.forEach(ReferenceCountUtil::release);
    queue.clear();
    // taken whether or not a stream is left, so the connection's record of it goes too
    String streamError =
        http2Stream ? HttpConnectionManager.takeStreamCodecError(ctx.channel()) : null;
    if (s != null) {
      String codecError =
          http2Stream ? ctx.channel().parent().attr(HttpConnectionManager.CODEC_ERROR).get() : null;
      if (streamError != null) {
        // the codec reset this stream for its trailers: Envoy's codec reports it as the peer's
        s.resetByCodec(dev.bowline.proxy.http.filter.ResponseFlag.DR, streamError);
      } else if (codecError != null) {
        s.resetByCodecError(codecError); // Envoy's resetAllStreams after a codec error
      } else if (remoteReset >= 0) {
        // the client's RST_STREAM: Envoy's codec reports a remote reset with these details, and
        // its connection manager logs it DR (DownstreamRemoteReset)
        s.resetByCodec(
            dev.bowline.proxy.http.filter.ResponseFlag.DR, remoteResetDetails(remoteReset));
      } else if (timers != null && timers.resets().tripped()) {
        // Envoy's maybeDrainDueToPrematureResets closes the connection with these details, which
        // its resetAllStreams gives each open stream (ConnectionTermination: DC)
        s.resetByCodec(dev.bowline.proxy.http.filter.ResponseFlag.DC, PrematureResets.DETAILS);
      } else {
        s.resetByDownstream();
      }
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (http2Stream && cause instanceof io.netty.handler.codec.DecoderException) {
      // HEADERS that are no HTTP request (no :path, ...): invalid messaging, which ends the whole
      // connection with GOAWAY PROTOCOL_ERROR, as in Envoy by default, or only this stream with
      // RST_STREAM PROTOCOL_ERROR when the invalid-messaging override is set
      HttpConnectionManager.invalidMessaging(
          ctx.channel().parent(), "missing mandatory pseudo-header", config, runtime);
      if (config.codecOptions().http2StreamErrorOnInvalid()) {
        ctx.writeAndFlush(
                new io.netty.handler.codec.http2.DefaultHttp2ResetFrame(
                    io.netty.handler.codec.http2.Http2Error.PROTOCOL_ERROR))
            .addListener(f -> ctx.close());
        return;
      }
      HttpConnectionManager.protocolError(
          ctx.channel().parent(),
          io.netty.handler.codec.http2.Http2Error.PROTOCOL_ERROR,
          config,
          runtime);
      ctx.channel()
          .parent()
          .writeAndFlush(
              new io.netty.handler.codec.http2.DefaultHttp2GoAwayFrame(
                  io.netty.handler.codec.http2.Http2Error.PROTOCOL_ERROR));
      ctx.close();
      return;
    }
    // the peer's doing (a reset socket, an HTTP/2 stream error the codec already answered with
    // RST_STREAM) is routine; anything else is a bug of ours that must not pass silently
    if (!(cause instanceof java.io.IOException
        || cause instanceof io.netty.handler.codec.http2.Http2Exception
        || cause instanceof io.netty.handler.codec.http2.Http2FrameStreamException)) {
      System.getLogger(HttpConnection.class.getName())
          .log(System.Logger.Level.WARNING, "event=downstream_error error={0}", cause.toString());
    }
    ctx.close();
  }
}
