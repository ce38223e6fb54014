package dev.bowline.controlplane;

import static org.assertj.core.api.Assertions.assertThat;
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
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * grpc-java's own xDS interop programs, unchanged, against our control plane: three {@code
 * XdsTestServer}s, each in its own JVM and UTS namespace (so each reports its own hostname), and an
 * {@code XdsTestClient} per case whose peer statistics we read as grpc's interop driver does. The
 * cases are those of grpc's xDS interop suite that need no cloud: ping_pong, round_robin,
 * traffic_splitting, path_matching, header_matching, fault_injection and timeout.
 *
 * <p>The programs come from {@code interop/grpc-xds/pom.xml}, resolved at their own grpc release
 * (they cannot share our grpc-bom).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class GrpcInteropIT {
  static final String NAMESPACE = "weather";
  static final String HOST = "interop." + NAMESPACE + ".svc.cluster.local";
  static final int SERVICE_PORT = 8080;
  static final List<String> BACKENDS = List.of("backend-a", "backend-b", "backend-c");

  /** Bootstraps, hosts file and every program's log, kept for reading after a failure. */
  Path dir;

  Path repo;
  Path configDir;
  String classpath;
  String java;
  final LocalRegistry registry = new LocalRegistry("cluster.local");
  final List<Process> servers = new ArrayList<>();
  Process client;
  int routes;
  ControlPlane controlPlane;
  ConfigFeed feed;

  @BeforeAll
  void start() throws Exception {
    repo = Path.of("").toAbsolutePath().getParent();
    dir = Files.createTempDirectory(Files.createDirectories(Path.of("target")), "grpc-interop-");
    java = ProcessHandle.current().info().command().orElseThrow();
    classpath = interopClasspath();
    configDir = Files.createDirectories(dir.resolve("config"));
    Path hosts = dir.resolve("hosts");
    StringBuilder hostLines = new StringBuilder();
    for (int i = 0; i < BACKENDS.size(); i++) {
      hostLines.append(address(i)).append(' ').append(BACKENDS.get(i)).append('\n');
    }
    Files.writeString(hosts, hostLines);

    registry.putService(
        new LocalService(
            NAMESPACE,
            "interop",
            List.of(new ServicePort("grpc", SERVICE_PORT, Protocol.GRPC, SERVICE_PORT)),
            Map.of(),
            Map.of()));
    for (int i = 0; i < BACKENDS.size(); i++) {
      int port = freePort();
      servers.add(startServer(BACKENDS.get(i), port, hosts));
      awaitListening(port);
      registry.putWorkload(
          new Workload(
              NAMESPACE,
              BACKENDS.get(i),
              Map.of("app", "interop", "version", i < 2 ? "v1" : "v2"),
              address(i),
              Map.of("grpc", port),
              "interop",
              new Locality("local", "zone-a", ""),
              "",
              HealthStatus.HEALTHY));
    }
    Files.writeString(
        configDir.resolve("dr.yaml"),
        """
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: interop, namespace: weather}
        spec:
          host: interop
          subsets:
          - {name: v1, labels: {version: v1}}
          - {name: v2, labels: {version: v2}}
        """);
    controlPlane =
        new ControlPlane(
            ControlPlaneOptions.DEFAULTS
                .withPorts(0, 0)
                .withDebounce(Duration.ofMillis(20), Duration.ofSeconds(1)),
            registry,
            ConfigInputs.NONE,
            Clock.systemUTC());
    feed = ConfigFeed.start(controlPlane, List.of(configDir), Clock.systemUTC());
    controlPlane.start();
  }

  @AfterEach
  void stopClient() throws Exception {
    stop(client);
    client = null;
  }

  @AfterAll
  void stop() throws Exception {
    for (Process p : servers) {
      stop(p);
    }
    if (feed != null) {
      feed.close();
    }
    if (controlPlane != null) {
      controlPlane.close();
    }
  }

  @Test
  void pingPong() throws Exception {
    route(
        """
        http:
        - route: [{destination: {host: interop, subset: v2}}]
        """);
    Stats stats = runClient("--rpc=UnaryCall", 100);
    assertThat(stats.failures).isZero();
    assertThat(stats.byPeer).containsOnlyKeys("backend-c").containsEntry("backend-c", 100);
  }

  @Test
  void roundRobin() throws Exception {
    route(
        """
        http:
        - route: [{destination: {host: interop}}]
        """);
    Stats stats = runClient("--rpc=UnaryCall", 600);
    System.out.println("round_robin=" + stats.byPeer);
    assertThat(stats.failures).isZero();
    assertThat(stats.byPeer).containsOnlyKeys(BACKENDS);
    // Round robin over three ready backends: every third RPC goes to each, give or take a few.
    stats.byPeer.values().forEach(n -> assertThat(n).isBetween(190, 210));
  }

  @Test
  void trafficSplitting() throws Exception {
    route(
        """
        http:
        - route:
          - {destination: {host: interop, subset: v1}, weight: 80}
          - {destination: {host: interop, subset: v2}, weight: 20}
        """);
    Stats stats = runClient("--rpc=UnaryCall", 2000);
    System.out.println("traffic_splitting=" + stats.byPeer);
    assertThat(stats.failures).isZero();
    // v2 is backend-c alone. Binomial(2000, 0.2): sd = 0.009, so +-0.04 is beyond 4 sd.
    double v2 = stats.byPeer.getOrDefault("backend-c", 0) / 2000.0;
    assertThat(v2).isBetween(0.16, 0.24);
    assertThat(stats.byPeer).containsKeys("backend-a", "backend-b");
  }

  @Test
  void pathMatching() throws Exception {
    route(
        """
        http:
        - match: [{uri: {exact: /grpc.testing.TestService/EmptyCall}}]
          route: [{destination: {host: interop, subset: v2}}]
        - match: [{uri: {prefix: /grpc.testing.TestService/}}]
          route: [{destination: {host: interop, subset: v1}}]
        """);
    Stats stats = runClient("--rpc=EmptyCall,UnaryCall", 400);
    System.out.println("path_matching=" + stats.byMethod);
    assertThat(stats.failures).isZero();
    assertThat(stats.byMethod.get("EmptyCall")).containsOnlyKeys("backend-c");
    assertThat(stats.byMethod.get("UnaryCall")).containsOnlyKeys("backend-a", "backend-b");
  }

  @Test
  void headerMatching() throws Exception {
    route(
        """
        http:
        - match: [{headers: {xds_md: {exact: canary}}}]
          route: [{destination: {host: interop, subset: v2}}]
        - route: [{destination: {host: interop, subset: v1}}]
        """);
    Stats stats = runClient("--rpc=EmptyCall,UnaryCall --metadata=EmptyCall:xds_md:canary", 400);
    System.out.println("header_matching=" + stats.byMethod);
    assertThat(stats.failures).isZero();
    assertThat(stats.byMethod.get("EmptyCall")).containsOnlyKeys("backend-c");
    assertThat(stats.byMethod.get("UnaryCall")).containsOnlyKeys("backend-a", "backend-b");
  }

  @Test
  void faultInjectionAbortsHalfTheCalls() throws Exception {
    route(
        """
        http:
        - fault: {abort: {grpcStatus: UNAVAILABLE, percentage: {value: 50}}}
          route: [{destination: {host: interop, subset: v1}}]
        """);
    Stats stats = runClient("--rpc=UnaryCall", 1000);
    System.out.println("fault_injection=" + stats.byPeer + " failures=" + stats.failures);
    // Binomial(1000, 0.5): sd = 0.016; +-0.07 is beyond 4 sd.
    assertThat(stats.failures / 1000.0).isBetween(0.43, 0.57);
    assertThat(stats.byPeer).containsOnlyKeys("backend-a", "backend-b");
  }

  @Test
  void routeTimeoutEndsSlowCalls() throws Exception {
    route(
        """
        http:
        - timeout: 500ms
          route: [{destination: {host: interop, subset: v1}}]
        """);
    // XdsTestServer sleeps 2 s on calls carrying "rpc-behavior: sleep-2": those UnaryCalls end
    // with DEADLINE_EXCEEDED at the route's 500 ms; EmptyCalls are quick and pass.
    Stats stats =
        runClient("--rpc=EmptyCall,UnaryCall --metadata=UnaryCall:rpc-behavior:sleep-2", 200);
    System.out.println("timeout=" + stats.byMethod + " failures=" + stats.failures);
    // (Round robin alternates a, b while the client alternates EmptyCall, UnaryCall: one backend
    // may see every EmptyCall.)
    assertThat(stats.byMethod.get("EmptyCall").keySet()).isSubsetOf("backend-a", "backend-b");
    assertThat(stats.byMethod.get("EmptyCall").values().stream().mapToInt(i -> i).sum())
        .isEqualTo(100);
    assertThat(stats.byMethod).doesNotContainKey("UnaryCall");
    assertThat(stats.failures).isBetween(90, 110);
  }

  /**
   * Writes the VirtualService for {@code interop} with these routes (named after the case, so that
   * {@code /debug/configz} shows when it is in force) and waits until the previous one is gone.
   */
  void route(String http) throws Exception {
    String name = "interop-" + (++routes);
    String vs =
        """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: %s, namespace: weather}
        spec:
          hosts: [interop]
        """
                .formatted(name)
            + http.indent(2);
    Files.writeString(configDir.resolve("vs.yaml"), vs);
    String previous = "\"name\":\"interop-" + (routes - 1) + "\"";
    long[] storeVersion = {-1};
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () -> {
              String configz = configz();
              var v = STORE_VERSION.matcher(configz);
              if (configz.contains("\"name\":\"" + name + "\"")
                  && !configz.contains(previous)
                  && v.find()) {
                storeVersion[0] = Long.parseLong(v.group(1));
                return true;
              }
              return false;
            });
    // the debounced push that follows the store's change: a client started after it gets this
    // config
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> controlPlane.pushedConfigVersion() >= storeVersion[0]);
  }

  /** {@code /debug/configz}'s store version (its first {@code version} key). */
  private static final Pattern STORE_VERSION = Pattern.compile("\"version\":(\\d+)");

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

  /**
   * Starts an XdsTestClient with {@code flags} against our control plane and returns the peers of
   * {@code rpcs} RPCs after its first successful ones.
   */
  Stats runClient(String flags, int rpcs) throws Exception {
    int statsPort = freePort();
    Path bootstrap = dir.resolve("bootstrap-" + statsPort + ".json");
    Files.writeString(
        bootstrap,
        """
        {"xds_servers": [{"server_uri": "127.0.0.1:%d", "channel_creds": [{"type": "insecure"}],
          "server_features": ["xds_v3"]}],
         "node": {"id": "sidecar~127.0.0.20~interop-client.weather~weather.svc.cluster.local",
          "metadata": {"GENERATOR": "grpc", "NAMESPACE": "weather"}}}
        """
            .formatted(controlPlane.xdsPort()));
    List<String> command = new ArrayList<>(jvm());
    command.add("io.grpc.testing.integration.XdsTestClient");
    command.add("--server=xds:///" + HOST + ":" + SERVICE_PORT);
    command.add("--stats_port=" + statsPort);
    command.add("--qps=200");
    command.add("--rpc_timeout_sec=5");
    command.addAll(List.of(flags.split(" ")));
    ProcessBuilder pb =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("client-" + statsPort + ".log").toFile());
    pb.environment().put("GRPC_XDS_BOOTSTRAP", bootstrap.toString());
    client = pb.start();
    awaitListening(statsPort);
    // Warm up: the first RPCs wait for xDS resolution and connections.
    await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofSeconds(1))
        .until(() -> query(statsPort, 20, 10).succeeded() >= 5);
    return query(statsPort, rpcs, 60);
  }

  Stats query(int statsPort, int rpcs, int timeoutSeconds) throws Exception {
    List<String> command = new ArrayList<>(jvm());
    command.add(repo.resolve("interop/grpc-xds/StatsQuery.java").toString());
    command.add("127.0.0.1:" + statsPort);
    command.add(Integer.toString(rpcs));
    command.add(Integer.toString(timeoutSeconds));
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(timeoutSeconds + 60L, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
    Stats stats = new Stats();
    for (String line : out.lines().toList()) {
      String[] f = line.split(" ");
      switch (f[0]) {
        case "peer" -> stats.byPeer.put(f[1], Integer.parseInt(f[2]));
        case "method" ->
            stats
                .byMethod
                .computeIfAbsent(f[1], m -> new HashMap<>())
                .put(f[2], Integer.parseInt(f[3]));
        case "failures" -> stats.failures = Integer.parseInt(f[1]);
        default -> {}
      }
    }
    return stats;
  }

  static final class Stats {
    final Map<String, Integer> byPeer = new HashMap<>();
    final Map<String, Map<String, Integer>> byMethod = new HashMap<>();
    int failures = -1;

    int succeeded() {
      return byPeer.values().stream().mapToInt(Integer::intValue).sum();
    }
  }

  Process startServer(String hostname, int port, Path hosts) throws IOException {
    List<String> command = new ArrayList<>();
    command.add("unshare");
    if (!"root".equals(System.getProperty("user.name"))) {
      command.add("--map-root-user");
    }
    command.addAll(List.of("--uts", "sh", "-c", "hostname \"$0\" && exec \"$@\"", hostname));
    command.addAll(jvm());
    command.add("-Djdk.net.hosts.file=" + hosts);
    command.add("io.grpc.testing.integration.XdsTestServer");
    command.add("--port=" + port);
    command.add("--maintenance_port=" + port);
    command.add("--address_type=IPV4");
    command.add("--server_id=" + hostname);
    return new ProcessBuilder(command)
        .redirectErrorStream(true)
        .redirectOutput(dir.resolve(hostname + ".log").toFile())
        .start();
  }

  List<String> jvm() {
    return List.of(
        java,
        "-XX:TieredStopAtLevel=1",
        "-Xshare:auto",
        "--enable-native-access=ALL-UNNAMED",
        "--sun-misc-unsafe-memory-access=allow",
        "-cp",
        classpath);
  }

  /** The interop programs' classpath, resolved once by Maven from interop/grpc-xds/pom.xml. */
  String interopClasspath() throws Exception {
    Path out = Path.of("target/grpc-xds-interop.classpath").toAbsolutePath();
    if (!Files.exists(out)) {
      Process p =
          new ProcessBuilder(
                  repo.resolve("mvnw").toString(),
                  "-q",
                  "-f",
                  repo.resolve("interop/grpc-xds/pom.xml").toString(),
                  "dependency:build-classpath",
                  "-Dmdep.outputFile=" + out)
              .redirectErrorStream(true)
              .start();
      String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(p.waitFor(10, TimeUnit.MINUTES)).isTrue();
      assertThat(p.exitValue()).as(log).isZero();
    }
    return Files.readString(out).strip();
  }

  static String address(int i) {
    return "127.0.0." + (31 + i);
  }

  static int freePort() throws IOException {
    return LocalMesh.freePort("0.0.0.0");
  }

  static void awaitListening(int port) {
    await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(200))
        .ignoreExceptions()
        .until(
            () -> {
              try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 500);
                return true;
              }
            });
  }

  static void stop(Process p) throws InterruptedException {
    if (p == null) {
      return;
    }
    p.descendants().forEach(ProcessHandle::destroy);
    p.destroy();
    if (!p.waitFor(10, TimeUnit.SECONDS)) {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
    }
  }
}
