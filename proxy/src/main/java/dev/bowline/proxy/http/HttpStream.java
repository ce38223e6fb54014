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
import dev.bowline.proxy.http.filter.router.RouteMatcher;
import dev.bowline.proxy.stats.ClusterStats;
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
final class HttpStream implements ResponseListener, Worker.AcquireCallback {
  private final HttpConnection conn;
  private final ChannelHandlerContext ctx;
  private final ProxySnapshot snapshot;
  private final boolean keepAliveRequested;
  private final boolean grpc;
  private final HttpFilter[] filters;
  private HttpRequest upstreamRequest;
  private final List<HttpContent> pending = new ArrayList<>(2);
  private boolean requestComplete;
  private boolean responseStarted;
  private boolean done;
  private @Nullable Upstream upstream;
  private @Nullable ClusterStats clusterStats;
  private @Nullable ScheduledFuture<?> timeout;
  private final boolean headRequest;
  private @Nullable ClusterConfig target;
  private @Nullable Endpoints targetEndpoints;
  private @Nullable SocketAddr targetHost;
  private int retriesLeft;
  private @Nullable RouteTable matchedTable;
  private @Nullable VirtualHost matchedHost;
  private @Nullable Route matchedRoute;
  private boolean upgrade;
  private @Nullable ScheduledFuture<?> requestTimer;
  private final long startNanos = System.nanoTime();
  private final boolean suppressEnvoyHeaders;
  private @Nullable String hashCookie; // Set-Cookie for a generated hash_policy cookie

