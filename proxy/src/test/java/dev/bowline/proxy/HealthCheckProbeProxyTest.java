package dev.bowline.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.grpc.Grpc;
import io.grpc.InsecureServerCredentials;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.protobuf.services.HealthStatusManager;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import javax.net.ssl.ExtendedSSLSession;
import javax.net.ssl.SNIHostName;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What an active health check sends and how, as Envoy's checkers ({@code health_checker_impl.cc},
 * {@code source/extensions/health_checkers/{http,tcp,grpc}}): probes go through the cluster's
 * transport socket (TLS with its SNI and validation; {@code transport_socket_match_criteria}
 * choosing among {@code transport_socket_matches}); {@code reuse_connection} keeps one connection
 * (its default) or opens one per check; the HTTP check's {@code method}, {@code host}, {@code
 * request_headers_to_add/remove}, {@code expected_statuses}, {@code receive} and {@code
 * codec_client_type: HTTP2}; TCP {@code send}/{@code receive}; gRPC {@code grpc.health.v1} with
 * {@code service_name} and {@code authority} against grpc-java's health service; and hosts waiting
 * for their first check ({@code /pending_active_hc}) left out of the panic computation. Each test
 * starts its own proxy (on 127.0.7.210) of one cluster; real backends on 127.0.7.211-214.
 */
class HealthCheckProbeProxyTest {
  static final String IP = "127.0.7.210";
  static final String BACKEND_IP = "127.0.7.211";
  static final String BACKEND_IP2 = "127.0.7.212";
  static final String BACKEND_IP3 = "127.0.7.213";

  static EventLoopGroup group;
  static TestPki pki;
  static SslContext serverTls;
  static String trustYaml;

  SocketProxy proxy;
  int port;
  final List<AutoCloseable> closing = new java.util.ArrayList<>();

  @BeforeAll
  static void start() throws Exception {
    group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
    pki = new TestPki("hc-root");
    TestPki.Issued cert = pki.issue("hc.example");
    serverTls =
        SslContextBuilder.forServer(cert.key().getPrivate(), cert.cert())
            .sslProvider(SslProvider.JDK)
            .build();
    trustYaml = pki.rootPem().strip().replace("\n", "\\n") + "\\n";
  }

  @AfterAll
  static void stop() {
    group.shutdownGracefully();
  }

  @AfterEach
  void close() throws Exception {
    if (proxy != null) {
      proxy.close();
    }
    for (AutoCloseable c : closing) {
      c.close();
    }
  }

  /** A request a backend received, with the SNI of its connection (none without TLS). */
  record Seen(String method, String uri, Map<String, List<String>> headers, String sni) {}

  /** An HTTP/1.1 backend (TLS with {@code ssl}) counting connections, answering with {@code fn}. */
  final class Backend implements AutoCloseable {
    final Channel server;
    final AtomicInteger connections = new AtomicInteger();
    final ConcurrentLinkedQueue<Seen> seen = new ConcurrentLinkedQueue<>();

