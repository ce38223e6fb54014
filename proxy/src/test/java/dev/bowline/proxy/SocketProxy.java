package dev.bowline.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.bowline.proxy.bootstrap.BootstrapLoader;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;

/**
 * The proxy of a socket test, started from a bootstrap made of YAML pieces, and what those tests
 * ask of it. The raw HTTP/2 tests (drain, codec errors, resets, settings, floods) all need the same
 * few things: connection-manager listeners with the router and routes to clusters ({@link
 * #listener}), clusters of one endpoint ({@link #cluster}), counters by name ({@link #stat}), the
 * admin's {@code /drain_listeners} ({@link #drainListeners}), and a raw client past its SETTINGS
 * exchange ({@link #h2}). The HTTP/1 and TCP socket tests add {@code tcp_proxy} listeners ({@link
 * #tcpListener}), an access log to read ({@link #accessLog}, {@link #awaitLogLine}), raw HTTP/1
 * requests ({@link #h1}, {@link #head}) and the JDK's client ({@link #get}).
 *
 * <p>A test class starts one with {@link #on}: {@code SocketProxy.on(IP).routes(to("/", "b"))
 * .http("h1", "codec_type: HTTP1").cluster("b", backend.ip(), backend.port()).start()}, then asks
 * {@link #port} for the free port each listener was given.
 */
final class SocketProxy implements AutoCloseable {
  /** The proxy, for what a test asks of it beyond this fixture. */
  final Proxy proxy;

  /** The address its listeners bind. */
  final String ip;

  private final Map<String, Integer> ports;

  private HttpClient client; // the JDK's, made by the first get

  private SocketProxy(Proxy proxy, String ip, Map<String, Integer> ports) {
    this.proxy = proxy;
    this.ip = ip;
    this.ports = ports;
  }

  /** A proxy to build whose listeners bind {@code ip}: one worker, no admin, until told. */
  static Builder on(String ip) {
    return new Builder(ip);
  }

  /** The port {@link Builder#http} or {@link Builder#tcp} chose for the listener {@code name}. */
  int port(String name) {
    Integer port = ports.get(name);
    if (port == null) {
      throw new IllegalArgumentException("no listener " + name + " was given a port");
    }
    return port;
  }

  /** The listeners and clusters of a {@link SocketProxy} to start, in the order given. */
  static final class Builder {
    private final String ip;
    private final List<String> listeners = new ArrayList<>();
    private final List<String> clusters = new ArrayList<>();
    private final Map<String, Integer> ports = new LinkedHashMap<>();
    private String[] routes = {};
    private String filters = "";
    private ProxyOptions options = ProxyOptions.defaults().withWorkers(1);
    private boolean admin;
    private String bootstrap = "";

    private Builder(String ip) {
      this.ip = ip;
    }

    /** The routes of each {@link #http} listener given after this that names none of its own. */
    Builder routes(String... routes) {
      this.routes = routes;
      return this;
    }

    /**
     * The HTTP filters (YAML items of {@code http_filters}) before the router of each {@link #http}
     * listener given after this.
     */
    Builder filters(String filters) {
      this.filters = filters;
      return this;
    }

    /**
     * A {@link SocketProxy#listener} {@code name} on a free port of the address ({@link
     * SocketProxy#port}), with {@code options}, the {@link #filters} and {@code routes} (or those
     * of {@link #routes}).
     */
    Builder http(String name, String options, String... routes) {
      return listener(
          SocketProxy.listener(
              name, ip, port(name), options, filters, routes.length == 0 ? this.routes : routes));
    }

    /**
     * As {@link #http}, with the connection manager's whole {@code route_config} (YAML at the level
     * of its {@code virtual_hosts}) instead of one virtual host of routes.
     */
    Builder httpRouteConfig(String name, String options, String routeConfig) {
      return listener(hcmListener(name, ip, port(name), options, filters, routeConfig));
    }

    /** A {@link SocketProxy#tcpListener} {@code name} on a free port of the address. */
    Builder tcp(String name, String cluster, String options) {
      return listener(tcpListener(name, ip, port(name), cluster, options));
    }

    /** A listener of its own YAML (from {@link SocketProxy#listener} or written out). */
    Builder listener(String yaml) {
      listeners.add(yaml);
      return this;
    }

    private int port(String name) {
      if (ports.containsKey(name)) {
        throw new IllegalArgumentException("two listeners named " + name);
      }
      int port = Ports.free(ip);
      ports.put(name, port);
      return port;
    }

    /** A {@link SocketProxy#cluster} of the one endpoint {@code ip:port}, no options. */
    Builder cluster(String name, String ip, int port) {
      return cluster(name, ip, port, "");
    }

