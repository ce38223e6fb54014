package dev.bowline.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An access log with Envoy's CEL filter, as istiod emits it for a Telemetry {@code
 * accessLogging[].filter.expression}: over real sockets, {@code response.code >= 400} logs only the
 * failures, and a header test reads {@code request.headers}.
 */
class CelAccessLogProxyTest {
  static final String IP = "127.0.7.21";

  /**
   * A proxy whose listener {@code in} routes to the app on {@code appPort} and logs to {@code log}
   * the streams that {@code expression} admits.
   */
  static SocketProxy.Builder cel(int appPort, Path log, String expression) {
    return SocketProxy.on(IP)
        .http(
            "in",
            """
            access_log:
            - name: envoy.access_loggers.file
              filter:
                extension_filter:
                  name: envoy.access_loggers.extension_filters.cel
                  typed_config:
                    "@type": type.googleapis.com/envoy.extensions.access_loggers.filters.cel.v3.ExpressionFilter
                    expression: "%s"
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
                path: %s
                log_format: {text_format_source: {inline_string: "%%RESPONSE_CODE%% %%REQ(:PATH)%%\\n"}}"""
                .formatted(expression, log),
            SocketProxy.to("/", "app"))
        .cluster("app", IP, appPort, "type: STATIC");
  }

  @Test
  void onlyFailuresAreLoggedWithResponseCodeFilter(@TempDir Path dir) throws Exception {
    HttpServer app = HttpServer.create(new InetSocketAddress(IP, 0), 16);
    app.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
    app.createContext(
        "/",
        ex -> {
          int status = ex.getRequestURI().getPath().startsWith("/fail") ? 503 : 200;
          ex.sendResponseHeaders(status, -1);
          ex.close();
        });
    app.start();
    Path log = dir.resolve("access.log");
    SocketProxy socket =
        cel(
                app.getAddress().getPort(),
                log,
                "response.code >= 400 || request.headers['x-debug'] == 'yes'")
            .start();
    Proxy proxy = socket.proxy;
    int port = socket.port("in");
    try {
      HttpClient http = HttpClient.newHttpClient();
      for (String path : new String[] {"/ok1", "/fail1", "/ok2", "/fail2", "/ok3"}) {
        http.send(
            HttpRequest.newBuilder(URI.create("http://" + IP + ":" + port + path)).build(),
            HttpResponse.BodyHandlers.discarding());
      }
      http.send(
          HttpRequest.newBuilder(URI.create("http://" + IP + ":" + port + "/debugged"))
              .header("x-debug", "yes")
              .build(),
          HttpResponse.BodyHandlers.discarding());
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> Files.exists(log) && Files.readString(log).contains("/debugged"));
      assertThat(Files.readAllLines(log))
          .containsExactly("503 /fail1", "503 /fail2", "200 /debugged");
    } finally {
      proxy.close();
      app.stop(0);
    }
  }

  @Test
  void anExpressionThatDoesNotCompileIsRejectedNamingTheField(@TempDir Path dir) {
    assertThatThrownBy(() -> cel(Ports.free(IP), dir.resolve("x.log"), "response.code >=").start())
        .hasMessageContaining("access_log[0].filter.extension_filter.typed_config")
        .hasMessageContaining("expression:");
  }
}