    Backend(String ip, SslContext ssl, Function<Seen, Integer> fn) throws Exception {
      server =
          new ServerBootstrap()
              .group(group)
              .channel(NioServerSocketChannel.class)
              .childHandler(
                  new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                      connections.incrementAndGet();
                      if (ssl != null) {
                        ch.pipeline().addLast(ssl.newHandler(ch.alloc()));
                      }
                      ch.pipeline()
                          .addLast(
                              new HttpServerCodec(),
                              new HttpObjectAggregator(1 << 16),
                              new SimpleChannelInboundHandler<FullHttpRequest>() {
                                @Override
                                protected void channelRead0(
                                    ChannelHandlerContext ctx, FullHttpRequest req) {
                                  String sni = "none";
                                  var tls = ctx.pipeline().get(SslHandler.class);
                                  if (tls != null) {
                                    sni =
                                        ((ExtendedSSLSession) tls.engine().getSession())
                                            .getRequestedServerNames().stream()
                                                .map(n -> ((SNIHostName) n).getAsciiName())
                                                .findFirst()
                                                .orElse("none");
                                  }
                                  Map<String, List<String>> hs = new java.util.TreeMap<>();
                                  for (var e : req.headers()) {
                                    hs.computeIfAbsent(
                                            e.getKey().toLowerCase(java.util.Locale.ROOT),
                                            k -> new java.util.ArrayList<>())
                                        .add(e.getValue());
                                  }
                                  Seen s = new Seen(req.method().name(), req.uri(), hs, sni);
                                  seen.add(s);
                                  Integer status = fn.apply(s);
                                  if (status == null) {
                                    return; // never answers
                                  }
                                  byte[] body = "all is OK here".getBytes(StandardCharsets.UTF_8);
                                  var res =
                                      new DefaultFullHttpResponse(
                                          HttpVersion.HTTP_1_1,
                                          HttpResponseStatus.valueOf(status),
                                          Unpooled.wrappedBuffer(body));
                                  res.headers().set(HttpHeaderNames.CONTENT_LENGTH, body.length);
                                  ctx.writeAndFlush(res);
                                }
                              });
                    }
                  })
              .bind(new InetSocketAddress(ip, 0))
              .sync()
              .channel();
      closing.add(this);
    }

    int port() {
      return ((InetSocketAddress) server.localAddress()).getPort();
    }

    @Override
    public void close() {
      server.close();
    }
  }

  /** {@code health_checks} YAML: every 0.2 s with or without traffic, thresholds of 1. */
  static String check(String fields, String checker) {
    return """
        health_checks:
        - timeout: 30s
          interval: 0.2s
          no_traffic_interval: 0.2s
          unhealthy_threshold: 1
          healthy_threshold: 1
        %s
          %s
        """
        .formatted(fields.isEmpty() ? "" : fields.indent(2).stripTrailing(), checker);
  }

  static final String HTTP_CHECK = "http_health_check: {path: /healthz}";

  String tls(String sni) {
    return """
        name: envoy.transport_sockets.tls
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext
          sni: %s
          common_tls_context: {validation_context: {trusted_ca: {inline_string: "%s"}}}
        """
        .formatted(sni, trustYaml);
  }

  /** A proxy on {@link #IP} of one listener routing to the one cluster {@code c}. */
  void startProxy(String cluster) {
    port = Ports.free(IP);
    proxy =
        SocketProxy.start(
            IP,
            List.of(SocketProxy.listener("h", IP, port, "", SocketProxy.to("/", "c"))),
            List.of(cluster));
  }

  long stat(String name) {
    return proxy.stat("cluster.c.health_check." + name);
  }

  /** Waits for {@code n} successful checks, none failed. */
  void awaitHealthy(int n) {
    await()
        .atMost(Duration.ofSeconds(60))
        .untilAsserted(
            () -> {
              assertThat(stat("failure")).as("failed checks").isZero();
              assertThat(stat("success")).isGreaterThanOrEqualTo(n);
            });
  }

  @Test
  void aTlsClusterIsCheckedThroughItsTransportSocketWithItsSni() throws Exception {
    Backend b = new Backend(BACKEND_IP, serverTls, s -> 200);
    startProxy(
        SocketProxy.cluster(
            "c",
            BACKEND_IP,
            b.port(),
            "transport_socket:\n" + tls("hc.example").indent(2) + check("", HTTP_CHECK)));
    awaitHealthy(3);
    assertThat(b.seen).allSatisfy(s -> assertThat(s.sni()).isEqualTo("hc.example"));
  }

  @Test
  void aCertificateTheClusterDoesNotTrustFailsTheCheck() throws Exception {
    TestPki other = new TestPki("other-root");
    var cert = other.issue("hc.example");
    SslContext untrusted =
        SslContextBuilder.forServer(cert.key().getPrivate(), cert.cert())
            .sslProvider(SslProvider.JDK)
            .build();
    Backend b = new Backend(BACKEND_IP, untrusted, s -> 200);
    startProxy(
        SocketProxy.cluster(
            "c",
            BACKEND_IP,
            b.port(),
            "transport_socket:\n" + tls("hc.example").indent(2) + check("", HTTP_CHECK)));
    await()
        .atMost(Duration.ofSeconds(60))
        .untilAsserted(() -> assertThat(stat("network_failure")).isGreaterThanOrEqualTo(2));
    assertThat(stat("success")).isZero();
    assertThat(b.seen).isEmpty();
  }

  @Test
  void transportSocketMatchCriteriaChooseTheChecksTransport() throws Exception {
    // the endpoint carries no match metadata (traffic would be plaintext); the checks' criteria
    // pick the TLS entry
    Backend b = new Backend(BACKEND_IP, serverTls, s -> 200);
    startProxy(
        SocketProxy.cluster(
            "c",
            BACKEND_IP,
            b.port(),
            "transport_socket_matches:\n- name: tls\n  match: {hc: tls}\n  transport_socket:\n"
                + tls("hc.example").indent(4)
                + "- name: plain\n  match: {}\n  transport_socket:\n"
                + "    name: envoy.transport_sockets.raw_buffer\n"
                + "    typed_config: {\"@type\": type.googleapis.com/envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer}\n"
                + check("transport_socket_match_criteria: {hc: tls}", HTTP_CHECK)));
    awaitHealthy(3);
    assertThat(b.seen).allSatisfy(s -> assertThat(s.sni()).isEqualTo("hc.example"));
  }

  @Test
  void oneConnectionServesEveryCheckByDefault() throws Exception {
    Backend b = new Backend(BACKEND_IP, null, s -> 200);
    startProxy(SocketProxy.cluster("c", BACKEND_IP, b.port(), check("", HTTP_CHECK)));
    awaitHealthy(5);
    assertThat(b.connections.get()).isEqualTo(1);
    assertThat(b.seen).allSatisfy(s -> assertThat(s.headers()).doesNotContainKey("connection"));
  }

  @Test
  void withoutReuseConnectionEachCheckHasItsOwn() throws Exception {
    Backend b = new Backend(BACKEND_IP, null, s -> 200);
    startProxy(
        SocketProxy.cluster(
            "c", BACKEND_IP, b.port(), check("reuse_connection: false", HTTP_CHECK)));
    awaitHealthy(5);
    await()
        .atMost(Duration.ofSeconds(60))
        .untilAsserted(() -> assertThat(b.connections.get()).isGreaterThanOrEqualTo(5));
    assertThat(b.connections.get()).isGreaterThanOrEqualTo(b.seen.size());
  }

  @Test
  void theHttpChecksMethodHostAndHeadersAreSent() throws Exception {
    // healthy only for what the options ask for: a 204 the check expects
    Backend b =
        new Backend(
            BACKEND_IP,
            null,
            s ->
                s.method().equals("PUT")
                        && s.headers().getOrDefault("x-hc", List.of()).equals(List.of("a", "b"))
                        && !s.headers().containsKey("user-agent")
                        && s.headers().get("host").equals(List.of("checks.example"))
                    ? 204
                    : 500);
    startProxy(
        SocketProxy.cluster(
            "c",
            BACKEND_IP,
            b.port(),
            check(
                "",
                """
                http_health_check:
                    path: /healthz
                    host: checks.example
                    method: PUT
                    expected_statuses: [{start: 204, end: 205}]
                    request_headers_to_add:
                    - {header: {key: x-hc, value: a}}
                    - {header: {key: x-hc, value: b}, append_action: APPEND_IF_EXISTS_OR_ADD}
                    request_headers_to_remove: [user-agent]""")));
    awaitHealthy(3);
  }

  @Test
  void theBodyMustHoldTheReceivePayloads() throws Exception {
    Backend b = new Backend(BACKEND_IP, null, s -> 200);
    // "is OK": 6973204f4b; "nope": 6e6f7065
    startProxy(
        SocketProxy.cluster(
            "c",
            BACKEND_IP,
            b.port(),
            check("", "http_health_check: {path: /healthz, receive: [{text: 6973204f4b}]}")));
    awaitHealthy(2);
    proxy.close();
    proxy = null;
    startProxy(
        SocketProxy.cluster(
            "c",
            BACKEND_IP,
            b.port(),
            check("", "http_health_check: {path: /healthz, receive: [{text: 6e6f7065}]}")));
    await()
        .atMost(Duration.ofSeconds(60))
        .untilAsserted(() -> assertThat(stat("failure")).isGreaterThanOrEqualTo(2));
    assertThat(stat("success")).isZero();
    assertThat(stat("network_failure")).isZero();
  }

  @Test
  void anHttp2CheckSpeaksH2cOnOneConnection() throws Exception {
    H2Backend b = new H2Backend("h2", BACKEND_IP, 100, 0);
    closing.add(b);
    startProxy(
        SocketProxy.cluster(
            "c",
            BACKEND_IP,
            b.port(),
            check("", "http_health_check: {path: /healthz, codec_client_type: HTTP2}")));
    awaitHealthy(3);
    assertThat(b.requests.get()).isGreaterThanOrEqualTo(3);
    assertThat(b.connections.get()).isEqualTo(1);
  }

  /** A TCP backend: answers {@code PONG} to each {@code PING} it reads (or {@code reply}). */
  Channel tcpBackend(String ip, String reply, AtomicInteger connections) throws Exception {
    Channel server =
        new ServerBootstrap()
            .group(group)
            .channel(NioServerSocketChannel.class)
            .childHandler(
                new ChannelInitializer<Channel>() {
                  @Override
                  protected void initChannel(Channel ch) {
                    connections.incrementAndGet();
                    ch.pipeline()
                        .addLast(
                            new ChannelInboundHandlerAdapter() {
                              @Override
                              public void channelRead(ChannelHandlerContext ctx, Object msg) {
                                String got = ((ByteBuf) msg).toString(StandardCharsets.US_ASCII);
                                ((ByteBuf) msg).release();
                                if (got.contains("PING")) {
                                  // in two writes: the check must gather them
                                  ctx.write(
                                      Unpooled.copiedBuffer(
                                          reply.substring(0, 2), StandardCharsets.US_ASCII));
                                  ctx.writeAndFlush(
                                      Unpooled.copiedBuffer(
                                          reply.substring(2), StandardCharsets.US_ASCII));
                                }
                              }
                            });
                  }
                })
            .bind(new InetSocketAddress(ip, 0))
            .sync()
            .channel();
    closing.add(() -> server.close());
    return server;
  }

  @Test
  void tcpSendAndReceivePayloads() throws Exception {
    AtomicInteger connections = new AtomicInteger();
    Channel server = tcpBackend(BACKEND_IP, "PONG", connections);
    int port = ((InetSocketAddress) server.localAddress()).getPort();
    // PING 50494e47, PO 504f, NG 4e47
    startProxy(
        SocketProxy.cluster(
            "c",
            BACKEND_IP,
            port,
            check(
                "",
                "tcp_health_check: {send: {text: 50494e47}, receive: [{text: 504f}, {text: 4e47}]}")));
    awaitHealthy(4);
    assertThat(connections.get()).isEqualTo(1); // reuse_connection
  }

  @Test
  void tcpReceiveThatDoesNotComeFailsTheCheck() throws Exception {
    AtomicInteger connections = new AtomicInteger();
    Channel server = tcpBackend(BACKEND_IP, "NOPE", connections);
    int port = ((InetSocketAddress) server.localAddress()).getPort();
    startProxy(
        SocketProxy.cluster(
            "c",
            BACKEND_IP,
            port,
            check("", "tcp_health_check: {send: {text: 50494e47}, receive: [{text: 504f4e47}]}")
                .replace("timeout: 30s", "timeout: 0.5s")));
    await()
        .atMost(Duration.ofSeconds(60))
        .untilAsserted(() -> assertThat(stat("network_failure")).isGreaterThanOrEqualTo(2));
    assertThat(stat("success")).isZero();
  }

  @Test
  void grpcHealthCheckAsksTheServiceWithTheAuthority() throws Exception {
    HealthStatusManager health = new HealthStatusManager();
    health.setStatus("svc", ServingStatus.SERVING);
    ConcurrentLinkedQueue<String> authorities = new ConcurrentLinkedQueue<>();
    ServerInterceptor seeAuthority =
        new ServerInterceptor() {
          @Override
          public <Q, R> ServerCall.Listener<Q> interceptCall(
              ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
            authorities.add(String.valueOf(call.getAuthority()));
            return next.startCall(call, headers);
          }
        };
    Server server =
        Grpc.newServerBuilderForPort(0, InsecureServerCredentials.create())
            .addService(ServerInterceptors.intercept(health.getHealthService(), seeAuthority))
            .build();
    // grpc-java binds the wildcard address: reach it through the backend address
    server.start();
    closing.add(() -> server.shutdownNow().awaitTermination(10, TimeUnit.SECONDS));
    startProxy(
        SocketProxy.cluster(
            "c",
            BACKEND_IP2,
            server.getPort(),
            check("", "grpc_health_check: {service_name: svc, authority: grpc.example}")));
    awaitHealthy(3);
    assertThat(authorities).allSatisfy(a -> assertThat(a).isEqualTo("grpc.example"));
    health.setStatus("svc", ServingStatus.NOT_SERVING);
    await()
        .atMost(Duration.ofSeconds(60))
        .untilAsserted(() -> assertThat(stat("failure")).isGreaterThanOrEqualTo(1));
    assertThat(stat("network_failure")).isZero();
    await()
        .atMost(Duration.ofSeconds(60))
        .untilAsserted(
            () ->
                assertThat(
                        proxy.proxy.stats().gauges().stream()
                            .filter(g -> g.name().equals("cluster.c.health_check.healthy"))
                            .mapToLong(g -> g.value())
                            .sum())
                    .isZero());
  }

  @Test
  void anUnknownGrpcServiceFailsTheCheck() throws Exception {
    HealthStatusManager health = new HealthStatusManager();
    Server server =
        Grpc.newServerBuilderForPort(0, InsecureServerCredentials.create())
            .addService(health.getHealthService())
            .build()
            .start();
    closing.add(() -> server.shutdownNow().awaitTermination(10, TimeUnit.SECONDS));
    startProxy(
        SocketProxy.cluster(
            "c",
            BACKEND_IP2,
            server.getPort(),
            check("", "grpc_health_check: {service_name: nobody}")));
    await()
        .atMost(Duration.ofSeconds(60))
        .untilAsserted(() -> assertThat(stat("failure")).isGreaterThanOrEqualTo(2));
    assertThat(stat("success")).isZero();
    assertThat(stat("network_failure")).isZero();
  }

  @Test
  void hostsWaitingForTheirFirstCheckDoNotCountTowardsPanic() throws Exception {
    // one endpoint answers its checks, two hold theirs: with them counted unhealthy the cluster
    // (1 of 3 healthy, under the 50 % panic threshold) would be in panic and send them traffic
    Backend up = new Backend(BACKEND_IP, null, s -> 200);
    Function<Seen, Integer> held = s -> s.uri().equals("/healthz") ? null : 200;
    Backend slow1 = new Backend(BACKEND_IP2, null, held);
    Backend slow2 = new Backend(BACKEND_IP3, null, held);
    String endpoints =
        List.of(up, slow1, slow2).stream()
            .map(
                b ->
                    "{endpoint: {address: {socket_address: {address: %s, port_value: %d}}}}"
                        .formatted(
                            ((InetSocketAddress) b.server.localAddress()).getHostString(),
                            b.port()))
            .collect(java.util.stream.Collectors.joining(", "));
    String cluster =
        """
          - name: c
            connect_timeout: 5s
            common_lb_config: {ignore_new_hosts_until_first_hc: true}
        %s
            load_assignment:
              cluster_name: c
              endpoints: [{lb_endpoints: [%s]}]
        """
            .formatted(
                check("", HTTP_CHECK)
                    .replace("timeout: 30s", "timeout: 120s")
                    .indent(4)
                    .stripTrailing(),
                endpoints);
    startProxy(cluster);
    awaitHealthy(1);
    for (int i = 0; i < 20; i++) {
      var r = SocketProxy.request(IP, port, "x", "/work");
      assertThat(r.status()).isEqualTo(200);
    }
    assertThat(up.seen.stream().filter(s -> s.uri().equals("/work")).count()).isEqualTo(20);
    assertThat(slow1.seen.stream().filter(s -> s.uri().equals("/work"))).isEmpty();
    assertThat(slow2.seen.stream().filter(s -> s.uri().equals("/work"))).isEmpty();
  }
}
