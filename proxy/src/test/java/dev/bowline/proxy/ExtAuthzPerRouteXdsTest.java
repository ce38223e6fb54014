package dev.bowline.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.Any;
import com.google.protobuf.Message;
import com.sun.net.httpserver.HttpServer;
import dev.bowline.proxy.bootstrap.BootstrapLoader;
import io.envoyproxy.controlplane.cache.v3.SimpleCache;
import io.envoyproxy.controlplane.cache.v3.Snapshot;
import io.envoyproxy.controlplane.server.DiscoveryServerCallbacks;
import io.envoyproxy.controlplane.server.V3DiscoveryServer;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.AggregatedConfigSource;
import io.envoyproxy.envoy.config.core.v3.ConfigSource;
import io.envoyproxy.envoy.config.core.v3.GrpcService;
import io.envoyproxy.envoy.config.core.v3.Http2ProtocolOptions;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.Endpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.extensions.filters.http.ext_authz.v3.BufferSettings;
import io.envoyproxy.envoy.extensions.filters.http.ext_authz.v3.CheckSettings;
import io.envoyproxy.envoy.extensions.filters.http.ext_authz.v3.ExtAuthz;
import io.envoyproxy.envoy.extensions.filters.http.ext_authz.v3.ExtAuthzPerRoute;
import io.envoyproxy.envoy.extensions.filters.http.router.v3.Router;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.Rds;
import io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions;
import io.envoyproxy.envoy.service.auth.v3.AuthorizationGrpc;
import io.envoyproxy.envoy.service.auth.v3.CheckRequest;
import io.envoyproxy.envoy.service.auth.v3.CheckResponse;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.grpc.Server;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Envoy's {@code ExtAuthzPerRoute} from an xDS server that is not ours (java-control-plane's
 * SimpleCache fed raw protos, no Istio): {@code disabled} routes pass unchecked, {@code
 * check_settings.context_extensions} reach the gRPC authorizer (the virtual host's merged with the
 * route's, whose keys win), {@code disable_request_body_buffering} and a per-route {@code
 * with_request_body} change what the check carries; a per-route config without its override is
 * NACKed naming the field.
 */
class ExtAuthzPerRouteXdsTest {
  static final String XDS_IP = "127.0.33.10";
  static final String LISTEN_IP = "127.0.33.11";
  static final String BACKEND_IP = "127.0.33.12";
  static final String AUTHZ_IP = "127.0.33.13";
  static final ConfigSource ADS =
      ConfigSource.newBuilder().setAds(AggregatedConfigSource.getDefaultInstance()).build();
  static final String EXT_AUTHZ = "envoy.filters.http.ext_authz";

