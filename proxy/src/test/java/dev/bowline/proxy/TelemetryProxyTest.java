package dev.bowline.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import dev.bowline.proxy.bootstrap.BootstrapLoader;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Two proxies as two Istio sidecars, client (frontend-v1, outbound) and server (forecast-v2,
 * inbound), each with istiod's metadata exchange and stats filters, in front of a real backend:
 * peers learn each other from the exchange headers, the headers never reach either app, and both
 * proxies' {@code /stats/prometheus} count exactly the requests sent, with Istio's labels.
 */
@org.junit.jupiter.api.TestMethodOrder(org.junit.jupiter.api.MethodOrderer.OrderAnnotation.class)
class TelemetryProxyTest {
  static final String CLIENT_IP = "127.0.7.1";
  static final String SERVER_IP = "127.0.7.2";
  static HttpServer app;
  static final ConcurrentLinkedQueue<Map<String, List<String>>> seenByApp =
      new ConcurrentLinkedQueue<>();
  static Proxy client;
  static Proxy server;
  static int outboundPort;
  static final HttpClient http =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(5))
          .build();

  static final String ISTIO_TEXT_FORMAT =
      "[%START_TIME%] \\\"%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%\\\""
          + " %RESPONSE_CODE% %RESPONSE_FLAGS% %RESPONSE_CODE_DETAILS%"
          + " %CONNECTION_TERMINATION_DETAILS% \\\"%UPSTREAM_TRANSPORT_FAILURE_REASON%\\\""
          + " %BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%"
          + " \\\"%REQ(X-FORWARDED-FOR)%\\\" \\\"%REQ(USER-AGENT)%\\\""
          + " \\\"%REQ(X-REQUEST-ID)%\\\" \\\"%REQ(:AUTHORITY)%\\\""
          + " \\\"%UPSTREAM_HOST%\\\" %UPSTREAM_CLUSTER% %UPSTREAM_LOCAL_ADDRESS%"
          + " %DOWNSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS% %REQUESTED_SERVER_NAME%"
          + " %ROUTE_NAME%\\n";

  static Path logDir;

  static String accessLog(String file, boolean json) {
    String in14 = " ".repeat(14);
    String in18 = " ".repeat(18);
    String format =
        json
            ? in14
                + "log_format:\n"
                + " ".repeat(16)
                + "json_format:\n"
                + String.join(
                    "",
                    List.of(
                            "start_time: \"%START_TIME%\"\n",
                            "method: \"%REQ(:METHOD)%\"\n",
                            "path: \"%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%\"\n",
                            "response_code: \"%RESPONSE_CODE%\"\n",
                            "response_flags: \"%RESPONSE_FLAGS%\"\n",
                            "response_code_details: \"%RESPONSE_CODE_DETAILS%\"\n",
                            "upstream_cluster: \"%UPSTREAM_CLUSTER%\"\n",
                            "upstream_host: \"%UPSTREAM_HOST%\"\n",
                            "bytes_sent: \"%BYTES_SENT%\"\n",
                            "authority: \"%REQ(:AUTHORITY)%\"\n")
                        .stream()
                        .map(l -> in18 + l)
                        .toList())
            : in14
                + "log_format: {text_format_source: {inline_string: \""
                + ISTIO_TEXT_FORMAT
                + "\"}}\n";
    return " ".repeat(10)
        + "access_log:\n"
        + " ".repeat(10)
        + "- name: envoy.access_loggers.file\n"
        + " ".repeat(12)
        + "typed_config:\n"
        + in14
        + "\"@type\": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog\n"
        + in14
        + "path: "
        + logDir.resolve(file)
        + "\n"
        + format;
  }

  static String filters(String rootId) {
    return """
                  http_filters:
                  - name: istio.metadata_exchange
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm
                      config:
                        vm_config: {runtime: envoy.wasm.runtime.null, code: {local: {inline_string: envoy.wasm.metadata_exchange}}}
                        configuration: {"@type": type.googleapis.com/envoy.tcp.metadataexchange.config.MetadataExchange}
                  - name: istio.stats
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm
                      config:
                        root_id: %s
                        vm_config: {vm_id: %1$s, runtime: envoy.wasm.runtime.null, code: {local: {inline_string: envoy.wasm.stats}}}
                        configuration: {"@type": type.googleapis.com/google.protobuf.StringValue, value: '{"debug": "false", "stat_prefix": "istio"}'}
                  - name: envoy.filters.http.router
                    typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
        """
        .formatted(rootId);
  }

  static String node(String name, String app, String version) {
    return """
        node:
          id: sidecar~%4$s~%1$s.weather~weather.svc.cluster.local
          cluster: %2$s.weather
          metadata:
            NAME: %1$s
            NAMESPACE: weather
            WORKLOAD_NAME: %1$s
            SERVICE_ACCOUNT: %2$s
            CLUSTER_ID: Kubernetes
            LABELS: {app: %2$s, version: %3$s}
        """
        .formatted(name, app, version, name.startsWith("frontend") ? CLIENT_IP : SERVER_IP);
  }

  static String clientBootstrap(int port, int adminPort, int serverPort) {
    return node("frontend-v1", "frontend", "v1")
        + """
        admin: {address: {socket_address: {address: %1$s, port_value: %3$d}}}
        static_resources:
          listeners:
          - name: %1$s_15001
            address: {socket_address: {address: %1$s, port_value: %2$d}}
            traffic_direction: OUTBOUND
            filter_chains:
            - filters:
              - name: envoy.filters.network.http_connection_manager
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                  stat_prefix: outbound_15001
                  route_config:
                    virtual_hosts:
                    - name: forecast
                      domains: ["*"]
                      routes:
                      - match: {prefix: /down}
                        route: {cluster: "outbound|9|v1|down.weather.svc.cluster.local"}
                      - match: {prefix: /}
                        route: {cluster: "outbound|3002|v2|forecast.weather.svc.cluster.local"}
        """
            .formatted(CLIENT_IP, port, adminPort)
        + accessLog("client.log", true)
        + filters("stats_outbound")
        + """
          clusters:
          - name: "outbound|3002|v2|forecast.weather.svc.cluster.local"
            type: STATIC
            load_assignment:
              cluster_name: forecast
              endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: %s, port_value: %d}}}}]}]
          - name: "outbound|9|v1|down.weather.svc.cluster.local"
            type: STATIC
            load_assignment:
              cluster_name: down
              endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: %1$s, port_value: %3$d}}}}]}]
        """
            .formatted(SERVER_IP, serverPort, Ports.free(SERVER_IP));
  }

  static String serverBootstrap(int port, int adminPort, int appPort) {
    return node("forecast-v2", "forecast", "v2")
        + """
        admin: {address: {socket_address: {address: %1$s, port_value: %3$d}}}
        static_resources:
          listeners:
          - name: %1$s_3002
            address: {socket_address: {address: %1$s, port_value: %2$d}}
            traffic_direction: INBOUND
            filter_chains:
            - filters:
              - name: envoy.filters.network.http_connection_manager
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                  stat_prefix: inbound_3002
                  route_config:
                    virtual_hosts:
                    - name: inbound
                      domains: ["*"]
                      routes:
                      - match: {prefix: /}
                        route: {cluster: "inbound|13002||"}
        """
            .formatted(SERVER_IP, port, adminPort)
        + accessLog("server.log", false)
        + filters("stats_inbound")
        + """
          clusters:
          - name: "inbound|13002||"
            type: STATIC
            load_assignment:
              cluster_name: app
              endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: %s, port_value: %d}}}}]}]
        """
            .formatted(SERVER_IP, appPort);
  }

  @BeforeAll
  static void start() throws IOException {
    logDir = Files.createTempDirectory("telemetry-logs");
    app = HttpServer.create(new InetSocketAddress(SERVER_IP, 0), 64);
    app.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
    app.createContext(
        "/",
        ex -> {
          seenByApp.add(Map.copyOf(ex.getRequestHeaders()));
          ex.getRequestBody().readAllBytes();
          int status = ex.getRequestURI().getPath().startsWith("/fail") ? 503 : 200;
          byte[] out = "forecast".getBytes(StandardCharsets.UTF_8);
          ex.sendResponseHeaders(status, out.length);
          ex.getResponseBody().write(out);
          ex.close();
        });
    app.start();
    int serverPort = Ports.free(SERVER_IP);
    server =
        Proxy.start(
            new BootstrapLoader()
                .parse(
                    "server.yaml",
                    serverBootstrap(serverPort, Ports.free(SERVER_IP), app.getAddress().getPort())),
            ProxyOptions.defaults().withWorkers(2));
    outboundPort = Ports.free(CLIENT_IP);
    client =
        Proxy.start(
            new BootstrapLoader()
                .parse(
                    "client.yaml",
                    clientBootstrap(outboundPort, Ports.free(CLIENT_IP), serverPort)),
            ProxyOptions.defaults().withWorkers(2));
  }

  @AfterAll
  static void stop() {
    if (client != null) {
      client.close();
    }
    if (server != null) {
      server.close();
    }
    if (app != null) {
      app.stop(0);
    }
  }

  static HttpResponse<String> get(String path) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create("http://" + CLIENT_IP + ":" + outboundPort + path))
            .header("Host", "forecast.weather:3002")
            .timeout(Duration.ofSeconds(10))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  static String prometheus(Proxy p) throws Exception {
    var a = p.adminAddress().orElseThrow();
    return http.send(
            HttpRequest.newBuilder(
                    URI.create(
                        "http://"
                            + a.getAddress().getHostAddress()
                            + ":"
                            + a.getPort()
                            + "/stats/prometheus"))
                .build(),
            HttpResponse.BodyHandlers.ofString())
        .body();
  }

  /** The value of the one series of {@code metric} whose labels include all of {@code labels}. */
  static long value(String text, String metric, Map<String, String> labels) {
    long found = -1;
    Matcher m = Pattern.compile("(?m)^" + metric + "\\{([^}]*)\\} (\\S+)$").matcher(text);
    while (m.find()) {
      String l = m.group(1);
      boolean all =
          labels.entrySet().stream()
              .allMatch(e -> l.contains(e.getKey() + "=\"" + e.getValue() + "\""));
      if (all) {
        assertThat(found).as("more than one series matches %s", labels).isEqualTo(-1);
        found = Long.parseLong(m.group(2));
      }
    }
    return found;
  }

  @Test
  @org.junit.jupiter.api.Order(1) // first: it counts exactly what it sent on fresh proxies
  void bothSidesCountEveryRequestWithTheirPeer() throws Exception {
    for (int i = 0; i < 7; i++) {
      HttpResponse<String> r = get("/weather?city=" + i);
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.headers().firstValue("x-envoy-peer-metadata")).isEmpty();
      assertThat(r.headers().firstValue("x-envoy-peer-metadata-id")).isEmpty();
    }
    for (int i = 0; i < 3; i++) {
      assertThat(get("/fail").statusCode()).isEqualTo(503);
    }
    // the app never sees the exchange headers
    assertThat(seenByApp).isNotEmpty();
    for (var h : seenByApp) {
      assertThat(h.keySet()).noneMatch(k -> k.toLowerCase().startsWith("x-envoy-peer-metadata"));
    }

    String c = prometheus(client);
    Map<String, String> clientSide =
        Map.ofEntries(
            Map.entry("reporter", "source"),
            Map.entry("source_workload", "frontend-v1"),
            Map.entry("source_workload_namespace", "weather"),
            Map.entry("source_app", "frontend"),
            Map.entry("source_version", "v1"),
            Map.entry("source_canonical_service", "frontend"),
            Map.entry("destination_workload", "forecast-v2"),
            Map.entry("destination_workload_namespace", "weather"),
            Map.entry("destination_app", "forecast"),
            Map.entry("destination_version", "v2"),
            Map.entry("destination_service", "forecast.weather.svc.cluster.local"),
            Map.entry("destination_service_name", "forecast"),
            Map.entry("destination_service_namespace", "weather"),
            Map.entry("destination_cluster", "Kubernetes"),
            Map.entry("request_protocol", "http"),
            Map.entry("response_flags", "-"),
            Map.entry("connection_security_policy", "unknown"));
    assertThat(value(c, "istio_requests_total", with(clientSide, "response_code", "200")))
        .isEqualTo(7);
    assertThat(value(c, "istio_requests_total", with(clientSide, "response_code", "503")))
        .isEqualTo(3);
    assertThat(
            value(
                c,
                "istio_request_duration_milliseconds_count",
                with(clientSide, "response_code", "200")))
        .isEqualTo(7);
    assertThat(value(c, "istio_response_bytes_sum", with(clientSide, "response_code", "200")))
        .isEqualTo(7 * "forecast".length());

    String s = prometheus(server);
    Map<String, String> serverSide =
        Map.of(
            "reporter", "destination",
            "source_workload", "frontend-v1",
            "source_version", "v1",
            "destination_workload", "forecast-v2",
            "destination_version", "v2",
            "destination_service_name", "forecast",
            "connection_security_policy", "none");
    assertThat(value(s, "istio_requests_total", with(serverSide, "response_code", "200")))
        .isEqualTo(7);
    assertThat(value(s, "istio_requests_total", with(serverSide, "response_code", "503")))
        .isEqualTo(3);
    assertThat(s).contains("# TYPE istio_request_duration_milliseconds histogram");
    assertThat(s).contains("le=\"3600000\"");
  }

  @Test
  void aRequestThatReachesNoUpstreamIsCountedWithItsFlagAndAnUnknownPeer() throws Exception {
    Map<String, String> down =
        Map.of(
            "reporter", "source",
            "destination_workload", "unknown",
            "destination_service", "down.weather.svc.cluster.local",
            "destination_service_name", "down",
            "response_code", "503",
            "response_flags", "UF");
    long before = Math.max(0, value(prometheus(client), "istio_requests_total", down));
    for (int i = 0; i < 2; i++) {
      assertThat(get("/down").statusCode()).isEqualTo(503);
    }
    assertThat(value(prometheus(client), "istio_requests_total", down)).isEqualTo(before + 2);
  }

  @Test
  void accessLogsCarryTheFormatsFieldsAndTheResponseFlags() throws Exception {
    assertThat(get("/weather?city=log").statusCode()).isEqualTo(200);
    assertThat(get("/down/log").statusCode()).isEqualTo(503);
    Path clientLog = logDir.resolve("client.log");
    Path serverLog = logDir.resolve("server.log");
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () ->
                Files.exists(clientLog)
                    && Files.readString(clientLog).contains("/down/log")
                    && Files.exists(serverLog)
                    && Files.readString(serverLog).contains("city=log"));
    var json = new com.fasterxml.jackson.databind.ObjectMapper();
    var down =
        Files.readAllLines(clientLog).stream()
            .filter(l -> l.contains("/down/log"))
            .map(
                l -> {
                  try {
                    return json.readTree(l);
                  } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                  }
                })
            .findFirst()
            .orElseThrow();
    assertThat(down.get("method").asText()).isEqualTo("GET");
    assertThat(down.get("response_code").asInt()).isEqualTo(503);
    assertThat(down.get("response_flags").asText()).isEqualTo("UF");
    // Envoy's router details: reset reason and transport failure reason (port 9 refuses)
    assertThat(down.get("response_code_details").asText())
        .matches(
            "upstream_reset_before_response_started\\{remote_connection_failure\\|"
                + "(immediate|delayed)_connect_error:_Connection_refused}");
    assertThat(down.get("upstream_cluster").asText())
        .isEqualTo("outbound|9|v1|down.weather.svc.cluster.local");
    assertThat(down.get("authority").asText()).isEqualTo("forecast.weather:3002");
    assertThat(down.get("start_time").asText()).matches("\\d{4}-\\d\\d-\\d\\dT.*Z");

    String line =
        Files.readAllLines(serverLog).stream()
            .filter(l -> l.contains("city=log"))
            .findFirst()
            .orElseThrow();
    assertThat(line)
        .matches(
            "\\[\\d{4}-\\d\\d-\\d\\dT[^]]+Z\\] \"GET /weather\\?city=log HTTP/1.1\" 200 - via_upstream - \"-\" 0 8 \\d+ \\d+ \"-\" \"[^\"]+\" \"[0-9a-f-]{36}\" \"forecast.weather:3002\" \""
                + SERVER_IP.replace(".", "\\.")
                + ":\\d+\" inbound\\|13002\\|\\| 127\\.[0-9.]+:\\d+ "
                + SERVER_IP.replace(".", "\\.")
                + ":\\d+ 127\\.[0-9.]+:\\d+ - -");
  }

  static Map<String, String> with(Map<String, String> m, String k, String v) {
    var out = new java.util.HashMap<>(m);
    out.put(k, v);
    return out;
  }
}
