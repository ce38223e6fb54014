package dev.bowline.cli.traffic;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.bowline.controlplane.ControlPlane;
import dev.bowline.controlplane.config.ConfigFeed;
import dev.bowline.controlplane.model.ConfigInputs;
import dev.bowline.controlplane.registry.HealthStatus;
import dev.bowline.controlplane.registry.LocalRegistry;
import dev.bowline.controlplane.registry.LocalService;
import dev.bowline.controlplane.registry.Locality;
import dev.bowline.controlplane.registry.Protocol;
import dev.bowline.controlplane.registry.ServicePort;
import dev.bowline.controlplane.registry.Workload;
import dev.bowline.proxy.Proxy;
import dev.bowline.proxy.ProxyOptions;
import dev.bowline.proxy.bootstrap.BootstrapLoader;
import java.net.InetSocketAddress;
import java.net.ProxySelector;
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
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * DestinationRule policies end to end: Istio YAML in a watched directory → Bowline's control plane
 * (CDS/EDS/RDS as istiod emits them) → a Bowline sidecar in local mode (the client calls through
 * its HTTP_PROXY port 15001) → backends that report who they are and can be told to fail.
 * Consistent hash, circuit breaker, outlier detection and locality failover, each measured.
 */
class TrafficPolicyIT {
  static final String NS = "weather";
  static final String CLIENT_IP = "127.0.62.1";
  static final int PORT = 8080;

  @TempDir static Path dir;
  static LocalRegistry registry;
  static ControlPlane controlPlane;
  static ConfigFeed feed;
  static Proxy sidecar;
  static final Map<String, Backend> backends = new HashMap<>();
  static HttpClient client;

  static final String CONFIG =
      """
      apiVersion: networking.istio.io/v1
      kind: Sidecar
      metadata: {name: default, namespace: weather}
      spec:
        egress:
        - port: {number: 15001, protocol: HTTP_PROXY, name: http-proxy}
          captureMode: NONE
          hosts: ["./*"]
      ---
      apiVersion: networking.istio.io/v1
      kind: DestinationRule
      metadata: {name: hash, namespace: weather}
      spec:
        host: hash
        trafficPolicy:
          loadBalancer:
            consistentHash: {httpHeaderName: x-user, ringHash: {minimumRingSize: 1024}}
      ---
      apiVersion: networking.istio.io/v1
      kind: DestinationRule
      metadata: {name: cb, namespace: weather}
      spec:
        host: cb
        trafficPolicy:
          connectionPool:
            tcp: {maxConnections: 1}
            http: {http1MaxPendingRequests: 1, maxRequestsPerConnection: 1000}
      ---
      apiVersion: networking.istio.io/v1
      kind: DestinationRule
      metadata: {name: od, namespace: weather}
      spec:
        host: od
        trafficPolicy:
          loadBalancer: {simple: ROUND_ROBIN}
          outlierDetection:
            consecutive5xxErrors: 3
            interval: 1s
            baseEjectionTime: 60s
            maxEjectionPercent: 100
      ---
      apiVersion: networking.istio.io/v1
      kind: DestinationRule
      metadata: {name: loc, namespace: weather}
      spec:
        host: loc
        trafficPolicy:
          loadBalancer:
            simple: ROUND_ROBIN
            localityLbSetting:
              enabled: true
              failover: [{from: region1, to: region2}]
          outlierDetection:
            consecutive5xxErrors: 2
            interval: 500ms
            baseEjectionTime: 3s
            maxEjectionPercent: 100
      """;

  static void service(String name) {
    registry.putService(
        new LocalService(
            NS,
            name,
            List.of(new ServicePort("http", PORT, Protocol.HTTP, PORT)),
            Map.of("app", name),
            Map.of()));
  }

  static void workload(String app, String name, String ip, String locality) {
    Backend b = new Backend(name, ip);
    backends.put(name, b);
    registry.putWorkload(
        new Workload(
            NS,
            name,
            Map.of("app", app),
            ip,
            Map.of("http", b.port()),
            "default",
            Locality.parse(locality),
            "",
            HealthStatus.HEALTHY));
  }