  HttpStream(HttpConnection conn, HttpRequest request) {
    this.conn = conn;
    this.ctx = java.util.Objects.requireNonNull(conn.ctx);
    this.snapshot = conn.runtime.snapshot();
    this.keepAliveRequested = conn.http2Stream || HttpUtil.isKeepAlive(request);
    String ct = request.headers().get(HttpHeaderNames.CONTENT_TYPE);
    this.grpc = ct != null && ct.startsWith("application/grpc");
    this.headRequest = request.method().equals(HttpMethod.HEAD);
    HttpFilterFactory<?>[] factories = conn.filterFactories;
    this.filters = new HttpFilter[factories.length];
    for (int i = 0; i < factories.length; i++) {
      filters[i] = create(factories[i], conn.config.httpFilters().get(i).config());
    }
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

  @SuppressWarnings("unchecked")
  private static <C> HttpFilter create(HttpFilterFactory<C> f, Object config) {
    return f.create((C) config);
  }

  void start(HttpRequest req) {
    if (!conn.config.requestTimeout().isZero() && !requestComplete) {
      requestTimer =
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
      body = new DefaultLastHttpContent(full.content(), full.trailingHeaders());
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

  private void decodeHeaders(HttpRequest req) {
    HttpHeaders h = req.headers();
    HttpConnectionManagerConfig cfg = conn.config;
    String uri = req.uri();
    if (!uri.startsWith("/")) {
      // absolute-form from an HTTP proxy client: http://authority/path
      int scheme = uri.indexOf("://");
      if (scheme > 0) {
        int slash = uri.indexOf('/', scheme + 3);
        h.set(HttpHeaderNames.HOST, uri.substring(scheme + 3, slash < 0 ? uri.length() : slash));
        uri = slash < 0 ? "/" : uri.substring(slash);
        req.setUri(uri);
      } else if (!uri.equals("*")) {
        localReply(400, "Bad Request");
        return;
      }
    }
    String authority = h.get(HttpHeaderNames.HOST);
    if (authority == null || authority.isEmpty()) {
      if (req.protocolVersion().equals(HttpVersion.HTTP_1_0)) {
        authority = "";
      } else {
        localReply(400, "missing host header");
        return;
      }
    }
    // hop-by-hop headers stop here (RFC 9110 7.6.1); framing headers stay for the codec
    String connection = h.get(HttpHeaderNames.CONNECTION);
    upgrade =
        cfg.websocket()
            && !conn.http2Stream
            && "websocket".equalsIgnoreCase(h.get(HttpHeaderNames.UPGRADE))
            && connection != null
            && connection.toLowerCase(java.util.Locale.ROOT).contains("upgrade");
    if (connection != null) {
      for (String token : connection.split(",")) {
        String t = token.trim();
        if (!t.isEmpty() && !t.equalsIgnoreCase("close") && !t.equalsIgnoreCase("keep-alive")) {
          h.remove(t);
        }
      }
      h.remove(HttpHeaderNames.CONNECTION);
    }
    h.remove("keep-alive");
    h.remove("proxy-connection");
    h.remove(HttpHeaderNames.UPGRADE);
    h.remove("x-http2-scheme");
    h.remove("x-http2-stream-id");
    String te = h.get(HttpHeaderNames.TE);
    if (te != null && !te.equalsIgnoreCase("trailers")) {
      h.remove(HttpHeaderNames.TE);
    }
    if (cfg.useRemoteAddress() && !cfg.skipXffAppend()) {
      String xff = h.get("x-forwarded-for");
      h.set("x-forwarded-for", xff == null ? conn.remoteIp : xff + "," + conn.remoteIp);
    }
    if (cfg.useRemoteAddress()) {
      // The peer is an edge client: x-envoy-* headers from it are not to be trusted (Envoy strips
      // them the same way for external requests).
      List<String> envoyHeaders = new ArrayList<>();
      for (var e : h) {
        if (e.getKey().regionMatches(true, 0, "x-envoy-", 0, 8)) {
          envoyHeaders.add(e.getKey());
        }
      }
      envoyHeaders.forEach(h::remove);
    }
    if (!conn.http2Stream && HttpUtil.is100ContinueExpected(req)) {
      // Envoy's default (proxy_100_continue: false): answer 100 ourselves, don't forward Expect
      h.remove(HttpHeaderNames.EXPECT);
      ctx.writeAndFlush(
          new io.netty.handler.codec.http.DefaultFullHttpResponse(
              HttpVersion.HTTP_1_1, io.netty.handler.codec.http.HttpResponseStatus.CONTINUE),
          ctx.voidPromise());
    }
    if (!h.contains("x-forwarded-proto")) {
      h.set("x-forwarded-proto", "http");
    }
    if (cfg.generateRequestId() && !h.contains("x-request-id")) {
      h.set("x-request-id", requestId());
    }

    for (HttpFilter f : filters) {
      if (f.onRequestHeaders(req, this::localReply) == FilterStatus.STOP_ITERATION || done) {
        return;
      }
    }

    RouteTable table =
        switch (cfg.routes()) {
          case HttpConnectionManagerConfig.InlineRoutes inline -> inline.table();
          case HttpConnectionManagerConfig.RdsRoutes rds -> snapshot.routes().get(rds.name());
        };
    int q = uri.indexOf('?');
    String path = q < 0 ? uri : uri.substring(0, q);
    String query = q < 0 ? "" : uri.substring(q + 1);
    VirtualHost vh = table == null ? null : table.select(authority).orElse(null);
    Route route = vh == null ? null : RouteMatcher.match(vh, path, query, h);
    if (route == null) {
      conn.stats.noRoute().inc();
      localReply(404, "");
      return;
    }
    this.matchedTable = table;
    this.matchedHost = vh;
    this.matchedRoute = route;
    switch (route.action()) {
      case RouteAction.DirectResponse d -> {
        conn.stats.rqDirectResponse().inc();
        localReply(d.status(), d.body());
      }
      case RouteAction.Redirect r -> redirect(r, authority, uri);
      case RouteAction.Forward f -> forward(req, f, route, path, q < 0 ? "" : uri.substring(q));
    }
  }

  private void forward(
      HttpRequest req, RouteAction.Forward f, Route route, String path, String queryPart) {
    Worker worker = java.util.Objects.requireNonNull(conn.worker);
    String clusterName = f.clusters().pick(worker.random(), req.headers()::get);
    ClusterConfig cluster = snapshot.clusters().get(clusterName);
    if (cluster == null) {
      localReply(503, ""); // Envoy: NC, cluster not found
      return;
    }
    if (f.prefixRewrite().isPresent()
        && route.match().path() instanceof dev.bowline.proxy.config.RouteMatch.PathMatch.Prefix p) {
      req.setUri(f.prefixRewrite().get() + path.substring(p.prefix().length()) + queryPart);
    }
    f.hostRewrite().ifPresent(host -> req.headers().set(HttpHeaderNames.HOST, host));
    if (!f.timeout().isZero()) {
      if (!suppressEnvoyHeaders) {
        req.headers().set("x-envoy-expected-rq-timeout-ms", f.timeout().toMillis());
      }
      timeout =
          ctx.executor().schedule(this::onTimeout, f.timeout().toNanos(), TimeUnit.NANOSECONDS);
    }
    // most specific first, as Envoy applies them: route, virtual host, route configuration
    VirtualHost host = java.util.Objects.requireNonNull(matchedHost);
    RouteTable table = java.util.Objects.requireNonNull(matchedTable);
    if (!route.requestHeaders().isEmpty()
        || !host.requestHeaders().isEmpty()
        || !table.requestHeaders().isEmpty()) {
      HeaderOps ops = new HeaderOps(req.headers());
      route.requestHeaders().applyTo(ops);
      host.requestHeaders().applyTo(ops);
      table.requestHeaders().applyTo(ops);
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
      // Nothing redirects connections here, so only the header can name the destination.
      pinned = o.useHttpHeader() ? originalDstHost(req.headers().get(ORIGINAL_DST_HOST)) : null;
      endpoints = pinned == null ? null : worker.originalDst(cluster, pinned);
    } else {
      endpoints = snapshot.endpointsOf(cluster).orElse(null);
    }
    this.target = cluster;
    this.targetEndpoints = endpoints;
    this.targetHost = pinned;
    this.retriesLeft = f.connectRetries();
    Long hash =
        cluster.lbPolicy().hashed() && !f.hashPolicies().isEmpty()
            ? dev.bowline.proxy.lb.RequestHash.compute(
                f.hashPolicies(),
                req.headers(),
                req.uri(),
                conn.remoteIp,
                addressOf(true),
                addressOf(false),
                c -> hashCookie = c)
            : null;
    if (endpoints == null
        || !worker.acquire(cluster, endpoints, pinned, hash, this, this, upgrade)) {
      localReply(503, "no healthy upstream");
    }
  }

  /** The downstream connection's remote or local address as {@code ip:port}. */
  private String addressOf(boolean remote) {
    var ch = conn.http2Stream ? ctx.channel().parent() : ctx.channel();
    var a = remote ? ch.remoteAddress() : ch.localAddress();
    return a instanceof java.net.InetSocketAddress i
        ? i.getAddress().getHostAddress() + ":" + i.getPort()
        : String.valueOf(a);
  }

  @Override
  public void overflowed() {
    // a circuit breaker said no (Envoy's UO response flag)
    if (done) {
      return;
    }
    if (clusterStats != null) {
      clusterStats.response(503);
    }
    conn.stats.response(503);
    var resp =
        LocalReply.build(
            ctx.alloc(),
            503,
            "upstream connect error or disconnect/reset before headers. reset reason: overflow",
            conn.config.serverName(),
            grpc);
    if (!suppressEnvoyHeaders) {
      resp.headers().set("x-envoy-overloaded", "true");
    }
    writeLocal(resp, 503);
  }

  @Override
  public boolean cancelled() {
    return done;
  }

  @Override
  public boolean downstreamHttp2() {
    return conn.http2Stream;
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

  private void redirect(RouteAction.Redirect r, String authority, String uri) {
    String location =
        r.scheme().orElse("http") + "://" + r.host().orElse(authority) + r.path().orElse(uri);
    var resp = LocalReply.build(ctx.alloc(), r.status(), "", conn.config.serverName(), false);
    resp.headers().set(HttpHeaderNames.LOCATION, location);
    writeLocal(resp, r.status());
  }

  private String requestId() {
    var rnd = java.util.Objects.requireNonNull(conn.worker).random();
    return new java.util.UUID(
            (rnd.nextLong() & ~0xF000L) | 0x4000L,
            (rnd.nextLong() & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L)
        .toString();
  }

  void onRequestContent(HttpContent c) {
    if (c instanceof LastHttpContent) {
      requestComplete = true;
      ScheduledFuture<?> rt = requestTimer;
      if (rt != null) {
        rt.cancel(false);
        requestTimer = null;
      }
    }
    if (done) {
      ReferenceCountUtil.release(c);
      return;
    }
    Upstream u = upstream;
    if (u == null) {
      pending.add(c);
    } else {
      u.channel().writeAndFlush(c, u.channel().voidPromise());
      if (!u.channel().isWritable()) {
        ctx.channel().config().setAutoRead(false);
      }
    }
  }

  @Override
  public void acquired(Upstream connection) {
    if (done) {
      connection.abort();
      return;
    }
    upstream = connection;
    var ch = connection.channel();
    ch.write(upstreamRequest, ch.voidPromise());
    for (HttpContent c : pending) {
      ch.write(c, ch.voidPromise());
    }
    pending.clear();
    ch.flush();
  }

  @Override
  public void failed(String reason) {
    if (!done && retriesLeft > 0 && target != null && targetEndpoints != null) {
      // nothing reached the upstream: safe to try again, on a host the balancer picks anew
      retriesLeft--;
      java.util.Objects.requireNonNull(clusterStats).upstreamRqRetry().inc();
      if (java.util.Objects.requireNonNull(conn.worker)
          .acquire(target, targetEndpoints, targetHost, this, this, upgrade)) {
        return;
      }
    }
    if (!done) {
      localReply(
          503,
          "upstream connect error or disconnect/reset before headers. reset reason: " + reason);
    }
  }

  @Override
  public void onUpstreamObject(HttpObject msg) {
    if (done) {
      ReferenceCountUtil.release(msg);
      return;
    }
    if (msg instanceof HttpResponse resp) {
      if (upgrade && resp.status().code() == 101) {
        tunnel(resp);
        return;
      }
      if (resp.status().code() == 100) {
        ReferenceCountUtil.release(msg);
        return; // we do not forward interim responses; the final one follows
      }
      responseStarted = true;
      if (!suppressEnvoyHeaders) {
        resp.headers()
            .set("x-envoy-upstream-service-time", (System.nanoTime() - startNanos) / 1_000_000);
      }
      int status = resp.status().code();
      if (clusterStats != null) {
        clusterStats.response(status);
      }
      conn.stats.response(status);
      for (int i = filters.length - 1; i >= 0; i--) {
        filters[i].onResponseHeaders(resp);
      }
      HttpHeaders h = resp.headers();
      h.remove("keep-alive");
      h.remove(HttpHeaderNames.CONNECTION);
      h.remove("x-http2-stream-id");
      h.set(HttpHeaderNames.SERVER, conn.config.serverName());
      if (hashCookie != null) {
        h.add(HttpHeaderNames.SET_COOKIE, hashCookie);
      }
      mutateResponse(h);
      if (!conn.http2Stream) {
        if (!HttpUtil.isContentLengthSet(resp)
            && !HttpUtil.isTransferEncodingChunked(resp)
            && !headRequest
            && status != 204
            && status != 304) {
          HttpUtil.setTransferEncodingChunked(resp, true);
        }
        resp.setProtocolVersion(HttpVersion.HTTP_1_1);
        if (!keepAlive()) {
          h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        }
      }
    }
    if (msg instanceof LastHttpContent) {
      finish(ctx.writeAndFlush(msg));
    } else {
      ctx.write(msg, ctx.voidPromise());
      if (msg instanceof HttpContent) {
        ctx.flush();
      }
    }
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
    if (clusterStats != null) {
      clusterStats.response(101);
    }
    conn.stats.response(101);
    resp.headers().set(HttpHeaderNames.SERVER, conn.config.serverName());
    ctx.writeAndFlush(resp); // encoded by the HTTP codec right now, before it goes
    io.netty.channel.Channel up = u.channel();
    io.netty.channel.Channel down = ctx.channel();
    up.pipeline().addLast(dev.bowline.proxy.tcp.TcpProxy.relayTo(down));
    up.pipeline().remove(dev.bowline.proxy.upstream.UpstreamConnection.class);
    up.pipeline()
        .remove(io.netty.handler.codec.http.HttpClientCodec.class); // leftovers go on to the relay
    var dp = down.pipeline();
    dp.addLast(dev.bowline.proxy.tcp.TcpProxy.relayTo(up));
    dp.remove(conn);
    if (dp.get(io.netty.handler.timeout.IdleStateHandler.class) != null) {
      dp.remove(io.netty.handler.timeout.IdleStateHandler.class);
    }
    dp.remove(io.netty.handler.codec.http.HttpServerCodec.class);
  }

  @Override
  public void onUpstreamReset(String reason) {
    if (done) {
      return;
    }
    upstream = null;
    if (responseStarted) {
      done = true;
      cancelTimeout();
      ctx.close(); // mid-response: the only honest thing is to reset the downstream too
    } else {
      localReply(
          503,
          "upstream connect error or disconnect/reset before headers. reset reason: " + reason);
    }
  }

  private void onTimeout() {
    if (done) {
      return;
    }
    if (clusterStats != null) {
      clusterStats.upstreamRqTimeout().inc();
    }
    Upstream u = upstream;
    upstream = null;
    if (u != null) {
      u.abort();
    }
    if (responseStarted) {
      done = true;
      ctx.close();
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
    if (responseStarted) {
      resetByDownstream();
      ctx.close();
    } else {
      localReply(408, "stream timeout");
    }
  }

  /** {@code request_timeout} fired: the whole request did not arrive in time. */
  private void onRequestTimeout() {
    if (!done && !requestComplete) {
      conn.stats.downstreamRqTimeout().inc();
      localReply(408, "request timeout");
    }
  }

  @Override
  public void onUpstreamWritabilityChanged(boolean writable) {
    // request body backpressure: stop reading the client while the upstream is full
    if (!done) {
      ctx.channel().config().setAutoRead(writable);
    }
  }

  void downstreamWritabilityChanged(boolean writable) {
    Upstream u = upstream;
    if (u != null) {
      u.channel().config().setAutoRead(writable);
    }
  }

  void resetByDownstream() {
    if (done) {
      return;
    }
    done = true;
    cancelTimeout();
    pending.forEach(ReferenceCountUtil::release);
    pending.clear();
    Upstream u = upstream;
    upstream = null;
    if (u != null) {
      u.abort();
    }
  }

  private boolean keepAlive() {
    return keepAliveRequested && !conn.runtime.isDraining(ctx.channel());
  }

  /** Answers the request locally, or resets it if the response already began. */
  void localReply(int status, String body) {
    if (done) {
      return;
    }
    if (responseStarted) {
      resetByDownstream();
      ctx.close();
      return;
    }
    if (clusterStats != null && status >= 500) {
      clusterStats.response(status);
    }
    conn.stats.response(status);
    writeLocal(LocalReply.build(ctx.alloc(), status, body, conn.config.serverName(), grpc), status);
  }

  private void mutateResponse(HttpHeaders h) {
    if (matchedRoute == null || matchedHost == null || matchedTable == null) {
      return;
    }
    if (matchedRoute.responseHeaders().isEmpty()
        && matchedHost.responseHeaders().isEmpty()
        && matchedTable.responseHeaders().isEmpty()) {
      return;
    }
    HeaderOps ops = new HeaderOps(h);
    matchedRoute.responseHeaders().applyTo(ops);
    matchedHost.responseHeaders().applyTo(ops);
    matchedTable.responseHeaders().applyTo(ops);
  }

  /** Netty headers seen through the config's header operations. */
  private record HeaderOps(HttpHeaders h)
      implements dev.bowline.proxy.config.HeaderMutation.Headers {
    @Override
    public boolean contains(String name) {
      return h.contains(name);
    }

    @Override
    public void add(String name, String value) {
      h.add(name, value);
    }

    @Override
    public void set(String name, String value) {
      h.set(name, value);
    }

    @Override
    public void remove(String name) {
      h.remove(name);
    }
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
    if (!conn.http2Stream && (!keepAlive() || !requestComplete)) {
      resp.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    }
    if (headRequest) {
      resp.content().clear();
    }
    finish(ctx.writeAndFlush(resp));
  }

  private void finish(io.netty.channel.ChannelFuture written) {
    done = true;
    cancelTimeout();
    pending.forEach(ReferenceCountUtil::release);
    pending.clear();
    upstream = null;
    boolean keep = keepAlive() && (requestComplete || conn.http2Stream);
    boolean complete = requestComplete;
    if (keep) {
      conn.streamDone(this, true, complete);
    } else {
      written.addListener(f -> conn.streamDone(this, false, complete));
    }
  }

  private void cancelTimeout() {
    ScheduledFuture<?> t = timeout;
    if (t != null) {
      t.cancel(false);
      timeout = null;
    }
    ScheduledFuture<?> rt = requestTimer;
    if (rt != null) {
      rt.cancel(false);
      requestTimer = null;
    }
  }
}
