package dev.bowline.controlplane;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.bowline.controlplane.model.ConfigInputs;
import dev.bowline.controlplane.model.HttpRoute;
import dev.bowline.controlplane.model.SidecarScope;
import dev.bowline.controlplane.model.TrafficPolicy;
import dev.bowline.controlplane.registry.HealthStatus;
import dev.bowline.controlplane.registry.LocalRegistry;
import dev.bowline.controlplane.registry.LocalService;
import dev.bowline.controlplane.registry.Locality;
import dev.bowline.controlplane.registry.Protocol;
import dev.bowline.controlplane.registry.ServicePort;
import dev.bowline.controlplane.registry.Workload;
import dev.bowline.controlplane.xds.server.PushStatus;
import io.grpc.CallOptions;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.MetadataUtils;
import io.grpc.xds.XdsNameResolverProvider;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The control plane drives grpc-java's own xDS client (grpc-xds, unchanged): {@code xds:///}
 * targets resolve through our LDS, RDS, CDS and EDS to real gRPC backends on distinct loopback
 * addresses.
 */
class GrpcXdsClientTest {
  static final String HOST = "forecast.weather.svc.cluster.local";
  static final int PORT = 8080;

  /**
   * grpc-xds's resolver under its own scheme, so that it uses this test's bootstrap (the default
   * {@code xds} resolver reads GRPC_XDS_BOOTSTRAP from the environment); otherwise it is the same
   * resolver as for {@code xds:///} targets.
   */
  static final String SCHEME = "xds-test";

  final LocalRegistry registry = new LocalRegistry("cluster.local");
  final List<Server> backends = new ArrayList<>();
  final List<ManagedChannel> channels = new ArrayList<>();
  ControlPlane controlPlane;

  @BeforeEach
  void start() throws Exception {
    registry.putService(
        new LocalService(
            "weather",
            "forecast",
            List.of(new ServicePort("grpc", PORT, Protocol.GRPC, PORT)),
            Map.of(),
            Map.of()));
    controlPlane =
        new ControlPlane(
            ControlPlaneOptions.DEFAULTS.withPorts(0, 0),
            registry,
            ConfigInputs.NONE,
            Clock.systemUTC());
    controlPlane.start();
  }

