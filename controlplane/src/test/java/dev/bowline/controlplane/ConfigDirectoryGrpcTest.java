package dev.bowline.controlplane;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.bowline.controlplane.config.ConfigFeed;
import dev.bowline.controlplane.model.ConfigInputs;
import dev.bowline.controlplane.registry.HealthStatus;
import dev.bowline.controlplane.registry.LocalRegistry;
import dev.bowline.controlplane.registry.LocalService;
import dev.bowline.controlplane.registry.Locality;
import dev.bowline.controlplane.registry.Protocol;
import dev.bowline.controlplane.registry.ServicePort;
import dev.bowline.controlplane.registry.Workload;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.xds.XdsNameResolverProvider;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Istio YAML in a watched directory drives grpc-java's own xDS client: a VirtualService splits
 * 80/20 over DestinationRule subsets, an edit to 50/50 is seen, and a broken edit is refused while
 * traffic keeps the last good split.
 */
class ConfigDirectoryGrpcTest {
  static final String HOST = "forecast.weather.svc.cluster.local";
  static final int PORT = 8080;
  static final int RPCS = 1000;

  static final String DESTINATION_RULE =
      """
      apiVersion: networking.istio.io/v1
      kind: DestinationRule
      metadata: {name: forecast, namespace: weather}
      spec:
        host: forecast
        subsets:
        - {name: v1, labels: {version: v1}}
        - {name: v2, labels: {version: v2}}
      """;

  @TempDir Path dir;
  final LocalRegistry registry = new LocalRegistry("cluster.local");
  final List<Server> backends = new ArrayList<>();
  ControlPlane controlPlane;
  ConfigFeed feed;
  ManagedChannel channel;

  static String split(int v1, int v2) {
    return """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: forecast, namespace: weather}
        spec:
          hosts: [forecast]
          http:
          - route:
            - destination: {host: forecast, subset: v1}
              weight: %d
            - destination: {host: forecast, subset: v2}
              weight: %d
        """
        .formatted(v1, v2);
  }

