package dev.bowline.proxy.upstream;

import dev.bowline.proxy.config.ClusterPolicy;
import dev.bowline.proxy.config.HeaderMutation;
import dev.bowline.proxy.tls.CommonTls;
import dev.bowline.proxy.tls.TlsContexts;
import dev.bowline.proxy.tls.TlsSockets;
import dev.bowline.proxy.tls.UpstreamTls;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * A cluster's active health check (Envoy's {@code health_checks}), as Envoy's {@code
 * HealthCheckerImplBase}: on one event loop, a session per endpoint probes it (TCP connect or
 * payloads, HTTP/1.1 or HTTP/2 request, gRPC {@code Health/Check}) through the cluster's transport
 * socket for the endpoint, at once, or after a random part of {@code initial_jitter}, then again
 * after each probe once the interval its result calls for has passed (see {@link
 * ClusterPolicy.HealthCheck}). Results change the endpoint's {@link HostHealth#failedActiveHc}: its
 * first success at once, a failed answer at once, network failures and retriable answers after
 * {@code unhealthy_threshold} in a row, successes after {@code healthy_threshold} in a row. Each
 * endpoint's first result, success or failure, counts towards the cluster's initialisation ({@link
 * ClusterState#firstCheckDone}).
 */
final class HealthChecker {
  private static final System.Logger LOG = System.getLogger(HealthChecker.class.getName());

  /** What a probe found. */
  private enum Outcome {
    SUCCESS,
    /** An answer that fails the endpoint at once (Envoy's ACTIVE failure, not retriable). */
    FAILED,
    /** A retriable answer: counts towards {@code unhealthy_threshold}. */
    RETRIABLE,
    /** No connection, no answer, or none in time (Envoy's NETWORK / NETWORK_TIMEOUT). */
    NETWORK
  }

  private final ClusterState state;
  private final EventLoop loop;
  private final Class<? extends Channel> channelClass;
  private final ClusterPolicy.HealthCheck check;
  private final HcStats stats;
  private final @Nullable TlsContexts tlsContexts;

  // the checker's loop only
  private final Map<HostHealth, Session> sessions = new IdentityHashMap<>();
  private boolean stopped;

  HealthChecker(
      ClusterState state,
      EventLoop loop,
      Class<? extends Channel> channelClass,
      ClusterPolicy.HealthCheck check,
      HcStats stats,
      @Nullable TlsContexts tlsContexts) {
    this.tlsContexts = tlsContexts;
    this.state = state;
    this.loop = loop;
    this.channelClass = channelClass;
    this.check = check;
    this.stats = stats;
    loop.execute(this::sync);
  }

  ClusterPolicy.HealthCheck check() {
    return check;
  }

  /** The cluster's endpoints changed: sessions start for new ones and end for those gone. */
  void hostsChanged() {
    loop.execute(this::sync);
  }

  void stop() {
    loop.execute(
        () -> {
          stopped = true;
          sessions.values().forEach(Session::cancel);
          sessions.clear();
        });
  }

  private void sync() {
    if (stopped) {
      return;
    }
    Map<HostHealth, Boolean> live = new IdentityHashMap<>();
    for (HostHealth h : state.hosts()) {
      live.put(h, Boolean.TRUE);
    }
    var it = sessions.entrySet().iterator();
    while (it.hasNext()) {
      var e = it.next();
      if (!live.containsKey(e.getKey())) {
        e.getValue().cancel();
        it.remove();
      }
    }
    for (HostHealth h : live.keySet()) {
      if (!sessions.containsKey(h)) {
        Session s = new Session(h);
        sessions.put(h, s);
        long jitter = check.initialJitter().toNanos();
        s.schedule(jitter > 0 ? ThreadLocalRandom.current().nextLong(jitter) : 0);
      }
    }
  }

  /**
   * One endpoint's probes, on the checker's loop. The probe connection (through the cluster's
   * transport socket for the endpoint) stays open between checks with {@code reuse_connection}, as
   * Envoy's session keeps its client; it is closed after each check without it, after a timeout,
   * and when the answer asks for it ({@code Connection: close}).
   */
  private final class Session {
    final HostHealth h;
    @Nullable ScheduledFuture<?> next;
    boolean cancelled;

    /** The probe connection; {@link #ready} once connected (and its TLS handshake done). */
    @Nullable Channel conn;

    boolean ready;

    /** A check is waiting for its answer. */
    boolean inFlight;

    @Nullable ScheduledFuture<?> timeout;

    /** TCP checks: what the connection read during this check. */
    @Nullable ByteBuf received;

    Session(HostHealth h) {
      this.h = h;
    }

    void schedule(long nanos) {
      next = loop.schedule(this::probe, nanos, TimeUnit.NANOSECONDS);
    }

    void cancel() {
      cancelled = true;
      var f = next;
      if (f != null) {
        f.cancel(false);
      }
      var t = timeout;
      if (t != null) {
        t.cancel(false);
      }
      inFlight = false;
      closeConnection();
    }

    void probe() {
      if (cancelled) {
        return;
      }
      stats.attempt().inc();
      inFlight = true;
      timeout =
          loop.schedule(
              () -> {
                if (inFlight) { // no answer within timeout: Envoy closes the client
                  finish(Outcome.NETWORK, true);
                }
              },
              check.timeout().toNanos(),
              TimeUnit.NANOSECONDS);
      Channel c = conn;
      if (c != null && c.isActive() && ready) {
        send(c);
      } else {
        closeConnection();
        connect();
      }
    }

    /** The check's outcome, once; {@code close} ends the connection whatever the reuse. */
    void finish(Outcome outcome, boolean close) {
      if (!inFlight) {
        return;
      }
      inFlight = false;
      var t = timeout;
      if (t != null) {
        t.cancel(false);
      }
      releaseReceived();
      if (close || !check.connection().reuse()) {
        closeConnection();
      }
      if (!cancelled) {
        schedule(result(h, outcome));
      }
    }

    /** {@code outcome} for the check in flight if it came from the current connection. */
    void answer(Channel from, Outcome outcome, boolean close) {
      if (from == conn) {
        finish(outcome, close);
      }
    }

    void closeConnection() {
      Channel c = conn;
      conn = null;
      ready = false;
      releaseReceived();
      if (c != null) {
        c.close();
      }
    }

    private void releaseReceived() {
      var r = received;
      received = null;
      if (r != null) {
        r.release();
      }
    }

    void connect() {
      Bootstrap b =
          new Bootstrap()
              .group(loop)
              .channel(channelClass)
              .option(
                  ChannelOption.CONNECT_TIMEOUT_MILLIS,
                  (int) Math.max(1, Math.min(Integer.MAX_VALUE, check.timeout().toMillis())));
      // as Envoy's createHealthCheckConnection: the cluster's source address and freebind
      var remote = h.address.toInet();
      UpstreamOptions.bind(b, state.config().bind(), remote, channelClass);
      b.handler(
          new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel c) {
              switch (check.probe()) {
                case ClusterPolicy.HttpProbe http when !http.http2() -> {
                  c.pipeline().addLast(new HttpClientCodec());
                  c.pipeline().addLast(new H1Answer(Session.this, http));
                }
                case ClusterPolicy.HttpProbe http -> h2(c);
                case ClusterPolicy.GrpcProbe grpc -> h2(c);
                case ClusterPolicy.TcpProbe tcp ->
                    c.pipeline().addLast(new TcpAnswer(Session.this));
              }
            }
          });
      ChannelFuture f = b.connect(remote);
      Channel c = f.channel();
      conn = c;
      ready = false;
      c.closeFuture()
          .addListener(
              x -> {
                if (c == conn) { // gone under the check (between checks: the next reconnects)
                  conn = null;
                  ready = false;
                  finish(Outcome.NETWORK, false);
                }
              });
      UpstreamTls tls = tls(h);
      SslHandler ssl = null;
      if (tls != null) {
        var contexts = tlsContexts;
        ssl =
            contexts == null
                ? null
                : TlsSockets.client(
                    c,
                    tls,
                    contexts,
                    state.rootStats,
                    state.config().statName(),
                    h.address.ip(),
                    h.address.port());
        if (ssl == null) { // secrets not ready: the check fails as a connection that never came
          c.close();
          return;
        }
        ssl.setHandshakeTimeoutMillis(0); // the check's timeout bounds it
      }
      SslHandler handshake = ssl;
      f.addListener(
          (ChannelFuture done) -> {
            if (!done.isSuccess()) {
              c.close();
              return;
            }
            if (handshake == null) {
              connected(c);
              return;
            }
            handshake
                .handshakeFuture()
                .addListener(
                    hs -> {
                      if (hs.isSuccess()) {
                        connected(c);
                      } else {
                        c.close();
                      }
                    });
          });
    }

    private void connected(Channel c) {
      if (c != conn) {
        return;
      }
      ready = true;
      if (inFlight) {
        send(c);
      }
    }

    private void send(Channel c) {
      switch (check.probe()) {
        case ClusterPolicy.HttpProbe http when !http.http2() -> {
          var req =
              new DefaultFullHttpRequest(
                  HttpVersion.HTTP_1_1, HttpMethod.valueOf(http.method()), http.path());
          req.headers()
              .set(HttpHeaderNames.HOST, http.host())
              .set(HttpHeaderNames.USER_AGENT, "Envoy/HC");
          http.headers().applyTo(new HeaderMutation.Http1Headers(req.headers()));
          c.writeAndFlush(req);
        }
        case ClusterPolicy.HttpProbe http -> {
          Http2Headers headers =
              new DefaultHttp2Headers()
                  .method(http.method())
                  .path(http.path())
                  .scheme(c.pipeline().get(SslHandler.class) != null ? "https" : "http")
                  .authority(http.host());
          headers.set("user-agent", "Envoy/HC");
          http.headers().applyTo(new HeaderMutation.Http2Headers(headers));
          stream(c, headers, null, new H2Answer(this, c, http, null));
        }
        case ClusterPolicy.GrpcProbe grpc -> {
          Http2Headers headers =
              new DefaultHttp2Headers()
                  .method("POST")
                  .path("/grpc.health.v1.Health/Check")
                  .scheme(c.pipeline().get(SslHandler.class) != null ? "https" : "http")
                  .authority(grpc.authority());
          headers.set("content-type", "application/grpc");
          headers.set("te", "trailers");
          headers.set("user-agent", "Envoy/HC");
          stream(c, headers, grpcRequest(grpc.service()), new H2Answer(this, c, null, grpc));
        }
        case ClusterPolicy.TcpProbe tcp -> {
          if (!tcp.sendHex().isEmpty()) {
            c.writeAndFlush(Unpooled.wrappedBuffer(HexFormat.of().parseHex(tcp.sendHex())));
          }
          if (tcp.receiveHex().isEmpty()) {
            // Envoy's connect-only check: connected is healthy, and the connection is closed
            finish(Outcome.SUCCESS, true);
          } else {
            received = c.alloc().buffer();
          }
        }
      }
    }

    /** TCP checks: bytes read on {@code from}; healthy once they hold every block in order. */
    void read(Channel from, ByteBuf data) {
      var r = received;
      if (from != conn || !inFlight || r == null) {
        return;
      }
      r.writeBytes(data);
      if (contains(r, ((ClusterPolicy.TcpProbe) check.probe()).receiveHex())) {
        finish(Outcome.SUCCESS, false);
      }
    }
  }

  /** A new HTTP/2 stream on {@code c} carrying {@code headers} and {@code body} (if any). */
  private static void stream(
      Channel c, Http2Headers headers, @Nullable ByteBuf body, H2Answer answer) {
    new Http2StreamChannelBootstrap(c)
        .handler(answer)
        .open()
        .addListener(
            (io.netty.util.concurrent.Future<Http2StreamChannel> f) -> {
              if (!f.isSuccess()) {
                if (body != null) {
                  body.release();
                }
                answer.session.answer(c, Outcome.NETWORK, true);
                return;
              }
              var s = f.getNow();
              s.write(new DefaultHttp2HeadersFrame(headers, body == null));
              if (body != null) {
                s.write(new DefaultHttp2DataFrame(body, true));
              }
              s.flush();
            });
  }

  /** An HTTP/2 client connection (prior knowledge without TLS), its streams opened per check. */
  private static void h2(Channel c) {
    c.pipeline().addLast(Http2FrameCodecBuilder.forClient().build());
    c.pipeline().addLast(new Http2MultiplexHandler(new ChannelInboundHandlerAdapter()));
  }

  /** The transport of {@code h}'s checks: Envoy's {@code transport_socket_match_criteria}. */
  private @Nullable UpstreamTls tls(HostHealth h) {
    var conn = check.connection();
    UpstreamTls tls =
        state
            .config()
            .transport()
            .forEndpoint(conn.matchCriteria().orElse(h.socketMatch))
            .orElse(null);
    if (tls == null || conn.alpn().isEmpty()) {
      return tls;
    }
    var c = tls.common(); // tls_options.alpn_protocols replaces the context's ALPN
    return new UpstreamTls(
        new CommonTls(c.certificates(), c.trust(), c.sanMatchers(), conn.alpn(), c.params()),
        tls.sni());
  }

  /** A length-prefixed {@code grpc.health.v1.HealthCheckRequest} for {@code service}. */
  private static ByteBuf grpcRequest(String service) {
    byte[] name = service.getBytes(StandardCharsets.UTF_8);
    ByteBuf message = Unpooled.buffer();
    if (name.length > 0) {
      message.writeByte(0x0a); // field 1, length-delimited
      writeVarint(message, name.length);
      message.writeBytes(name);
    }
    ByteBuf out = Unpooled.buffer(5 + message.readableBytes());
    out.writeByte(0).writeInt(message.readableBytes()).writeBytes(message);
    message.release();
    return out;
  }

  private static void writeVarint(ByteBuf b, int v) {
    while ((v & ~0x7f) != 0) {
      b.writeByte((v & 0x7f) | 0x80);
      v >>>= 7;
    }
    b.writeByte(v);
  }

  /** Whether {@code data} holds each hex block in order (Envoy's {@code TcpHealthCheckMatcher}). */
  static boolean contains(ByteBuf data, List<String> blocks) {
    int from = data.readerIndex();
    int end = data.writerIndex();
    for (String hex : blocks) {
      byte[] block = HexFormat.of().parseHex(hex);
      int at = -1;
      for (int i = from; i + block.length <= end && at < 0; i++) {
        boolean match = true;
        for (int j = 0; j < block.length && match; j++) {
          match = data.getByte(i + j) == block[j];
        }
        if (match) {
          at = i;
        }
      }
      if (at < 0) {
        return false;
      }
      from = at + block.length;
    }
    return true;
  }

  /** Applies a probe's outcome to {@code h}; the nanoseconds until its next probe. */
  private long result(HostHealth h, Outcome outcome) {
    boolean pending = false; // a result that did not (yet) change the endpoint's health
    boolean first = h.firstCheck;
    if (outcome == Outcome.SUCCESS) {
      stats.success().inc();
      h.hcFailures = 0;
      if (h.failedActiveHc) {
        // as Envoy: the first result ever makes a fresh endpoint healthy at once
        if (first || ++h.hcSuccesses >= check.healthyThreshold()) {
          h.hcSuccesses = 0;
          h.failedActiveHc = false;
          state.healthChanged();
          LOG.log(
              System.Logger.Level.INFO,
              "event=health_check_healthy cluster={0} host={1} first_check={2}",
              state.name,
              h.address,
              first);
        } else {
          pending = true;
        }
      }
    } else {
      stats.failure().inc();
      if (outcome == Outcome.NETWORK) {
        stats.networkFailure().inc();
      }
      h.hcSuccesses = 0;
      if (!h.failedActiveHc) {
        if (outcome == Outcome.FAILED || ++h.hcFailures >= check.unhealthyThreshold()) {
          h.hcFailures = 0;
          h.failedActiveHc = true;
          state.activeHcFailed(h);
          LOG.log(
              System.Logger.Level.INFO,
              "event=health_check_unhealthy cluster={0} host={1} failure={2}",
              state.name,
              h.address,
              outcome);
        } else {
          pending = true;
        }
      }
    }
    if (h.pendingActiveHc) {
      h.pendingActiveHc = false;
      state.healthChanged();
    }
    if (first) {
      h.firstCheck = false;
      state.firstCheckDone();
    }
    return nextInterval(outcome == Outcome.SUCCESS, pending);
  }

  /** Envoy's {@code HealthCheckerImplBase::interval}: see {@link ClusterPolicy.HealthCheck}. */
  private long nextInterval(boolean success, boolean pending) {
    long base;
    if (state.stats.upstreamCxTotal().value() == 0) {
      // no connection ever: a much slower pace keeps the endpoints roughly known
      base =
          success && !check.noTrafficHealthyInterval().isZero()
              ? check.noTrafficHealthyInterval().toNanos()
              : check.noTrafficInterval().toNanos();
    } else if (success) {
      base = pending ? check.healthyEdgeInterval().toNanos() : check.interval().toNanos();
    } else {
      base =
          pending ? check.unhealthyEdgeInterval().toNanos() : check.unhealthyInterval().toNanos();
    }
    var random = ThreadLocalRandom.current();
    long jitter = base;
    if (check.intervalJitterPercent() > 0) {
      long bound = check.intervalJitterPercent() * base / 100;
      if (bound > 0) {
        jitter += random.nextLong(bound);
      }
    }
    long fixed = check.intervalJitter().toNanos();
    if (fixed > 0) {
      jitter += random.nextLong(fixed);
    }
    return jitter;
  }

  private static boolean in(List<ClusterPolicy.StatusRange> ranges, int status) {
    for (var range : ranges) {
      if (status >= range.start() && status < range.end()) {
        return true;
      }
    }
    return false;
  }

  /** An HTTP check's outcome for {@code status} and the body read (Envoy's healthCheckResult). */
  private static Outcome httpOutcome(ClusterPolicy.HttpProbe probe, int status, ByteBuf body) {
    if (in(probe.expected(), status)) {
      return probe.receiveHex().isEmpty() || contains(body, probe.receiveHex())
          ? Outcome.SUCCESS
          : Outcome.FAILED;
    }
    return in(probe.retriable(), status) ? Outcome.RETRIABLE : Outcome.FAILED;
  }

  /** Appends what fits of {@code data} in {@code size} bytes of {@code body}. */
  private static void keep(ByteBuf body, ByteBuf data, int size) {
    int room = size - body.readableBytes();
    if (room > 0) {
      body.writeBytes(data, data.readerIndex(), Math.min(room, data.readableBytes()));
    }
  }

  /** HTTP/1.1 answers on a probe connection. */
  private static final class H1Answer extends ChannelInboundHandlerAdapter {
    private final Session session;
    private final ClusterPolicy.HttpProbe probe;
    private int status;
    private boolean keepAlive;
    private @Nullable ByteBuf body;

    H1Answer(Session session, ClusterPolicy.HttpProbe probe) {
      this.session = session;
      this.probe = probe;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      try {
        if (msg instanceof HttpResponse r) {
          status = r.status().code();
          keepAlive = HttpUtil.isKeepAlive(r);
          if (body == null && !probe.receiveHex().isEmpty()) {
            body = ctx.alloc().buffer();
          }
        }
        var b = body;
        if (msg instanceof HttpContent c && b != null) {
          keep(b, c.content(), probe.responseBufferSize());
        }
        if (msg instanceof LastHttpContent && status >= 200) {
          var outcome = httpOutcome(probe, status, b == null ? Unpooled.EMPTY_BUFFER : b);
          if (b != null) {
            b.release();
            body = null;
          }
          status = 0;
          session.answer(ctx.channel(), outcome, !keepAlive);
        }
      } finally {
        ReferenceCountUtil.release(msg);
      }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      var b = body;
      body = null;
      if (b != null) {
        b.release();
      }
      ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, @Nullable Throwable cause) {
      ctx.close(); // the close fails the check in flight
    }
  }

  /**
   * One HTTP/2 check's stream: an HTTP check's status (and body), or a gRPC check's {@code
   * HealthCheckResponse} and {@code grpc-status}: healthy only for {@code :status} 200, a gRPC
   * content type, {@code grpc-status} 0 and {@code SERVING} (Envoy's {@code
   * GrpcActiveHealthCheckSession}); any other answer fails the endpoint at once.
   */
  private static final class H2Answer extends ChannelInboundHandlerAdapter {
    final Session session;
    private final Channel connection;
    private final ClusterPolicy.@Nullable HttpProbe http;
    private final ClusterPolicy.@Nullable GrpcProbe grpc;
    private int status;
    private boolean grpcContent;
    private @Nullable String grpcStatus;
    private final ByteBuf body = Unpooled.buffer();
    private boolean done;

    H2Answer(
        Session session,
        Channel connection,
        ClusterPolicy.@Nullable HttpProbe http,
        ClusterPolicy.@Nullable GrpcProbe grpc) {
      this.session = session;
      this.connection = connection;
      this.http = http;
      this.grpc = grpc;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      try {
        boolean end = false;
        if (msg instanceof Http2HeadersFrame f) {
          var hs = f.headers();
          if (hs.status() != null && status == 0) {
            status = Integer.parseInt(hs.status().toString());
            var ct = hs.get("content-type");
            grpcContent = ct != null && ct.toString().startsWith("application/grpc");
            if (status >= 100 && status < 200) {
              status = 0; // informational: the answer follows
            }
          }
          var gs = hs.get("grpc-status");
          if (gs != null) {
            grpcStatus = gs.toString();
          }
          end = f.isEndStream();
        } else if (msg instanceof Http2DataFrame f) {
          keep(body, f.content(), http != null ? http.responseBufferSize() : 1 << 16);
          end = f.isEndStream();
        }
        if (end) {
          complete(ctx);
        }
      } finally {
        ReferenceCountUtil.release(msg);
      }
    }

    private void complete(ChannelHandlerContext ctx) {
      if (done) {
        return;
      }
      done = true;
      Outcome outcome;
      var h = http;
      if (h != null) {
        outcome = httpOutcome(h, status, body);
      } else {
        outcome =
            status == 200 && grpcContent && "0".equals(grpcStatus) && serving(body)
                ? Outcome.SUCCESS
                : Outcome.FAILED;
      }
      body.release();
      session.answer(connection, outcome, false);
      ctx.close();
    }

    /** Whether the one gRPC message is a {@code HealthCheckResponse} of status {@code SERVING}. */
    private static boolean serving(ByteBuf body) {
      if (body.readableBytes() < 5 || body.getByte(body.readerIndex()) != 0) {
        return false;
      }
      int length = body.getInt(body.readerIndex() + 1);
      if (length != body.readableBytes() - 5) {
        return false;
      }
      byte[] message = new byte[length];
      body.getBytes(body.readerIndex() + 5, message);
      try {
        var in = com.google.protobuf.CodedInputStream.newInstance(message);
        int servingStatus = 0;
        for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
          if (tag == 8) { // field 1, varint: status
            servingStatus = in.readEnum();
          } else {
            in.skipField(tag);
          }
        }
        return servingStatus == 1; // SERVING
      } catch (java.io.IOException e) {
        return false;
      }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      if (!done) { // reset, or the connection went
        done = true;
        body.release();
        session.answer(connection, Outcome.NETWORK, true);
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, @Nullable Throwable cause) {
      ctx.close();
    }
  }

  /** TCP checks' bytes, handed to the session. */
  private static final class TcpAnswer extends ChannelInboundHandlerAdapter {
    private final Session session;

    TcpAnswer(Session session) {
      this.session = session;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      try {
        if (msg instanceof ByteBuf b) {
          session.read(ctx.channel(), b);
        }
      } finally {
        ReferenceCountUtil.release(msg);
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, @Nullable Throwable cause) {
      ctx.close();
    }
  }
}
