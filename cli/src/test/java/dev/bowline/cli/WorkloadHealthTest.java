package dev.bowline.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import dev.bowline.agentstatus.AppHealthChecker;
import dev.bowline.agentstatus.Scheduler;
import dev.bowline.controlplane.ControlPlane;
import dev.bowline.controlplane.ControlPlaneOptions;
import dev.bowline.controlplane.config.ConfigFeed;
import dev.bowline.controlplane.model.ConfigInputs;
import dev.bowline.controlplane.registry.Endpoint;
import dev.bowline.controlplane.registry.HealthStatus;
import dev.bowline.controlplane.registry.LocalRegistry;
import dev.bowline.proxy.Proxy;
import dev.bowline.proxy.ProxyOptions;
import dev.bowline.proxy.bootstrap.BootstrapLoader;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
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
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Istio's WorkloadGroup health checking end to end, with the real control plane, our proxies and
 * the agent's prober: two VM workloads auto-register from a WorkloadGroup whose {@code probe} is an
 * HTTP GET; each agent probes its app and reports over its proxy's xDS stream ({@code
 * istio.v1.HealthInformation}); the control plane marks the failing workload's endpoint UNHEALTHY
 * in EDS, so a client sidecar stops sending it traffic, and sends to it again once its probe
 * passes.
 */
class WorkloadHealthTest {
  static final String CLIENT_IP = "127.0.0.90";
  static final String VM1_IP = "127.0.0.91";
  static final String VM2_IP = "127.0.0.92";
  static final String HEALTH_INFO = AppHealthChecker.HEALTH_INFORMATION_TYPE;

  @TempDir Path dir;
  final List<AutoCloseable> closing = new ArrayList<>();
  final ScheduledExecutorService probes = Executors.newScheduledThreadPool(2);

  @AfterEach
  void stop() throws Exception {
    probes.shutdownNow();
    for (AutoCloseable c : closing.reversed()) {
      c.close();
    }
  }

  /** An app answering its name on {@code /}, and 200 or 503 on {@code /healthz}. */
  HttpServer app(String ip, int port, String name, AtomicBoolean healthy) throws IOException {
    HttpServer s = HttpServer.create(new InetSocketAddress(ip, port), 50);
    s.createContext(
        "/",
        x -> {
          boolean probe = x.getRequestURI().getPath().equals("/healthz");
          int status = probe && !healthy.get() ? 503 : 200;
          byte[] body = (probe ? (status == 200 ? "ok" : "sick") : name).getBytes();
          x.sendResponseHeaders(status, body.length);
          x.getResponseBody().write(body);
          x.close();
        });
    s.start();
    closing.add(() -> s.stop(0));
    return s;
  }

