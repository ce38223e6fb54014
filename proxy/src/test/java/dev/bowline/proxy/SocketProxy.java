package dev.bowline.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bowline.proxy.bootstrap.BootstrapLoader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The proxy of a socket test, started from a bootstrap made of YAML pieces, and what those tests
 * ask of it. The raw HTTP/2 tests (drain, codec errors, resets, settings, floods) all need the same
 * few things: connection-manager listeners with the router and routes to clusters ({@link
 * #listener}), clusters of one endpoint ({@link #cluster}), counters by name ({@link #stat}), the
 * admin's {@code /drain_listeners} ({@link #drainListeners}), and a raw client past its SETTINGS
 * exchange ({@link #h2}).
 */
final class SocketProxy implements AutoCloseable {
  /** The proxy, for what a test asks of it beyond this fixture. */
  final Proxy proxy;

  /** The address its listeners bind. */
  final String ip;

  private SocketProxy(Proxy proxy, String ip) {
    this.proxy = proxy;
    this.ip = ip;
  }

  /**
   * A listener {@code name} (also its stat prefix) on {@code ip:port} whose connection manager has
   * the router, a virtual host for every domain with {@code routes} (each one YAML route, such as
   * {@link #to}'s), and the fields of {@code options} (YAML at the level of {@code stat_prefix}).
   */
  static String listener(String name, String ip, int port, String options, String... routes) {
    return """
          - name: %1$s
            address: {socket_address: {address: %2$s, port_value: %3$d}}
            filter_chains:
            - filters:
              - name: envoy.filters.network.http_connection_manager
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                  stat_prefix: %1$s
        %4$s
                  http_filters:
                  - name: envoy.filters.http.router
                    typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
                  route_config:
                    virtual_hosts:
                    - name: all
                      domains: ["*"]
                      routes:
        %5$s
        """
        .formatted(
            name,
            ip,
            port,
            options.indent(10).stripTrailing(),
            Arrays.stream(routes)
                .map(r -> "- " + r)
                .collect(Collectors.joining("\n"))
                .indent(14)
                .stripTrailing());
  }

  /** A route of every path with {@code prefix} to {@code cluster}. */
  static String to(String prefix, String cluster) {
    return "{match: {prefix: " + prefix + "}, route: {cluster: " + cluster + "}}";
  }

  /**
   * A cluster {@code name} of the one endpoint {@code ip:port}, with the fields of {@code options}
   * (YAML at the level of {@code name}; empty for none).
   */
  static String cluster(String name, String ip, int port, String options) {
    return """
          - name: %1$s
        %2$s
            load_assignment:
              cluster_name: %1$s
              endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: %3$s, port_value: %4$d}}}}]}]
        """
        .formatted(name, options.indent(4).stripTrailing(), ip, port);
  }

  /**
   * Starts a proxy (with {@code options}) of these listeners and clusters, and an admin address on
   * {@code ip} if {@code admin}; returns once the listeners are bound.
   */
  static SocketProxy start(
      String ip,
      ProxyOptions options,
      boolean admin,
      List<String> listeners,
      List<String> clusters) {
    String yaml =
        (admin ? "admin: {address: {socket_address: {address: " + ip + ", port_value: 0}}}\n" : "")
            + "static_resources:\n  listeners:\n"
            + String.join("", listeners)
            + "  clusters:\n"
            + String.join("", clusters);
    return new SocketProxy(
        Proxy.start(new BootstrapLoader().parse("socket-test.yaml", yaml), options), ip);
  }

  /** The value of the counter {@code name} (0 if there is none yet). */
  long stat(String name) {
    return proxy.stats().all().stream()
        .filter(c -> c.name().equals(name))
        .mapToLong(c -> c.value())
        .sum();
  }

  /** {@code POST /drain_listeners} on the admin address, as an operator or the agent sends it. */
  void drainListeners() throws Exception {
    drainListeners(proxy);
  }

  /** {@code POST /drain_listeners} on the admin address of {@code proxy}. */
  static void drainListeners(Proxy proxy) throws Exception {
    var admin = proxy.adminAddress().orElseThrow();
    try (HttpClient c = HttpClient.newHttpClient()) {
      var r =
          c.send(
              HttpRequest.newBuilder(
                      URI.create(
                          "http://"
                              + admin.getAddress().getHostAddress()
                              + ":"
                              + admin.getPort()
                              + "/drain_listeners"))
                  .POST(HttpRequest.BodyPublishers.noBody())
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).isEqualTo(200);
    }
  }

  /** A raw HTTP/2 connection to {@code port}: preface sent, SETTINGS exchanged both ways. */
  RawH2 h2(int port) throws java.io.IOException {
    return RawH2.open(ip, port);
  }

  @Override
  public void close() {
    proxy.close();
  }
}