  static final List<String> nacks = new CopyOnWriteArrayList<>();
  static final AtomicReference<CheckRequest> lastCheck = new AtomicReference<>();
  static final AtomicInteger checks = new AtomicInteger();
  static ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
  static SimpleCache<String> cache;
  static Server xds;
  static Server authz;
  static HttpServer backend;
  static Proxy proxy;
  static int listenPort;
  static final HttpClient client =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(5))
          .build();

  @BeforeAll
  static void start() throws Exception {
    backend = HttpServer.create(new InetSocketAddress(BACKEND_IP, 0), 64);
    backend.setExecutor(executor);
    backend.createContext(
        "/",
        ex -> {
          byte[] in = ex.getRequestBody().readAllBytes();
          byte[] out = ("backend len=" + in.length).getBytes(StandardCharsets.UTF_8);
          ex.sendResponseHeaders(200, out.length);
          ex.getResponseBody().write(out);
          ex.close();
        });
    backend.start();
    authz =
        NettyServerBuilder.forAddress(new InetSocketAddress(AUTHZ_IP, 0))
            .addService(
                new AuthorizationGrpc.AuthorizationImplBase() {
                  @Override
                  public void check(CheckRequest req, StreamObserver<CheckResponse> out) {
                    checks.incrementAndGet();
                    lastCheck.set(req);
                    out.onNext(
                        CheckResponse.newBuilder()
                            .setStatus(com.google.rpc.Status.newBuilder().setCode(0))
                            .build());
                    out.onCompleted();
                  }
                })
            .build()
            .start();
    int xdsPort = Ports.free(XDS_IP);
    listenPort = Ports.free(LISTEN_IP);
    cache = new SimpleCache<>(node -> "all");
    xds =
        NettyServerBuilder.forAddress(new InetSocketAddress(XDS_IP, xdsPort))
            .addService(
                new V3DiscoveryServer(
                        new DiscoveryServerCallbacks() {
                          @Override
                          public void onV3StreamRequest(long streamId, DiscoveryRequest request) {
                            if (request.hasErrorDetail()) {
                              nacks.add(request.getErrorDetail().getMessage());
                            }
                          }

                          @Override
                          public void onV3StreamDeltaRequest(
                              long streamId,
                              io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest r) {}
                        },
                        cache)
                    .getAggregatedDiscoveryServiceImpl())
            .build()
            .start();
    String bootstrap = AdsBootstrap.yaml("per-route~1", XDS_IP, xdsPort);
    publish("1", routes());
    proxy =
        Proxy.start(
            new BootstrapLoader().parse("xds.yaml", bootstrap),
            ProxyOptions.defaults()
                .withWorkers(1)
                .withXdsBackoff(Duration.ofMillis(50), Duration.ofMillis(400)));
    await().atMost(Duration.ofSeconds(20)).until(() -> post("/any", "").startsWith("backend"));
  }

  @AfterAll
  static void stop() throws Exception {
    proxy.close();
    xds.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    authz.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    backend.stop(0);
    executor.close();
  }

  static Address address(String ip, int port) {
    return Address.newBuilder()
        .setSocketAddress(SocketAddress.newBuilder().setAddress(ip).setPortValue(port))
        .build();
  }

  static Cluster staticCluster(String name, String ip, int port, boolean h2) {
    Cluster.Builder c =
        Cluster.newBuilder()
            .setName(name)
            .setType(Cluster.DiscoveryType.STATIC)
            .setConnectTimeout(com.google.protobuf.Duration.newBuilder().setSeconds(1))
            .setLoadAssignment(
                ClusterLoadAssignment.newBuilder()
                    .setClusterName(name)
                    .addEndpoints(
                        LocalityLbEndpoints.newBuilder()
                            .addLbEndpoints(
                                LbEndpoint.newBuilder()
                                    .setEndpoint(
                                        Endpoint.newBuilder().setAddress(address(ip, port))))));
    if (h2) {
      c.putTypedExtensionProtocolOptions(
          "envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
          Any.pack(
              HttpProtocolOptions.newBuilder()
                  .setExplicitHttpConfig(
                      HttpProtocolOptions.ExplicitHttpConfig.newBuilder()
                          .setHttp2ProtocolOptions(Http2ProtocolOptions.getDefaultInstance()))
                  .build()));
    }
    return c.build();
  }

  static Listener listener() {
    ExtAuthz extAuthz =
        ExtAuthz.newBuilder()
            .setGrpcService(
                GrpcService.newBuilder()
                    .setEnvoyGrpc(GrpcService.EnvoyGrpc.newBuilder().setClusterName("authz"))
                    .setTimeout(com.google.protobuf.Duration.newBuilder().setSeconds(2)))
            .setWithRequestBody(BufferSettings.newBuilder().setMaxRequestBytes(8))
            .build();
    HttpConnectionManager hcm =
        HttpConnectionManager.newBuilder()
            .setStatPrefix("per_route")
            .setRds(Rds.newBuilder().setRouteConfigName("routes").setConfigSource(ADS))
            .addHttpFilters(
                HttpFilter.newBuilder().setName(EXT_AUTHZ).setTypedConfig(pack(extAuthz)))
            .addHttpFilters(
                HttpFilter.newBuilder()
                    .setName("envoy.filters.http.router")
                    .setTypedConfig(pack(Router.getDefaultInstance())))
            .build();
    return Listener.newBuilder()
        .setName("per_route")
        .setAddress(address(LISTEN_IP, listenPort))
        .addFilterChains(
            FilterChain.newBuilder()
                .addFilters(
                    Filter.newBuilder()
                        .setName("envoy.filters.network.http_connection_manager")
                        .setTypedConfig(pack(hcm))))
        .build();
  }

  static Any pack(Message m) {
    return Any.pack(m);
  }

  static Route route(String prefix, ExtAuthzPerRoute perRoute) {
    Route.Builder r =
        Route.newBuilder()
            .setMatch(RouteMatch.newBuilder().setPrefix(prefix))
            .setRoute(RouteAction.newBuilder().setCluster("backend"));
    if (perRoute != null) {
      r.putTypedPerFilterConfig(EXT_AUTHZ, pack(perRoute));
    }
    return r.build();
  }

  static ExtAuthzPerRoute settings(CheckSettings.Builder s) {
    return ExtAuthzPerRoute.newBuilder().setCheckSettings(s).build();
  }

  static RouteConfiguration routes(Route... extra) {
    VirtualHost.Builder vh =
        VirtualHost.newBuilder()
            .setName("all")
            .addDomains("*")
            .putTypedPerFilterConfig(
                EXT_AUTHZ,
                pack(settings(CheckSettings.newBuilder().putContextExtensions("scope", "vhost"))))
            .addRoutes(route("/off", ExtAuthzPerRoute.newBuilder().setDisabled(true).build()))
            .addRoutes(
                route(
                    "/tenant",
                    settings(
                        CheckSettings.newBuilder()
                            .putContextExtensions("tenant", "a")
                            .putContextExtensions("scope", "route"))))
            .addRoutes(
                route(
                    "/no-body",
                    settings(CheckSettings.newBuilder().setDisableRequestBodyBuffering(true))))
            .addRoutes(
                route(
                    "/big-body",
                    settings(
                        CheckSettings.newBuilder()
                            .setWithRequestBody(
                                BufferSettings.newBuilder()
                                    .setMaxRequestBytes(12)
                                    .setAllowPartialMessage(true)))));
    for (Route r : extra) {
      vh.addRoutes(r);
    }
    vh.addRoutes(route("/", null));
    return RouteConfiguration.newBuilder().setName("routes").addVirtualHosts(vh).build();
  }

  static void publish(String version, RouteConfiguration routes) {
    cache.setSnapshot(
        "all",
        Snapshot.create(
            List.of(
                staticCluster("backend", BACKEND_IP, backend.getAddress().getPort(), false),
                staticCluster("authz", AUTHZ_IP, authz.getPort(), true)),
            List.of(),
            List.of(listener()),
            List.of(routes),
            List.of(),
            version));
  }

  static String post(String path, String body) {
    try {
      var r =
          client.send(
              HttpRequest.newBuilder(URI.create("http://" + LISTEN_IP + ":" + listenPort + path))
                  .timeout(Duration.ofSeconds(10))
                  .POST(HttpRequest.BodyPublishers.ofString(body))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      return r.statusCode() == 200 ? r.body() : r.statusCode() + " " + r.body();
    } catch (Exception e) {
      return "error: " + e;
    }
  }

  @Test
  void disabledRoutesPassUncheckedAndUnbuffered() {
    int before = checks.get();
    // 20 bytes would be 413 on a checked route (limit 8, no partial)
    assertThat(post("/off/x", "a".repeat(20))).isEqualTo("backend len=20");
    assertThat(checks.get()).isEqualTo(before);
    assertThat(post("/other", "a".repeat(20))).isEqualTo("413 Payload Too Large");
  }

  @Test
  void contextExtensionsOfTheRouteElseTheVirtualHostReachTheAuthorizer() {
    assertThat(post("/tenant/x", "hi")).isEqualTo("backend len=2");
    // merged: the route's keys over the virtual host's
    assertThat(lastCheck.get().getAttributes().getContextExtensionsMap())
        .isEqualTo(Map.of("tenant", "a", "scope", "route"));
    assertThat(lastCheck.get().getAttributes().getRequest().getHttp().getBody()).isEqualTo("hi");

    assertThat(post("/plain", "hey")).isEqualTo("backend len=3");
    assertThat(lastCheck.get().getAttributes().getContextExtensionsMap())
        .isEqualTo(Map.of("scope", "vhost"));
  }

  @Test
  void bodySettingsPerRoute() {
    // disable_request_body_buffering: checked at once without the body, the body goes on
    assertThat(post("/no-body", "a".repeat(20))).isEqualTo("backend len=20");
    var http = lastCheck.get().getAttributes().getRequest().getHttp();
    assertThat(http.getBody()).isEmpty();
    assertThat(http.getHeadersMap()).doesNotContainKey("x-envoy-auth-partial-body");
    assertThat(lastCheck.get().getAttributes().getContextExtensionsMap())
        .isEqualTo(Map.of("scope", "vhost"));

    // the route's own with_request_body: 12 bytes, partial allowed
    assertThat(post("/big-body", "0123456789abcdefghij")).isEqualTo("backend len=20");
    http = lastCheck.get().getAttributes().getRequest().getHttp();
    assertThat(http.getBody()).isEqualTo("0123456789ab");
    assertThat(http.getHeadersMap()).containsEntry("x-envoy-auth-partial-body", "true");
  }

  @Test
  void aPerRouteConfigWithoutOverrideIsNackedNamingTheField() {
    publish("2", routes(route("/bad", ExtAuthzPerRoute.getDefaultInstance())));
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> nacks.stream().anyMatch(m -> m.contains("override")));
    assertThat(nacks.stream().filter(m -> m.contains("override")).findFirst().orElseThrow())
        .contains("override: one of disabled, check_settings is required");
    // the last good routes stay
    assertThat(post("/off/y", "a".repeat(20))).isEqualTo("backend len=20");
    publish("3", routes());
  }
}