  @AfterEach
  void stop() throws Exception {
    if (channel != null) {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    for (Server s : backends) {
      s.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    if (feed != null) {
      feed.close();
    }
    if (controlPlane != null) {
      controlPlane.close();
    }
  }

  @Test
  void virtualServiceFileSplitsTrafficFollowsEditsAndSurvivesABrokenEdit() throws Exception {
    Path vs = dir.resolve("vs.yaml");
    startWith(split(80, 20));

    Map<String, Integer> first = calls(RPCS);
    System.out.println("split_80_20=" + first);
    assertThat(share(first, "forecast-v2")).isBetween(0.15, 0.25);

    Files.writeString(vs, split(50, 50));
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> configz().contains("\"resourceVersion\":\"3\""));
    // Then until the client has it: 100 calls with a v2 share an 80/20 split gives ~1e-4 of times.
    await().atMost(Duration.ofSeconds(10)).until(() -> share(calls(100), "forecast-v2") > 0.35);
    Map<String, Integer> second = calls(RPCS);
    System.out.println("split_50_50=" + second);
    assertThat(share(second, "forecast-v2")).isBetween(0.44, 0.56);

    // A negative weight: the store refuses the edit and keeps 50/50 in force.
    Files.writeString(vs, split(50, 50).replace("weight: 50", "weight: -50"));
    await().atMost(Duration.ofSeconds(10)).until(() -> configz().contains("must not be negative"));
    assertThat(configz())
        .contains("\"keptPrevious\":true")
        .contains("\"kind\":\"VirtualService\"")
        .contains("\"resourceVersion\":\"3\"");
    Map<String, Integer> third = calls(RPCS);
    System.out.println("after_broken_edit=" + third);
    assertThat(share(third, "forecast-v2")).isBetween(0.44, 0.56);
  }

  void startWith(String virtualService) throws Exception {
    registry.putService(
        new LocalService(
            "weather",
            "forecast",
            List.of(new ServicePort("grpc", PORT, Protocol.GRPC, PORT)),
            Map.of(),
            Map.of()));
    addBackend("forecast-v1", "127.0.0.2", "v1");
    addBackend("forecast-v2", "127.0.0.3", "v2");
    Files.writeString(dir.resolve("dr.yaml"), DESTINATION_RULE);
    Files.writeString(dir.resolve("vs.yaml"), virtualService);
    controlPlane =
        new ControlPlane(
            ControlPlaneOptions.DEFAULTS
                .withPorts(0, 0)
                .withDebounce(Duration.ofMillis(20), Duration.ofSeconds(1)),
            registry,
            ConfigInputs.NONE,
            Clock.systemUTC());
    feed = ConfigFeed.start(controlPlane, List.of(dir), Clock.systemUTC());
    controlPlane.start();
    channel = xdsChannel();
    // The first call also waits for xDS resolution, which on a loaded machine may take seconds.
    await()
        .atMost(Duration.ofSeconds(30))
        .ignoreExceptions()
        .until(() -> !GrpcXdsClientTest.call(channel).isEmpty());
  }

  /**
   * A VirtualService fault in its Envoy form (per-route config of the fault filter the gRPC
   * listener carries), enforced by grpc-java itself: the matched requests are aborted with
   * UNAVAILABLE, the others pass.
   */
  @Test
  void faultAbortReachesTheGrpcClient() throws Exception {
    startWith(
        """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: forecast, namespace: weather}
        spec:
          hosts: [forecast]
          http:
          - match: [{headers: {x-fault: {exact: abort}}}]
            fault: {abort: {grpcStatus: UNAVAILABLE, percentage: {value: 100}}}
            route: [{destination: {host: forecast, subset: v1}}]
          - route: [{destination: {host: forecast, subset: v2}}]
        """);
    assertThat(GrpcXdsClientTest.call(channel)).isEqualTo("forecast-v2");
    for (int i = 0; i < 5; i++) {
      assertThatThrownBy(() -> GrpcXdsClientTest.callWith(channel, header("x-fault", "abort")))
          .isInstanceOfSatisfying(
              StatusRuntimeException.class,
              e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
    }
    assertThat(GrpcXdsClientTest.callWith(channel, header("x-fault", "none")))
        .isEqualTo("forecast-v2");
  }

  static Metadata header(String name, String value) {
    Metadata headers = new Metadata();
    headers.put(Metadata.Key.of(name, Metadata.ASCII_STRING_MARSHALLER), value);
    return headers;
  }

  static double share(Map<String, Integer> counts, String name) {
    int total = counts.values().stream().mapToInt(Integer::intValue).sum();
    return counts.getOrDefault(name, 0) / (double) total;
  }

  Map<String, Integer> calls(int n) {
    Map<String, Integer> counts = new HashMap<>();
    for (int i = 0; i < n; i++) {
      counts.merge(GrpcXdsClientTest.call(channel), 1, Integer::sum);
    }
    return counts;
  }

  String configz() throws Exception {
    try (HttpClient http = HttpClient.newHttpClient()) {
      return http.send(
              HttpRequest.newBuilder(
                      URI.create(
                          "http://127.0.0.1:" + controlPlane.monitoringPort() + "/debug/configz"))
                  .build(),
              HttpResponse.BodyHandlers.ofString())
          .body()
          .replace("\" : ", "\":");
    }
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

  ManagedChannel xdsChannel() {
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
                "sidecar~127.0.0.1~client.weather~weather.svc.cluster.local",
                "metadata",
                Map.of("GENERATOR", "grpc", "NAMESPACE", "weather")));
    @SuppressWarnings("deprecation")
    ManagedChannel ch =
        Grpc.newChannelBuilder(
                GrpcXdsClientTest.SCHEME + ":///" + HOST + ":" + PORT,
                InsecureChannelCredentials.create())
            .nameResolverFactory(
                XdsNameResolverProvider.createForTest(GrpcXdsClientTest.SCHEME, bootstrap))
            .build();
    return ch;
  }
}