  static int freePort(String... ips) throws IOException {
    for (int attempt = 0; ; attempt++) {
      int port = TestNet.freePort(ips[0]);
      boolean free = true;
      for (String ip : ips) {
        try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getByName(ip))) {
          // bindable
        } catch (IOException e) {
          free = false;
        }
      }
      if (free || attempt > 20) {
        return port;
      }
    }
  }

  /**
   * The WorkloadGroup {@code vm} (probe: {@code GET /healthz} on {@code appPort} every second, one
   * failure is unhealthy) and the ServiceEntry {@code vm.shop.example:svcPort} selecting its
   * entries.
   */
  static String vmGroup(int appPort, int svcPort) {
    return """
        apiVersion: networking.istio.io/v1
        kind: WorkloadGroup
        metadata: {name: vm, namespace: shop}
        spec:
          metadata: {labels: {app: vm}}
          template: {ports: {http: %1$d}, serviceAccount: vm}
          probe:
            periodSeconds: 1
            failureThreshold: 1
            httpGet: {path: /healthz, port: %1$d}
        ---
        apiVersion: networking.istio.io/v1
        kind: ServiceEntry
        metadata: {name: vm, namespace: shop}
        spec:
          hosts: [vm.shop.example]
          location: MESH_INTERNAL
          resolution: STATIC
          ports: [{number: %2$d, name: http, targetPort: %1$d}]
          workloadSelector: {labels: {app: vm}}
        """
        .formatted(appPort, svcPort);
  }

  @Test
  void anEndpointWhoseProbeFailsGetsNoTrafficUntilItPassesAgain() throws Exception {
    int appPort = freePort(VM1_IP, VM2_IP);
    int svcPort = freePort(CLIENT_IP, VM1_IP, VM2_IP);
    AtomicBoolean vm2Healthy = new AtomicBoolean(true);
    app(VM1_IP, appPort, "vm1", new AtomicBoolean(true));
    app(VM2_IP, appPort, "vm2", vm2Healthy);
    Files.writeString(
        dir.resolve("vm.yaml"),
        vmGroup(appPort, svcPort)
            + """
        ---
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: vm, namespace: shop}
        spec:
          host: vm.shop.example
          trafficPolicy: {tls: {mode: DISABLE}}
        ---
        apiVersion: security.istio.io/v1
        kind: PeerAuthentication
        metadata: {name: default, namespace: shop}
        spec: {mtls: {mode: DISABLE}}
        ---
        apiVersion: networking.istio.io/v1
        kind: Sidecar
        metadata: {name: client, namespace: shop}
        spec:
          workloadSelector: {labels: {app: client}}
          egress:
          - port: {number: %2$d, name: http}
            bind: %3$s
            captureMode: NONE
            hosts: [./vm.shop.example]
        """
                .formatted(appPort, svcPort, CLIENT_IP));
    ControlPlane controlPlane =
        new ControlPlane(
            ControlPlaneOptions.DEFAULTS
                .withPorts(0, 0)
                .withDebounce(Duration.ofMillis(20), Duration.ofSeconds(1)),
            new LocalRegistry("cluster.local"),
            ConfigInputs.NONE,
            Clock.systemUTC());
    closing.add(controlPlane);
    closing.add(ConfigFeed.start(controlPlane, List.of(dir), Clock.systemUTC()));
    controlPlane.start();
    closing.add(proxy(controlPlane, CLIENT_IP, "client-1", "{app: client}", "", "DELTA_GRPC"));
    // the VMs: each proxy auto-registers from the group; each agent probes its app as the group's
    // probe says (istioctl hands it to the VM's agent) and reports over its proxy's stream: vm1
    // on a delta stream, vm2 on a State of the World one
    for (String ip : List.of(VM1_IP, VM2_IP)) {
      String name = "vm-" + ip.substring(ip.lastIndexOf('.') + 1);
      Proxy vm =
          proxy(controlPlane, ip, name, "{}", "vm", ip.equals(VM1_IP) ? "DELTA_GRPC" : "GRPC");
      closing.add(vm);
      AppHealthChecker checker =
          AppHealthChecker.start(
              new AppHealthChecker.Probe.HttpGet(ip, appPort, "/healthz"),
              new AppHealthChecker.Settings(
                  Duration.ZERO, Duration.ofSeconds(1), Duration.ofSeconds(1), 1, 1),
              Scheduler.of(probes),
              why -> vm.reportToXds(HEALTH_INFO, why == null ? "" : why));
      closing.add(checker);
    }

    HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    URI uri = URI.create("http://" + CLIENT_IP + ":" + svcPort + "/");
    await()
        .atMost(Duration.ofSeconds(30))
        .ignoreExceptions()
        .until(() -> seen(http, uri, 20).equals(Set.of("vm1", "vm2")));

    // vm2's probe fails: its endpoint goes UNHEALTHY and gets no more requests
    vm2Healthy.set(false);
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> health(controlPlane, VM2_IP, svcPort) == HealthStatus.UNHEALTHY);
    await()
        .atMost(Duration.ofSeconds(30))
        .ignoreExceptions()
        .until(() -> seen(http, uri, 20).equals(Set.of("vm1")));
    assertThat(seen(http, uri, 40)).containsExactly("vm1");
    assertThat(health(controlPlane, VM1_IP, svcPort)).isEqualTo(HealthStatus.HEALTHY);

    // it passes again: back in rotation
    vm2Healthy.set(true);
    await()
        .atMost(Duration.ofSeconds(30))
        .ignoreExceptions()
        .until(() -> seen(http, uri, 20).equals(Set.of("vm1", "vm2")));
    assertThat(health(controlPlane, VM2_IP, svcPort)).isEqualTo(HealthStatus.HEALTHY);
  }

  /** The apps that answered {@code n} requests. */
  static Set<String> seen(HttpClient http, URI uri, int n) throws Exception {
    Set<String> out = new HashSet<>();
    for (int i = 0; i < n; i++) {
      HttpResponse<String> r =
          http.send(
              HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5)).build(),
              HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
      out.add(r.statusCode() == 200 ? r.body() : "status " + r.statusCode());
    }
    return out;
  }

  static HealthStatus health(ControlPlane cp, String ip, int port) {
    for (Endpoint e : cp.registry().snapshot().endpoints("vm.shop.example", port)) {
      if (e.address().equals(ip)) {
        return e.health();
      }
    }
    return HealthStatus.DRAINING; // not registered (yet)
  }

  static Proxy proxy(
      ControlPlane cp, String ip, String name, String labels, String group, String apiType)
      throws IOException {
    int admin = TestNet.freePort(ip);
    String bootstrap = bootstrap(ip, name, labels, group, admin, cp.xdsPort(), apiType);
    return Proxy.start(
        new BootstrapLoader().parse(name + ".yaml", bootstrap),
        ProxyOptions.defaults()
            .withWorkers(1)
            .withXdsBackoff(Duration.ofMillis(50), Duration.ofMillis(400)));
  }

  /**
   * A local-mode sidecar's bootstrap: node {@code sidecar~IP~NAME.shop~shop.svc.cluster.local} with
   * LABELS {@code labels} and AUTO_REGISTER_GROUP {@code group}, admin on {@code ip:admin}, ADS by
   * {@code apiType} ({@code GRPC} or {@code DELTA_GRPC}) to the control plane on {@code
   * 127.0.0.1:xdsPort}.
   */
  static String bootstrap(
      String ip, String name, String labels, String group, int admin, int xdsPort, String apiType) {
    return """
    node:
      id: sidecar~%1$s~%2$s.shop~shop.svc.cluster.local
      metadata:
        NAMESPACE: shop
        INTERCEPTION_MODE: NONE
        LABELS: %3$s
        AUTO_REGISTER_GROUP: "%4$s"
    admin: {address: {socket_address: {address: %1$s, port_value: %5$d}}}
    dynamic_resources:
      ads_config:
        api_type: %7$s
        transport_api_version: V3
        grpc_services: [{envoy_grpc: {cluster_name: xds-grpc}}]
      lds_config: {ads: {}, resource_api_version: V3}
      cds_config: {ads: {}, resource_api_version: V3}
    static_resources:
      clusters:
      - name: xds-grpc
        type: STATIC
        typed_extension_protocol_options:
          envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
            "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
            explicit_http_config: {http2_protocol_options: {}}
        load_assignment:
          cluster_name: xds-grpc
          endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: %6$d}}}}]}]
    """
        .formatted(ip, name, labels, group, admin, xdsPort, apiType);
  }
}
