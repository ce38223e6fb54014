package dev.bowline.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import dev.bowline.controlplane.ControlPlane;
import dev.bowline.controlplane.ControlPlaneOptions;
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
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ProxySelector;
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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A small mesh in one JVM for end-to-end policy tests, all real: Bowline's control plane watching a
 * directory of Istio YAML, a client sidecar (local mode: the client talks to its HTTP_PROXY
 * listener on :15001), and per backend instance an app plus its own sidecar (inbound listener on
 * the service port, forwarding to the app). The apps can be told to fail, delay or report who they
 * are by path (see {@link App}).
 */
public final class PolicyMesh implements AutoCloseable {
  static final String NS = "weather";
  static final String SERVICE = "forecast";
  static final String HOST = "forecast.weather.svc.cluster.local";
  static final int PORT = 8080;
  static final int APP_PORT = 18080;

  final Path configDir;
  final String clientIp;
  final LocalRegistry registry = new LocalRegistry("cluster.local");
  final List<App> apps = new ArrayList<>();
  final List<Proxy> proxies = new ArrayList<>();
  final ControlPlane controlPlane;
  final ConfigFeed feed;
  final Proxy client;
  final HttpClient http;

  /**
   * Starts the mesh: {@code versions} lists each backend instance's {@code version} label; the
   * control plane reads {@code configDir}. Addresses are {@code <net>.1} (client) and {@code
   * <net>.10+i} (backends).
   */
  PolicyMesh(Path configDir, String net, List<String> versions) throws IOException {
    this.configDir = configDir;
    this.clientIp = net + ".1";
    registry.putService(
        new LocalService(
            NS,
            SERVICE,
            List.of(new ServicePort("http", PORT, Protocol.HTTP, APP_PORT)),
            Map.of(),
            Map.of()));
    for (int i = 0; i < versions.size(); i++) {
      String ip = net + "." + (10 + i);
      String name = SERVICE + "-" + versions.get(i) + "-" + i;
      apps.add(new App(name, ip, APP_PORT));
      registry.putWorkload(
          new Workload(
              NS,
              name,
              Map.of("app", SERVICE, "version", versions.get(i)),
              ip,
              Map.of("http", PORT),
              SERVICE,
              new Locality("local", "zone-a", ""),
              "",
              HealthStatus.HEALTHY));
    }
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
    client = sidecar("client", clientIp, Map.of("app", "client"), List.of());
    for (int i = 0; i < versions.size(); i++) {
      App a = apps.get(i);
      sidecar(a.name, a.ip, Map.of("app", SERVICE, "version", versions.get(i)), List.of("http"));
    }
    http =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .proxy(ProxySelector.of(new InetSocketAddress(clientIp, 15001)))
            .connectTimeout(Duration.ofSeconds(5))
            .build();
  }

  private Proxy sidecar(String name, String ip, Map<String, String> labels, List<String> ports) {
    return start("sidecar", NS, name, ip, labels, ports);
  }

  /**
   * Starts an ingress gateway proxy ({@code router~}, namespace {@code istio-system}, local mode)
   * at {@code ip} with {@code labels}; Gateways whose selector matches them configure it.
   */
  Proxy gateway(String ip, Map<String, String> labels) {
    return start("router", "istio-system", "istio-ingressgateway-0", ip, labels, List.of());
  }

  private Proxy start(
      String type,
      String ns,
      String name,
      String ip,
      Map<String, String> labels,
      List<String> ports) {
    Proxy p =
        startSidecar(
            type,
            ns,
            name,
            ip,
            labels,
            ports,
            APP_PORT,
            Map.of("CLUSTER_ID", "Kubernetes"),
            List.of(cluster("xds-grpc", socket("127.0.0.1", controlPlane.xdsPort()))));
    proxies.add(p);
    return p;
  }