  @AfterEach
  void stop() throws Exception {
    for (ManagedChannel c : channels) {
      c.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    for (Server s : backends) {
      s.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    controlPlane.close();
  }

  void addBackend(String name, String ip) throws Exception {
    addBackend(name, ip, "v1");
  }

  void addBackend(String name, String ip, String version) throws Exception {
    Server s = TestBackends.start(name, ip);
    backends.add(s);
    registry.putWorkload(
        new Workload(
            "weather",
            name,
            Map.of("app", "forecast", "version", version),
            ip,
            Map.of("grpc", s.getPort()),
            "forecast",
            new Locality("local", "zone-a", ""),
            "",
            HealthStatus.HEALTHY));
  }

  ManagedChannel xdsChannel(String nodeName) {
    return xdsChannel(nodeName, HOST + ":" + PORT);
  }

  ManagedChannel xdsChannel(String nodeName, String authority) {
    Map<String, Object> bootstrap =
        Map.of(
            "xds_servers",
            List.of(
                Map.of(
                    "server_uri", "127.0.0.1:" + controlPlane.xdsPort(),
                    "channel_creds", List.of(Map.of("type", "insecure")),
                    "server_features", List.of("xds_v3"))),
            "node",
            Map.of(
                "id",
                "sidecar~127.0.0.1~" + nodeName + ".weather~weather.svc.cluster.local",
                "metadata",
                Map.of("GENERATOR", "grpc", "NAMESPACE", "weather")));
    @SuppressWarnings("deprecation")
    ManagedChannel ch =
        Grpc.newChannelBuilder(SCHEME + ":///" + authority, InsecureChannelCredentials.create())
            .nameResolverFactory(XdsNameResolverProvider.createForTest(SCHEME, bootstrap))
            .build();
    channels.add(ch);
    return ch;
  }

  /** The pushes after {@code version} were endpoint-only, for the forecast host alone. */
  void assertEndpointOnlyPushesSince(long version) {
    PushStatus last = controlPlane.xds().lastPush().orElseThrow();
    assertThat(last.version()).isGreaterThan(version);
    assertThat(last.full()).as("an endpoint change is not a full push").isFalse();
    assertThat(last.edsHosts()).containsExactly(HOST);
  }

  static String call(ManagedChannel ch) {
    return ClientCalls.blockingUnaryCall(
        ch, TestBackends.WHO, CallOptions.DEFAULT.withDeadlineAfter(5, TimeUnit.SECONDS), "who?");
  }

  static Map<String, Integer> spread(ManagedChannel ch, int calls) {
    Map<String, Integer> counts = new HashMap<>();
    for (int i = 0; i < calls; i++) {
      counts.merge(call(ch), 1, Integer::sum);
    }
    return counts;
  }

  @Test
  void rpcsSpreadRoundRobinAndFollowEndpointChanges() throws Exception {
    addBackend("forecast-a", "127.0.0.2");
    addBackend("forecast-b", "127.0.0.3");
    addBackend("forecast-c", "127.0.0.4");
    ManagedChannel ch = xdsChannel("client-1");

    // The first call waits for LDS -> RDS -> CDS -> EDS; then every backend must be in rotation.
    await()
        .atMost(Duration.ofSeconds(30))
        .ignoreExceptions()
        .until(() -> spread(ch, 3).size() == 3);
    Map<String, Integer> counts = spread(ch, 300);
    assertThat(counts).containsOnlyKeys("forecast-a", "forecast-b", "forecast-c");
    assertThat(counts.values()).allSatisfy(n -> assertThat(n).isBetween(95, 105));

    // The target is "seen within 1 s"; a wall-clock bound is a benchmark's business, not a
    // test's (a stalled 2-core CI machine can miss it). What makes it fast is asserted instead:
    // each change goes out as an endpoint-only push of the changed host, nothing else regenerated.
    long t0 = System.nanoTime();
    long pushVersion = controlPlane.xds().lastPush().orElseThrow().version();
    addBackend("forecast-d", "127.0.0.5");
    await()
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(10))
        .until(() -> spread(ch, 4).containsKey("forecast-d"));
    long addedMs = (System.nanoTime() - t0) / 1_000_000;
    assertEndpointOnlyPushesSince(pushVersion);

    t0 = System.nanoTime();
    pushVersion = controlPlane.xds().lastPush().orElseThrow().version();
    registry.removeWorkload("weather", "forecast-a");
    await()
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(10))
        .until(() -> !spread(ch, 8).containsKey("forecast-a"));
    long removedMs = (System.nanoTime() - t0) / 1_000_000;
    assertEndpointOnlyPushesSince(pushVersion);
    System.out.println(
        "endpoint_added_seen_ms=" + addedMs + " endpoint_removed_seen_ms=" + removedMs);

    assertThat(spread(ch, 300).keySet())
        .containsExactlyInAnyOrder("forecast-b", "forecast-c", "forecast-d");
    // grpc-java ACKed everything: the control plane sees it synced on all four types.
    assertThat(controlPlane.xds().syncStatus())
        .singleElement()
        .satisfies(
            s -> {
              assertThat(s.generator()).isEqualTo("grpc");
              assertThat(s.types().keySet()).containsExactlyInAnyOrder("cds", "eds", "lds", "rds");
              s.types().values().forEach(t -> assertThat(t.status()).isIn("SYNCED", "STALE"));
              assertThat(s.types().get("lds").subscribed()).containsExactly(HOST + ":" + PORT);
            });
  }

