package dev.bowline.proxy.http;

import dev.bowline.proxy.config.ClusterConfig;
import dev.bowline.proxy.config.Endpoints;
import dev.bowline.proxy.config.HttpConnectionManagerConfig;
import dev.bowline.proxy.config.ProxySnapshot;
import dev.bowline.proxy.config.Route;
import dev.bowline.proxy.config.RouteAction;
import dev.bowline.proxy.config.RouteTable;
import dev.bowline.proxy.config.SocketAddr;
import dev.bowline.proxy.config.VirtualHost;
import dev.bowline.proxy.http.filter.FilterStatus;
import dev.bowline.proxy.http.filter.HttpFilter;
import dev.bowline.proxy.http.filter.HttpFilterFactory;
import dev.bowline.proxy.http.filter.ResponseFlag;
import dev.bowline.proxy.http.filter.ResponseFlags;
import dev.bowline.proxy.http.filter.StreamInfo;
import dev.bowline.proxy.http.filter.UpstreamAlpn;
import dev.bowline.proxy.http.filter.router.RouteMatcher;
import dev.bowline.proxy.runtime.ProxyRuntime;
import dev.bowline.proxy.stats.ClusterStats;
import dev.bowline.proxy.transport.Http1Decoding;
import dev.bowline.proxy.upstream.ResponseListener;
import dev.bowline.proxy.upstream.Upstream;
import dev.bowline.proxy.upstream.Worker;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * One request/response exchange on its connection's event loop. The request path, in order:
 *
 * <ol>
 *   <li>take the current config snapshot (the request finishes on it whatever happens meanwhile);
 *   <li>normalise headers (absolute-form URI, x-forwarded-for, x-request-id, hop-by-hop);
 *   <li>run the HTTP filters, any of which may answer locally;
 *   <li>route: virtual host by authority, first matching route;
 *   <li>act: direct response, redirect, or forward to a cluster picked by weight;
 *   <li>the cluster's worker picks a host and hands over a pooled or new connection;
 *   <li>stream the response back through the filters in reverse order.
 * </ol>
 */