    /** A {@link SocketProxy#cluster} of the one endpoint {@code ip:port} with {@code options}. */
    Builder cluster(String name, String ip, int port, String options) {
      return clusterYaml(SocketProxy.cluster(name, ip, port, options));
    }

    /** A cluster of its own YAML (an item of {@code static_resources.clusters}). */
    Builder clusterYaml(String yaml) {
      clusters.add(yaml);
      return this;
    }

    /** The proxy's options instead of one worker's defaults. */
    Builder options(ProxyOptions options) {
      this.options = options;
      return this;
    }

    /** An admin address on a free port of the address. */
    Builder admin() {
      admin = true;
      return this;
    }

    /** Top-level bootstrap YAML lines (such as a {@code layered_runtime}) to add. */
    Builder bootstrap(String yaml) {
      bootstrap = yaml;
      return this;
    }

    /** Starts the proxy; returns once its listeners are bound. */
    SocketProxy start() {
      return SocketProxy.start(ip, options, admin, bootstrap, listeners, clusters, ports);
    }
  }

  /**
   * A listener {@code name} (also its stat prefix) on {@code ip:port} whose connection manager has
   * the router, a virtual host for every domain with {@code routes} (each one YAML route, such as
   * {@link #to}'s), and the fields of {@code options} (YAML at the level of {@code stat_prefix}).
   */
  static String listener(String name, String ip, int port, String options, String... routes) {
    return listener(name, ip, port, options, "", routes);
  }

  /**
   * As {@link #listener(String, String, int, String, String...)}, with the HTTP filters of {@code
   * filters} (YAML items of {@code http_filters}) before the router.
   */
  private static String listener(
      String name, String ip, int port, String options, String filters, String[] routes) {
    return hcmListener(
        name,
        ip,
        port,
        options,
        filters,
        """
        virtual_hosts:
        - name: all
          domains: ["*"]
          routes:
        """
            + Arrays.stream(routes).map(r -> "- " + r).collect(Collectors.joining("\n")).indent(2));
  }