  /**
   * The config extension points end to end: a DestinationRule-like policy with subsets v1/v2 and a
   * VirtualService-like route (header match to v2, else 80/20) given as {@link ConfigInputs}, as
   * the config module will provide them, drive grpc-java's weighted_clusters, subsets and header
   * matching.
   */
  @Test
  void configInputsDriveWeightsSubsetsAndHeaderMatches() throws Exception {
    addBackend("forecast-v1", "127.0.0.6", "v1");
    addBackend("forecast-v2", "127.0.0.7", "v2");
    ManagedChannel ch = xdsChannel("client-2");
    await()
        .atMost(Duration.ofSeconds(30))
        .ignoreExceptions()
        .until(() -> spread(ch, 4).size() == 2);

    TrafficPolicy subsets =
        new TrafficPolicy(
            TrafficPolicy.LoadBalancer.ROUND_ROBIN,
            List.of(
                new TrafficPolicy.Subset(
                    "v1", Map.of("version", "v1"), TrafficPolicy.LoadBalancer.ROUND_ROBIN),
                new TrafficPolicy.Subset(
                    "v2", Map.of("version", "v2"), TrafficPolicy.LoadBalancer.ROUND_ROBIN)));
    List<HttpRoute> routes =
        List.of(
            new HttpRoute(
                "canary",
                new HttpRoute.PathMatch.Prefix("/"),
                List.of(new HttpRoute.HeaderMatch("x-canary", "yes")),
                List.of(new HttpRoute.Destination(HOST, PORT, "v2", 1))),
            new HttpRoute(
                "split",
                new HttpRoute.PathMatch.Prefix("/test.Who/"),
                List.of(),
                List.of(
                    new HttpRoute.Destination(HOST, PORT, "v1", 80),
                    new HttpRoute.Destination(HOST, PORT, "v2", 20))));
    controlPlane.updateConfig(
        new ConfigInputs(
            (service, port, proxy) ->
                service.hostname().equals(HOST) ? Optional.of(routes) : Optional.empty(),
            (service, proxy) ->
                service.hostname().equals(HOST) ? Optional.of(subsets) : Optional.empty(),
            proxy -> SidecarScope.DEFAULT),
        "test");

    // Header match: every call with x-canary goes to v2.
    Metadata canary = new Metadata();
    canary.put(Metadata.Key.of("x-canary", Metadata.ASCII_STRING_MARSHALLER), "yes");
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () -> {
              for (int i = 0; i < 20; i++) {
                if (!callWith(ch, canary).equals("forecast-v2")) {
                  return false;
                }
              }
              return true;
            });
    // Weights: 80/20 over 1,000 calls, within 5 standard deviations (sd = sqrt(1000*.8*.2) = 12.6).
    Map<String, Integer> counts = spread(ch, 1000);
    System.out.println("weighted_split=" + counts);
    assertThat(counts.get("forecast-v1")).isBetween(800 - 63, 800 + 63);
    assertThat(counts.get("forecast-v2")).isBetween(200 - 63, 200 + 63);
  }

  static String callWith(ManagedChannel ch, Metadata headers) {
    return ClientCalls.blockingUnaryCall(
        io.grpc.ClientInterceptors.intercept(
            ch, MetadataUtils.newAttachHeadersInterceptor(headers)),
        TestBackends.WHO,
        CallOptions.DEFAULT.withDeadlineAfter(5, TimeUnit.SECONDS),
        "who?");
  }

  /**
   * A target the mesh doesn't have: grpc-java 1.85 keeps the RPC waiting for its name resolver, so
   * the control plane must make it visible: the name is listed as missing in syncz (and logged).
   */
  @Test
  void anUnknownTargetFailsFastAndIsVisible() throws Exception {
    addBackend("forecast-a", "127.0.0.8");
    ManagedChannel ch = xdsChannel("client-3", "nope.weather.svc.cluster.local:8080");
    assertThatThrownBy(() -> call(ch)).isInstanceOf(io.grpc.StatusRuntimeException.class);
    await()
        .atMost(Duration.ofSeconds(5))
        .untilAsserted(
            () ->
                assertThat(controlPlane.xds().syncStatus())
                    .singleElement()
                    .satisfies(
                        st ->
                            assertThat(st.types().get("lds").missing())
                                .containsExactly("nope.weather.svc.cluster.local:8080")));
  }
}
