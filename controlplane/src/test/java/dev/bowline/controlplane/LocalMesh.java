package dev.bowline.controlplane;

import com.sun.net.httpserver.HttpServer;
import dev.bowline.controlplane.config.ConfigFeed;
import dev.bowline.controlplane.model.ConfigInputs;
import dev.bowline.controlplane.registry.LocalRegistry;
import dev.bowline.proxy.Proxy;
import dev.bowline.proxy.ProxyOptions;
import dev.bowline.proxy.bootstrap.BootstrapLoader;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The end-to-end tests' mesh in one JVM, all real: Bowline's control plane (free ports, 20 ms
 * debounce, an empty registry) watching a directory of Istio YAML, and our proxies as local-mode
 * sidecars of namespace {@code shop} ({@code INTERCEPTION_MODE: NONE}) taking ADS from it; and
 * small HTTP apps to put behind them. {@link #close()} stops the proxies, the feed and the control
 * plane.
 */
final class LocalMesh implements AutoCloseable {
  /** ADS over state-of-the-world gRPC streams. */
  static final String SOTW = "GRPC";

  /** ADS over incremental (delta) gRPC streams. */
  static final String DELTA = "DELTA_GRPC";

  final ControlPlane controlPlane;
  final ConfigFeed feed;
  private final List<Proxy> proxies = new ArrayList<>();

  private LocalMesh(ControlPlane controlPlane, ConfigFeed feed) {
    this.controlPlane = controlPlane;
    this.feed = feed;
  }

  /** Starts the control plane over {@code configDir}. */
  static LocalMesh start(Path configDir) throws IOException {
    return start(configDir, null);
  }

  /**
   * Starts the control plane over {@code configDir} and, when not null, the MeshConfig file {@code
   * meshConfigFile} (Istio's {@code --meshConfig}).
   */
  static LocalMesh start(Path configDir, @Nullable Path meshConfigFile) throws IOException {
    ControlPlane cp =
        new ControlPlane(
            ControlPlaneOptions.DEFAULTS
                .withPorts(0, 0)
                .withDebounce(Duration.ofMillis(20), Duration.ofSeconds(1)),
            new LocalRegistry("cluster.local"),
            ConfigInputs.NONE,
            Clock.systemUTC());
    ConfigFeed feed;
    try {
      feed = ConfigFeed.start(cp, List.of(configDir), meshConfigFile, Clock.systemUTC());
    } catch (IOException | RuntimeException e) {
      cp.close();
      throw e;
    }
    cp.start();
    return new LocalMesh(cp, feed);
  }

  /**
   * Starts a sidecar: node {@code sidecar~IP~NAME.shop~shop.svc.cluster.local}, admin on a free
   * port of {@code ip}, one worker, ADS by {@code apiType} ({@link #SOTW} or {@link #DELTA}) to
   * this control plane with a short reconnect backoff.
   *
   * @param metadata node metadata beyond NAMESPACE, one YAML {@code KEY: value} a line ({@code
   *     LABELS: {app: client}}); INTERCEPTION_MODE is NONE unless a line names it
   * @param extraClusters YAML list items appended to the static clusters (an SDS cluster), or empty
   */
  Proxy sidecar(String apiType, String ip, String name, List<String> metadata, String extraClusters)
      throws IOException {
    String bootstrap =
        """
        node:
          id: sidecar~%1$s~%2$s.shop~shop.svc.cluster.local
          metadata:
            NAMESPACE: shop
        %3$s\
        admin: {address: {socket_address: {address: %1$s, port_value: %4$d}}}
        dynamic_resources:
          ads_config:
            api_type: %5$s
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
                .formatted(
                    ip,
                    name,
                    (metadata.stream().anyMatch(m -> m.startsWith("INTERCEPTION_MODE:"))
                            ? metadata.stream()
                            : java.util.stream.Stream.concat(
                                java.util.stream.Stream.of("INTERCEPTION_MODE: NONE"),
                                metadata.stream()))
                        .map(m -> "    " + m + "\n")
                        .reduce("", String::concat),
                    freePort(ip),
                    apiType,
                    controlPlane.xdsPort())
            + extraClusters;
    Proxy p =
        Proxy.start(
            new BootstrapLoader().parse(name + ".yaml", bootstrap),
            ProxyOptions.defaults()
                .withWorkers(1)
                .withXdsBackoff(Duration.ofMillis(50), Duration.ofMillis(400)));
    proxies.add(p);
    return p;
  }

  /**
   * Starts an HTTP app on a free port of {@code ip} answering every request 200 with {@code name};
   * the caller stops it.
   */
  static HttpServer app(String name, String ip) throws IOException {
    HttpServer s = HttpServer.create(new InetSocketAddress(ip, 0), 0);
    s.createContext(
        "/",
        ex -> {
          byte[] body = name.getBytes(StandardCharsets.UTF_8);
          ex.sendResponseHeaders(200, body.length);
          ex.getResponseBody().write(body);
          ex.close();
        });
    s.start();
    return s;
  }

  /**
   * Istio config of a plaintext service {@code echo.shop.example} in namespace {@code shop}: a
   * MESH_INTERNAL, STATIC ServiceEntry {@code echo} with {@code spec} (YAML at the level of its
   * {@code hosts}: ports, endpoints, addresses), a DestinationRule that turns its TLS off and a
   * namespace-wide PeerAuthentication {@code DISABLE}; a test adds its own documents after it.
   */
  static String plaintextEcho(String spec) {
    return echoService(spec, "DISABLE", "DISABLE");
  }

  /**
   * As {@link #plaintextEcho}, with the DestinationRule's TLS mode {@code tls} (such as {@code
   * ISTIO_MUTUAL}) and the PeerAuthentication's mode {@code mtls} (such as {@code STRICT}).
   */
  static String echoService(String spec, String tls, String mtls) {
    return """
        apiVersion: networking.istio.io/v1
        kind: ServiceEntry
        metadata: {name: echo, namespace: shop}
        spec:
          hosts: [echo.shop.example]
          location: MESH_INTERNAL
          resolution: STATIC
        %s
        ---
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: echo, namespace: shop}
        spec:
          host: echo.shop.example
          trafficPolicy: {tls: {mode: %s}}
        ---
        apiVersion: security.istio.io/v1
        kind: PeerAuthentication
        metadata: {name: default, namespace: shop}
        spec:
          mtls: {mode: %s}
        """
        .formatted(spec.indent(2).stripTrailing(), tls, mtls);
  }

  /** The value of counter {@code name} in a proxy's stats {@code text}; -1 when it has none. */
  static long counter(String stats, String name) {
    for (String line : stats.split("\n")) {
      if (line.startsWith(name + ":")) {
        return Long.parseLong(line.substring(name.length() + 1).trim());
      }
    }
    return -1;
  }

  /**
   * A port free on {@code ip} now that this JVM has not handed out before: the kernel may give the
   * port a probe socket just released to the next {@code bind(0)}, so several asked for in a row
   * could repeat one ("duplicate address" at start-up).
   */
  static int freePort(String ip) throws IOException {
    for (int attempt = 0; attempt < 1000; attempt++) {
      int port;
      try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName(ip))) {
        port = s.getLocalPort();
      }
      if (HANDED_OUT.add(port)) {
        return port;
      }
    }
    throw new IOException("no port on " + ip + " not handed out already");
  }

  private static final java.util.Set<Integer> HANDED_OUT =
      java.util.concurrent.ConcurrentHashMap.newKeySet();

  @Override
  public void close() {
    proxies.forEach(Proxy::close);
    feed.close();
    controlPlane.close();
  }
}
