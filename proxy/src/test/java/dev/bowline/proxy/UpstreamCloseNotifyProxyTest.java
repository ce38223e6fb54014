package dev.bowline.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * An upstream HTTP/1 response that ends its connection ({@code connection: close}, or HTTP/1.0
 * without keep-alive), as Envoy's HTTP/1 pool takes it ({@code StreamWrapper::decodeHeaders}):
 * counted in {@code upstream_cx_close_notify}, and the connection is not used again. A backend
 * written byte for byte counts the connections the proxy opens.
 */
class UpstreamCloseNotifyProxyTest {
  static final String IP = "127.0.82.1";

  static ScriptedBackend backend;
  static SocketProxy proxy;
  static int port;

  @BeforeAll
  static void start() throws Exception {
    backend =
        new ScriptedBackend(
            "127.0.82.2",
            (path, out) -> {
              switch (path) {
                case "/close" -> {
                  ScriptedBackend.write(
                      out,
                      "HTTP/1.1 200 OK\r\ncontent-length: 5\r\nconnection: close\r\n\r\nclose");
                  return false;
                }
                case "/old" -> {
                  ScriptedBackend.write(out, "HTTP/1.0 200 OK\r\ncontent-length: 3\r\n\r\nold");
                  return false;
                }
                default -> {
                  ScriptedBackend.write(out, "HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\nkeep");
                  return true;
                }
              }
            });
    port = Ports.free(IP);
    proxy =
        SocketProxy.start(
            IP,
            List.of(SocketProxy.listener("notify", IP, port, "", SocketProxy.to("/", "b"))),
            List.of(SocketProxy.cluster("b", backend.ip(), backend.port(), "")));
  }

  @AfterAll
  static void stop() throws Exception {
    proxy.close();
    backend.close();
  }

  static String get(String path) throws Exception {
    HttpResponse<String> r = proxy.get(port, path);
    assertThat(r.statusCode()).isEqualTo(200);
    return r.body();
  }

  @Test
  void aResponseThatClosesItsConnectionIsCountedAndTheConnectionIsNotReused() throws Exception {
    assertThat(get("/keep")).isEqualTo("keep");
    assertThat(get("/keep")).isEqualTo("keep");
    assertThat(backend.connections.get()).isEqualTo(1); // kept alive and reused
    assertThat(proxy.stat("cluster.b.upstream_cx_close_notify")).isZero();

    assertThat(get("/close")).isEqualTo("close");
    assertThat(proxy.stat("cluster.b.upstream_cx_close_notify")).isEqualTo(1);
    assertThat(get("/keep")).isEqualTo("keep");
    assertThat(backend.connections.get()).isEqualTo(2); // a new one after the close

    // HTTP/1.0 without keep-alive says the same
    assertThat(get("/old")).isEqualTo("old");
    assertThat(proxy.stat("cluster.b.upstream_cx_close_notify")).isEqualTo(2);
    assertThat(get("/keep")).isEqualTo("keep");
    assertThat(backend.connections.get()).isEqualTo(3);
    assertThat(proxy.stat("cluster.b.upstream_cx_total")).isEqualTo(3);
  }
}