  /**
   * Starts our proxy in local mode as Istio's injector and agent would configure it: node {@code
   * TYPE~IP~NAME.NS~NS.svc.cluster.local} (cluster {@code NAME.NS}) with Istio's metadata (LABELS,
   * INSTANCE_IPS, POD_PORTS of {@code ports} on {@code appPort}, ... plus {@code extraMetadata}),
   * admin on a free port of {@code ip}, ADS over the static cluster {@code xds-grpc} among {@code
   * clusters}; one worker, short xDS backoff. The caller closes it.
   */
  public static Proxy startSidecar(
      String type,
      String ns,
      String name,
      String ip,
      Map<String, String> labels,
      List<String> ports,
      int appPort,
      Map<String, Object> extraMetadata,
      List<Map<String, Object>> clusters) {
    Map<String, Object> md = new LinkedHashMap<>();
    md.put("NAMESPACE", ns);
    md.put("LABELS", labels);
    md.put("ISTIO_VERSION", "1.16.0");
    md.put("INTERCEPTION_MODE", "NONE");
    md.put("INSTANCE_IPS", ip);
    md.put("NAME", name);
    md.putAll(extraMetadata);
    List<Map<String, Object>> podPorts = new ArrayList<>();
    for (String p : ports) {
      podPorts.add(Map.of("name", p, "containerPort", appPort, "protocol", "TCP"));
    }
    try {
      md.put("POD_PORTS", new ObjectMapper().writeValueAsString(podPorts));
      Map<String, Object> bootstrap =
          Map.of(
              "node",
              Map.of(
                  "id",
                  type + "~" + ip + "~" + name + "." + ns + "~" + ns + ".svc.cluster.local",
                  "cluster",
                  name + "." + ns,
                  "metadata",
                  md),
              "admin",
              Map.of("address", socket(ip, freePort(ip))),
              "dynamic_resources",
              Map.of(
                  "ads_config",
                  Map.of(
                      "api_type",
                      "GRPC",
                      "transport_api_version",
                      "V3",
                      "grpc_services",
                      List.of(Map.of("envoy_grpc", Map.of("cluster_name", "xds-grpc")))),
                  "lds_config",
                  Map.of("ads", Map.of(), "resource_api_version", "V3"),
                  "cds_config",
                  Map.of("ads", Map.of(), "resource_api_version", "V3")),
              "static_resources",
              Map.of("clusters", clusters));
      var bs =
          new BootstrapLoader()
              .parse(name + ".json", new ObjectMapper().writeValueAsString(bootstrap));
      return Proxy.start(
          bs,
          ProxyOptions.defaults()
              .withWorkers(1)
              .withXdsBackoff(Duration.ofMillis(50), Duration.ofMillis(400)));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * A STATIC cluster of one endpoint at {@code address}, speaking HTTP/2 (an xDS or SDS server).
   */
  public static Map<String, Object> cluster(String name, Map<String, Object> address) {
    return Map.of(
        "name",
        name,
        "type",
        "STATIC",
        "connect_timeout",
        "1s",
        "typed_extension_protocol_options",
        Map.of(
            "envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
            Map.of(
                "@type",
                "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
                "explicit_http_config",
                Map.of("http2_protocol_options", Map.of()))),
        "load_assignment",
        Map.of(
            "cluster_name",
            name,
            "endpoints",
            List.of(
                Map.of("lb_endpoints", List.of(Map.of("endpoint", Map.of("address", address)))))));
  }

  /** An Envoy {@code socket_address}. */
  public static Map<String, Object> socket(String ip, int port) {
    return Map.of("socket_address", Map.of("address", ip, "port_value", port));
  }

  static int freePort(String ip) {
    return TestNet.freePort(ip);
  }

  /** Writes {@code yaml} as {@code file} in the watched config directory. */
  void apply(String file, String yaml) throws IOException {
    Files.writeString(configDir.resolve(file), yaml);
  }

  /** A request to the service through the client's sidecar. */
  HttpResponse<String> call(HttpRequest.Builder b) {
    try {
      return http.send(
          b.timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  static HttpRequest.Builder to(String path) {
    return HttpRequest.newBuilder(URI.create("http://" + HOST + ":" + PORT + path));
  }

  HttpResponse<String> get(String path) {
    return call(to(path));
  }

  @Override
  public void close() {
    for (Proxy p : proxies) {
      p.close();
    }
    feed.close();
    controlPlane.close();
    for (App a : apps) {
      a.close();
    }
  }

  /**
   * A backend app: paths containing {@code flaky} fail 2 of every 3 requests (per path) with 503,
   * {@code /slow} sleeps a second; everything else answers 200. The body names the instance and the
   * attempt; each app counts requests and remembers the last Host per path.
   */
  static final class App implements AutoCloseable {
    final String name;
    final String ip;
    final HttpServer server;
    final AtomicInteger requests = new AtomicInteger();
    final Map<String, AtomicInteger> byPath = new ConcurrentHashMap<>();
    final Map<String, String> hostByPath = new ConcurrentHashMap<>();

    /** The last request's headers per path, names in lower case. */
    final Map<String, Map<String, String>> headersByPath = new ConcurrentHashMap<>();

    private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();

    App(String name, String ip, int port) throws IOException {
      this.name = name;
      this.ip = ip;
      server = HttpServer.create(new InetSocketAddress(ip, port), 128);
      server.setExecutor(executor);
      server.createContext(
          "/",
          ex -> {
            ex.getRequestBody().readAllBytes();
            requests.incrementAndGet();
            String path = ex.getRequestURI().getPath();
            int n = byPath.computeIfAbsent(path, k -> new AtomicInteger()).incrementAndGet();
            hostByPath.put(path, String.valueOf(ex.getRequestHeaders().getFirst("Host")));
            Map<String, String> headers = new java.util.TreeMap<>();
            ex.getRequestHeaders()
                .forEach((k, v) -> headers.put(k.toLowerCase(java.util.Locale.ROOT), v.getFirst()));
            headersByPath.put(path, headers);
            int status = 200;
            if (path.contains("flaky") && n % 3 != 0) {
              status = 503;
            }
            if (path.startsWith("/slow")) {
              try {
                Thread.sleep(1000);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            }
            byte[] out =
                ("instance="
                        + name
                        + " attempt="
                        + ex.getRequestHeaders().getFirst("X-Envoy-Attempt-Count")
                        + " path="
                        + ex.getRequestURI()
                        + " x-dest="
                        + ex.getRequestHeaders().getFirst("X-Dest"))
                    .getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(status, out.length);
            ex.getResponseBody().write(out);
            ex.close();
          });
      server.start();
    }

    int count(String path) {
      AtomicInteger c = byPath.get(path);
      return c == null ? 0 : c.get();
    }

    @Override
    public void close() {
      server.stop(0);
      executor.shutdownNow();
    }
  }
}