  /**
   * A listener {@code name} on {@code ip:port} whose connection manager has {@code options}, the
   * HTTP filters of {@code filters} before the router, and {@code routeConfig} as its {@code
   * route_config} (YAML at the level of {@code virtual_hosts}).
   */
  private static String hcmListener(
      String name, String ip, int port, String options, String filters, String routeConfig) {
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
        %5$s
                  - name: envoy.filters.http.router
                    typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
                  route_config:
        %6$s
        """
        .formatted(
            name,
            ip,
            port,
            options.indent(10).stripTrailing(),
            filters.indent(10).stripTrailing(),
            routeConfig.indent(12).stripTrailing());
  }

  /**
   * {@code listener} (from {@link #listener}) with {@code fields} of its own (YAML at its level).
   */
  static String withFields(String listener, String fields) {
    return listener + fields.indent(4);
  }

  /**
   * A {@code tcp_proxy} listener {@code name} (also its stat prefix) on {@code ip:port} to {@code
   * cluster}, with the fields of {@code options} (YAML at the level of {@code cluster}).
   */
  static String tcpListener(String name, String ip, int port, String cluster, String options) {
    return """
          - name: %1$s
            address: {socket_address: {address: %2$s, port_value: %3$d}}
            filter_chains:
            - filters:
              - name: envoy.filters.network.tcp_proxy
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
                  stat_prefix: %1$s
                  cluster: %4$s
        %5$s
        """
        .formatted(name, ip, port, cluster, options.indent(10).stripTrailing());
  }

  /**
   * Connection-manager options (YAML, for {@link #listener}) that log every stream to {@code file}
   * in {@code format}.
   */
  static String accessLog(Path file, String format) {
    return """
        access_log:
        - name: envoy.access_loggers.file
          typed_config:
            "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
            path: %s
            log_format: {text_format_source: {inline_string: "%s"}}"""
        .formatted(file, format);
  }

  /** The lines of the access log {@code file} so far (none before its first). */
  static List<String> logLines(Path file) throws IOException {
    return Files.exists(file) ? Files.readAllLines(file) : List.of();
  }

  /** Waits (20 s at most) until the access log {@code file} has the line {@code line}. */
  static void awaitLogLine(Path file, String line) {
    await().atMost(Duration.ofSeconds(20)).until(() -> logLines(file).contains(line));
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
   * Cluster options (YAML, for {@link #cluster}) of the upstream HTTP protocol options ({@code
   * envoy.extensions.upstreams.http.v3.HttpProtocolOptions}) with {@code fields}, such as {@code
   * explicit_http_config: {http2_protocol_options: {}}}.
   */
  static String httpProtocolOptions(String fields) {
    return """
        typed_extension_protocol_options:
          envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
            "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
        """
        + fields.indent(4);
  }

  /** Starts a proxy of these listeners and clusters on one worker, without an admin address. */
  static SocketProxy start(String ip, List<String> listeners, List<String> clusters) {
    return start(ip, ProxyOptions.defaults().withWorkers(1), false, listeners, clusters);
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
    return start(ip, options, admin, "", listeners, clusters);
  }

  /**
   * As {@link #start(String, ProxyOptions, boolean, List, List)}, with {@code bootstrap} (top-level
   * YAML lines, such as a {@code layered_runtime}) added to the bootstrap.
   */
  static SocketProxy start(
      String ip,
      ProxyOptions options,
      boolean admin,
      String bootstrap,
      List<String> listeners,
      List<String> clusters) {
    return start(ip, options, admin, bootstrap, listeners, clusters, Map.of());
  }

  private static SocketProxy start(
      String ip,
      ProxyOptions options,
      boolean admin,
      String bootstrap,
      List<String> listeners,
      List<String> clusters,
      Map<String, Integer> ports) {
    String yaml =
        (admin ? "admin: {address: {socket_address: {address: " + ip + ", port_value: 0}}}\n" : "")
            + bootstrap
            + "static_resources:\n  listeners:\n"
            + String.join("", listeners)
            + "  clusters:\n"
            + String.join("", clusters);
    return new SocketProxy(
        Proxy.start(new BootstrapLoader().parse("socket-test.yaml", yaml), options),
        ip,
        Map.copyOf(ports));
  }

  /** The value of the counter {@code name} (0 if there is none yet). */
  long stat(String name) {
    return stat(proxy, name);
  }

  /** The value of {@code proxy}'s counter {@code name} (0 if there is none yet). */
  static long stat(Proxy proxy, String name) {
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

  /** The body of the admin's {@code GET path} (such as {@code /stats}; 30 s at most). */
  String admin(String path) throws Exception {
    var a = proxy.adminAddress().orElseThrow();
    try (HttpClient c = HttpClient.newHttpClient()) {
      return c.send(
              HttpRequest.newBuilder(
                      URI.create(
                          "http://" + a.getAddress().getHostAddress() + ":" + a.getPort() + path))
                  .timeout(Duration.ofSeconds(30))
                  .build(),
              HttpResponse.BodyHandlers.ofString())
          .body();
    }
  }

  /** {@code GET path} on {@code port} with the JDK's HTTP/1.1 client (20 s at most). */
  HttpResponse<String> get(int port, String path) throws Exception {
    HttpClient c;
    synchronized (this) {
      if (client == null) {
        client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
      }
      c = client;
    }
    return c.send(
        HttpRequest.newBuilder(URI.create("http://" + ip + ":" + port + path))
            .timeout(Duration.ofSeconds(20))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /**
   * A response as read off the socket: status, headers (lower-case names, first value), body
   * (de-chunked).
   */
  record Reply(int status, Map<String, String> headers, String body) {
    /** The value of the body's line {@code key=value} (a backend's echo), null when absent. */
    @Nullable String echoed(String key) {
      for (String line : body.split("\n")) {
        if (line.startsWith(key + "=")) {
          return line.substring(key.length() + 1);
        }
      }
      return null;
    }
  }

  /**
   * One HTTP/1.1 GET of {@code path} for {@code host} on its own connection to {@code ip:port}
   * ({@code headers}: extra {@code name, value} pairs), read until the proxy closes it (reads time
   * out at 60 s).
   */
  static Reply request(String ip, int port, String host, String path, String... headers)
      throws IOException {
    return send(ip, port, "GET", path, host, null, headers);
  }

  /**
   * As {@link #request}, with {@code method} and {@code body} (with its Content-Length; null: no
   * body).
   */
  static Reply send(
      String ip,
      int port,
      String method,
      String path,
      String host,
      @Nullable String body,
      String... headers)
      throws IOException {
    try (Socket s = new Socket(ip, port)) {
      s.setSoTimeout(60_000);
      StringBuilder req =
          new StringBuilder(method + " " + path + " HTTP/1.1\r\nHost: " + host + "\r\n");
      for (int i = 0; i < headers.length; i += 2) {
        req.append(headers[i]).append(": ").append(headers[i + 1]).append("\r\n");
      }
      if (body != null) {
        req.append("Content-Length: ").append(body.length()).append("\r\n");
      }
      req.append("Connection: close\r\n\r\n");
      if (body != null) {
        req.append(body);
      }
      OutputStream out = s.getOutputStream();
      out.write(req.toString().getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      String all = new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
      int end = all.indexOf("\r\n\r\n");
      String[] lines = all.substring(0, end).split("\r\n");
      Map<String, String> h = new LinkedHashMap<>();
      for (int i = 1; i < lines.length; i++) {
        int c = lines[i].indexOf(':');
        h.putIfAbsent(
            lines[i].substring(0, c).trim().toLowerCase(Locale.ROOT),
            lines[i].substring(c + 1).trim());
      }
      String rest = all.substring(end + 4);
      if ("chunked".equalsIgnoreCase(h.get("transfer-encoding"))) {
        rest = dechunk(rest);
      }
      return new Reply(Integer.parseInt(lines[0].split(" ")[1]), h, rest);
    }
  }

  /**
   * One HTTP/1.1 {@code GET /x} for {@code host} with {@code headers} (extra {@code name, value}
   * pairs) on its own connection from {@code peer} (a loopback address) to {@code ip:port}: the
   * response, head and body (by its Content-Length, else all until the proxy closes).
   */
  static String getFrom(String peer, String ip, int port, String host, String... headers)
      throws IOException {
    try (Socket s = new Socket()) {
      s.bind(new java.net.InetSocketAddress(peer, 0));
      s.connect(new java.net.InetSocketAddress(ip, port), 30_000);
      s.setSoTimeout(60_000);
      StringBuilder req = new StringBuilder("GET /x HTTP/1.1\r\nHost: " + host + "\r\n");
      for (int i = 0; i < headers.length; i += 2) {
        req.append(headers[i]).append(": ").append(headers[i + 1]).append("\r\n");
      }
      req.append("Connection: close\r\n\r\n");
      s.getOutputStream().write(req.toString().getBytes(StandardCharsets.ISO_8859_1));
      s.getOutputStream().flush();
      InputStream in = s.getInputStream();
      String head = head(in);
      return head.toLowerCase(Locale.ROOT).contains("\r\ncontent-length:")
          ? head + new String(in.readNBytes(contentLength(head)), StandardCharsets.ISO_8859_1)
          : head + new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
    }
  }

  private static String dechunk(String s) {
    StringBuilder out = new StringBuilder();
    int i = 0;
    while (true) {
      int eol = s.indexOf("\r\n", i);
      int n = Integer.parseInt(s.substring(i, eol).trim(), 16);
      if (n == 0) {
        return out.toString();
      }
      out.append(s, eol + 2, eol + 2 + n);
      i = eol + 2 + n + 2;
    }
  }

  /** Writes a GET of {@code path} on {@code s} and reads its response (head and body) back. */
  static String get(Socket s, String path) throws IOException {
    s.getOutputStream()
        .write(
            ("GET " + path + " HTTP/1.1\r\nHost: t\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
    s.getOutputStream().flush();
    return response(s.getInputStream());
  }

  /** A raw HTTP/1 connection to {@code port} that sent {@code request}; reads time out at 10 s. */
  Socket h1(int port, String request) throws IOException {
    Socket s = new Socket(ip, port);
    s.setSoTimeout(10_000);
    s.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
    s.getOutputStream().flush();
    return s;
  }

  /** The head of the next HTTP/1 response on {@code in}, through its blank line. */
  static String head(InputStream in) throws IOException {
    StringBuilder head = new StringBuilder();
    while (!head.toString().endsWith("\r\n\r\n")) {
      int b = in.read();
      if (b < 0) {
        throw new EOFException("closed after " + head);
      }
      head.append((char) b);
    }
    return head.toString();
  }

  /** The next HTTP/1 response on {@code in}, which has a Content-Length: its head and body. */
  static String response(InputStream in) throws IOException {
    String head = head(in);
    return head + new String(in.readNBytes(contentLength(head)), StandardCharsets.ISO_8859_1);
  }

  /** The Content-Length of the HTTP/1 response head {@code head}. */
  private static int contentLength(String head) {
    int at = head.toLowerCase(java.util.Locale.ROOT).indexOf("\r\ncontent-length:");
    return Integer.parseInt(head.substring(at + 17, head.indexOf("\r\n", at + 2)).trim());
  }

  /** A raw HTTP/2 connection to {@code port}: preface sent, SETTINGS exchanged both ways. */
  RawH2 h2(int port) throws java.io.IOException {
    return RawH2.open(ip, port);
  }

  @Override
  public void close() {
    proxy.close();
    synchronized (this) {
      if (client != null) {
        client.close();
      }
    }
  }
}
