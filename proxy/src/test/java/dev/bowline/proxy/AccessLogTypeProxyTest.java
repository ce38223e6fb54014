package dev.bowline.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Access-log lines besides the stream's end, as Envoy writes them, over real sockets: {@code
 * %ACCESS_LOG_TYPE%} in text and JSON formats, the connection manager's {@code access_log_options}
 * (periodic lines of a slow request with the bytes so far and no response code yet, the start line
 * when the head is routed, the CONNECT tunnel's line) and their deprecated top-level fields,
 * tcp_proxy's access log ({@code TcpUpstreamConnected}, {@code TcpPeriodic} of a connection held
 * open, {@code TcpConnectionEnd}), and Envoy's access-log filters.
 */
class AccessLogTypeProxyTest {
  static final String IP = "127.0.7.130";
  static final String APP_IP = "127.0.7.131";

  static HttpServer app;
  static ServerSocket echo;

  @BeforeAll
  static void start() throws Exception {
    app = HttpServer.create(new InetSocketAddress(APP_IP, 0), 16);
    app.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
    app.createContext(
        "/",
        ex -> {
          ex.getRequestBody().readAllBytes();
          String path = ex.getRequestURI().getPath();
          if (path.startsWith("/slow")) {
            try {
              Thread.sleep(2500); // a long stream: periodic lines come before the response
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
          }
          int status = path.contains("/fail") ? 503 : 200;
          byte[] body = "hello".getBytes(StandardCharsets.US_ASCII);
          int grpc = path.indexOf("/grpc/");
          if (grpc >= 0) {
            ex.getResponseHeaders().add("content-type", "application/grpc");
            ex.getResponseHeaders().add("grpc-status", path.substring(grpc + "/grpc/".length()));
          }
          ex.sendResponseHeaders(status, body.length);
          ex.getResponseBody().write(body);
          ex.close();
        });
    app.start();
    echo = new ServerSocket(0, 50, java.net.InetAddress.getByName(APP_IP));
    Thread.ofVirtual()
        .start(
            () -> {
              while (!echo.isClosed()) {
                try {
                  Socket s = echo.accept();
                  Thread.ofVirtual()
                      .start(
                          () -> {
                            try (s) {
                              s.getInputStream().transferTo(s.getOutputStream());
                            } catch (Exception e) {
                              // the peer went
                            }
                          });
                } catch (Exception e) {
                  return;
                }
              }
            });
  }

  @AfterAll
  static void stop() throws Exception {
    app.stop(0);
    echo.close();
  }

  /** An access log to {@code file} in {@code format} (a text format, {@code %%} for {@code %}). */
  static String log(Path file, String format, String filter) {
    return """
        - name: envoy.access_loggers.file
        %s
          typed_config:
            "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
            path: %s
            log_format: {text_format_source: {inline_string: "%s\\n"}}"""
        .formatted(filter.indent(2).stripTrailing(), file, format);
  }

  static final String LINE = "%ACCESS_LOG_TYPE% %RESPONSE_CODE% %BYTES_RECEIVED% %REQ(:PATH)%";

  static HttpResponse<String> post(int port, String path, String body, String... headers)
      throws Exception {
    var b =
        HttpRequest.newBuilder(URI.create("http://" + IP + ":" + port + path))
            .timeout(Duration.ofSeconds(60))
            .POST(HttpRequest.BodyPublishers.ofString(body));
    if (headers.length > 0) {
      b.headers(headers);
    }
    return HttpClient.newBuilder()
        .version(HttpClient.Version.HTTP_1_1)
        .build()
        .send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void aSlowRequestIsLoggedPeriodicallyWithItsBytesSoFarThenAtItsEnd(@TempDir Path dir)
      throws Exception {
    Path text = dir.resolve("text.log");
    Path json = dir.resolve("json.log");
    try (SocketProxy p =
        SocketProxy.on(IP)
            .http(
                "in",
                """
                access_log_options: {access_log_flush_interval: 0.4s}
                access_log:
                %s
                - name: envoy.access_loggers.file
                  typed_config:
                    "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
                    path: %s
                    log_format:
                      json_format: {type: "%%ACCESS_LOG_TYPE%%", code: "%%RESPONSE_CODE%%", path: "%%REQ(:PATH)%%"}
                """
                    .formatted(log(text, LINE, ""), json),
                SocketProxy.to("/", "app"))
            .cluster("app", APP_IP, app.getAddress().getPort(), "type: STATIC")
            .start()) {
      int port = p.port("in");
      assertThat(post(port, "/fast", "abc").statusCode()).isEqualTo(200);
      assertThat(post(port, "/slow", "12345").statusCode()).isEqualTo(200);
      SocketProxy.awaitLogLine(text, "DownstreamEnd 200 5 /slow");
      List<String> lines = SocketProxy.logLines(text);
      // a request ends with its end line, whatever came before it
      assertThat(lines).filteredOn(l -> l.endsWith(" /fast")).endsWith("DownstreamEnd 200 3 /fast");
      // 2.5 s at 0.4 s: several periodic lines, no response yet, the request's 5 bytes read
      List<String> slow = lines.stream().filter(l -> l.endsWith(" /slow")).toList();
      assertThat(slow.subList(0, slow.size() - 1))
          .hasSizeGreaterThanOrEqualTo(3)
          .allMatch(l -> l.startsWith("DownstreamPeriodic 0 "))
          .endsWith("DownstreamPeriodic 0 5 /slow");
      assertThat(slow.getLast()).isEqualTo("DownstreamEnd 200 5 /slow");
      await()
          .atMost(Duration.ofSeconds(30))
          .until(
              () ->
                  SocketProxy.logLines(json)
                      .contains("{\"type\":\"DownstreamEnd\",\"code\":200,\"path\":\"/slow\"}"));
      assertThat(SocketProxy.logLines(json))
          .contains("{\"type\":\"DownstreamPeriodic\",\"code\":0,\"path\":\"/slow\"}");
      // the timer went with the stream: no periodic line after the end
      Thread.sleep(1000);
      List<String> after = SocketProxy.logLines(text);
      assertThat(after.getLast()).isEqualTo("DownstreamEnd 200 5 /slow");
      assertThat(after).hasSameSizeAs(lines);
    }
  }

  @Test
  void aStartLineIsWrittenWhenTheHeadIsRoutedWithTheOptionsOrTheDeprecatedField(@TempDir Path dir)
      throws Exception {
    Path options = dir.resolve("options.log");
    Path deprecated = dir.resolve("deprecated.log");
    String format = "%ACCESS_LOG_TYPE% %RESPONSE_CODE% %ROUTE_NAME% %UPSTREAM_HOST% %REQ(:PATH)%";
    String route = "{name: r1, match: {prefix: /}, route: {cluster: app}}";
    try (SocketProxy p =
        SocketProxy.on(IP)
            .http(
                "options",
                """
                access_log_options: {flush_access_log_on_new_request: true}
                access_log:
                %s
                """
                    .formatted(log(options, format, "")),
                route)
            .http(
                "deprecated",
                """
                flush_access_log_on_new_request: true
                access_log:
                %s
                """
                    .formatted(log(deprecated, format, "")),
                route)
            .cluster("app", APP_IP, app.getAddress().getPort(), "type: STATIC")
            .start()) {
      for (var e : java.util.Map.of("options", options, "deprecated", deprecated).entrySet()) {
        assertThat(post(p.port(e.getKey()), "/a", "x").statusCode()).isEqualTo(200);
        SocketProxy.awaitLogLine(
            e.getValue(),
            "DownstreamEnd 200 r1 " + APP_IP + ":" + app.getAddress().getPort() + " /a");
        // routed, no upstream yet, no response yet
        assertThat(SocketProxy.logLines(e.getValue()).getFirst())
            .isEqualTo("DownstreamStart 0 r1 - /a");
        assertThat(SocketProxy.logLines(e.getValue())).hasSize(2);
      }
    }
  }

  @Test
  void aConnectTunnelIsLoggedWhenEstablishedAndAtItsEnd(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("tunnel.log");
    try (SocketProxy p =
        SocketProxy.on(IP)
            .http(
                "connect",
                """
                access_log_options: {flush_log_on_tunnel_successfully_established: true}
                upgrade_configs: [{upgrade_type: CONNECT}]
                access_log:
                %s
                """
                    .formatted(log(file, "%ACCESS_LOG_TYPE% %RESPONSE_CODE% %BYTES_RECEIVED%", "")),
                "{match: {connect_matcher: {}}, route: {cluster: echo, upgrade_configs: [{upgrade_type: CONNECT, connect_config: {}}]}}")
            .cluster("echo", APP_IP, echo.getLocalPort(), "type: STATIC")
            .start()) {
      try (Socket s = new Socket(IP, p.port("connect"))) {
        s.setSoTimeout(30_000);
        OutputStream out = s.getOutputStream();
        out.write(
            "CONNECT echo.test:7 HTTP/1.1\r\nHost: echo.test:7\r\n\r\n"
                .getBytes(StandardCharsets.US_ASCII));
        out.flush();
        InputStream in = s.getInputStream();
        assertThat(ScriptedBackend.readHead(in)).startsWith("HTTP/1.1 200");
        SocketProxy.awaitLogLine(file, "DownstreamTunnelSuccessfullyEstablished 200 0");
        out.write("ping".getBytes(StandardCharsets.US_ASCII));
        out.flush();
        assertThat(new String(in.readNBytes(4), StandardCharsets.US_ASCII)).isEqualTo("ping");
        s.shutdownOutput();
        assertThat(in.read()).isEqualTo(-1);
      }
      SocketProxy.awaitLogLine(file, "DownstreamEnd 200 4");
      assertThat(SocketProxy.logLines(file))
          .containsExactly("DownstreamTunnelSuccessfullyEstablished 200 0", "DownstreamEnd 200 4");
    }
  }

  @Test
  void aTcpConnectionIsLoggedWhenConnectedPeriodicallyAndAtItsEnd(@TempDir Path dir)
      throws Exception {
    Path file = dir.resolve("tcp.log");
    String format =
        "%ACCESS_LOG_TYPE% %RESPONSE_CODE% %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT%"
            + " %UPSTREAM_CLUSTER% %UPSTREAM_HOST% %PROTOCOL%";
    String host = APP_IP + ":" + echo.getLocalPort();
    try (SocketProxy p =
        SocketProxy.on(IP)
            .tcp(
                "tcp",
                "echo",
                """
                access_log_options: {access_log_flush_interval: 0.3s, flush_access_log_on_connected: true}
                access_log:
                %s
                """
                    .formatted(log(file, format, "")))
            .tcp(
                "quiet",
                "echo",
                """
                access_log:
                %s
                """
                    .formatted(log(dir.resolve("quiet.log"), format, "")))
            .cluster("echo", APP_IP, echo.getLocalPort(), "type: STATIC")
            .start()) {
      try (Socket s = new Socket(IP, p.port("tcp"))) {
        s.setSoTimeout(30_000);
        SocketProxy.awaitLogLine(file, "TcpUpstreamConnected 0 - 0 0 echo " + host + " -");
        s.getOutputStream().write("hello".getBytes(StandardCharsets.US_ASCII));
        s.getOutputStream().flush();
        assertThat(s.getInputStream().readNBytes(5)).hasSize(5);
        // held open: periodic lines with the bytes so far
        SocketProxy.awaitLogLine(file, "TcpPeriodic 0 - 5 5 echo " + host + " -");
      }
      SocketProxy.awaitLogLine(file, "TcpConnectionEnd 0 - 5 5 echo " + host + " -");
      List<String> lines = SocketProxy.logLines(file);
      assertThat(lines.getFirst()).startsWith("TcpUpstreamConnected ");
      assertThat(lines.getLast()).startsWith("TcpConnectionEnd ");
      assertThat(lines.subList(1, lines.size() - 1)).allMatch(l -> l.startsWith("TcpPeriodic "));
      // without the options: the end line only, however long the connection
      try (Socket s = new Socket(IP, p.port("quiet"))) {
        s.setSoTimeout(30_000);
        s.getOutputStream().write("hi".getBytes(StandardCharsets.US_ASCII));
        assertThat(s.getInputStream().readNBytes(2)).hasSize(2);
        Thread.sleep(700);
      }
      SocketProxy.awaitLogLine(
          dir.resolve("quiet.log"), "TcpConnectionEnd 0 - 2 2 echo " + host + " -");
      assertThat(SocketProxy.logLines(dir.resolve("quiet.log"))).hasSize(1);
    }
  }

  @Test
  void envoysAccessLogFiltersChooseTheLines(@TempDir Path dir) throws Exception {
    Path types = dir.resolve("types.log");
    Path failures = dir.resolve("failures.log");
    Path flags = dir.resolve("flags.log");
    Path grpc = dir.resolve("grpc.log");
    Path sampled = dir.resolve("sampled.log");
    Path metadata = dir.resolve("metadata.log");
    String line = "%ACCESS_LOG_TYPE% %RESPONSE_CODE% %REQ(:PATH)%";
    try (SocketProxy p =
        SocketProxy.on(IP)
            .http(
                "in",
                """
                access_log_options: {flush_access_log_on_new_request: true}
                access_log:
                %s
                %s
                %s
                %s
                %s
                %s
                """
                    .formatted(
                        log(types, line, "filter: {log_type_filter: {types: [DownstreamStart]}}"),
                        log(
                            sampled,
                            line,
                            """
                            filter:
                              and_filter:
                                filters:
                                - log_type_filter: {types: [DownstreamEnd]}
                                - runtime_filter: {runtime_key: access_log.sampled, percent_sampled: {numerator: 50, denominator: HUNDRED}}"""),
                        log(
                            metadata,
                            line,
                            """
                            filter:
                              and_filter:
                                filters:
                                - log_type_filter: {types: [DownstreamEnd]}
                                - metadata_filter:
                                    matcher: {filter: istio_authn, path: [{key: principal}], value: {present_match: true}}
                                    match_if_key_not_found: false"""),
                        log(
                            failures,
                            line,
                            """
                            filter:
                              and_filter:
                                filters:
                                - log_type_filter: {types: [DownstreamStart], exclude: true}
                                - or_filter:
                                    filters:
                                    - status_code_filter: {comparison: {op: GE, value: {default_value: 500, runtime_key: unset}}}
                                    - header_filter: {header: {name: x-debug, string_match: {exact: "yes"}}}
                                - duration_filter: {comparison: {op: GE, value: {default_value: 0, runtime_key: unset}}}
                                - not_health_check_filter: {}"""),
                        log(flags, line, "filter: {response_flag_filter: {flags: [NR, UF]}}"),
                        log(
                            grpc,
                            line,
                            """
                            filter:
                              and_filter:
                                filters:
                                - log_type_filter: {types: [DownstreamEnd]}
                                - grpc_status_filter: {statuses: [OK, UNAVAILABLE], exclude: true}""")),
                SocketProxy.to("/app", "app"))
            .cluster("app", APP_IP, app.getAddress().getPort(), "type: STATIC")
            .start()) {
      int port = p.port("in");
      post(port, "/app/ok", "");
      post(port, "/app/fail", "");
      post(port, "/app/debug", "", "x-debug", "yes");
      post(port, "/nowhere", "");
      post(port, "/app/grpc/0", "");
      post(port, "/app/grpc/13", "");
      // runtime_filter keyed by the request id's first 8 hex digits, mod 100: 1 and 100 (0) are
      // under 50, 0x63 (99) is not
      post(port, "/app/s1", "", "x-request-id", "00000001-0000-4000-8000-000000000000");
      post(port, "/app/s2", "", "x-request-id", "00000063-0000-4000-8000-000000000000");
      post(port, "/app/s3", "", "x-request-id", "00000064-0000-4000-8000-000000000000");
      post(port, "/app/last", "");
      SocketProxy.awaitLogLine(types, "DownstreamStart 0 /app/last");
      SocketProxy.awaitLogLine(sampled, "DownstreamEnd 200 /app/s3");
      assertThat(SocketProxy.logLines(sampled))
          .filteredOn(l -> l.contains("/app/s"))
          .containsExactly("DownstreamEnd 200 /app/s1", "DownstreamEnd 200 /app/s3");
      // no stream has that dynamic metadata, and a missing key does not match here
      assertThat(SocketProxy.logLines(metadata)).isEmpty();
      SocketProxy.awaitLogLine(grpc, "DownstreamEnd 200 /app/last");
      assertThat(SocketProxy.logLines(types))
          .containsExactly(
              "DownstreamStart 0 /app/ok",
              "DownstreamStart 0 /app/fail",
              "DownstreamStart 0 /app/debug",
              "DownstreamStart 0 /nowhere",
              "DownstreamStart 0 /app/grpc/0",
              "DownstreamStart 0 /app/grpc/13",
              "DownstreamStart 0 /app/s1",
              "DownstreamStart 0 /app/s2",
              "DownstreamStart 0 /app/s3",
              "DownstreamStart 0 /app/last");
      assertThat(SocketProxy.logLines(failures))
          .containsExactly("DownstreamEnd 503 /app/fail", "DownstreamEnd 200 /app/debug");
      assertThat(SocketProxy.logLines(flags)).containsExactly("DownstreamEnd 404 /nowhere");
      // gRPC status: 200 without grpc-status is UNKNOWN (logged), 503 UNAVAILABLE and 404
      // UNIMPLEMENTED by Envoy's HTTP mapping, 0 OK and 13 INTERNAL from the header
      assertThat(SocketProxy.logLines(grpc))
          .containsExactly(
              "DownstreamEnd 200 /app/ok",
              "DownstreamEnd 200 /app/debug",
              "DownstreamEnd 404 /nowhere",
              "DownstreamEnd 200 /app/grpc/13",
              "DownstreamEnd 200 /app/s1",
              "DownstreamEnd 200 /app/s2",
              "DownstreamEnd 200 /app/s3",
              "DownstreamEnd 200 /app/last");
    }
  }

  @Test
  void theOptionsAndTheirDeprecatedFieldsTogetherAreRefusedNamingTheField(@TempDir Path dir) {
    assertThatThrownBy(
            () ->
                SocketProxy.on(IP)
                    .http(
                        "both",
                        """
                        access_log_flush_interval: 1s
                        access_log_options: {flush_access_log_on_new_request: true}
                        """,
                        SocketProxy.to("/", "app"))
                    .cluster("app", APP_IP, 1, "type: STATIC")
                    .start())
        .hasMessageContaining("access_log_flush_interval")
        .hasMessageContaining("only one of access_log_flush_interval or access_log_options");
    assertThatThrownBy(
            () ->
                SocketProxy.on(IP)
                    .tcp(
                        "both",
                        "app",
                        """
                        flush_access_log_on_connected: true
                        access_log_options: {access_log_flush_interval: 1s}
                        """)
                    .cluster("app", APP_IP, 1, "type: STATIC")
                    .start())
        .hasMessageContaining("flush_access_log_on_connected")
        .hasMessageContaining("only one of");
    assertThatThrownBy(
            () ->
                SocketProxy.on(IP)
                    .http(
                        "tiny",
                        "access_log_options: {access_log_flush_interval: 0.0001s}",
                        SocketProxy.to("/", "app"))
                    .cluster("app", APP_IP, 1, "type: STATIC")
                    .start())
        .hasMessageContaining("access_log_options.access_log_flush_interval")
        .hasMessageContaining("at least 1ms");
    assertThatThrownBy(
            () ->
                SocketProxy.on(IP)
                    .http(
                        "flag",
                        """
                        access_log:
                        %s
                        """
                            .formatted(
                                log(
                                    dir.resolve("x.log"),
                                    "%RESPONSE_CODE%",
                                    "filter: {response_flag_filter: {flags: [XX]}}")),
                        SocketProxy.to("/", "app"))
                    .cluster("app", APP_IP, 1, "type: STATIC")
                    .start())
        .hasMessageContaining("access_log[0].filter.response_flag_filter.flags[0]")
        .hasMessageContaining("XX");
  }
}