  static int free(String ip) throws Exception {
    try (var s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getByName(ip))) {
      return s.getLocalPort();
    }
  }

  @BeforeAll
  static void start() throws Exception {
    registry = new LocalRegistry("cluster.local");
    // the client workload: its locality is the proxy's
    registry.putService(
        new LocalService(
            NS,
            "client",
            List.of(new ServicePort("http", 18000, Protocol.HTTP, 18000)),
            Map.of("app", "client"),
            Map.of()));
    registry.putWorkload(
        new Workload(
            NS,
            "client",
            Map.of("app", "client"),
            CLIENT_IP,
            Map.of(),
            "default",
            Locality.parse("region1/zone1/"),
            "",
            HealthStatus.HEALTHY));
    for (String s : List.of("hash", "cb", "od", "loc")) {
      service(s);
    }
    workload("hash", "hash-1", "127.0.62.11", "region1/zone1/");
    workload("hash", "hash-2", "127.0.62.12", "region1/zone1/");
    workload("hash", "hash-3", "127.0.62.13", "region1/zone1/");
    workload("cb", "cb-1", "127.0.62.21", "region1/zone1/");
    workload("od", "od-1", "127.0.62.31", "region1/zone1/");
    workload("od", "od-2", "127.0.62.32", "region1/zone1/");
    workload("od", "od-3", "127.0.62.33", "region1/zone1/");
    workload("loc", "loc-local", "127.0.62.41", "region1/zone1/");
    workload("loc", "loc-remote-1", "127.0.62.42", "region2/zone2/");
    workload("loc", "loc-remote-2", "127.0.62.43", "region2/zone2/");
    workload("loc", "loc-far", "127.0.62.44", "region3/zone3/");
    Path config = Files.createDirectory(dir.resolve("config"));
    Files.writeString(config.resolve("policies.yaml"), CONFIG);
    controlPlane =
        new ControlPlane(
            dev.bowline.controlplane.ControlPlaneOptions.DEFAULTS
                .withPorts(0, 0)
                .withDebounce(Duration.ofMillis(20), Duration.ofSeconds(1)),
            registry,
            ConfigInputs.NONE,
            Clock.systemUTC());
    feed = ConfigFeed.start(controlPlane, List.of(config), Clock.systemUTC());
    controlPlane.start();
    String bootstrap =
        """
        node:
          id: sidecar~%1$s~client.weather~weather.svc.cluster.local
          cluster: client.weather
          metadata:
            NAMESPACE: weather
            LABELS: {app: client}
            INTERCEPTION_MODE: NONE
            ISTIO_VERSION: 1.16.0
        admin:
          address: {socket_address: {address: %1$s, port_value: %2$d}}
        dynamic_resources:
          ads_config:
            api_type: GRPC
            transport_api_version: V3
            grpc_services: [{envoy_grpc: {cluster_name: xds-grpc}}]
          lds_config: {ads: {}, resource_api_version: V3}
          cds_config: {ads: {}, resource_api_version: V3}
        static_resources:
          clusters:
          - name: xds-grpc
            type: STATIC
            connect_timeout: 1s
            typed_extension_protocol_options:
              envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
                "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
                explicit_http_config: {http2_protocol_options: {}}
            load_assignment:
              cluster_name: xds-grpc
              endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: %3$d}}}}]}]
        """
            .formatted(CLIENT_IP, free(CLIENT_IP), controlPlane.xdsPort());
    sidecar =
        Proxy.start(
            new BootstrapLoader().parse("client.yaml", bootstrap),
            ProxyOptions.defaults().withWorkers(2));
    client =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .proxy(ProxySelector.of(new InetSocketAddress(CLIENT_IP, 15001)))
            .connectTimeout(Duration.ofSeconds(5))
            .build();
    // the mesh is ready when every service answers through the sidecar
    await()
        .atMost(Duration.ofSeconds(60))
        .ignoreExceptions()
        .until(
            () -> {
              for (String s : List.of("hash", "cb", "od", "loc")) {
                if (call(s, "/").statusCode() != 200) {
                  return false;
                }
              }
              return true;
            });
  }

  @AfterAll
  static void stop() throws Exception {
    if (sidecar != null) {
      sidecar.close();
    }
    if (feed != null) {
      feed.close();
    }
    if (controlPlane != null) {
      controlPlane.close();
    }
    backends.values().forEach(Backend::close);
  }

  static HttpResponse<String> call(String service, String path, String... headers)
      throws Exception {
    var req =
        HttpRequest.newBuilder(
            URI.create("http://" + service + "." + NS + ".svc.cluster.local:" + PORT + path));
    if (headers.length > 0) {
      req.headers(headers);
    }
    return client.send(req.build(), HttpResponse.BodyHandlers.ofString());
  }

  static Map<String, Integer> spread(String service, int n, String... headers) throws Exception {
    Map<String, Integer> counts = new HashMap<>();
    for (int i = 0; i < n; i++) {
      HttpResponse<String> r = call(service, "/", headers);
      counts.merge(r.statusCode() == 200 ? r.body() : "status-" + r.statusCode(), 1, Integer::sum);
    }
    return counts;
  }

  @Test
  void consistentHashSendsTheSameHeaderToTheSameEndpoint() throws Exception {
    Map<String, Integer> alice = spread("hash", 1000, "x-user", "alice");
    System.out.println("consistent_hash_alice=" + alice);
    assertThat(alice).hasSize(1);
    assertThat(alice.values()).containsExactly(1000);
    Map<String, Integer> users = new HashMap<>();
    for (int i = 0; i < 60; i++) {
      users.merge(call("hash", "/", "x-user", "user-" + i).body(), 1, Integer::sum);
    }
    assertThat(users.keySet()).containsExactlyInAnyOrder("hash-1", "hash-2", "hash-3");
  }

  @Test
  void circuitBreakerAnswersOverflowWith503Uo() throws Exception {
    List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      HttpClient own =
          HttpClient.newBuilder()
              .version(HttpClient.Version.HTTP_1_1)
              .proxy(ProxySelector.of(new InetSocketAddress(CLIENT_IP, 15001)))
              .build();
      calls.add(
          own.sendAsync(
              HttpRequest.newBuilder(
                      URI.create("http://cb." + NS + ".svc.cluster.local:" + PORT + "/slow"))
                  .build(),
              HttpResponse.BodyHandlers.ofString()));
    }
    int ok = 0;
    int overflow = 0;
    for (var c : calls) {
      HttpResponse<String> r = c.get();
      if (r.statusCode() == 200) {
        ok++;
      } else if (r.statusCode() == 503
          && r.headers().firstValue("x-envoy-overloaded").orElse("").equals("true")) {
        overflow++;
      }
    }
    System.out.println("circuit_breaker ok=" + ok + " overflow_503_UO=" + overflow + " of 20");
    assertThat(ok + overflow).isEqualTo(20);
    assertThat(ok).isGreaterThanOrEqualTo(2);
    assertThat(overflow).isGreaterThanOrEqualTo(5);
  }

  @Test
  void outlierDetectionEjectsTheBadEndpointWithinTwoIntervals() throws Exception {
    backends.get("od-2").status.set(500);
    try {
      long start = System.nanoTime();
      int errors = 0;
      // round robin over 3: od-2's third 5xx in a row arrives within ~9 requests
      for (int i = 0; i < 12; i++) {
        if (call("od", "/").statusCode() == 500) {
          errors++;
        }
      }
      Duration took = Duration.ofNanos(System.nanoTime() - start);
      Map<String, Integer> after = spread("od", 300);
      System.out.println(
          "outlier errors_before_ejection=" + errors + " within=" + took + " after=" + after);
      assertThat(errors).isEqualTo(3);
      assertThat(took).isLessThan(Duration.ofSeconds(2)); // two intervals
      assertThat(after).containsOnlyKeys("od-1", "od-3");
      assertThat(after.values().stream().mapToInt(Integer::intValue).sum()).isEqualTo(300);
    } finally {
      backends.get("od-2").status.set(200);
    }
  }

  @Test
  void localityFailoverMovesToTheNextPriorityAndBack() throws Exception {
    assertThat(spread("loc", 50)).containsOnlyKeys("loc-local");
    backends.get("loc-local").status.set(503);
    try {
      await()
          .atMost(Duration.ofSeconds(10))
          .until(
              () -> spread("loc", 10).keySet().stream().allMatch(k -> k.startsWith("loc-remote")));
      Map<String, Integer> failover = spread("loc", 60);
      System.out.println("locality_failover=" + failover);
      // region2 is the named failover region: region3 (loc-far) stays unused
      assertThat(failover).containsOnlyKeys("loc-remote-1", "loc-remote-2");
    } finally {
      backends.get("loc-local").status.set(200);
    }
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> spread("loc", 10).keySet().equals(java.util.Set.of("loc-local")));
    Map<String, Integer> back = spread("loc", 50);
    System.out.println("locality_returned=" + back);
    assertThat(back).containsOnlyKeys("loc-local");
  }
}