final class HttpStream
    implements ResponseListener,
        Worker.AcquireCallback,
        dev.bowline.proxy.http.filter.StreamContext,
        LocalReplyMapper.View {
  private final HttpConnection conn;
  private final ChannelHandlerContext ctx;
  private final ProxySnapshot snapshot;
  private final boolean keepAliveRequested;
  // the downstream spoke anything but HTTP/1.1 or HTTP/2, which Envoy's codec calls HTTP/1.0 (kept
  // here because the head is rewritten to HTTP/1.1 for the upstream)
  private final boolean downstreamHttp10;
  private byte keepAliveDecision; // 0 undecided, 1 keep, -1 close
  private final boolean grpc;
  private final HttpFilter[] filters;
  private HttpRequest upstreamRequest;
  // request content waiting for an upstream; a list is made only when some has to wait
  private List<HttpContent> pending = List.of();
  // body bytes held while no upstream takes them (pending or replay): bounded by the listener's
  // per_connection_buffer_limit_bytes, above which reading pauses (see hold)
  private long held;
  private boolean requestComplete;
  private boolean responseStarted;
  private boolean done;
  private @Nullable Upstream upstream;
  private @Nullable ClusterStats clusterStats;
  // the virtual host's virtual cluster this request is counted in; null when it has none
  private dev.bowline.proxy.stats.@Nullable VirtualClusterStats vcluster;
  // the route timeout is armed on the connection's timer (HttpConnection.armRouteTimeout)
  private boolean timeoutArmed;
  private final boolean headRequest;
  private @Nullable ClusterConfig target;
  private @Nullable Endpoints targetEndpoints;
  private @Nullable SocketAddr targetHost;
  private int retriesLeft;
  private @Nullable RouteTable matchedTable;
  private @Nullable VirtualHost matchedHost;
  private @Nullable Route matchedRoute;
  private boolean upgrade;
  private boolean connect; // a CONNECT request, terminated by its route
  // An HTTP/1 request that asks for a tunnel (an Upgrade other than h2c, or CONNECT): Envoy's codec
  // enters upgrade mode at its head and never sees it end, whatever the answer (101, 200 or a
  // refusal), so a response to it always comes before the request completed and, unless it opens
  // the tunnel, ends the connection (what follows the head is no HTTP any more)
  private boolean http1Tunnel;
  private final long startNanos;
  private final boolean suppressEnvoyHeaders;

  /** How many filters have seen the request head (their response side sees the response). */
  private int decodedFilters;

  // The filter waiting for the request body (bufferRequestBody) is rare.bodyWait: null for every
  // other stream, which allocate nothing for it.

  /** A filter's request for the body: its index, limit, allow_partial, bytes buffered so far. */
  private static final class BodyWait {
    final int filter;
    final int limit;
    final boolean partial;
    long buffered;

    BodyWait(int filter, int limit, boolean partial, long buffered) {
      this.filter = filter;
      this.limit = limit;
      this.partial = partial;
      this.buffered = buffered;
    }
  }

  // State few streams use (retries, per-try, idle and request timers, hash policy, tracing,
  // mirrors, a wait for a connection): in a side object made the first time a stream sets any of
  // it, so the common request carries one null reference instead of ~20 fields.
  private @Nullable Rare rare;

  /** The fields of {@link #rare}, each at its default until set. */
  private static final class Rare {
    // the cluster whose retry budget this stream holds one retry of (Envoy's RetryState resource)
    @Nullable ClusterConfig retryHeld;
    @Nullable ScheduledFuture<?> requestTimer;
    @Nullable String hashCookie; // Set-Cookie for a generated hash_policy cookie
    @Nullable Long requestHash; // hash_policy result for RING_HASH/MAGLEV, every attempt
    // Retries (route retry_policy). The request body is kept (retained) while a retry may still
    // need it; past REPLAY_LIMIT bytes retries stop, as Envoy's buffer limit does.
    @Nullable RetryState retry;
    @Nullable List<HttpContent> replay;
    long replayBytes;
    long perTryTimeoutNanos;
    @Nullable ScheduledFuture<?> perTryTimer;
    boolean includeAttemptCount;
    // The route has auto_host_rewrite: each try's Host is its host's hostname (a boolean, which
    // fits beside the other two without growing the object)
    boolean autoHostRewrite;
    // The route's idle_timeout: reset by every message either way; checked when the timer fires.
    long routeIdleNanos;
    long lastActivity;
    @Nullable ScheduledFuture<?> idleTimer;
    // Tracing: only a sampled request has a span (and, with spawn_upstream_span, an upstream one).
    dev.bowline.proxy.tracing.@Nullable Span span;
    dev.bowline.proxy.tracing.@Nullable Span upstreamSpan;
    boolean decorated; // the route's decorator operation names the span (not the caller)
    // The wait for an upstream connection while the request is pending; null otherwise
    Worker.@Nullable Waiting waitingFor;
    // Request mirroring: the chosen mirror clusters and a copy of the body until the request ends.
    @Nullable List<ClusterConfig> mirrorClusters;
    @Nullable HttpRequest mirrorHead;
    @Nullable CharSequence mirrorScheme;
    // the connection manager's trace reason when it traces the request (Sampling.decide), else 0
    char traceReason;
    io.netty.buffer.@Nullable CompositeByteBuf mirrorBody;
    // local_reply_config: the reply's text while its body format renders (%LOCAL_REPLY_BODY%)
    @Nullable String localReplyBody;
    // The client x-forwarded-for named, with use_remote_address and xff_num_trusted_hops, or the
    // one an original_ip_detection_extensions entry found
    java.net.@Nullable InetAddress client;
    // that extension lets the client make the request internal (allow_trusted_address_checks)
    boolean clientTrusted;
    // access_log_flush_interval: the periodic access-log lines' task, cancelled at the end
    @Nullable ScheduledFuture<?> accessLogTimer;
    // internal_redirect_policy: redirects followed so far, the routes they went to
    int internalRedirects;
    java.util.@Nullable Set<String> redirectRoutes;
    // the filter waiting for the request body (moved here from the stream so that the stream's
    // vcluster reference fits without growing it)
    @Nullable BodyWait bodyWait;
    // the try being started is a retry: 1 after a per-try timeout, 2 after anything else
    // (include_is_timeout_retry_header); 0 on the first try
    byte retryKind;
  }

  private @Nullable BodyWait bodyWait() {
    Rare r = rare;
    return r == null ? null : r.bodyWait;
  }

  private void clearBodyWait() {
    Rare r = rare;
    if (r != null) {
      r.bodyWait = null;
    }
  }

  private Rare rare() {
    Rare r = rare;
    if (r == null) {
      rare = r = new Rare();
    }
    return r;
  }

  private @Nullable ClusterConfig retryHeld() {
    Rare r = rare;
    return r == null ? null : r.retryHeld;
  }

  private @Nullable ScheduledFuture<?> requestTimer() {
    Rare r = rare;
    return r == null ? null : r.requestTimer;
  }

  private @Nullable String hashCookie() {
    Rare r = rare;
    return r == null ? null : r.hashCookie;
  }

  private @Nullable Long requestHash() {
    Rare r = rare;
    return r == null ? null : r.requestHash;
  }

  private @Nullable RetryState retry() {
    Rare r = rare;
    return r == null ? null : r.retry;
  }

  private @Nullable List<HttpContent> replay() {
    Rare r = rare;
    return r == null ? null : r.replay;
  }

  private long replayBytes() {
    Rare r = rare;
    return r == null ? 0 : r.replayBytes;
  }

  private long perTryTimeoutNanos() {
    Rare r = rare;
    return r == null ? 0 : r.perTryTimeoutNanos;
  }

  private @Nullable ScheduledFuture<?> perTryTimer() {
    Rare r = rare;
    return r == null ? null : r.perTryTimer;
  }

  private boolean includeAttemptCount() {
    Rare r = rare;
    return r != null && r.includeAttemptCount;
  }

  private long routeIdleNanos() {
    Rare r = rare;
    return r == null ? 0 : r.routeIdleNanos;
  }

  private long lastActivity() {
    Rare r = rare;
    return r == null ? 0 : r.lastActivity;
  }

  private @Nullable ScheduledFuture<?> idleTimer() {
    Rare r = rare;
    return r == null ? null : r.idleTimer;
  }

  private dev.bowline.proxy.tracing.@Nullable Span span() {
    Rare r = rare;
    return r == null ? null : r.span;
  }

  private dev.bowline.proxy.tracing.@Nullable Span upstreamSpan() {
    Rare r = rare;
    return r == null ? null : r.upstreamSpan;
  }

  private boolean decorated() {
    Rare r = rare;
    return r != null && r.decorated;
  }

  private Worker.@Nullable Waiting waitingFor() {
    Rare r = rare;
    return r == null ? null : r.waitingFor;
  }

  private @Nullable List<ClusterConfig> mirrorClusters() {
    Rare r = rare;
    return r == null ? null : r.mirrorClusters;
  }

  private @Nullable HttpRequest mirrorHead() {
    Rare r = rare;
    return r == null ? null : r.mirrorHead;
  }

  private io.netty.buffer.@Nullable CompositeByteBuf mirrorBody() {
    Rare r = rare;
    return r == null ? null : r.mirrorBody;
  }

  private String path = "";
  private String queryPart = "";
  private String authority = "";

  // Tries of the request (more than one with a retry_policy, whose state is in rare)
  private int attempts;
  private long globalTimeoutNanos;
  private boolean forwarded;
  private dev.bowline.proxy.config.ClusterChoice.@Nullable WeightedCluster weightedCluster;

  // Header names of the request path as AsciiStrings: Netty's headers hash and compare them without
  // going over a String's characters each time, and the encoder copies them whole.
  private static final io.netty.util.AsciiString X_HTTP2_SCHEME =
      io.netty.util.AsciiString.cached("x-http2-scheme");
  private static final io.netty.util.AsciiString X_HTTP2_STREAM_ID =
      io.netty.util.AsciiString.cached("x-http2-stream-id");
  private static final io.netty.util.AsciiString X_FORWARDED_PROTO =
      io.netty.util.AsciiString.cached("x-forwarded-proto");
  private static final io.netty.util.AsciiString X_ENVOY_DOWNSTREAM_SERVICE_CLUSTER =
      io.netty.util.AsciiString.cached("x-envoy-downstream-service-cluster");
  private static final io.netty.util.AsciiString X_ENVOY_DOWNSTREAM_SERVICE_NODE =
      io.netty.util.AsciiString.cached("x-envoy-downstream-service-node");
  private static final io.netty.util.AsciiString X_REQUEST_ID =
      io.netty.util.AsciiString.cached("x-request-id");
  private static final io.netty.util.AsciiString X_FORWARDED_FOR =
      io.netty.util.AsciiString.cached("x-forwarded-for");
  private static final io.netty.util.AsciiString X_ENVOY_UPSTREAM_RQ_TIMEOUT_MS =
      io.netty.util.AsciiString.cached("x-envoy-upstream-rq-timeout-ms");
  private static final io.netty.util.AsciiString X_ENVOY_UPSTREAM_RQ_PER_TRY_TIMEOUT_MS =
      io.netty.util.AsciiString.cached("x-envoy-upstream-rq-per-try-timeout-ms");
  private static final io.netty.util.AsciiString X_ENVOY_EXPECTED_RQ_TIMEOUT_MS =
      io.netty.util.AsciiString.cached("x-envoy-expected-rq-timeout-ms");
  private static final io.netty.util.AsciiString X_ENVOY_UPSTREAM_SERVICE_TIME =
      io.netty.util.AsciiString.cached("x-envoy-upstream-service-time");
  private static final io.netty.util.AsciiString HTTPS = io.netty.util.AsciiString.cached("https");
  private static final io.netty.util.AsciiString HTTP = io.netty.util.AsciiString.cached("http");

  /** Service times of 0-255 ms as header values, made once (most responses take a few ms). */
  private static final io.netty.util.AsciiString[] SMALL_MILLIS =
      new io.netty.util.AsciiString[256];

  static {
    for (int i = 0; i < SMALL_MILLIS.length; i++) {
      SMALL_MILLIS[i] = io.netty.util.AsciiString.cached(Integer.toString(i));
    }
  }

  /**
   * Whole seconds of 1-120 s in milliseconds as header values (route timeouts, 15000 the default).
   */
  private static final io.netty.util.AsciiString[] SECONDS_MILLIS =
      new io.netty.util.AsciiString[121];

  static {
    for (int i = 1; i < SECONDS_MILLIS.length; i++) {
      SECONDS_MILLIS[i] = io.netty.util.AsciiString.cached(Integer.toString(i * 1000));
    }
  }

  /**
   * {@code ms} as an x-envoy-upstream-service-time value: shared below 256 ms, else made here, and
   * an {@code AsciiString} either way. Response header values are otherwise all AsciiStrings on the
   * plain proxy path, and C2 compiles the header map's convert, validate and encode for that class
   * alone: one String value (the first response slower than 255 ms) took 5 uncommon traps in the
   * hot encode path, each repeated until recompiled (decision 0037, addendum 13).
   */
  static io.netty.util.AsciiString millisValue(long ms) {
    return ms >= 0 && ms < SMALL_MILLIS.length
        ? SMALL_MILLIS[(int) ms]
        : new io.netty.util.AsciiString(Long.toString(ms));
  }

  /** {@code ms} as a shared header value (0-255 ms, whole seconds up to 120 s), else null. */
  static io.netty.util.@Nullable AsciiString sharedMillis(long ms) {
    if (ms >= 0 && ms < SMALL_MILLIS.length) {
      return SMALL_MILLIS[(int) ms];
    }
    long s = ms / 1000;
    return ms % 1000 == 0 && s > 0 && s < SECONDS_MILLIS.length ? SECONDS_MILLIS[(int) s] : null;
  }

  /** Request bytes kept for retries at most (Envoy's default connection buffer limit, 1 MiB). */
  static final long REPLAY_LIMIT = 1 << 20;

  // What StreamInfo tells observing filters (stats, access logs); see the methods at the end.
  private final long startEpochMillis = System.currentTimeMillis();
  private final HttpRequest downstreamHead;
  private final String method;
  private String originalPath; // the :path as received (origin form)
  private boolean viaUpstream; // the response head came from the upstream
  private @Nullable String details; // Envoy's response code details when set explicitly
  private int responseFlags; // a bit set of ResponseFlag.bit() (ResponseFlags)
  private int responseCode;
  private @Nullable HttpHeaders responseHeaders;
  private @Nullable HttpHeaders responseTrailers;
  private long bytesReceived;
  private long bytesSent;
  private long firstByteNanos;
  private long endNanos;
  private @Nullable String upstreamCluster;
  private java.net.@Nullable SocketAddress upstreamAddress;
  private io.netty.channel.@Nullable Channel upstreamChannel;
  // the upstream host's "ip:port", kept on the pooled channel so it is made once per connection
  private static final io.netty.util.AttributeKey<String> UPSTREAM_HOST_TEXT =
      io.netty.util.AttributeKey.valueOf("bowline.upstreamHostText");
  private static final io.netty.util.AttributeKey<String> UPSTREAM_LOCAL_TEXT =
      io.netty.util.AttributeKey.valueOf("bowline.upstreamLocalText");
  private Object @Nullable [] filterState;
  private boolean completed;

  HttpStream(HttpConnection conn, HttpRequest request) {
    this.startNanos = conn.clock.nanoTime(); // the read batch's time on HTTP/1 (0037 addendum 14)
    this.conn = conn;
    this.ctx = java.util.Objects.requireNonNull(conn.ctx);
    this.snapshot = conn.runtime.snapshot();
    this.downstreamHttp10 =
        !conn.http2Stream && !request.protocolVersion().equals(HttpVersion.HTTP_1_1);
    this.keepAliveRequested =
        conn.http2Stream
            || (downstreamHttp10
                ? request
                    .headers()
                    .containsValue(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE, true)
                : HttpUtil.isKeepAlive(request));
    String ct = request.headers().get(HttpHeaderNames.CONTENT_TYPE);
    this.grpc = ct != null && ct.startsWith("application/grpc");
    this.headRequest = request.method().equals(HttpMethod.HEAD);
    this.downstreamHead = request;
    this.method = request.method().name();
    this.originalPath = request.uri();
    this.filters = filters(conn, this);
    this.upstreamRequest = request;
    Object routerConfig = conn.config.httpFilters().getLast().config();
    this.suppressEnvoyHeaders =
        routerConfig instanceof dev.bowline.proxy.http.filter.router.RouterConfig rc
            && rc.suppressEnvoyHeaders();
    // A request without a body is complete at its head; its empty last content may still follow.
    this.requestComplete =
        !conn.http2Stream
            && !HttpUtil.isTransferEncodingChunked(request)
            && HttpUtil.getContentLength(request, 0L) == 0L;
  }

  private List<HttpContent> pendingList() {
    if (!(pending instanceof ArrayList)) {
      pending = new ArrayList<>(2);
    }
    return pending;
  }

  /**
   * The stream's filters from its connection's factories. Never written after: when every factory
   * hands out the same instances as for the connection's first stream (shared filters, as the
   * router's), the stream takes that stream's array instead of a copy.
   */
  private static HttpFilter[] filters(HttpConnection conn, StreamInfo info) {
    HttpFilterFactory<?>[] factories = conn.filterFactories;
    HttpFilter[] first = conn.firstFilters.filters;
    HttpFilter[] made = null;
    for (int i = 0; i < factories.length; i++) {
      HttpFilter f = create(factories[i], conn.config.httpFilters().get(i).config(), info);
      if (made == null && first != null && first[i] == f) {
        continue;
      }
      if (made == null) {
        made = new HttpFilter[factories.length];
        if (first != null) {
          System.arraycopy(first, 0, made, 0, i);
        }
      }
      made[i] = f;
    }
    if (made == null) {
      if (first != null) {
        return first;
      }
      made = new HttpFilter[0]; // no filters at all
    }
    if (first == null) {
      conn.firstFilters.filters = made;
    }
    return made;
  }

  @SuppressWarnings("unchecked")
  private static <C> HttpFilter create(HttpFilterFactory<C> f, Object config, StreamInfo info) {
    return f.create((C) config, info);
  }

  void start(HttpRequest req) {
    java.time.Duration maxDuration = conn.config.codecOptions().maxStreamDuration();
    if (!maxDuration.isZero()) {
      conn.durationTimer =
          ctx.executor()
              .schedule(this::onMaxStreamDuration, maxDuration.toNanos(), TimeUnit.NANOSECONDS);
    }
    var flush = conn.config.accessLogFlush();
    if (flush.periodic() && !conn.config.accessLogs().isEmpty()) {
      // Envoy's access_log_flush_timer_: armed when the stream starts, a DownstreamPeriodic line
      // each interval until the stream ends (one task per stream, only when configured)
      long every = flush.interval().toNanos();
      rare().accessLogTimer =
          ctx.executor()
              .scheduleWithFixedDelay(
                  () -> {
                    if (!completed && ctx.channel().isActive()) {
                      log(dev.bowline.proxy.accesslog.AccessLogType.DownstreamPeriodic);
                    } else {
                      cancelAccessLogTimer(); // complete() cancels it; a stream gone otherwise too
                    }
                  },
                  every,
                  every,
                  TimeUnit.NANOSECONDS);
    }
    if (!conn.config.requestTimeout().isZero() && !requestComplete) {
      rare().requestTimer =
          ctx.executor()
              .schedule(
                  this::onRequestTimeout,
                  conn.config.requestTimeout().toNanos(),
                  TimeUnit.NANOSECONDS);
    }
    // A FullHttpRequest is a head and a last content in one; split it so both paths are the same.
    HttpRequest head = req;
    LastHttpContent body = null;
    if (req instanceof FullHttpRequest full) {
      head =
          new DefaultHttpRequest(full.protocolVersion(), full.method(), full.uri(), full.headers());
      body =
          full.content() == io.netty.buffer.Unpooled.EMPTY_BUFFER
                  && full.trailingHeaders().isEmpty()
              ? LastHttpContent.EMPTY_LAST_CONTENT // an HTTP/2 request whose HEADERS end it
              : new DefaultLastHttpContent(full.content(), full.trailingHeaders());
      if (!HttpUtil.isContentLengthSet(head) && full.content().isReadable()) {
        HttpUtil.setContentLength(head, full.content().readableBytes());
      }
    } else if (conn.http2Stream && !HttpUtil.isContentLengthSet(head)) {
      HttpUtil.setTransferEncodingChunked(head, true);
    }
    upstreamRequest = head;
    if (body != null) {
      onRequestContent(body);
    }
    decodeHeaders(head);
  }

  /** Envoy's {@code Utility::schemeIsValid}: http or https, in any case. */
  static boolean validScheme(@Nullable CharSequence s) {
    return s != null && (HTTP.contentEqualsIgnoreCase(s) || HTTPS.contentEqualsIgnoreCase(s));
  }

  /** Whether {@code s} is a non-empty run of visible ASCII (RFC 9112's request-target). */
  private static boolean visibleAscii(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c <= 0x20 || c >= 0x7f) {
        return false;
      }
    }
    return !s.isEmpty();
  }

  private void decodeHeaders(HttpRequest req) {
    HttpHeaders h = req.headers();
    HttpConnectionManagerConfig cfg = conn.config;
    String uri = req.uri();
    if (!visibleAscii(uri)) {
      if (!conn.http2Stream) {
        codecError(400, "http1.codec_error"); // Envoy's HTTP/1 parser refuses such a target
        return;
      }
      localReply(400, "Bad Request"); // as Envoy's codecs: no control bytes, spaces or non-ASCII
      return;
    }
    if (downstreamHttp10) {
      // Envoy's HTTP/1 codec takes anything but HTTP/1.1 (1.0, 0.9, 1.2, 2.0 on an HTTP/1 request
      // line) for HTTP/1.0, which it refuses unless http_protocol_options.accept_http_10 is set
      if (!cfg.codecOptions().acceptHttp10()) {
        codecError(426, "low_version"); // Envoy's codec: a protocol error, DPE
        return;
      }
      if (!req.protocolVersion().equals(HttpVersion.HTTP_1_0)) {
        req.setProtocolVersion(HttpVersion.HTTP_1_0);
      }
      if (!h.contains(HttpHeaderNames.HOST)
          && !cfg.codecOptions().defaultHostForHttp10().isEmpty()) {
        h.set(HttpHeaderNames.HOST, cfg.codecOptions().defaultHostForHttp10());
      }
    }
    if (!conn.http2Stream && "h2c".equalsIgnoreCase(h.get(HttpHeaderNames.UPGRADE))) {
      // Envoy ignores an HTTP/1.1 upgrade to h2c: the request goes on as HTTP/1.1, without the
      // upgrade's headers (the Connection tokens go below with the other hop-by-hop headers)
      h.remove(HttpHeaderNames.UPGRADE);
      h.remove("http2-settings");
    }
    if (req.method().equals(HttpMethod.CONNECT)) {
      http1Tunnel = !conn.http2Stream;
      if (!cfg.connect()) {
        localReply(403, ""); // Envoy: CONNECT is refused unless upgrade_configs enables it
        return;
      }
      // authority-form (RFC 9110 9.3.6): the target is host:port and there is no path; over
      // HTTP/2 the authority came as :authority (Host by now)
      connect = true;
      if (!conn.http2Stream || !h.contains(HttpHeaderNames.HOST)) {
        h.set(HttpHeaderNames.HOST, uri);
      }
      uri = "";
      originalPath = "";
    } else if (!uri.startsWith("/")) {
      // absolute-form from an HTTP proxy client: http://authority/path
      int scheme = uri.indexOf("://");
      if (scheme > 0) {
        int slash = uri.indexOf('/', scheme + 3);
        h.set(HttpHeaderNames.HOST, uri.substring(scheme + 3, slash < 0 ? uri.length() : slash));
        uri = slash < 0 ? "/" : uri.substring(slash);
        req.setUri(uri);
        originalPath = uri;
      } else if (!uri.equals("*")) {
        localReply(400, "Bad Request");
        return;
      }
    }
    var paths = cfg.paths();
    if (paths.active() && !uri.equals("*")) {
      switch (paths.apply(uri)) {
        case dev.bowline.proxy.config.PathNormalization.Continue(String p) -> {
          if (p != uri) {
            uri = p;
            req.setUri(p);
            originalPath = p; // what filters, routes, logs and the upstream see, as in Envoy
          }
        }
        case dev.bowline.proxy.config.PathNormalization.Reject() -> {
          details = "path_normalization_failed";
          localReply(400, "Bad Request");
          return;
        }
        case dev.bowline.proxy.config.PathNormalization.Redirect(String p) -> {
          var resp = buildLocal(307, "", false);
          resp.headers().set(HttpHeaderNames.LOCATION, p);
          conn.stats.response(responseCode);
          writeLocal(resp, responseCode);
          return;
        }
      }
    }
    String authority = h.get(HttpHeaderNames.HOST);
    if (authority == null || authority.isEmpty()) {
      details = "missing_host_header"; // HTTP/1.0 too, unless default_host_for_http_10 gave one
      localReply(400, "missing host header");
      return;
    }
    if (cfg.headers().normalizesHost()) {
      var local = downstreamLocal();
      String host = cfg.headers().normalizeHost(authority, local == null ? -1 : local.getPort());
      if (host != authority) {
        authority = host;
        h.set(HttpHeaderNames.HOST, host); // Envoy: the upstream gets the normalised host too
      }
    }
    // hop-by-hop headers stop here (RFC 9110 7.6.1); framing headers stay for the codec
    String connection = h.get(HttpHeaderNames.CONNECTION);
    String upgradeType = h.get(HttpHeaderNames.UPGRADE);
    if (!conn.http2Stream
        && upgradeType != null
        && connection != null
        && connection.toLowerCase(java.util.Locale.ROOT).contains("upgrade")) {
      http1Tunnel = true;
      if (!cfg.websocket() || !"websocket".equalsIgnoreCase(upgradeType)) {
        // Envoy: an upgrade that upgrade_configs does not enable is refused
        details = "upgrade_failed";
        localReply(403, "");
        return;
      }
      upgrade = true;
    }
    if (connection != null) {
      for (String token : connection.split(",")) {
        String t = token.trim();
        if (!t.isEmpty() && !t.equalsIgnoreCase("close") && !t.equalsIgnoreCase("keep-alive")) {
          h.remove(t);
        }
      }
      h.remove(HttpHeaderNames.CONNECTION);
    }
    h.remove(HttpHeaderNames.KEEP_ALIVE);
    h.remove(HttpHeaderNames.PROXY_CONNECTION);
    h.remove(HttpHeaderNames.UPGRADE);
    h.remove(X_HTTP2_SCHEME);
    h.remove(X_HTTP2_STREAM_ID);
    String te = h.get(HttpHeaderNames.TE);
    if (te != null && !te.equalsIgnoreCase("trailers")) {
      h.remove(HttpHeaderNames.TE);
    }
    if (cfg.clientAddress().detects()) {
      int reject = detectClient(h, cfg.clientAddress());
      if (reject != 0) {
        // Envoy: the request stops here, a local reply with the extension's status
        details = "rejecting_because_detection_failed";
        conn.stats.downstreamRqRejectedViaIpDetection().inc();
        localReply(reject, "");
        return;
      }
    }
    boolean internal = clientAddress(h, cfg);
    var userAgent = cfg.headers().userAgent();
    if (userAgent != null) {
      // Envoy's add_user_agent, after the internal headers went: the node's cluster and id
      h.set(X_ENVOY_DOWNSTREAM_SERVICE_CLUSTER, userAgent);
      CharSequence agent = Http1Decoding.first(h, HttpHeaderNames.USER_AGENT);
      if (agent == null || agent.length() == 0) {
        h.set(HttpHeaderNames.USER_AGENT, userAgent);
      }
      var node = cfg.headers().serviceNode();
      if (node != null) {
        h.set(X_ENVOY_DOWNSTREAM_SERVICE_NODE, node);
      }
    }
    if (cfg.headers().via() != null) {
      appendVia(h, cfg.headers().via());
    }
    if (HttpUtil.is100ContinueExpected(req) && !cfg.codecOptions().proxy100Continue()) {
      // Envoy's default (proxy_100_continue: false): answer 100 ourselves, on HTTP/1.1 and HTTP/2
      // (a HEADERS frame without END_STREAM), count it (downstream_rq_1xx, Envoy's chargeStats
      // of the continue header) and don't forward Expect
      h.remove(HttpHeaderNames.EXPECT);
      conn.stats.response(100);
      ctx.writeAndFlush(
          new io.netty.handler.codec.http.DefaultFullHttpResponse(
              HttpVersion.HTTP_1_1, io.netty.handler.codec.http.HttpResponseStatus.CONTINUE),
          ctx.voidPromise());
    }
    dev.bowline.proxy.tls.TlsPeer tls = conn.tlsPeer();
    boolean edgeScheme = cfg.edgeScheme();
    CharSequence xfp = edgeScheme ? null : Http1Decoding.first(h, X_FORWARDED_PROTO);
    if (xfp == null) {
      // Envoy: an edge request's scheme is the connection's unless trusted proxies are in front
      // (xff_num_trusted_hops); an internal one keeps what it says
      h.set(X_FORWARDED_PROTO, xfp = tls != null ? HTTPS : HTTP);
    }
    var schemeToOverwrite = cfg.headers().schemeToOverwrite();
    CharSequence scheme;
    if (schemeToOverwrite != null) {
      // Envoy's scheme_header_transformation: x-forwarded-proto and :scheme both
      h.set(X_FORWARDED_PROTO, schemeToOverwrite);
      scheme = schemeToOverwrite;
    } else {
      // Envoy's :scheme: an HTTP/2 client's own when valid, else (HTTP/1, which has none) a valid
      // x-forwarded-proto as the rule above left it, else the connection's transport
      CharSequence own = conn.http2Stream ? conn.requestScheme() : null;
      scheme = validScheme(own) ? own : validScheme(xfp) ? xfp : tls != null ? HTTPS : HTTP;
    }
    // kept by the connection, which serves one request at a time (HTTP/1) or is the stream's own
    // (HTTP/2): what an HTTP/2 upstream is sent unless match_upstream (acquired, mirrors); a shared
    // constant or a header value, never made here
    conn.requestScheme(scheme);
    if (cfg.headers().appendXForwardedPort() && (edgeScheme || !h.contains(X_FORWARDED_PORT))) {
      // Envoy: the listener's port, as a trusted hop's x-forwarded-proto is kept or replaced
      var local = downstreamLocal();
      if (local != null) {
        io.netty.util.AsciiString port = conn.localPortText;
        if (port == null) {
          conn.localPortText =
              port = io.netty.util.AsciiString.of(Integer.toString(local.getPort()));
        }
        h.set(X_FORWARDED_PORT, port);
      }
    }
    ForwardedClientCert.apply(h, cfg.clientCert(), tls, conn.xfcc);
    if (cfg.generateRequestId()) {
      // Envoy's UUID extension: a new id when there is none (or it is empty), and for an edge
      // request (an external one on a connection manager using the remote address) unless
      // preserve_external_request_id, which keeps the id but clears a trace reason packed in it
      if (!h.contains(X_REQUEST_ID) || h.contains(X_REQUEST_ID, "", false)) {
        h.set(X_REQUEST_ID, requestId());
      } else if (cfg.useRemoteAddress() && !internal) {
        if (!cfg.replies().preserveExternalRequestId()) {
          h.set(X_REQUEST_ID, requestId());
        } else {
          String rid = h.get(X_REQUEST_ID);
          if (cfg.replies().packTraceReason() && rid.length() == 36 && rid.charAt(14) != '4') {
            h.set(X_REQUEST_ID, rid.substring(0, 14) + '4' + rid.substring(15));
          }
        }
      }
    }
    var tracer = cfg.tracer();
    if (tracer != null) {
      // Envoy's trace decision (x-request-id, force/client headers, an incoming context's flag)
      var replies = cfg.replies();
      char reason =
          dev.bowline.proxy.tracing.Sampling.decide(
              h, tracer.config(), random(), replies.packTraceReason(), replies.requestIdSampling());
      if (reason != dev.bowline.proxy.tracing.Sampling.NO_TRACE) {
        rare().traceReason = reason; // a traced request has a side object for its span anyway
      }
      var sp =
          tracer.start(
              h, reason != dev.bowline.proxy.tracing.Sampling.NO_TRACE, random(), startNanos);
      if (sp != null) {
        rare().span = sp;
      }
      dev.bowline.proxy.tracing.HttpTracer.charge(reason, conn.stats.tracing());
    }

    // The route is found before the filters run, so they can read its per-filter config.
    RouteTable table =
        switch (cfg.routes()) {
          case HttpConnectionManagerConfig.InlineRoutes inline -> inline.table();
          case HttpConnectionManagerConfig.RdsRoutes rds -> {
            RouteTable t = snapshot.routes().get(rds.name());
            // a draining listener's route configuration may be gone from the new snapshot
            yield t != null ? t : ProxyRuntime.pinnedRoutes(ctx.channel(), rds.name());
          }
        };
    if (!internal && table != null) {
      // Envoy's cleanInternalHeaders: before the route is matched
      List<String> internalOnly = table.internalOnlyHeaders();
      for (int i = 0; i < internalOnly.size(); i++) {
        h.remove(internalOnly.get(i));
      }
    }
    int q = uri.indexOf('?');
    this.path = q < 0 ? uri : uri.substring(0, q);
    this.queryPart = q < 0 ? "" : uri.substring(q);
    this.authority = authority;
    VirtualHost vh = table == null ? null : table.pick(authority);
    Route route =
        vh == null || (vh.requireTls() != VirtualHost.RequireTls.NONE && tlsRedirect(vh, h))
            ? null // Envoy: the virtual host's require_tls redirect comes before its routes
            : RouteMatcher.match(
                vh,
                java.util.Objects.requireNonNull(table).matchPath(path),
                q < 0 ? "" : uri.substring(q + 1),
                h,
                connect,
                method);
    this.matchedTable = table;
    this.matchedHost = vh;
    this.matchedRoute = route;
    var traced = span();
    if (tracer != null && traced != null) {
      // Envoy's traceRequest: the route's decorator names the span (x-envoy-decorator-operation)
      rare().decorated =
          tracer.decorateRequest(traced, h, route == null ? null : route.decorator());
    }
    if (cfg.accessLogFlush().onNewRequest()) {
      // Envoy's flush_access_log_on_new_request: the head evaluated and routed, before the filters
      log(dev.bowline.proxy.accesslog.AccessLogType.DownstreamStart);
    }
    decodeFrom(0);
  }

  private void cancelAccessLogTimer() {
    Rare r = rare;
    ScheduledFuture<?> t = r == null ? null : r.accessLogTimer;
    if (t != null) {
      t.cancel(false);
      r.accessLogTimer = null;
    }
  }

  /** Writes this stream's line of {@code type} to each access log. */
  private void log(dev.bowline.proxy.accesslog.AccessLogType type) {
    var logs = conn.config.accessLogs();
    for (int i = 0, n = logs.size(); i < n; i++) { // no iterator per request, whatever the JIT
      logs.get(i).log(this, type); // formats here, writes on the access-log thread
    }
  }

  /** Runs the filters from {@code first} on, then the router; a STOP pauses it. */
  private void decodeFrom(int first) {
    HttpRequest req = upstreamRequest;
    int last = filters.length - 1; // the router: no per-route config to look up
    for (int i = first; i < filters.length; i++) {
      decodedFilters = i + 1;
      @Nullable Object routeConfig = i == last ? null : routeFilterConfig(i);
      if (filters[i].onRequestHeaders(req, this, routeConfig) == FilterStatus.STOP_ITERATION
          || done) {
        resumeAt = i + 1;
        BodyWait w = bodyWait();
        if (w != null && w.filter == i) {
          bodyArrived(w); // the body may be here already (a whole request, or short enough)
        }
        return;
      }
    }
    Route route = matchedRoute;
    VirtualHost tlsHost = matchedHost;
    if (route == null
        && tlsHost != null
        && tlsHost.requireTls() != VirtualHost.RequireTls.NONE
        && tlsRedirect(tlsHost, req.headers())) {
      // Envoy's SSL redirect route: a direct response, 301 to the same URL over https
      conn.stats.rqDirectResponse().inc();
      details = "direct_response";
      var resp = buildLocal(301, "", false);
      resp.headers().set(HttpHeaderNames.LOCATION, "https://" + authority + path + queryPart);
      conn.stats.response(responseCode);
      writeLocal(resp, responseCode);
      return;
    }
    if (route == null) {
      conn.stats.noRoute().inc();
      responseFlags |= ResponseFlag.NR.bit();
      localReply(404, "");
      return;
    }
    switch (route.action()) {
      case RouteAction.DirectResponse d -> {
        conn.stats.rqDirectResponse().inc();
        details = "direct_response";
        localReply(d.status(), d.body());
      }
      case RouteAction.Redirect r -> {
        // Envoy: a redirect is a direct response entry, counted as one (router.cc)
        conn.stats.rqDirectResponse().inc();
        details = "direct_response";
        redirect(r, authority, path, queryPart, route);
      }
      case RouteAction.Forward f -> forward(req, f, route, path, queryPart);
    }
  }

  private int resumeAt = -1;

  private static final io.netty.util.AsciiString X_FORWARDED_PORT =
      io.netty.util.AsciiString.cached("x-forwarded-port");
  private static final io.netty.util.AsciiString X_ENVOY_EXTERNAL_ADDRESS =
      io.netty.util.AsciiString.cached("x-envoy-external-address");
  private static final io.netty.util.AsciiString TRUE = io.netty.util.AsciiString.cached("true");

  private static final io.netty.util.AsciiString X_ENVOY_INTERNAL =
      io.netty.util.AsciiString.cached("x-envoy-internal");

  /**
   * The x-envoy-* headers Envoy's {@code cleanInternalHeaders} removes from every request it does
   * not find internal, and {@code x-envoy-internal}, which only this proxy may set (an edge request
   * loses every x-envoy-* header here, see {@link #clientAddress}).
   */
  private static final io.netty.util.AsciiString[] EXTERNAL_REMOVED = {
    X_ENVOY_INTERNAL,
    io.netty.util.AsciiString.cached("x-envoy-retriable-status-codes"),
    io.netty.util.AsciiString.cached("x-envoy-retriable-header-names"),
    io.netty.util.AsciiString.cached("x-envoy-retry-on"),
    io.netty.util.AsciiString.cached("x-envoy-retry-grpc-on"),
    io.netty.util.AsciiString.cached("x-envoy-max-retries"),
    io.netty.util.AsciiString.cached("x-envoy-upstream-alt-stat-name"),
    X_ENVOY_UPSTREAM_RQ_TIMEOUT_MS,
    X_ENVOY_UPSTREAM_RQ_PER_TRY_TIMEOUT_MS,
    io.netty.util.AsciiString.cached("x-envoy-upstream-rq-timeout-alt-response"),
    X_ENVOY_EXPECTED_RQ_TIMEOUT_MS,
    io.netty.util.AsciiString.cached("x-envoy-force-trace"),
    io.netty.util.AsciiString.cached("x-envoy-ip-tags"),
    io.netty.util.AsciiString.cached("x-envoy-original-url"),
    io.netty.util.AsciiString.cached("x-envoy-hedge-on-per-try-timeout"),
  };

  /**
   * Envoy's {@code mutateRequestHeaders}, its client part: finds the original client ({@code
   * use_remote_address}, {@code xff_num_trusted_hops}), appends the peer to {@code
   * x-forwarded-for}, decides whether the request is internal ({@code internal_address_config}:
   * with {@code use_remote_address} the peer of a request without {@code x-forwarded-for}, else a
   * single {@code x-forwarded-for} address) and marks or sanitises it: an internal request gets
   * {@code x-envoy-internal: true}; an edge one (external with {@code use_remote_address}) loses
   * its x-envoy-* headers and gets {@code x-envoy-external-address}; any other external one loses
   * the headers Envoy strips. Nothing is allocated for this by default (no internal addresses, no
   * trusted hops) beyond what {@code use_remote_address} already needs.
   *
   * @return whether the request is internal
   */
  private boolean clientAddress(HttpHeaders h, HttpConnectionManagerConfig cfg) {
    var ca = cfg.clientAddress();
    // Envoy: only this proxy says x-envoy-internal; the client's goes in every case below (an edge
    // request's with its other x-envoy-* headers, any other external one's with EXTERNAL_REMOVED,
    // an internal one's when set replaces it)
    boolean internal = false;
    if (cfg.useRemoteAddress()) {
      String xff = h.get(X_FORWARDED_FOR);
      int hops = ca.xffNumTrustedHops();
      java.net.InetAddress client = null;
      if (hops > 0) {
        client = dev.bowline.proxy.config.ClientAddressConfig.xffEntry(xff, hops - 1);
        if (client != null) {
          rare().client = client;
        }
      }
      if (xff == null && ca.anyInternal()) {
        var d = downstreamDirectRemote();
        internal =
            d == null ? ca.internalUnixSockets() : ca.isInternal(d.getAddress().getAddress());
      }
      if (!cfg.skipXffAppend()) {
        h.set(X_FORWARDED_FOR, xff == null ? conn.remoteIp : xff + "," + conn.remoteIp);
      }
      if (!internal) {
        // An edge client: x-envoy-* headers from it are not to be trusted. Envoy strips a list
        // (EXTERNAL_REMOVED and three more); this proxy strips them all (decision 0004).
        Http1Decoding.removePrefixed(h, X_ENVOY_PREFIX, HttpStream::anyEnvoyHeader);
        // Envoy: the first ingress point into the trusted network names the client
        h.set(X_ENVOY_EXTERNAL_ADDRESS, client != null ? client.getHostAddress() : conn.remoteIp);
        return false;
      }
    } else if (ca.detects()) {
      // Envoy: the address an extension found, when it allows trusted address checks
      Rare r = rare;
      internal =
          r != null && r.clientTrusted && r.client != null && ca.isInternal(r.client.getAddress());
    } else if (ca.anyInternal() && ca.xffNumTrustedHops() == 0) {
      // Envoy: internal only when x-forwarded-for holds one address, and that one is internal
      String xff = h.get(X_FORWARDED_FOR);
      if (xff != null && xff.indexOf(',') < 0) {
        var a = dev.bowline.proxy.config.ClientAddressConfig.xffEntry(xff, 0);
        internal = a != null && ca.isInternal(a.getAddress());
      }
    }
    if (internal) {
      h.set(X_ENVOY_INTERNAL, TRUE);
    } else {
      Http1Decoding.removePrefixed(h, X_ENVOY_PREFIX, HttpStream::externalRemoved);
    }
    return internal;
  }

  private static final io.netty.util.AsciiString X_ENVOY_PREFIX =
      io.netty.util.AsciiString.cached("x-envoy-");

  /** An edge request loses every x-envoy-* header. */
  private static boolean anyEnvoyHeader(CharSequence name) {
    return true;
  }

  /** Whether an external request loses x-envoy-* header {@code name}: EXTERNAL_REMOVED's. */
  private static boolean externalRemoved(CharSequence name) {
    for (io.netty.util.AsciiString n : EXTERNAL_REMOVED) {
      if (n.contentEqualsIgnoreCase(name)) {
        return true;
      }
    }
    return false;
  }

  /**
   * Envoy's {@code original_ip_detection_extensions} on a connection manager without {@code
   * use_remote_address}: each runs in order until one finds the client (kept as {@link Rare#client}
   * for the access log, RBAC and the internal decision) or rejects the request; an x-forwarded-for
   * extension with {@code skip_xff_append: false} appends the peer when it runs. Found nothing: the
   * peer is the client and the request is not internal.
   *
   * @return the status of the rejecting reply, 0 when the request goes on
   */
  private int detectClient(HttpHeaders h, dev.bowline.proxy.config.ClientAddressConfig ca) {
    var detections = ca.detections();
    for (int i = 0; i < detections.size(); i++) {
      java.net.InetAddress found = null;
      boolean trusted = false;
      switch (detections.get(i)) {
        case dev.bowline.proxy.config.OriginalIpDetection.CustomHeader c -> {
          String v = h.get(c.header());
          found =
              v == null
                  ? null
                  : dev.bowline.proxy.config.ClientAddressConfig.ipLiteral(v, 0, v.length());
          if (found == null) {
            if (c.rejectStatus() != 0) {
              return c.rejectStatus();
            }
          } else {
            trusted = c.trusted();
          }
        }
        case dev.bowline.proxy.config.OriginalIpDetection.Xff x -> {
          String xff = h.get(X_FORWARDED_FOR);
          if (!x.trustedCidrs().isEmpty()) {
            // only a trusted proxy's header counts
            var d = downstreamDirectRemote();
            if (d != null && x.trusts(d.getAddress().getAddress()) && xff != null) {
              boolean[] leftmost = new boolean[1];
              found = x.lastUntrusted(xff, leftmost);
              trusted = leftmost[0];
            }
          } else {
            found = dev.bowline.proxy.config.ClientAddressConfig.xffEntry(xff, x.hops());
            trusted = xff != null && xff.indexOf(',') < 0;
          }
          if (!x.skipXffAppend()) {
            h.set(X_FORWARDED_FOR, xff == null ? conn.remoteIp : xff + "," + conn.remoteIp);
          }
        }
      }
      if (found != null) {
        Rare r = rare();
        r.client = found;
        r.clientTrusted = trusted;
        return 0;
      }
    }
    return 0;
  }

  /** Envoy's {@code appendVia}: {@code via} after what the header has, comma and space between. */
  private static void appendVia(HttpHeaders h, io.netty.util.AsciiString via) {
    String had = h.get(HttpHeaderNames.VIA);
    if (had == null || had.isEmpty()) {
      h.set(HttpHeaderNames.VIA, via);
    } else {
      h.set(HttpHeaderNames.VIA, had + ", " + via);
    }
  }

  /**
   * The client {@code x-forwarded-for} names, as the connection manager trusts it: the entry {@code
   * xff_num_trusted_hops} from the right without {@code use_remote_address}, the one before that
   * with it (found before the peer was appended); null when the peer is the client.
   */
  private java.net.@Nullable InetAddress xffClient() {
    var cfg = conn.config;
    if (cfg.useRemoteAddress() || cfg.clientAddress().detects()) {
      Rare r = rare;
      return r == null ? null : r.client;
    }
    return dev.bowline.proxy.config.ClientAddressConfig.xffEntry(
        downstreamHead.headers().get(X_FORWARDED_FOR), cfg.clientAddress().xffNumTrustedHops());
  }

  /**
   * Whether {@code require_tls} sends this request to https: its {@code x-forwarded-proto} (which
   * the connection manager set or kept) is not https and, for EXTERNAL_ONLY, it is not marked
   * internal ({@code x-envoy-internal: true}, Envoy's {@code isEnvoyInternalRequest}).
   */
  private static boolean tlsRedirect(VirtualHost vh, HttpHeaders h) {
    String proto = h.get(X_FORWARDED_PROTO);
    if (proto == null || HTTPS.contentEqualsIgnoreCase(proto)) {
      return false; // Envoy: no x-forwarded-proto, no redirect
    }
    return vh.requireTls() == VirtualHost.RequireTls.ALL || !"true".equals(h.get(X_ENVOY_INTERNAL));
  }

  /** The matched route's (else virtual host's) per-filter config of filter {@code i}. */
  private @Nullable Object routeFilterConfig(int i) {
    Route r = matchedRoute;
    if (r == null) {
      return null;
    }
    String name = conn.config.httpFilters().get(i).name();
    Object c = r.filterConfigs().get(name);
    if (c == null) {
      VirtualHost vh = java.util.Objects.requireNonNull(matchedHost);
      c = vh.filterConfigs().get(name);
      if (c == null) {
        c = java.util.Objects.requireNonNull(matchedTable).filterConfigs().get(name);
      }
    }
    return c;
  }

  @Override
  public List<Object> perFilterConfigs() {
    Route r = matchedRoute;
    VirtualHost vh = matchedHost;
    int i = decodedFilters - 1;
    if (r == null || vh == null || i < 0 || i >= filters.length - 1) {
      return List.of();
    }
    String name = conn.config.httpFilters().get(i).name();
    Object host = vh.filterConfigs().get(name);
    Object route = r.filterConfigs().get(name);
    RouteTable t = matchedTable;
    Object table = t == null ? null : t.filterConfigs().get(name);
    if (table != null) {
      List<Object> all = new ArrayList<>(3);
      all.add(table);
      if (host != null) {
        all.add(host);
      }
      if (route != null) {
        all.add(route);
      }
      return List.copyOf(all);
    }
    if (host == null) {
      return route == null ? List.of() : List.of(route);
    }
    return route == null ? List.of(host) : List.of(host, route);
  }

  // StreamContext, for the filters

  @Override
  public io.netty.util.concurrent.EventExecutor executor() {
    return ctx.executor();
  }

  @Override
  public java.util.random.RandomGenerator random() {
    return java.util.Objects.requireNonNull(conn.worker).random();
  }

  @Override
  public boolean grpc() {
    return grpc;
  }

  @Override
  public boolean done() {
    return done;
  }

  @Override
  public void sendLocalReply(int status, String body, @Nullable ResponseFlag flag) {
    if (flag != null) {
      responseFlags |= flag.bit();
    }
    localReply(status, body);
  }

  @Override
  public void sendLocalReply(
      int status, String body, @Nullable ResponseFlag flag, String responseCodeDetails) {
    if (!done) {
      details = responseCodeDetails;
    }
    sendLocalReply(status, body, flag);
  }

  @Override
  public @Nullable String responseCodeDetails() {
    if (details != null) {
      return details;
    }
    if (viaUpstream) {
      return "via_upstream";
    }
    if (responseCode == 0) {
      return null;
    }
    // Envoy's ResponseCodeDetails for the replies the connection manager and router make
    int f = responseFlags;
    if (ResponseFlags.has(f, ResponseFlag.NR)) {
      return "route_not_found";
    } else if (ResponseFlags.has(f, ResponseFlag.NC)) {
      return "cluster_not_found";
    } else if (ResponseFlags.has(f, ResponseFlag.UH)) {
      return "no_healthy_upstream";
    } else if (ResponseFlags.has(f, ResponseFlag.UO)) {
      return "upstream_reset_before_response_started{overflow}";
    } else if (ResponseFlags.has(f, ResponseFlag.UF)) {
      return "upstream_reset_before_response_started{remote_connection_failure}";
    } else if (ResponseFlags.has(f, ResponseFlag.UC)) {
      return "upstream_reset_before_response_started{connection_termination}";
    } else if (ResponseFlags.has(f, ResponseFlag.UT)) {
      return "upstream_response_timeout";
    } else if (ResponseFlags.has(f, ResponseFlag.SI)) {
      return "stream_idle_timeout";
    } else if (ResponseFlags.has(f, ResponseFlag.FI)) {
      return "fault_filter_abort";
    } else if (ResponseFlags.has(f, ResponseFlag.RL)) {
      return "local_rate_limited";
    } else if (ResponseFlags.has(f, ResponseFlag.UAEX)) {
      return "ext_authz_denied";
    }
    return null;
  }

  @Override
  public void sendGrpcReply(int grpcStatus, String message, @Nullable ResponseFlag flag) {
    if (flag != null) {
      responseFlags |= flag.bit();
    }
    if (done) {
      return;
    }
    if (responseStarted) {
      localReply(500, message); // resets
      return;
    }
    conn.stats.response(200);
    var r = LocalReply.build(ctx.alloc(), 200, message, conn.config.serverName(), true);
    r.headers().set("grpc-status", grpcStatus);
    writeLocal(r, 200);
  }

  @Override
  public void addResponseFlag(ResponseFlag flag) {
    responseFlags |= flag.bit();
  }

  @Override
  public void httpCall(
      String cluster,
      io.netty.handler.codec.http.FullHttpRequest request,
      java.time.Duration timeout,
      int maxBodyBytes,
      HttpCallback callback) {
    UpstreamCall.start(
        java.util.Objects.requireNonNull(conn.worker),
        conn.runtime.snapshot(),
        cluster,
        request,
        timeout,
        maxBodyBytes,
        callback);
  }

  @Override
  public void bufferRequestBody(int maxBytes, boolean allowPartial) {
    if (maxBytes <= 0) {
      throw new IllegalArgumentException("maxBytes: must be positive: " + maxBytes);
    }
    if (done || decodedFilters == 0 || forwarded) {
      return;
    }
    long n = 0;
    for (HttpContent c : pending) {
      n += c.content().readableBytes();
    }
    // the filter whose onRequestHeaders runs now
    rare().bodyWait = new BodyWait(decodedFilters - 1, maxBytes, allowPartial, n);
    conn.pauseBody(false); // it needs the body: past the connection's limit it gets 413 instead
  }

  /**
   * Body bytes came for the filter that asked: too many without allow_partial answers 413 (Envoy's
   * buffer limit); the whole body, or the limit with allow_partial, goes to the filter.
   */
  private void bodyArrived(BodyWait w) {
    if (done || resumeAt != w.filter + 1) {
      return; // the filter still runs its onRequestHeaders: decodeFrom calls again after it
    }
    boolean served = w.partial && w.buffered >= w.limit;
    int max = conn.bufferLimit;
    if (!served && (w.buffered > w.limit || (max > 0 && w.buffered > max))) {
      // over the filter's limit, or Envoy's decoder buffer overflow (the connection's limit)
      clearBodyWait();
      conn.stats.downstreamRqTooLarge().inc();
      details = "request_payload_too_large";
      localReply(413, "Payload Too Large");
      return;
    }
    if (!requestComplete && !(w.partial && w.buffered >= w.limit)) {
      return;
    }
    clearBodyWait();
    io.netty.buffer.ByteBuf body = bufferedBody(w.limit);
    FilterStatus status;
    try {
      status = filters[w.filter].onRequestBody(body, body.readableBytes() < w.buffered, this);
    } finally {
      body.release();
    }
    if (status == FilterStatus.CONTINUE) {
      continueDecoding();
    }
  }

  /** The first {@code max} bytes of the buffered body as one (retained) view; no copy. */
  private io.netty.buffer.ByteBuf bufferedBody(int max) {
    int n = pending.size();
    io.netty.buffer.ByteBuf whole;
    if (n == 0) {
      return io.netty.buffer.Unpooled.EMPTY_BUFFER;
    } else if (n == 1) {
      whole = pending.getFirst().content().retainedDuplicate();
    } else {
      var all = ctx.alloc().compositeBuffer(n);
      for (HttpContent c : pending) {
        all.addComponent(true, c.content().retainedDuplicate());
      }
      whole = all;
    }
    if (whole.readableBytes() <= max) {
      return whole;
    }
    io.netty.buffer.ByteBuf head = whole.retainedSlice(whole.readerIndex(), max);
    whole.release();
    return head;
  }

  @Override
  public void continueDecoding() {
    if (!done && resumeAt >= 0) {
      int from = resumeAt;
      resumeAt = -1;
      decodeFrom(from);
    }
  }

  private void forward(
      HttpRequest req, RouteAction.Forward f, Route route, String path, String queryPart) {
    Worker worker = java.util.Objects.requireNonNull(conn.worker);
    String clusterName;
    if (f.clusters() instanceof dev.bowline.proxy.config.ClusterChoice.Weighted w) {
      weightedCluster = w.pickEntry(worker.random());
      clusterName = weightedCluster.name();
    } else {
      clusterName =
          f.clusters() instanceof dev.bowline.proxy.config.ClusterChoice.Single one
              ? one.cluster()
              : f.clusters().pick(worker.random(), req.headers()::get);
    }
    ClusterConfig cluster = snapshot.clusters().get(clusterName);
    if (cluster == null) {
      responseFlags |= ResponseFlag.NC.bit();
      // Envoy: NC, cluster_not_found, the route's cluster_not_found_response_code (503 unless set)
      localReply(f.policy().clusterNotFoundStatus(), "");
      return;
    }
    this.upstreamCluster = clusterName;
    VirtualHost vh = matchedHost;
    if (vh != null && !vh.virtualClusters().isEmpty()) {
      // Envoy's router: once the cluster is known, from the request as the filters left it
      var vc =
          RouteMatcher.virtualCluster(
              vh,
              req.headers(),
              req.method().name(),
              path,
              queryPart.isEmpty() ? "" : queryPart.substring(1));
      vcluster = vc == null ? null : vc.stats(worker.stats());
    } else if (vcluster != null) {
      vcluster = null; // an internal redirect went to a virtual host without virtual clusters
    }
    if (connect) {
      connectTunnel(cluster);
      return;
    }
    if (f.prefixRewrite().isPresent()
        && route.match().path() instanceof dev.bowline.proxy.config.RouteMatch.PathMatch.Prefix p) {
      req.setUri(f.prefixRewrite().get() + path.substring(p.prefix().length()) + queryPart);
    } else if (f.policy().regexRewrite().isPresent()) {
      req.setUri(f.policy().regexRewrite().get().apply(path) + queryPart);
    }
    // Timeouts as Envoy's router takes them: the route's, unless the (trusted: HCM strips
    // x-envoy-* from edge clients) x-envoy-upstream-rq-timeout-ms header says otherwise.
    globalTimeoutNanos = f.timeout().toNanos();
    if (grpc && f.maxGrpcTimeoutMillis() >= 0) {
      // max_grpc_timeout: the client's grpc-timeout (none: no timeout), capped
      globalTimeoutNanos =
          TimeUnit.MILLISECONDS.toNanos(
              GrpcTimeout.routeMillis(
                  req.headers().get(GrpcTimeout.HEADER),
                  f.maxGrpcTimeoutMillis(),
                  f.grpcTimeoutOffsetMillis()));
    }
    String rqTimeout = req.headers().get(X_ENVOY_UPSTREAM_RQ_TIMEOUT_MS);
    if (rqTimeout != null) {
      req.headers().remove(X_ENVOY_UPSTREAM_RQ_TIMEOUT_MS);
      long ms = parseMillis(rqTimeout);
      if (ms >= 0) {
        globalTimeoutNanos = TimeUnit.MILLISECONDS.toNanos(ms);
      }
    }
    var retryPolicy = f.policy().retry().orElse(null);
    long perTryNanos = retryPolicy == null ? 0 : retryPolicy.perTryTimeout().toNanos();
    String perTry = req.headers().get(X_ENVOY_UPSTREAM_RQ_PER_TRY_TIMEOUT_MS);
    if (perTry != null) {
      req.headers().remove(X_ENVOY_UPSTREAM_RQ_PER_TRY_TIMEOUT_MS);
      long ms = parseMillis(perTry);
      if (ms >= 0) {
        perTryNanos = TimeUnit.MILLISECONDS.toNanos(ms);
      }
    }
    if (globalTimeoutNanos > 0 && perTryNanos >= globalTimeoutNanos) {
      perTryNanos = 0; // Envoy: a per-try timeout not below the route's is ignored
    }
    if (perTryNanos > 0) {
      rare().perTryTimeoutNanos = perTryNanos;
    } else if (rare != null) {
      rare.perTryTimeoutNanos = 0;
    }
    if (retryPolicy != null && retryPolicy.numRetries() > 0) {
      rare().retry = new RetryState(retryPolicy);
      rare().replay = new ArrayList<>(2);
      for (HttpContent c : pending) {
        keepForReplay(c);
      }
      pending = List.of();
    }
    if (matchedHost != null && matchedHost.includeAttemptCount()) {
      rare().includeAttemptCount = true;
    } else if (rare != null) {
      rare.includeAttemptCount = false;
    }
    if (f.policy().host().autoHost()) {
      rare().autoHostRewrite = true;
    } else if (rare != null) {
      rare.autoHostRewrite = false;
    }
    forwarded = true;
    var routeMax = f.policy().maxStreamDuration();
    if (routeMax.isPresent()) {
      routeMaxStreamDuration(routeMax.get());
    }
    var routeIdle = f.policy().idleTimeout();
    if (routeIdle.isPresent() && !routeIdle.get().isZero()) {
      rare().routeIdleNanos = routeIdle.get().toNanos();
      rare().lastActivity = System.nanoTime();
      rare().idleTimer =
          ctx.executor().schedule(this::onRouteIdle, routeIdleNanos(), TimeUnit.NANOSECONDS);
    }
    if (globalTimeoutNanos > 0 && requestComplete) {
      // the first try sets x-envoy-expected-rq-timeout-ms last (startAttempt), after the route's
      // header changes; set here too only for what reads the head before that (a mirror's copy,
      // a hash policy), so the common request does not make an entry its first try replaces
      startGlobalTimer(!f.policy().mirrors().isEmpty() || !f.hashPolicies().isEmpty());
    }
    // most specific first, as Envoy applies them: route, virtual host, route configuration
    VirtualHost host = java.util.Objects.requireNonNull(matchedHost);
    RouteTable table = java.util.Objects.requireNonNull(matchedTable);
    var wc = weightedCluster;
    if (!route.requestHeaders().isEmpty()
        || !host.requestHeaders().isEmpty()
        || !table.requestHeaders().isEmpty()
        || (wc != null && !wc.requestHeaders().isEmpty())) {
      var ops = new dev.bowline.proxy.config.HeaderMutation.Http1Headers(req.headers());
      var wch = wc == null ? null : wc.requestHeaders();
      mutate(
          ops,
          table.mostSpecificWins(),
          wch,
          route.requestHeaders(),
          host.requestHeaders(),
          table.requestHeaders());
    }
    // Envoy's finalizeRequestHeaders: the Host rewrite after the header mutations, from the path
    // as the request came (before a path rewrite)
    var hr = f.policy().host();
    if (f.hostRewrite().isPresent()) {
      updateAuthority(req.headers(), f.hostRewrite().get(), hr.appendForwardedHost());
    } else if (hr.any()) {
      String to = null;
      if (hr.header().isPresent()) {
        to = req.headers().get(hr.header().get());
      } else if (hr.pathRegex().isPresent()) {
        to = hr.pathRegex().get().apply(path);
      }
      if (to != null && !to.isEmpty()) {
        updateAuthority(req.headers(), to, hr.appendForwardedHost());
      }
    }
    req.setProtocolVersion(HttpVersion.HTTP_1_1);
    HttpUtil.setKeepAlive(req, true);
    if (upgrade) {
      req.headers()
          .set(HttpHeaderNames.UPGRADE, "websocket")
          .set(HttpHeaderNames.CONNECTION, "Upgrade");
    }
    clusterStats = worker.clusterStats(cluster);
    clusterStats.upstreamRqTotal().inc();
    Endpoints endpoints;
    SocketAddr pinned = null;
    if (cluster.discovery() instanceof ClusterConfig.OriginalDst o) {
      // Envoy's chooseHost: the header (with use_http_header), else the downstream connection's
      // local address if the original_dst listener filter restored it
      pinned = o.useHttpHeader() ? originalDstHost(req.headers().get(ORIGINAL_DST_HOST)) : null;
      if (pinned == null) {
        pinned = restoredDestination();
      }
      endpoints = pinned == null ? null : worker.originalDst(cluster, pinned);
    } else {
      endpoints = snapshot.endpointsOrNull(cluster);
    }
    this.target = cluster;
    this.targetEndpoints = endpoints;
    this.targetHost = pinned;
    this.retriesLeft = retry() != null ? 0 : f.connectRetries();
    if (cluster.lbPolicy().hashed() && !f.hashPolicies().isEmpty()) {
      rare().requestHash =
          dev.bowline.proxy.lb.RequestHash.compute(
              f.hashPolicies(),
              req.headers(),
              req.uri(),
              conn.remoteIp,
              addressOf(true),
              addressOf(false),
              c -> rare().hashCookie = c);
    } else if (rare != null) {
      rare.requestHash = null;
    }
    if (endpoints == null) {
      responseFlags |= ResponseFlag.UH.bit();
      localReply(503, "no healthy upstream");
      return;
    }
    var tracer = conn.config.tracer();
    var s = span();
    if (tracer != null && s != null) {
      // the upstream request carries our span (or its upstream child) as the caller's context
      if (tracer.config().spawnUpstreamSpan()) {
        var up = tracer.upstreamSpan(s, clusterName, worker.random());
        rare().upstreamSpan = up;
        tracer.inject(up, req.headers());
      } else {
        tracer.inject(s, req.headers());
      }
    }
    mirror(req, f, worker);
    startAttempt();
  }

  /**
   * The header mutations of a weighted cluster (null: none), route, virtual host and table: by
   * default the most specific first, so the table's value is what stays; with {@code
   * most_specific_header_mutations_wins} the reverse.
   */
  private static void mutate(
      dev.bowline.proxy.config.HeaderMutation.Http1Headers ops,
      boolean mostSpecificWins,
      dev.bowline.proxy.config.@Nullable HeaderMutation weighted,
      dev.bowline.proxy.config.HeaderMutation route,
      dev.bowline.proxy.config.HeaderMutation host,
      dev.bowline.proxy.config.HeaderMutation table) {
    if (mostSpecificWins) {
      table.applyTo(ops);
      host.applyTo(ops);
      route.applyTo(ops);
      if (weighted != null) {
        weighted.applyTo(ops);
      }
    } else {
      if (weighted != null) {
        weighted.applyTo(ops);
      }
      route.applyTo(ops);
      host.applyTo(ops);
      table.applyTo(ops);
    }
  }

  /**
   * Envoy's {@code updateAuthority}: the Host becomes {@code to}; with {@code
   * append_x_forwarded_host} the Host it had is appended to {@code x-forwarded-host} unless it is
   * already the last value.
   */
  private static void updateAuthority(HttpHeaders h, String to, boolean appendForwardedHost) {
    if (appendForwardedHost) {
      String was = h.get(HttpHeaderNames.HOST);
      if (was != null && !was.isEmpty()) {
        String xfh = h.get(X_FORWARDED_HOST);
        if (xfh == null || xfh.isEmpty()) {
          h.set(X_FORWARDED_HOST, was);
        } else if (!xfh.substring(xfh.lastIndexOf(',') + 1).equals(was)) {
          h.set(X_FORWARDED_HOST, xfh + "," + was);
        }
      }
    }
    h.set(HttpHeaderNames.HOST, to);
  }

  private static final io.netty.util.AsciiString X_ENVOY_ATTEMPT_COUNT =
      io.netty.util.AsciiString.cached("x-envoy-attempt-count");
  private static final io.netty.util.AsciiString X_ENVOY_IS_TIMEOUT_RETRY =
      io.netty.util.AsciiString.cached("x-envoy-is-timeout-retry");

  private static final io.netty.util.AsciiString X_FORWARDED_HOST =
      io.netty.util.AsciiString.cached("x-forwarded-host");

  private static long parseMillis(String v) {
    try {
      return Long.parseLong(v.trim());
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  /**
   * Arms the route timeout once; before the first try ({@code attempts == 0}) it also sets the
   * expected-timeout header when {@code header} (startAttempt sets it for every try anyway).
   */
  private void startGlobalTimer(boolean header) {
    if (!timeoutArmed && globalTimeoutNanos > 0 && !done) {
      if (!suppressEnvoyHeaders && attempts == 0 && header) {
        upstreamRequest
            .headers()
            .set(X_ENVOY_EXPECTED_RQ_TIMEOUT_MS, conn.millisText(expectedTimeoutMillis()));
      }
      timeoutArmed = true;
      conn.armRouteTimeout(this, globalTimeoutNanos);
    }
  }

  /** The route's idle timeout fired: idle long enough, or look again when it could be. */
  private void onRouteIdle() {
    if (rare != null) {
      rare.idleTimer = null;
    }
    if (done) {
      return;
    }
    long idle = System.nanoTime() - lastActivity();
    if (idle >= routeIdleNanos()) {
      onIdle();
    } else {
      rare().idleTimer =
          ctx.executor().schedule(this::onRouteIdle, routeIdleNanos() - idle, TimeUnit.NANOSECONDS);
    }
  }

  private long expectedTimeoutMillis() {
    long nanos = globalTimeoutNanos;
    if (perTryTimeoutNanos() > 0 && (nanos == 0 || perTryTimeoutNanos() < nanos)) {
      nanos = perTryTimeoutNanos();
    }
    return TimeUnit.NANOSECONDS.toMillis(nanos);
  }

  /** One try: pick a host (avoiding earlier ones if the policy says so) and send the request. */
  private void startAttempt() {
    if (done) {
      return;
    }
    attempts++;
    HttpHeaders h = upstreamRequest.headers();
    if (includeAttemptCount()) {
      h.set(X_ENVOY_ATTEMPT_COUNT, attempts);
    }
    Rare rr = rare;
    VirtualHost host = matchedHost;
    if (rr != null && rr.retryKind != 0 && host != null && host.includeIsTimeoutRetryHeader()) {
      // Envoy's doRetry: on each retry, whether a per-try timeout caused it
      h.set(X_ENVOY_IS_TIMEOUT_RETRY, rr.retryKind == 1 ? "true" : "false");
    }
    if (!suppressEnvoyHeaders && (globalTimeoutNanos > 0 || perTryTimeoutNanos() > 0)) {
      h.set(X_ENVOY_EXPECTED_RQ_TIMEOUT_MS, conn.millisText(expectedTimeoutMillis()));
    }
    Worker worker = java.util.Objects.requireNonNull(conn.worker);
    ClusterConfig cluster = java.util.Objects.requireNonNull(target);
    if (!worker.acquire(
        cluster,
        java.util.Objects.requireNonNull(targetEndpoints),
        targetHost,
        requestHash(),
        this,
        this,
        upgrade)) {
      responseFlags |= ResponseFlag.UH.bit();
      localReply(503, "no healthy upstream");
    }
  }

  /** The downstream connection's remote or local address as {@code ip:port}. */
  private String addressOf(boolean remote) {
    var ch = conn.http2Stream ? ctx.channel().parent() : ctx.channel();
    var a = remote ? ch.remoteAddress() : dev.bowline.proxy.config.ConnectionInfo.localAddress(ch);
    return a instanceof java.net.InetSocketAddress i
        ? i.getAddress().getHostAddress() + ":" + i.getPort()
        : String.valueOf(a);
  }

  @Override
  public void waiting(Worker.Waiting wait) {
    rare().waitingFor = wait;
  }

  private void countVclusterRetry() {
    var v = vcluster;
    if (v != null) {
      v.retry();
    }
  }

  /** Counts a response (or the router's reply for a failed try) on the cluster and vcluster. */
  private void chargeResponse(int status) {
    ClusterStats cs = clusterStats;
    if (cs != null) {
      cs.response(status);
    }
    var v = vcluster;
    if (v != null) {
      v.response(status);
    }
  }

  @Override
  public void overflowed() {
    // a circuit breaker said no (Envoy's UO response flag)
    if (rare != null) {
      rare.waitingFor = null;
    }
    if (done) {
      return;
    }
    responseFlags |= ResponseFlag.UO.bit();
    chargeResponse(503);
    var resp =
        buildLocal(
            503,
            "upstream connect error or disconnect/reset before headers. reset reason: overflow",
            grpc);
    conn.stats.response(responseCode);
    if (!suppressEnvoyHeaders) {
      resp.headers().set("x-envoy-overloaded", "true");
    }
    writeLocal(resp, responseCode);
  }

  @Override
  public boolean cancelled() {
    return done;
  }

  @Override
  public void picked(SocketAddr host, String hostname) {
    RetryState r = retry();
    if (r != null) {
      r.tried(host);
    }
    Rare rr = rare;
    if (rr != null
        && rr.autoHostRewrite
        && !hostname.isEmpty()
        && matchedRoute != null
        && matchedRoute.action() instanceof RouteAction.Forward f) {
      // Envoy's auto_host_rewrite: each try's Host is its host's hostname (updateAuthority as the
      // pool readies the stream, before the head is written)
      updateAuthority(upstreamRequest.headers(), hostname, f.policy().host().appendForwardedHost());
    }
  }

  @Override
  public boolean rejectHost(SocketAddr host) {
    RetryState r = retry();
    return r != null && r.rejects(host);
  }

  @Override
  public int hostSelectionAttempts() {
    RetryState r = retry();
    return r == null ? 0 : r.hostSelectionAttempts();
  }

  /** Keeps {@code c} for later tries while the replay buffer has room; past it, retries stop. */
  private void keepForReplay(HttpContent c) {
    List<HttpContent> r = java.util.Objects.requireNonNull(replay());
    r.add(c);
    rare().replayBytes += c.content().readableBytes();
    if (replayBytes() > REPLAY_LIMIT) {
      // Envoy: retry_or_shadow_abandoned. What no upstream has yet stays pending.
      if (rare != null) {
        rare.retry = null;
      }
      if (rare != null) {
        rare.replay = null;
      }
      if (upstream == null) {
        pendingList().addAll(r);
      } else {
        r.forEach(ReferenceCountUtil::release);
      }
    }
  }

  /**
   * Draws each mirror policy; the chosen clusters get a copy of the whole request (head as sent
   * upstream, host suffixed {@code -shadow} before the port) once it has arrived: fire and forget.
   */
  private void mirror(HttpRequest req, RouteAction.Forward f, Worker worker) {
    List<ClusterConfig> chosen = null;
    var mirrors = f.policy().mirrors();
    for (int i = 0, n = mirrors.size(); i < n; i++) { // no iterator per request, whatever the JIT
      dev.bowline.proxy.config.RequestMirror m = mirrors.get(i);
      if (m.perMillion() < 1_000_000
          && (m.perMillion() == 0 || worker.random().nextInt(1_000_000) >= m.perMillion())) {
        continue;
      }
      ClusterConfig mc = snapshot.clusters().get(m.cluster());
      if (mc == null || snapshot.endpointsOf(mc).isEmpty()) {
        continue;
      }
      if (chosen == null) {
        chosen = new ArrayList<>(1);
      }
      chosen.add(mc);
    }
    if (chosen == null) {
      return;
    }
    String host = req.headers().get(HttpHeaderNames.HOST, "");
    int colon = host.lastIndexOf(':');
    String shadow =
        colon > 0 && host.indexOf(']') < colon
            ? host.substring(0, colon) + "-shadow" + host.substring(colon)
            : host + "-shadow";
    HttpHeaders copy = req.headers().copy();
    copy.set(HttpHeaderNames.HOST, shadow);
    copy.remove(HttpHeaderNames.TRANSFER_ENCODING);
    if (!suppressEnvoyHeaders) {
      // Envoy sends a shadow through its async client with the route's global timeout, whose
      // router sets the header again: the global timeout, not this try's (a per-try timeout only
      // when there is no global one, as copied from the original)
      long shadowMillis =
          TimeUnit.NANOSECONDS.toMillis(
              globalTimeoutNanos > 0 ? globalTimeoutNanos : perTryTimeoutNanos());
      if (shadowMillis > 0) {
        copy.set(X_ENVOY_EXPECTED_RQ_TIMEOUT_MS, conn.millisText(shadowMillis));
      } else {
        copy.remove(X_ENVOY_EXPECTED_RQ_TIMEOUT_MS);
      }
    }
    rare().mirrorClusters = chosen;
    rare().mirrorHead = new DefaultHttpRequest(HttpVersion.HTTP_1_1, req.method(), req.uri(), copy);
    // the :scheme the mirrors' HTTP/2 upstreams are sent, as the request's own (Envoy's shadow
    // copies its headers); taken now, as the connection may serve another request when they go
    rare().mirrorScheme = conn.config.headers().schemeMatchUpstream() ? null : conn.requestScheme();
    var body = ctx.alloc().compositeBuffer();
    rare().mirrorBody = body;
    List<HttpContent> r = replay();
    if (r != null) {
      r.forEach(c -> body.addComponent(true, c.content().retainedDuplicate()));
    }
    pending.forEach(c -> body.addComponent(true, c.content().retainedDuplicate()));
    if (requestComplete) {
      sendMirrors();
    }
  }

  /** Keeps a copy of {@code c} for the mirrors; sends them when the request is complete. */
  private void mirrorContent(HttpContent c) {
    var body = java.util.Objects.requireNonNull(mirrorBody());
    body.addComponent(true, c.content().retainedDuplicate());
    if (body.readableBytes() > REPLAY_LIMIT) {
      releaseMirror(); // Envoy: retry_or_shadow_abandoned
    } else if (c instanceof LastHttpContent) {
      sendMirrors();
    }
  }

  private void sendMirrors() {
    var body = java.util.Objects.requireNonNull(mirrorBody());
    HttpRequest head = java.util.Objects.requireNonNull(mirrorHead());
    Worker worker = java.util.Objects.requireNonNull(conn.worker);
    for (ClusterConfig mc : java.util.Objects.requireNonNull(mirrorClusters())) {
      Endpoints me = snapshot.endpointsOf(mc).orElse(null);
      if (me == null) {
        continue;
      }
      HttpHeaders h = head.headers().copy();
      h.set(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes());
      var full =
          new io.netty.handler.codec.http.DefaultFullHttpRequest(
              HttpVersion.HTTP_1_1,
              head.method(),
              head.uri(),
              body.retainedDuplicate(),
              h,
              io.netty.handler.codec.http.EmptyHttpHeaders.INSTANCE);
      worker.clusterStats(mc).upstreamRqTotal().inc();
      Mirror shadowRequest = new Mirror(full, rare == null ? null : rare.mirrorScheme);
      if (!worker.acquire(mc, me, shadowRequest, shadowRequest)) {
        shadowRequest.failed("no healthy upstream");
      }
    }
    releaseMirror();
  }

  private void releaseMirror() {
    var body = mirrorBody();
    if (rare != null) {
      rare.mirrorBody = null;
    }
    if (rare != null) {
      rare.mirrorHead = null;
    }
    if (rare != null) {
      rare.mirrorClusters = null;
    }
    if (body != null) {
      body.release();
    }
  }

  /** A mirrored request: sent when its connection comes, its response read and dropped. */
  private static final class Mirror implements ResponseListener, Worker.AcquireCallback {
    private @Nullable HttpRequest request;
    private final @Nullable CharSequence scheme; // as the request's own upstream is sent

    Mirror(HttpRequest request, @Nullable CharSequence scheme) {
      this.request = request;
      this.scheme = scheme;
    }

    @Override
    public void acquired(Upstream upstream) {
      HttpRequest r = request;
      request = null;
      if (upstream instanceof dev.bowline.proxy.transport.RequestScheme rs) {
        rs.requestScheme(scheme);
      }
      if (r != null) {
        upstream.channel().writeAndFlush(r, upstream.channel().voidPromise());
      }
    }

    @Override
    public void failed(String reason) {
      HttpRequest r = request;
      request = null;
      ReferenceCountUtil.release(r);
    }

    @Override
    public void onUpstreamObject(HttpObject msg) {
      ReferenceCountUtil.release(msg);
    }

    @Override
    public void onUpstreamReset(String reason) {}
  }

  @Override
  public char traceReason() {
    Rare r = rare;
    return r == null || r.traceReason == 0
        ? dev.bowline.proxy.tracing.Sampling.NO_TRACE
        : r.traceReason;
  }

  @Override
  public boolean downstreamHttp2() {
    return conn.http2Stream;
  }

  @Override
  public List<String> upstreamAlpn(boolean http2) {
    UpstreamAlpn a = get(UPSTREAM_ALPN);
    return a == null ? List.of() : a.forUpstream(http2);
  }

  @Override
  public @Nullable String upstreamServerName(io.netty.util.@Nullable AsciiString overrideHeader) {
    // the request as it goes upstream: after the route's host rewrite
    HttpRequest r = upstreamRequest != null ? upstreamRequest : downstreamHead;
    return ClusterConfig.AutoSni.serverName(
        r.headers().get(overrideHeader != null ? overrideHeader : HttpHeaderNames.HOST));
  }

  /**
   * The downstream connection's original destination as the {@code original_dst} listener filter
   * restored it, null if none; made once per connection.
   */
  private @Nullable SocketAddr restoredDestination() {
    if (!conn.restoredDestinationRead) {
      conn.restoredDestinationRead = true;
      java.net.InetSocketAddress r =
          dev.bowline.proxy.config.ConnectionInfo.restoredLocal(downstreamConnection());
      conn.restoredDestination =
          r == null ? null : new SocketAddr(r.getAddress().getHostAddress(), r.getPort());
    }
    return conn.restoredDestination;
  }

  /** Envoy's header for ORIGINAL_DST clusters with {@code use_http_header}. */
  static final String ORIGINAL_DST_HOST = "x-envoy-original-dst-host";

  /**
   * {@code ip:port} or {@code [ipv6]:port} from {@link #ORIGINAL_DST_HOST}; null when absent or not
   * an IP literal with a port (Envoy resolves no names there either).
   */
  static @Nullable SocketAddr originalDstHost(@Nullable String value) {
    if (value == null) {
      return null;
    }
    int colon = value.lastIndexOf(':');
    if (colon <= 0 || colon == value.length() - 1) {
      return null;
    }
    String ip = value.substring(0, colon);
    if (ip.startsWith("[") && ip.endsWith("]")) {
      ip = ip.substring(1, ip.length() - 1);
    } else if (ip.indexOf(':') >= 0) {
      return null;
    }
    try {
      int port = Integer.parseInt(value.substring(colon + 1));
      if (port < 1 || port > 65535) {
        return null;
      }
      return new SocketAddr(java.net.InetAddress.ofLiteral(ip).getHostAddress(), port);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  /** Envoy's redirect: scheme, host, port, path (or prefix/regex rewrite), query kept or not. */
  private void redirect(
      RouteAction.Redirect r, String authority, String path, String query, Route route) {
    var x = r.extras();
    String host = r.host().orElse(authority);
    if (x.port() > 0) {
      int colon = host.lastIndexOf(':');
      if (colon > 0 && host.indexOf(']') < colon) {
        host = host.substring(0, colon);
      }
      host = host + ":" + x.port();
    }
    String newPath = path;
    String newQuery = x.stripQuery() ? "" : query;
    if (r.path().isPresent()) {
      String p = r.path().get();
      int q = p.indexOf('?');
      if (q >= 0) {
        newPath = p.substring(0, q);
        newQuery = p.substring(q);
      } else {
        newPath = p;
      }
    } else if (x.prefixRewrite().isPresent()
        && route.match().path() instanceof dev.bowline.proxy.config.RouteMatch.PathMatch.Prefix p) {
      newPath =
          x.prefixRewrite().get() + path.substring(Math.min(p.prefix().length(), path.length()));
    } else if (x.regexRewrite().isPresent()) {
      newPath = x.regexRewrite().get().apply(path);
    }
    String location = r.scheme().orElse("http") + "://" + host + newPath + newQuery;
    var resp = buildLocal(r.status(), "", false);
    resp.headers().set(HttpHeaderNames.LOCATION, location);
    conn.stats.response(responseCode);
    writeLocal(resp, responseCode);
  }

  /**
   * A random (version 4) UUID in its text form, as {@code UUID.toString} writes it, made as ASCII
   * bytes: the upstream encoder copies them whole.
   */
  private io.netty.util.AsciiString requestId() {
    var rnd = java.util.Objects.requireNonNull(conn.worker).random();
    long hi = (rnd.nextLong() & ~0xF000L) | 0x4000L;
    long lo = (rnd.nextLong() & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L;
    byte[] b = new byte[36];
    hex(hi >>> 32, b, 0, 8);
    b[8] = '-';
    hex(hi >>> 16, b, 9, 4);
    b[13] = '-';
    hex(hi, b, 14, 4);
    b[18] = '-';
    hex(lo >>> 48, b, 19, 4);
    b[23] = '-';
    hex(lo, b, 24, 12);
    return new io.netty.util.AsciiString(b, false);
  }

  private static final byte[] HEX_DIGITS = {
    '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'a', 'b', 'c', 'd', 'e', 'f'
  };

  /** The low {@code digits} hex digits of {@code v} at {@code b[at..]}, most significant first. */
  private static void hex(long v, byte[] b, int at, int digits) {
    for (int i = at + digits - 1; i >= at; i--) {
      b[i] = HEX_DIGITS[(int) v & 0xf];
      v >>>= 4;
    }
  }

  void onRequestContent(HttpContent c) {
    int n = c.content().readableBytes();
    bytesReceived += n;
    if (routeIdleNanos() > 0) {
      rare().lastActivity = System.nanoTime();
    }
    boolean last = c instanceof LastHttpContent;
    if (last) {
      requestComplete = true;
      ScheduledFuture<?> rt = requestTimer();
      if (rt != null) {
        rt.cancel(false);
        if (rare != null) {
          rare.requestTimer = null;
        }
      }
    }
    if (done) {
      ReferenceCountUtil.release(c);
      return;
    }
    if (mirrorBody() != null) {
      mirrorContent(c);
    }
    Upstream u = upstream;
    if (replay() != null) {
      // retries may need it again: keep the original, send a duplicate
      HttpContent copy = u == null ? null : c.retainedDuplicate();
      if (u == null) {
        held += n;
      }
      keepForReplay(c);
      if (copy != null) {
        send(u, copy);
      }
    } else if (u == null) {
      pendingList().add(c);
      held += n;
      BodyWait w = bodyWait();
      if (w != null) {
        w.buffered += n;
        bodyArrived(w);
      }
    } else {
      send(u, c);
    }
    if (held > 0) {
      hold();
    }
    if (last && forwarded) {
      startGlobalTimer(true);
      if (u != null) {
        startPerTryTimer();
      }
    }
  }

  /**
   * Envoy's decoder buffer watermark: a stream holding more than the listener's limit while its
   * chain waits (a check in flight, no upstream connection yet) stops reading its client until the
   * body moves on; a filter buffering the body gets 413 instead (bodyArrived), as reading must go
   * on for it.
   */
  private void hold() {
    int limit = conn.bufferLimit;
    if (limit > 0 && held > limit && !done && upstream == null && bodyWait() == null) {
      conn.pauseBody(true);
    }
  }

  /** The held body went upstream or away: reading resumes. */
  private void released() {
    if (held != 0) {
      held = 0;
      conn.pauseBody(false);
    }
  }

  private void send(Upstream u, HttpContent c) {
    u.channel().writeAndFlush(c, u.channel().voidPromise());
    if (!u.channel().isWritable()) {
      conn.pauseForUpstream(true);
    }
  }

  @Override
  public void acquired(Upstream connection) {
    if (rare != null) {
      rare.waitingFor = null;
    }
    if (done) {
      connection.abort();
      return;
    }
    upstream = connection;
    var v = vcluster;
    if (v != null) {
      v.request(); // Envoy: on each try's pool ready, beside the cluster's upstream_rq_total
    }
    var ch = connection.channel();
    upstreamAddress = ch.remoteAddress();
    upstreamChannel = ch;
    if (connection instanceof dev.bowline.proxy.transport.RequestScheme r) {
      // an HTTP/2 upstream's :scheme, Envoy's router: the request's own, or with match_upstream
      // the upstream transport's (null: Netty's codec writes the connection's)
      r.requestScheme(conn.config.headers().schemeMatchUpstream() ? null : conn.requestScheme());
    }
    ch.write(upstreamRequest, ch.voidPromise());
    List<HttpContent> r = replay();
    if (r != null) {
      for (HttpContent c : r) {
        ch.write(c.retainedDuplicate(), ch.voidPromise());
      }
    }
    if (!pending.isEmpty()) {
      for (HttpContent c : pending) {
        ch.write(c, ch.voidPromise());
      }
      pending = List.of();
    }
    ch.flush();
    if (held != 0) {
      released();
      if (!ch.isWritable()) {
        conn.pauseForUpstream(true); // the upstream's watermark takes over
      }
    }
    if (requestComplete) {
      startPerTryTimer();
    }
  }

  /**
   * Whether the request ended as Envoy's codec sees it: never for an HTTP/1 upgrade or CONNECT
   * ({@link #http1Tunnel}), whose bytes after the head belong to the tunnel.
   */
  private boolean remoteComplete() {
    return requestComplete && !http1Tunnel;
  }

  private void startPerTryTimer() {
    if (perTryTimeoutNanos() > 0 && perTryTimer() == null && !done) {
      int attempt = attempts;
      rare().perTryTimer =
          ctx.executor()
              .schedule(() -> onPerTryTimeout(attempt), perTryTimeoutNanos(), TimeUnit.NANOSECONDS);
    }
  }

  private void cancelPerTryTimer() {
    ScheduledFuture<?> t = perTryTimer();
    if (t != null) {
      t.cancel(false);
      if (rare != null) {
        rare.perTryTimer = null;
      }
    }
  }

  /** The per-try timeout of try {@code attempt} fired: as Envoy, it counts as a 504. */
  private void onPerTryTimeout(int attempt) {
    if (done || attempt != attempts || responseStarted) {
      return;
    }
    if (rare != null) {
      rare.perTryTimer = null;
    }
    if (clusterStats != null) {
      clusterStats.upstreamRqTimeout().inc();
    }
    Upstream u = upstream;
    upstream = null;
    if (u != null) {
      u.timedOut(true);
      u.abort();
    }
    if (retryIf(RetryState.Outcome.TIMEOUT)) {
      return;
    }
    responseFlags |= ResponseFlag.UT.bit();
    localReply(504, "upstream request timeout");
  }

  /**
   * Schedules another try after the backoff if the policy retries {@code outcome} and tries are
   * left; true when it did. Out of tries after a retriable outcome: URX.
   */
  private boolean retryIf(RetryState.Outcome outcome) {
    RetryState r = retry();
    if (r == null || done || !r.retries(outcome)) {
      return false;
    }
    if (!r.hasRetriesLeft()) {
      responseFlags |= ResponseFlag.URX.bit();
      return false;
    }
    if (!retryAdmitted()) {
      return false;
    }
    r.consume();
    cancelPerTryTimer();
    rare().retryKind = outcome == RetryState.Outcome.TIMEOUT ? (byte) 1 : (byte) 2;
    java.util.Objects.requireNonNull(clusterStats).upstreamRqRetry().inc();
    countVclusterRetry();
    long backoff = r.nextBackoffMillis(random());
    ctx.executor().schedule(this::startAttempt, backoff, TimeUnit.MILLISECONDS);
    return true;
  }

  /**
   * The cluster's retry budget (circuit breaker {@code max_retries}, cluster-wide) admits one more
   * retry. As in Envoy's router, a stream holds at most one retry of the budget, from the moment a
   * retry is decided until the next decision or the end of the stream; past the budget the retry is
   * not attempted, {@code upstream_rq_retry_overflow} counts it and the stream gets UO.
   */
  private boolean retryAdmitted() {
    ClusterConfig cluster = target;
    var worker = conn.worker;
    if (cluster == null || worker == null) {
      return true;
    }
    releaseRetry();
    if (!worker.tryRetry(cluster)) {
      responseFlags |= ResponseFlag.UO.bit();
      return false;
    }
    rare().retryHeld = cluster;
    return true;
  }

  private void releaseRetry() {
    ClusterConfig held = retryHeld();
    if (held != null) {
      if (rare != null) {
        rare.retryHeld = null;
      }
      java.util.Objects.requireNonNull(conn.worker).retryDone(held);
    }
  }

  @Override
  public void failed(String reason) {
    if (rare != null) {
      rare.waitingFor = null;
    }
    if (done) {
      return;
    }
    cancelPerTryTimer();
    if (retryIf(RetryState.Outcome.CONNECT_FAILURE)) {
      return;
    }
    if (retriesLeft > 0 && target != null && targetEndpoints != null) {
      // nothing reached the upstream: safe to try again, on a host the balancer picks anew
      retriesLeft--;
      java.util.Objects.requireNonNull(clusterStats).upstreamRqRetry().inc();
      countVclusterRetry();
      if (java.util.Objects.requireNonNull(conn.worker)
          .acquire(target, targetEndpoints, targetHost, this, this, upgrade)) {
        return;
      }
    }
    if (!done) {
      responseFlags |= ResponseFlag.UF.bit();
      details = connectFailureDetails(reason);
      localReply(
          503,
          "upstream connect error or disconnect/reset before headers. "
              + (attempts > 1 ? "retried and the latest " : "")
              + "reset reason: "
              + reason);
    }
  }

  /**
   * Envoy's router details of a connect failure whose {@code reason} is {@link
   * Worker#connectFailure}'s: the reset reason and the transport failure reason, if any, joined by
   * {@code |}, spaces as underscores ({@code
   * upstream_reset_before_response_started{remote_connection_failure|delayed_connect_error:_Connection_refused}}).
   */
  static String connectFailureDetails(String reason) {
    return "upstream_reset_before_response_started{"
        + reason.replace(Worker.TRANSPORT_FAILURE, "|").replace(' ', '_')
        + "}";
  }

  @Override
  public void onUpstreamObject(HttpObject msg) {
    if (routeIdleNanos() > 0) {
      rare().lastActivity = System.nanoTime();
    }
    if (done) {
      ReferenceCountUtil.release(msg);
      return;
    }
    if (msg instanceof HttpResponse resp) {
      if (upgrade && resp.status().code() == 101) {
        tunnel(resp);
        return;
      }
      int code = resp.status().code();
      if (code == 101) {
        // a switch nobody asked for answers nothing: an upstream protocol error
        ReferenceCountUtil.release(msg);
        Upstream u = upstream;
        if (u != null) {
          u.abort();
        }
        onUpstreamReset(dev.bowline.proxy.upstream.UpstreamConnection.PROTOCOL_ERROR);
        return;
      }
      if (code < 200) {
        // An interim response; the final one follows. Envoy's router counts 100, 102 and 103
        // (upstream_rq_1xx) and retries no more after one; it drops the others, and its
        // connection manager forwards none without proxy_100_continue (it answered the client's
        // Expect itself).
        if (code == 100 || code == 102 || code == 103) {
          chargeResponse(code);
          if (rare != null) {
            rare.retry = null;
          }
          dropReplay(); // what it kept went upstream already
          if (conn.config.codecOptions().proxy100Continue()) {
            // proxy_100_continue: the client's Expect went upstream, so its answer comes back
            // (Envoy's encode1xxHeaders, counted as the connection manager's 1xx)
            conn.stats.response(code);
            var interim =
                new io.netty.handler.codec.http.DefaultFullHttpResponse(
                    HttpVersion.HTTP_1_1, resp.status());
            interim.headers().set(resp.headers());
            // what the final head drops too: the stream id an HTTP/2 upstream's conversion adds;
            // the upstream's own x-http2-* headers go on, as Envoy forwards them
            interim.headers().remove(X_HTTP2_STREAM_ID);
            ctx.writeAndFlush(interim, ctx.voidPromise());
          }
        }
        ReferenceCountUtil.release(msg);
        return;
      }
      RetryState r = retry();
      boolean retriable = r != null && r.retries(resp);
      if (retriable && retryIf(RetryState.Outcome.RESPONSE)) {
        // this try's answer is dropped with its exchange; the next try answers
        ReferenceCountUtil.release(msg);
        Upstream u = upstream;
        upstream = null;
        if (u != null) {
          u.abort();
        }
        return;
      }
      if (retriable && !ResponseFlags.has(responseFlags, ResponseFlag.UO)) {
        responseFlags |= ResponseFlag.URX.bit(); // out of tries; past the retry budget it is UO
      }
      Route mr = matchedRoute;
      if (mr != null
          && mr.action() instanceof RouteAction.Forward fw
          && fw.policy().internalRedirect().orElse(null)
              instanceof dev.bowline.proxy.config.InternalRedirect ir
          && ir.follows(code)
          && followRedirect(ir, resp)) {
        ReferenceCountUtil.release(msg); // the redirect's body goes with its exchange
        return;
      }
      cancelPerTryTimer();
      responseStarted = true;
      if (!remoteComplete()) {
        conn.stats.downstreamRqResponseBeforeRqComplete().inc();
        if (!conn.http2Stream) {
          // Envoy's encodeHeaders: an HTTP/1 connection whose request is still arriving is closed
          // after this response (connection: close), not read on; the stream is reset at its end
          keepAliveDecision = -1;
        }
      }
      responseCode = resp.status().code();
      viaUpstream = true;
      responseHeaders = resp.headers();
      long now = conn.clock.nanoTime();
      firstByteNanos = now;
      if (!suppressEnvoyHeaders) {
        resp.headers()
            .set(X_ENVOY_UPSTREAM_SERVICE_TIME, millisValue((now - startNanos) / 1_000_000));
      }
      int status = resp.status().code();
      chargeResponse(status);
      conn.stats.response(status);
      for (int i = filters.length - 1; i >= 0; i--) {
        filters[i].onResponseHeaders(resp);
      }
      HttpHeaders h = resp.headers();
      decorateResponse(h);
      h.remove(HttpHeaderNames.KEEP_ALIVE);
      h.remove(HttpHeaderNames.CONNECTION);
      h.remove(X_HTTP2_STREAM_ID);
      var ch = conn.config.headers();
      switch (ch.server()) {
        case OVERWRITE -> h.set(HttpHeaderNames.SERVER, conn.serverName);
        case APPEND_IF_ABSENT -> {
          if (!h.contains(HttpHeaderNames.SERVER)) {
            h.set(HttpHeaderNames.SERVER, conn.serverName);
          }
        }
        case PASS_THROUGH -> {}
      }
      if (ch.via() != null) {
        appendVia(h, ch.via());
      }
      if (hashCookie() != null) {
        h.add(HttpHeaderNames.SET_COOKIE, hashCookie());
      }
      mutateResponse(h);
      VirtualHost vh = matchedHost;
      if (vh != null && vh.attemptCountInResponse()) {
        h.set(X_ENVOY_ATTEMPT_COUNT, attempts); // include_attempt_count_in_response
      }
      if (!conn.http2Stream) {
        if (!HttpUtil.isContentLengthSet(resp)
            && !HttpUtil.isTransferEncodingChunked(resp)
            && !headRequest
            && status != 204
            && status != 304) {
          HttpUtil.setTransferEncodingChunked(resp, true);
        }
        resp.setProtocolVersion(HttpVersion.HTTP_1_1);
        if (http1Tunnel && keepAliveDecision == 0) {
          keepAliveDecision = -1; // a refused upgrade: the client's next bytes are no request
        }
        if (!keepAlive()) {
          h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        }
      } else {
        conn.drainCloseHttp2();
      }
    }
    if (msg instanceof HttpContent content) {
      bytesSent += content.content().readableBytes();
    }
    if (msg instanceof LastHttpContent last && !last.trailingHeaders().isEmpty()) {
      responseTrailers = last.trailingHeaders(); // the filters and logs see them either way
      if (!conn.http2Stream && !conn.config.codecOptions().enableTrailers()) {
        // Envoy's HTTP/1 encoder ends the body without them unless enable_trailers
        msg = new DefaultLastHttpContent(last.content());
      }
    }
    if (msg instanceof LastHttpContent) {
      complete(); // before the last write, so whoever sees the response sees it counted
      finish(msg);
    } else {
      ctx.write(msg, ctx.voidPromise());
      if (msg instanceof HttpContent) {
        ctx.flush();
      }
    }
  }

  private static final io.netty.util.AsciiString X_ENVOY_ORIGINAL_URL =
      io.netty.util.AsciiString.cached("x-envoy-original-url");

  /**
   * Envoy's {@code setupRedirect} for a route's {@code internal_redirect_policy}: counts the
   * outcome on the cluster ({@code upstream_internal_redirect_succeeded_total}, {@code
   * _failed_total}); true when the redirect is followed (the request goes on under its new route),
   * false when it goes to the client.
   */
  private boolean followRedirect(dev.bowline.proxy.config.InternalRedirect ir, HttpResponse resp) {
    var stats = java.util.Objects.requireNonNull(clusterStats);
    if (!redirectTo(ir, resp)) {
      stats.upstreamInternalRedirectFailedTotal().inc();
      return false;
    }
    stats.upstreamInternalRedirectSucceededTotal().inc();
    return true;
  }

  /**
   * Follows {@code resp}'s Location when Envoy would: the whole request has arrived (without a
   * body: Envoy's buffered body is not kept here, so a request with one is not followed), the
   * Location is an absolute URL, the scheme stays unless the policy allows a change, fewer than
   * {@code max_internal_redirects} were followed, the route table has a route for the new authority
   * and path, and the predicates accept that route. The request's Host and path become the
   * Location's, {@code x-envoy-original-url} the URL before, a 303 turns a method other than GET
   * and HEAD into GET; then the filters and the router run again under the new route (Envoy's
   * {@code recreateStream}). Otherwise the request's headers are left as they were.
   */
  private boolean redirectTo(dev.bowline.proxy.config.InternalRedirect ir, HttpResponse resp) {
    if (!remoteComplete() || bytesReceived > 0 || upgrade || done) {
      return false;
    }
    String location = resp.headers().get(HttpHeaderNames.LOCATION);
    if (location == null || location.isEmpty()) {
      return false;
    }
    int sep = location.indexOf("://");
    if (sep <= 0) {
      return false; // Envoy's Url::initialize: an absolute URL only
    }
    for (int i = 0; i < sep; i++) {
      char c = location.charAt(i);
      if (!Character.isLetterOrDigit(c) && c != '+' && c != '-' && c != '.') {
        return false;
      }
    }
    String scheme = location.substring(0, sep).toLowerCase(java.util.Locale.ROOT);
    int start = sep + 3;
    int end = start;
    while (end < location.length() && "/?#".indexOf(location.charAt(end)) < 0) {
      end++;
    }
    String newAuthority = location.substring(start, end);
    if (newAuthority.isEmpty() || !visibleAscii(newAuthority)) {
      return false;
    }
    String rest = location.substring(end);
    int hash = rest.indexOf('#');
    if (hash >= 0) {
      rest = rest.substring(0, hash); // Envoy strips the fragment
    }
    if (rest.isEmpty() || rest.charAt(0) == '?') {
      rest = "/" + rest;
    }
    if (!visibleAscii(rest)) {
      return false;
    }
    HttpHeaders h = upstreamRequest.headers();
    String xfp = h.get(X_FORWARDED_PROTO);
    boolean fromHttp = xfp != null ? !"https".equalsIgnoreCase(xfp) : conn.tlsPeer() == null;
    boolean toHttp = scheme.equals("http");
    if (!ir.allowCrossScheme() && fromHttp != toHttp) {
      return false;
    }
    int followed = rare == null ? 0 : rare.internalRedirects;
    if (followed >= ir.maxRedirects()) {
      return false;
    }
    RouteTable table = matchedTable;
    if (table == null) {
      return false;
    }
    HttpHeaders saved = h.copy();
    String savedUri = upstreamRequest.uri();
    String savedHost = h.get(HttpHeaderNames.HOST, "");
    List<String> copy = ir.responseHeadersToCopy();
    for (int i = 0; i < copy.size(); i++) {
      String name = copy.get(i);
      List<String> values = resp.headers().getAll(name);
      h.remove(name);
      for (int j = 0; j < values.size(); j++) {
        h.add(name, values.get(j));
      }
    }
    h.set(HttpHeaderNames.HOST, newAuthority);
    int q = rest.indexOf('?');
    String newPath = q < 0 ? rest : rest.substring(0, q);
    VirtualHost vh = table.pick(newAuthority);
    Route target =
        vh == null
            ? null
            : RouteMatcher.match(
                vh,
                table.matchPath(newPath),
                q < 0 ? "" : rest.substring(q + 1),
                h,
                false,
                upstreamRequest.method().name());
    boolean accepted = target != null;
    if (accepted && ir.allowListed() != null) {
      accepted = ir.allowListed().contains(target.name());
    }
    if (accepted && ir.safeCrossScheme() && !fromHttp && toHttp) {
      accepted = false;
    }
    if (accepted && ir.previousRoutes()) {
      var visited = rare().redirectRoutes;
      if (visited == null) {
        rare().redirectRoutes = visited = new java.util.HashSet<>();
      }
      accepted = visited.add(java.util.Objects.requireNonNull(target).name());
    }
    if (!accepted) {
      h.set(saved);
      return false;
    }
    if (resp.status().code() == 303
        && !upstreamRequest.method().equals(HttpMethod.GET)
        && !upstreamRequest.method().equals(HttpMethod.HEAD)) {
      upstreamRequest.setMethod(HttpMethod.GET); // RFC 9110 15.4.4
      h.remove(HttpHeaderNames.CONTENT_LENGTH);
    }
    h.set(X_ENVOY_ORIGINAL_URL, (fromHttp ? "http://" : "https://") + savedHost + savedUri);
    rare().internalRedirects = followed + 1;
    // this exchange ends here: its connection, timers and retry state go with it
    Upstream u = upstream;
    upstream = null;
    if (u != null) {
      u.abort();
    }
    cancelPerTryTimer();
    releaseRetry();
    dropReplay();
    ScheduledFuture<?> it = idleTimer();
    if (it != null) {
      it.cancel(false);
      rare().idleTimer = null;
    }
    if (timeoutArmed) {
      conn.disarmRouteTimeout(this);
      timeoutArmed = false;
    }
    weightedCluster = null;
    attempts = 0;
    rare().retryKind = 0;
    upstreamRequest.setUri(rest);
    this.originalPath = rest;
    this.path = newPath;
    this.queryPart = q < 0 ? "" : rest.substring(q);
    this.authority = newAuthority;
    this.matchedHost = vh;
    this.matchedRoute = target;
    pendingList().add(LastHttpContent.EMPTY_LAST_CONTENT); // the (empty) body again
    decodeFrom(0);
    return true;
  }

  /**
   * {@code 101 Switching Protocols} for a WebSocket upgrade: pass the 101 down, then take both
   * connections out of HTTP and relay bytes between them until either side closes.
   */
  private void tunnel(HttpResponse resp) {
    done = true;
    cancelTimeout();
    Upstream u = java.util.Objects.requireNonNull(upstream);
    upstream = null;
    if (u instanceof dev.bowline.proxy.upstream.UpstreamConnection uc) {
      uc.detachForUpgrade();
    }
    chargeResponse(101);
    conn.stats.response(101);
    conn.stats.downstreamRqResponseBeforeRqComplete().inc(); // an upgrade's request never ends
    responseCode = 101;
    viaUpstream = true;
    responseHeaders = resp.headers();
    if (conn.config.accessLogFlush().onTunnelEstablished()) {
      log(dev.bowline.proxy.accesslog.AccessLogType.DownstreamTunnelSuccessfullyEstablished);
    }
    complete();
    resp.headers().set(HttpHeaderNames.SERVER, conn.config.serverName());
    ctx.writeAndFlush(resp); // encoded by the HTTP codec right now, before it goes
    io.netty.channel.Channel up = u.channel();
    io.netty.channel.Channel down = ctx.channel();
    up.pipeline().addLast(dev.bowline.proxy.tcp.TcpProxy.relayTo(down));
    up.pipeline().remove(dev.bowline.proxy.upstream.UpstreamConnection.class);
    up.pipeline()
        .remove(dev.bowline.proxy.transport.Http1ClientCodec.class); // leftovers go on to the relay
    var dp = down.pipeline();
    dp.addLast(dev.bowline.proxy.tcp.TcpProxy.relayTo(up));
    ConnectionEnd.tunnelled(dp); // the upgraded stream lasts as long as the connection
    dp.remove(conn);
    if (dp.get(dev.bowline.proxy.transport.IdleTimeout.class) != null) {
      dp.remove(dev.bowline.proxy.transport.IdleTimeout.class);
    }
    dp.remove(dev.bowline.proxy.transport.Http1ServerCodec.class);
  }

  /**
   * CONNECT termination: a TCP connection to a host of {@code cluster}, then {@code 200} downstream
   * and the connection (or, over HTTP/2, the stream) becomes a byte relay to it, as Envoy's router
   * does for a route with {@code upgrade_configs: [{upgrade_type: CONNECT, connect_config: {}}]}.
   */
  private void connectTunnel(ClusterConfig cluster) {
    Worker worker = java.util.Objects.requireNonNull(conn.worker);
    clusterStats = worker.clusterStats(cluster);
    clusterStats.upstreamRqTotal().inc();
    io.netty.channel.Channel down = ctx.channel();
    var endpoints = snapshot.endpointsOf(cluster).orElse(null);
    // What follows the CONNECT head is tunnel payload, not HTTP: read no more until the relay
    down.config().setAutoRead(false);
    io.netty.channel.ChannelHandler toDown =
        conn.http2Stream
            ? ConnectTunnel.upstreamToStream(down)
            : dev.bowline.proxy.tcp.TcpProxy.relayTo(down);
    io.netty.channel.ChannelFuture f =
        endpoints == null ? null : worker.connectRaw(cluster, endpoints, toDown);
    if (f == null) {
      down.config().setAutoRead(true);
      responseFlags |= ResponseFlag.UH.bit();
      localReply(503, "no healthy upstream");
      return;
    }
    f.addListener(
        (io.netty.channel.ChannelFuture connected) -> {
          io.netty.channel.Channel up = connected.channel();
          if (done) {
            up.close(); // the downstream went away meanwhile
            return;
          }
          if (!connected.isSuccess()) {
            down.config().setAutoRead(true);
            responseFlags |= ResponseFlag.UF.bit();
            String reason = Worker.connectFailure(connected.cause());
            details = connectFailureDetails(reason);
            localReply(
                503,
                "upstream connect error or disconnect/reset before headers. reset reason: "
                    + reason);
            return;
          }
          done = true;
          cancelTimeout();
          chargeResponse(200);
          conn.stats.response(200);
          if (!remoteComplete()) {
            conn.stats.downstreamRqResponseBeforeRqComplete().inc(); // the tunnel's request goes on
          }
          responseCode = 200;
          var resp =
              new io.netty.handler.codec.http.DefaultHttpResponse(
                  HttpVersion.HTTP_1_1, io.netty.handler.codec.http.HttpResponseStatus.OK);
          resp.headers().set(HttpHeaderNames.SERVER, conn.config.serverName());
          responseHeaders = resp.headers();
          // logged when the tunnel ends (ConnectTunnel.meter), as Envoy logs the stream at its end
          // payload that came with the head (a client that did not wait for the 200)
          for (HttpContent c : pending) {
            if (c.content().isReadable()) {
              up.write(c.content());
            } else {
              c.release();
            }
          }
          pending = List.of();
          up.flush();
          var relay = up.pipeline().context(toDown); // null only if the upstream is gone already
          if (relay != null) {
            up.pipeline().addBefore(relay.name(), null, ConnectTunnel.meter(this, true));
          }
          var dp = down.pipeline();
          dp.addLast(ConnectTunnel.meter(this, false));
          if (conn.config.accessLogFlush().onTunnelEstablished()) {
            // Envoy: once the 200 to the CONNECT goes down
            log(dev.bowline.proxy.accesslog.AccessLogType.DownstreamTunnelSuccessfullyEstablished);
          }
          if (conn.http2Stream) {
            ctx.writeAndFlush(resp); // HEADERS without END_STREAM: the stream stays open
            dp.addLast(ConnectTunnel.streamToUpstream(up));
            dp.remove(conn);
          } else {
            // the head as bytes through the codec, then the codec goes: leftovers reach the relay
            ctx.writeAndFlush(
                new io.netty.handler.codec.http.DefaultFullHttpResponse(
                    HttpVersion.HTTP_1_1,
                    io.netty.handler.codec.http.HttpResponseStatus.OK,
                    io.netty.buffer.Unpooled.EMPTY_BUFFER,
                    resp.headers(),
                    io.netty.handler.codec.http.EmptyHttpHeaders.INSTANCE));
            dp.addLast(dev.bowline.proxy.tcp.TcpProxy.relayTo(up));
            ConnectionEnd.tunnelled(dp); // the CONNECT stream lasts as long as the connection
            dp.remove(conn);
            dp.remove(dev.bowline.proxy.transport.Http1ServerCodec.class);
          }
          if (dp.get(dev.bowline.proxy.transport.IdleTimeout.class) != null) {
            dp.remove(dev.bowline.proxy.transport.IdleTimeout.class);
          }
          up.config().setAutoRead(true);
          down.config().setAutoRead(true);
        });
  }

  /**
   * The upstream exchange ended before its response did, for {@code reason}: Envoy's reset reason
   * text ({@code connection termination}, {@code remote reset}, {@code remote refused stream
   * reset}). Before the response started, the retry policy decides; without a retry, 503 with
   * Envoy's flag (UC for a lost connection, UR for a reset by the peer) and details {@code
   * upstream_reset_before_response_started{<reason>}}. After it started, the downstream is reset.
   */
  @Override
  public void onUpstreamReset(String reason) {
    if (done) {
      return;
    }
    upstream = null;
    boolean protocolError =
        dev.bowline.proxy.upstream.UpstreamConnection.PROTOCOL_ERROR.equals(reason);
    ResponseFlag flag =
        protocolError
            ? ResponseFlag.UPE
            : reason.startsWith("remote") ? ResponseFlag.UR : ResponseFlag.UC; // Envoy's mapping
    if (responseStarted) {
      responseFlags |= flag.bit();
      // Envoy's router: the reset reason in the details, with its late form
      details = "upstream_reset_after_response_started{" + reason.replace(' ', '_') + "}";
      resetLocally(); // mid-response: the only honest thing is to reset the downstream too
    } else {
      cancelPerTryTimer();
      if (retryIf(
          reason.contains("refused")
              ? RetryState.Outcome.REFUSED_STREAM
              : RetryState.Outcome.RESET)) {
        return;
      }
      responseFlags |= flag.bit();
      if (flag == ResponseFlag.UR || protocolError) {
        details = "upstream_reset_before_response_started{" + reason.replace(' ', '_') + "}";
      }
      localReply(
          protocolError ? 502 : 503, // Envoy's router: 502 for an upstream protocol error
          "upstream connect error or disconnect/reset before headers. "
              + (attempts > 1 ? "retried and the latest " : "")
              + "reset reason: "
              + reason);
    }
  }

  /** The route timeout fired (the connection's timer). */
  void onTimeout() {
    if (done) {
      return;
    }
    if (clusterStats != null) {
      clusterStats.upstreamRqTimeout().inc();
    }
    var v = vcluster;
    if (v != null) {
      v.timeout();
    }
    responseFlags |= ResponseFlag.UT.bit();
    Upstream u = upstream;
    upstream = null;
    if (u != null) {
      u.timedOut(!responseStarted);
      u.abort();
    }
    responseFlags |= ResponseFlag.UT.bit();
    if (responseStarted) {
      resetLocally();
    } else {
      localReply(504, "upstream request timeout");
    }
  }

  /** {@code stream_idle_timeout} fired: 408 before the response, else reset. */
  void onIdle() {
    if (done) {
      return;
    }
    conn.stats.downstreamRqIdleTimeout().inc();
    responseFlags |= ResponseFlag.SI.bit();
    if (responseStarted) {
      resetLocally();
    } else {
      localReply(408, "stream timeout");
    }
  }

  /**
   * {@code max_stream_duration} ran out (Envoy's {@code onStreamMaxDurationReached}): counted, and
   * answered {@code downstream duration timeout} with 408 while the request is still arriving, 504
   * once it is whole (Envoy's {@code maybeRequestTimeoutCode}), gRPC DEADLINE_EXCEEDED to a gRPC
   * client, or the stream is reset if its response began; details {@code max_duration_timeout}.
   */
  private void onMaxStreamDuration() {
    if (done) {
      return;
    }
    conn.stats.downstreamRqMaxDurationReached().inc();
    details = "max_duration_timeout";
    if (grpc && !responseStarted) {
      sendGrpcReply(4, "downstream duration timeout", null); // DEADLINE_EXCEEDED
      return;
    }
    localReply(remoteComplete() ? 504 : 408, "downstream duration timeout");
  }

  /**
   * The route's {@code max_stream_duration} replaces the connection manager's for this stream
   * (Envoy's {@code refreshDurationTimeout}): counted from the stream's start; zero disables it.
   */
  private void routeMaxStreamDuration(java.time.Duration max) {
    cancelDurationTimer();
    if (max.isZero()) {
      return;
    }
    long left = Math.max(0, max.toNanos() - (System.nanoTime() - startNanos));
    conn.durationTimer =
        ctx.executor().schedule(this::onMaxStreamDuration, left, TimeUnit.NANOSECONDS);
  }

  /** {@code request_timeout} fired: the whole request did not arrive in time. */
  private void onRequestTimeout() {
    if (!done && !requestComplete) {
      conn.stats.downstreamRqTimeout().inc();
      details = "request_overall_timeout";
      localReply(408, "request timeout");
    }
  }

  @Override
  public void onUpstreamWritabilityChanged(boolean writable) {
    // request body backpressure: stop reading the client while the upstream is full
    if (!done) {
      conn.pauseForUpstream(!writable);
    }
  }

  void downstreamWritabilityChanged(boolean writable) {
    Upstream u = upstream;
    if (u != null) {
      u.channel().config().setAutoRead(writable);
    }
  }

  /**
   * The connection ended on a protocol error: a reset with {@code DPE} and {@code codecDetails}.
   */
  void resetByCodecError(String codecDetails) {
    resetByCodec(ResponseFlag.DPE, codecDetails);
  }

  /** The codec reset this stream: logged with {@code flag} and the codec's details. */
  void resetByCodec(ResponseFlag flag, String codecDetails) {
    if (!done) {
      responseFlags |= flag.bit();
      if (details == null) {
        details = codecDetails;
      }
      resetByDownstream();
    }
  }

  /**
   * The proxy resets the stream, its response begun (Envoy's filter-initiated {@code resetStream}):
   * counted as a reset sent, and as every reset is, then the downstream (the HTTP/1 connection, the
   * HTTP/2 stream) is closed. An HTTP/2 stream gets RST_STREAM NO_ERROR: Envoy's connection manager
   * resets it with {@code LocalReset} (or {@code ProtocolError} after an upstream protocol error)
   * and its codec's {@code reasonToReset} sends NO_ERROR for both (only a refused stream and a
   * CONNECT error have codes of their own); the stream channel's close alone would say CANCEL.
   */
  private void resetLocally() {
    if (done) {
      return;
    }
    conn.stats.downstreamRqTxReset().inc();
    resetByDownstream();
    if (conn.http2Stream) {
      resetNoError(); // the stream is closed with it, so the close below adds no CANCEL
    }
    ctx.close();
  }

  /**
   * The stream ends in a reset: the client's, the codec's, or the proxy's after its response began.
   */
  void resetByDownstream() {
    if (done) {
      return;
    }
    done = true;
    conn.stats.downstreamRqRxReset().inc(); // Envoy's onResetStream counts every reset here
    if (!responseStarted
        && !ResponseFlags.has(responseFlags, ResponseFlag.DPE)
        && !ResponseFlags.has(responseFlags, ResponseFlag.DR)) {
      responseFlags |= ResponseFlag.DC.bit();
    }
    cancelTimeout();
    if (!pending.isEmpty()) { // List.of()'s forEach makes an iterator, which C2 may not elide
      pending.forEach(ReferenceCountUtil::release);
      pending = List.of();
    }
    released();
    Upstream u = upstream;
    upstream = null;
    if (u != null) {
      u.abort();
    }
    complete();
  }

  /**
   * The connection closes after this response, which says {@code connection: close} (HTTP/1: its
   * connection reached {@code max_requests_per_connection}).
   */
  void lastOnConnection() {
    keepAliveDecision = -1;
  }

  /**
   * Whether the connection stays open after this response. Decided once, when the response head
   * goes out, so the {@code connection: close} the client saw and what the proxy does agree even if
   * the listener starts draining while the body flows (closing without telling would race the
   * client's next request on the connection).
   */
  private boolean keepAlive() {
    if (keepAliveDecision == 0) {
      boolean drain = conn.draining();
      if (drain && keepAliveRequested && !conn.http2Stream) {
        conn.stats.downstreamCxDrainClose().inc(); // Envoy's drainClose: connection: close
      }
      keepAliveDecision = keepAliveRequested && !drain ? (byte) 1 : (byte) -1;
    }
    return keepAliveDecision > 0;
  }

  /**
   * The HTTP/1 codec refused this request or the rest of its body (Envoy's {@code
   * sendProtocolError}): a local reply with the codec's details and {@code DPE}, counted as a
   * protocol error, and the connection closes; a reset if the response already began.
   */
  void codecError(int status, String codecDetails) {
    if (done) {
      ctx.close();
      return;
    }
    conn.stats.downstreamCxProtocolError().inc();
    responseFlags |= ResponseFlag.DPE.bit();
    details = codecDetails;
    keepAliveDecision = -1;
    localReply(
        status, io.netty.handler.codec.http.HttpResponseStatus.valueOf(status).reasonPhrase());
  }

  /** Answers the request locally, or resets it if the response already began. */
  void localReply(int status, String body) {
    if (done) {
      return;
    }
    if (responseStarted) {
      resetLocally();
      return;
    }
    var resp = buildLocal(status, body, grpc);
    status = responseCode;
    if (status >= 500) {
      chargeResponse(status);
    }
    conn.stats.response(status);
    writeLocal(resp, status);
  }

  /**
   * The local reply {@code status} with text {@code body}, through the connection manager's {@code
   * local_reply_config} when it has one (Envoy passes every local reply of the connection manager,
   * direct responses and redirects too, through it); {@link #responseCode} is then the status to
   * answer.
   */
  private io.netty.handler.codec.http.FullHttpResponse buildLocal(
      int status, String body, boolean grpcReply) {
    LocalReplyMapper mapper = conn.config.replies().localReply();
    if (mapper == null) {
      responseCode = status;
      return LocalReply.build(ctx.alloc(), status, body, conn.config.serverName(), grpcReply);
    }
    LocalReplyMapper.Reply m = mapper.rewrite(this, status, body);
    return LocalReply.build(ctx.alloc(), m, conn.config.serverName(), grpcReply);
  }

  @Override
  public void showLocalReply(int code, @Nullable HttpHeaders headers, @Nullable String body) {
    responseCode = code;
    responseHeaders = headers;
    if (body != null || rare != null) {
      rare().localReplyBody = body;
    }
  }

  @Override
  public @Nullable String localReplyBody() {
    Rare r = rare;
    return r == null ? null : r.localReplyBody;
  }

  private void mutateResponse(HttpHeaders h) {
    if (matchedRoute == null || matchedHost == null || matchedTable == null) {
      return;
    }
    var wc = weightedCluster;
    if (matchedRoute.responseHeaders().isEmpty()
        && matchedHost.responseHeaders().isEmpty()
        && matchedTable.responseHeaders().isEmpty()
        && (wc == null || wc.responseHeaders().isEmpty())) {
      return;
    }
    mutate(
        new dev.bowline.proxy.config.HeaderMutation.Http1Headers(h),
        matchedTable.mostSpecificWins(),
        wc == null ? null : wc.responseHeaders(),
        matchedRoute.responseHeaders(),
        matchedHost.responseHeaders(),
        matchedTable.responseHeaders());
  }

  private void writeLocal(io.netty.handler.codec.http.FullHttpResponse resp, int status) {
    if (matchedRoute != null && matchedRoute.action() instanceof RouteAction.DirectResponse) {
      mutateResponse(resp.headers());
    }
    Upstream u = upstream;
    upstream = null;
    if (u != null) {
      u.abort();
    }
    if (status == 400
        && !conn.http2Stream
        && keepAliveDecision == 0
        && !conn.config.codecOptions().http1StreamErrorOnInvalid()) {
      // Envoy: a 400 on HTTP/1 ends the connection unless the invalid-messaging override is set
      keepAliveDecision = -1;
    }
    if (!conn.http2Stream && (!keepAlive() || !remoteComplete())) {
      resp.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    } else if (conn.http2Stream) {
      conn.drainCloseHttp2();
    }
    if (headRequest) {
      resp.content().clear();
    }
    if (!remoteComplete()) {
      conn.stats.downstreamRqResponseBeforeRqComplete().inc();
    }
    responseCode = status;
    responseHeaders = resp.headers();
    bytesSent += resp.content().readableBytes();
    // once, through the whole chain: Envoy's sendLocalReplyViaFilterChain encodes from the first
    // encoder filter, also those after the one that answered (filter_manager.cc)
    for (int i = filters.length - 1; i >= 0; i--) {
      filters[i].onResponseHeaders(resp);
    }
    decorateResponse(resp.headers());
    complete(); // before the write, so whoever sees the response sees it counted
    finish(resp);
  }

  /**
   * Envoy's decorator handling of a traced stream's response head (x-envoy-decorator-operation).
   */
  private void decorateResponse(HttpHeaders h) {
    if (conn.config.replies().alwaysSetRequestIdInResponse()) {
      // Envoy's always_set_request_id_in_response: the request's id on every response head
      String rid = downstreamHead.headers().get(X_REQUEST_ID);
      if (rid != null) {
        h.set(X_REQUEST_ID, rid);
      }
    }
    var tracer = conn.config.tracer();
    var s = span();
    if (tracer != null && s != null) {
      Route r = matchedRoute;
      tracer.decorateResponse(s, h, r == null ? null : r.decorator(), decorated());
    }
  }

  /**
   * Writes the response's last part and ends the stream. A connection that stays open needs no word
   * of the write's outcome (a failed write closes it, and its stream with it), so the write takes
   * the void promise; a closing one closes once the write is done.
   */
  private void finish(Object last) {
    boolean complete = remoteComplete();
    if (!complete) {
      // Envoy's doEndStream resets a stream whose request did not end (HTTP/1: the connection
      // then closes; HTTP/2: RST_STREAM NO_ERROR), and its onResetStream counts that reset too
      conn.stats.downstreamRqRxReset().inc();
    }
    boolean keepOpen = keepAlive() && (complete || conn.http2Stream) && !conn.closeAfterStream;
    io.netty.channel.ChannelFuture written = keepOpen ? null : ctx.writeAndFlush(last);
    done = true;
    cancelTimeout();
    if (!pending.isEmpty()) { // List.of()'s forEach makes an iterator, which C2 may not elide
      pending.forEach(ReferenceCountUtil::release);
      pending = List.of();
    }
    released();
    upstream = null;
    complete();
    if (written == null) {
      // written once the stream is done: a write that fails at once closes the connection, whose
      // channelInactive then finds nothing left to reset
      if (!complete && conn.http2Stream) {
        // the response is whole, the request is not: RST_STREAM NO_ERROR asks the client to stop
        // sending (RFC 9113 8.1), as Envoy's reset of such a stream does. Only once the response
        // is out: a reset drops the stream's DATA still waiting for flow control. A CONNECT whose
        // upstream failed gets CONNECT_ERROR (RFC 9113 8.5; Envoy's doEndStream: UF or UC)
        if (method.equals("CONNECT")
            && (ResponseFlags.has(responseFlags, ResponseFlag.UF)
                || ResponseFlags.has(responseFlags, ResponseFlag.UC))) {
          ctx.writeAndFlush(last).addListener(f -> ConnectTunnel.resetConnectError(ctx.channel()));
        } else {
          ctx.writeAndFlush(last).addListener(f -> resetNoError());
        }
      } else {
        ctx.writeAndFlush(last, ctx.voidPromise());
      }
      conn.streamDone(this, true, complete);
    } else {
      written.addListener(f -> conn.streamDone(this, false, complete));
    }
  }

  /** RST_STREAM NO_ERROR on this HTTP/2 stream, if it is still open (the stream then closes). */
  private void resetNoError() {
    if (ctx.channel().isActive()) {
      ctx.writeAndFlush(
          new io.netty.handler.codec.http2.DefaultHttp2ResetFrame(
              io.netty.handler.codec.http2.Http2Error.NO_ERROR),
          ctx.voidPromise());
    }
  }

  private void cancelTimeout() {
    cancelPerTryTimer();
    releaseMirror();
    ScheduledFuture<?> it = idleTimer();
    if (it != null) {
      it.cancel(false);
      if (rare != null) {
        rare.idleTimer = null;
      }
    }
    dropReplay();
    if (timeoutArmed) {
      conn.disarmRouteTimeout(this);
    }
    ScheduledFuture<?> rt = requestTimer();
    if (rt != null) {
      rt.cancel(false);
      if (rare != null) {
        rare.requestTimer = null;
      }
    }
    cancelDurationTimer();
  }

  /** Retries end: the request bytes kept for them, if any, are released. */
  private void dropReplay() {
    List<HttpContent> r = replay();
    if (r != null) {
      if (rare != null) {
        rare.replay = null;
      }
      if (rare != null) {
        rare.retry = null;
      }
      r.forEach(ReferenceCountUtil::release);
    }
  }

  /** {@code n} payload bytes of this CONNECT tunnel, from the upstream or from the client. */
  void tunnelBytes(boolean fromUpstream, int n) {
    if (fromUpstream) {
      bytesSent += n;
    } else {
      bytesReceived += n;
    }
  }

  /**
   * This CONNECT tunnel's first side closed: the stream ends; {@code UC} if the upstream failed.
   */
  void tunnelEnded(boolean upstreamFailed) {
    if (upstreamFailed && !completed) {
      responseFlags |= ResponseFlag.UC.bit();
    }
    complete();
  }

  /**
   * This CONNECT tunnel's client side ended while the tunnel was open: a reset of the stream,
   * logged with {@code flag} ({@code DC}, {@code DR}) and {@code why} as its details, and counted
   * as a reset received, as Envoy's connection manager does for a stream whose connection closed or
   * that the client reset.
   */
  void tunnelResetByClient(ResponseFlag flag, String why) {
    if (!completed) {
      responseFlags |= flag.bit();
      details = why;
      conn.stats.downstreamRqRxReset().inc();
    }
    complete();
  }

  private void cancelDurationTimer() {
    ScheduledFuture<?> dt = conn.durationTimer;
    if (dt != null) {
      dt.cancel(false);
      conn.durationTimer = null;
    }
  }

  /** The stream ended: tell the filters once (stats, access logs), with the final figures. */
  private void complete() {
    if (completed) {
      return;
    }
    completed = true;
    conn.stats.downstreamRqActive().decrement();
    Worker.Waiting w = waitingFor();
    if (w != null) {
      if (rare != null) {
        rare.waitingFor = null;
      }
      w.cancel(); // the request ends while it waits for a connection: Envoy's upstream_rq_cancelled
    }
    releaseRetry();
    endNanos = conn.clock.nanoTime();
    conn.countStreamEnd(endNanos - startNanos, responseCode != 0);
    var vc = vcluster;
    if (vc != null && viaUpstream) {
      vc.time((endNanos - startNanos) / 1_000_000);
    }
    for (HttpFilter f : filters) {
      try {
        f.onStreamComplete(this);
      } catch (RuntimeException e) {
        System.getLogger(HttpStream.class.getName())
            .log(
                System.Logger.Level.WARNING,
                "event=filter_complete_failed error={0}",
                e.toString());
      }
    }
    cancelAccessLogTimer();
    log(dev.bowline.proxy.accesslog.AccessLogType.DownstreamEnd);
    var tracer = conn.config.tracer();
    var s = span();
    if (tracer != null && s != null) {
      var up = upstreamSpan();
      if (up != null) {
        tracer.finishUpstream(up, this);
      }
      Route r = matchedRoute;
      tracer.finish(s, this, null); // named when routed; exported off the event loop
    }
  }

  // StreamInfo: what observing filters read. Owned by the event loop like everything here.

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
    return firstByteNanos == 0 ? 0 : firstByteNanos - startNanos;
  }

  @Override
  public int responseCode() {
    return responseCode;
  }

  @Override
  public int responseFlags() {
    return responseFlags;
  }

  @Override
  public long bytesReceived() {
    return bytesReceived;
  }

  @Override
  public long bytesSent() {
    return bytesSent;
  }

  @Override
  public String protocol() {
    if (conn.http2Stream) {
      return "HTTP/2";
    }
    return downstreamHttp10 ? "HTTP/1.0" : "HTTP/1.1";
  }

  @Override
  public HttpHeaders requestHeaders() {
    return downstreamHead.headers();
  }

  @Override
  public String method() {
    return method;
  }

  @Override
  public String path() {
    return originalPath;
  }

  @Override
  public @Nullable HttpHeaders responseHeaders() {
    return responseHeaders;
  }

  @Override
  public @Nullable HttpHeaders responseTrailers() {
    return responseTrailers;
  }

  @Override
  public @Nullable String upstreamCluster() {
    return upstreamCluster;
  }

  @Override
  public @Nullable ClusterConfig upstreamClusterConfig() {
    return target;
  }

  @Override
  public @Nullable String upstreamHost() {
    var ch = upstreamChannel;
    if (ch != null && upstreamAddress == ch.remoteAddress()) {
      return channelText(ch, UPSTREAM_HOST_TEXT, upstreamAddress);
    }
    return upstreamAddress instanceof java.net.InetSocketAddress a ? StreamInfo.ipPort(a) : null;
  }

  @Override
  public @Nullable String upstreamLocalAddress() {
    var ch = upstreamChannel;
    return ch == null ? null : channelText(ch, UPSTREAM_LOCAL_TEXT, ch.localAddress());
  }

  /**
   * {@code address}'s {@code ip:port} text, kept on the pooled upstream channel under {@code key}
   * so it is made once per connection; null when it is not an IP address.
   */
  private static @Nullable String channelText(
      io.netty.channel.Channel ch,
      io.netty.util.AttributeKey<String> key,
      java.net.@Nullable SocketAddress address) {
    if (!(address instanceof java.net.InetSocketAddress)) {
      return null;
    }
    var attr = ch.attr(key);
    String text = attr.get();
    if (text == null) {
      text = StreamInfo.ipPort(address);
      attr.set(text);
    }
    return text;
  }

  @Override
  public com.google.protobuf.@Nullable Struct routeMetadata(String filter) {
    Route r = matchedRoute;
    return r == null || r.metadata().isEmpty() ? null : r.metadata().get(filter);
  }

  @Override
  public com.google.protobuf.@Nullable Struct virtualHostMetadata(String filter) {
    VirtualHost vh = matchedHost;
    return vh == null || vh.metadata().isEmpty() ? null : vh.metadata().get(filter);
  }

  @Override
  public @Nullable String routeName() {
    Route r = matchedRoute;
    return r == null ? null : r.name();
  }

  @Override
  public String downstreamRemoteAddress() {
    var client = xffClient();
    if (client != null) {
      return StreamInfo.ipPort(
          new java.net.InetSocketAddress(client, 0)); // Envoy: port 0 from the header
    }
    String a = conn.remoteAddressText;
    if (a == null) {
      a = StreamInfo.ipPort(downstreamConnection().remoteAddress());
      conn.remoteAddressText = a;
    }
    return a;
  }

  @Override
  public String downstreamLocalAddress() {
    String a = conn.localAddressText;
    if (a == null) {
      a =
          StreamInfo.ipPort(
              dev.bowline.proxy.config.ConnectionInfo.localAddress(downstreamConnection()));
      conn.localAddressText = a;
    }
    return a;
  }

  @Override
  public io.netty.channel.Channel downstreamConnection() {
    return conn.http2Stream ? ctx.channel().parent() : ctx.channel();
  }

  @Override
  public java.net.@Nullable InetAddress downstreamRemoteIp() {
    var client = xffClient();
    if (client != null) {
      return client;
    }
    var direct = downstreamDirectRemote();
    return direct == null ? null : direct.getAddress();
  }

  @Override
  public dev.bowline.proxy.tls.@Nullable TlsPeer downstreamTlsPeer() {
    return conn.tlsPeer();
  }

  @Override
  public dev.bowline.proxy.tls.@Nullable TlsPeer upstreamTlsPeer() {
    var ch = upstreamChannel;
    return ch == null ? null : dev.bowline.proxy.tls.TlsPeer.of(ch).orElse(null);
  }

  @Override
  public String requestedServerName() {
    String sni = conn.serverNameText; // fixed for the connection: looked up once, not per line
    if (sni == null) {
      var info = dev.bowline.proxy.config.ConnectionInfo.of(ctx.channel());
      sni = info == null ? "" : info.serverName();
      conn.serverNameText = sni;
    }
    return sni;
  }

  @Override
  @SuppressWarnings("unchecked")
  public <T> @Nullable T get(StateKey<T> key) {
    Object[] st = filterState;
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
    Object[] st = filterState;
    if (st == null) {
      filterState = new Object[] {key, value, null, null};
      return;
    }
    for (int i = 0; i < st.length; i += 2) {
      if (st[i] == key || st[i] == null) {
        st[i] = key;
        st[i + 1] = value;
        return;
      }
    }
    Object[] grown = java.util.Arrays.copyOf(st, st.length * 2);
    grown[st.length] = key;
    grown[st.length + 1] = value;
    filterState = grown;
  }
}
