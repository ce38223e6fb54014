package dev.bowline.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code normalize_path} and {@code merge_slashes} (what istiod sets from MeshConfig {@code
 * pathNormalization}) in a real proxy: an RBAC rule that denies {@code /admin} also denies the
 * spellings that reach it through dot segments, escapes, backslashes and doubled slashes, and the
 * backend receives the normalized path. A second listener without normalization shows what it
 * protects against: the same request passes RBAC there.
 */
class PathNormalizationProxyTest {
  static final String IP = "127.0.7.41";
  static HttpServer backend;
  static volatile String lastPath = "";
  static Proxy proxy;
  static int normalized;
  static int raw;

  /** An RBAC filter that denies {@code /admin}. */
  static final String NO_ADMIN =
      """
      - name: envoy.filters.http.rbac
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC
          rules:
            action: DENY
            policies:
              ns[weather]-policy[no-admin]-rule[0]:
                permissions: [{url_path: {path: {prefix: /admin}}}]
                principals: [{any: true}]""";

  @BeforeAll
  static void start() throws IOException {
    backend = HttpServer.create(new InetSocketAddress(InetAddress.getByName(IP), 0), 16);
    backend.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
    backend.createContext(
        "/",
        ex -> {
          lastPath = ex.getRequestURI().getRawPath();
          byte[] body = "ok".getBytes(StandardCharsets.UTF_8);
          ex.sendResponseHeaders(200, body.length);
          ex.getResponseBody().write(body);
          ex.close();
        });
    backend.start();
    SocketProxy socket =
        SocketProxy.on(IP)
            .bootstrap("node: {id: paths-test, cluster: test}\n")
            .filters(NO_ADMIN)
            .routes(SocketProxy.to("/", "backend"))
            .http("normalized", "normalize_path: true\nmerge_slashes: true")
            .http("raw", "normalize_path: false\nmerge_slashes: false")
            .cluster("backend", IP, backend.getAddress().getPort(), "type: STATIC")
            .start();
    proxy = socket.proxy;
    normalized = socket.port("normalized");
    raw = socket.port("raw");
  }

  @AfterAll
  static void stop() {
    proxy.close();
    backend.stop(0);
  }

  /** Sends {@code path} verbatim on a new connection; returns the status code. */
  static int get(int port, String path) throws IOException {
    try (Socket s = new Socket(IP, port)) {
      s.setSoTimeout(5000);
      s.getOutputStream()
          .write(
              ("GET " + path + " HTTP/1.1\r\nHost: weather\r\nConnection: close\r\n\r\n")
                  .getBytes(StandardCharsets.ISO_8859_1));
      InputStream in = s.getInputStream();
      String head = new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
      return Integer.parseInt(head.substring(9, 12));
    }
  }

  @Test
  void everySpellingOfAdminIsDeniedWhenPathsAreNormalized() throws IOException {
    for (String p :
        new String[] {
          "/admin",
          "/public/../admin",
          "/%61dmin",
          "/./admin/x",
          "//admin",
          "/public/..\\admin",
          "/public/%2e%2e/admin"
        }) {
      assertThat(get(normalized, p)).as(p).isEqualTo(403);
      int rawStatus = get(raw, p); // passes RBAC: whatever the backend makes of it
      assertThat(rawStatus == 403).as(p + " -> " + rawStatus).isEqualTo(p.equals("/admin"));
    }
  }

  @Test
  void theBackendReceivesTheNormalizedPath() throws IOException {
    assertThat(get(normalized, "/a//b/./c/../d?q=/../x")).isEqualTo(200);
    assertThat(lastPath).isEqualTo("/a/b/d");
    assertThat(get(normalized, "/weather/%7Eparis")).isEqualTo(200);
    assertThat(lastPath).isEqualTo("/weather/~paris");
    assertThat(get(raw, "/a//b/./c")).isEqualTo(200);
    assertThat(lastPath).isEqualTo("/a//b/./c");
  }
}
