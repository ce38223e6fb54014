package dev.bowline.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * HTTP versions and upgrades on an HTTP/1 connection as Envoy's codec treats them: anything but
 * HTTP/1.1 counts as HTTP/1.0, refused with 426 {@code low_version} unless {@code accept_http_10};
 * an upgrade to h2c is ignored (the request is served as HTTP/1.1, without the upgrade's headers);
 * any other upgrade that {@code upgrade_configs} does not enable gets 403 {@code upgrade_failed}.
 */
class HttpVersionTest {
  static final String IP = "127.0.9.84";
  @TempDir static Path dir;
  static Backend backend;
  static Proxy proxy;
  static int strict;
  static int http10;
  static Path log;

  @BeforeAll
  static void start() {
    backend = new Backend("a", "127.0.9.85");
    log = dir.resolve("access.log");
    String accessLog =
        SocketProxy.accessLog(
            log, "%REQ(:PATH)% %PROTOCOL% %RESPONSE_CODE% %RESPONSE_CODE_DETAILS%\\n");
    SocketProxy socket =
        SocketProxy.on(IP)
            .routes(SocketProxy.to("/", "a"))
            .http("strict", accessLog)
            .http(
                "h10",
                "http_protocol_options: {accept_http_10: true,"
                    + " default_host_for_http_10: fallback.example}\n"
                    + accessLog)
            .cluster("a", backend.ip(), backend.port())
            .start();
    proxy = socket.proxy;
    strict = socket.port("strict");
    http10 = socket.port("h10");
  }

  @AfterAll
  static void stop() {
    proxy.close();
    backend.close();
  }

  /** Sends {@code raw} and reads until the proxy closes the connection (10 s at most). */
  static String exchange(int port, String raw) throws Exception {
    try (Socket s = new Socket(IP, port)) {
      s.setSoTimeout(10_000);
      s.getOutputStream().write(raw.getBytes(StandardCharsets.ISO_8859_1));
      return new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
    }
  }

  static void assertLogged(String line) {
    Awaitility.await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(() -> assertThat(Files.readAllLines(log)).contains(line));
  }

  @Test
  void versionsOtherThan11Get426LowVersionByDefault() throws Exception {
    for (String v : new String[] {"HTTP/1.0", "HTTP/1.2", "HTTP/2.0", "HTTP/0.9"}) {
      String path = "/v" + v.substring(5);
      String reply = exchange(strict, "GET " + path + " " + v + "\r\nHost: x\r\n\r\n");
      assertThat(reply)
          .as(v)
          .startsWith("HTTP/1.1 426 Upgrade Required\r\n")
          .contains("connection: close")
          .doesNotContain("backend=");
      assertLogged(path + " HTTP/1.0 426 low_version");
    }
  }

  @Test
  void anHttp09SimpleRequestWithoutVersionIs400AndCloses() throws Exception {
    // a request line of two words is no HTTP/1 request: the codec's 400 (it is never served)
    assertThat(exchange(http10, "GET /simple\r\n\r\n"))
        .startsWith("HTTP/1.1 400 Bad Request\r\n")
        .contains("connection: close")
        .doesNotContain("backend=");
  }

  @Test
  void aVersionThatIsNoVersionIs400() throws Exception {
    assertThat(exchange(strict, "GET / HTTP/x.y\r\nHost: x\r\n\r\n")).startsWith("HTTP/1.1 400");
    assertThat(exchange(strict, "GET / FOO/1.1\r\nHost: x\r\n\r\n")).startsWith("HTTP/1.1 400");
  }

  @Test
  void acceptHttp10ServesHttp10AndOtherVersionsAsHttp10() throws Exception {
    String reply = exchange(http10, "GET /ten HTTP/1.0\r\nHost: given\r\n\r\n");
    assertThat(reply).contains(" 200 ").contains("path=/ten host=given");
    assertLogged("/ten HTTP/1.0 200 via_upstream");
    // no Host: default_host_for_http_10
    assertThat(exchange(http10, "GET /nohost HTTP/1.0\r\n\r\n"))
        .contains(" 200 ")
        .contains("host=fallback.example");
    assertThat(exchange(http10, "GET /twelve HTTP/1.2\r\nHost: x\r\n\r\n"))
        .contains(" 200 ")
        .contains("path=/twelve");
    assertLogged("/twelve HTTP/1.0 200 via_upstream");
  }

  @Test
  void anHttp10RequestWithoutHostAndNoDefaultIs400() throws Exception {
    // the strict listener refuses HTTP/1.0 outright; HTTP/1.1 without Host is the same 400 case
    assertThat(exchange(strict, "GET /nohost11 HTTP/1.1\r\n\r\n")).startsWith("HTTP/1.1 400");
    assertLogged("/nohost11 HTTP/1.1 400 missing_host_header");
  }

  @Test
  void anH2cUpgradeIsIgnoredAndServedAsHttp11() throws Exception {
    String reply =
        exchange(
            strict,
            "GET /h2c HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\n"
                + "Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n"
                + "Connection: close\r\n\r\n");
    assertThat(reply).startsWith("HTTP/1.1 200 OK\r\n").contains("path=/h2c");
    assertThat(reply).doesNotContain("HTTP/1.1 101"); // (a random x-request-id may hold "101")
    // the JDK client asks for h2c by default on http:// URIs and falls back to HTTP/1.1
    HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2).build();
    HttpResponse<String> r =
        client.send(
            HttpRequest.newBuilder(URI.create("http://" + IP + ":" + strict + "/jdk")).build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.version()).isEqualTo(HttpClient.Version.HTTP_1_1);
    assertThat(r.body()).contains("path=/jdk");
  }

  @Test
  void anUpgradeNotEnabledIs403UpgradeFailed() throws Exception {
    String reply =
        exchange(
            strict,
            "GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                + "Connection: close\r\n\r\n");
    assertThat(reply).startsWith("HTTP/1.1 403 Forbidden\r\n").doesNotContain("backend=");
    assertLogged("/ws HTTP/1.1 403 upgrade_failed");
  }
}
