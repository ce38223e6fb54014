package dev.bowline.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The local reply of a request whose upstream connection was refused, in Envoy's words (router
 * {@code onUpstreamReset}, {@code Utility::resetReasonToString}, {@code ConnectionImpl}'s connect
 * error): 503 {@code UF}, body {@code upstream connect error or disconnect/reset before headers.
 * reset reason: remote connection failure, transport failure reason: delayed connect error:
 * Connection refused} ({@code immediate connect error} when the connect call itself failed), over
 * HTTP/1.1 and HTTP/2 upstreams. It said {@code reset reason: connection failure}, Envoy's text
 * before it told local from remote failures.
 */
class ConnectFailureReasonProxyTest {
  static final String IP = "127.0.98.1";
  static final String REFUSED =
      "upstream connect error or disconnect/reset before headers. reset reason: remote connection"
          + " failure, transport failure reason: (immediate|delayed) connect error: Connection"
          + " refused";

  static SocketProxy proxy;
  static int port;

  @BeforeAll
  static void start() throws Exception {
    int closed = Ports.free("127.0.98.2"); // nothing listens there
    port = Ports.free(IP);
    proxy =
        SocketProxy.start(
            IP,
            List.of(
                SocketProxy.listener(
                    "refused",
                    IP,
                    port,
                    "",
                    SocketProxy.to("/h2", "h2"),
                    SocketProxy.to("/", "h1"))),
            List.of(
                SocketProxy.cluster("h1", "127.0.98.2", closed, ""),
                SocketProxy.cluster("h2", "127.0.98.2", closed, "http2_protocol_options: {}")));
  }

  @AfterAll
  static void stop() {
    proxy.close();
  }

  static HttpResponse<String> get(String path) throws Exception {
    try (HttpClient c = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()) {
      return c.send(
          HttpRequest.newBuilder(URI.create("http://" + IP + ":" + port + path))
              .timeout(Duration.ofSeconds(20))
              .build(),
          HttpResponse.BodyHandlers.ofString());
    }
  }

  @Test
  void aRefusedConnectIsARemoteConnectionFailureWithItsTransportReason() throws Exception {
    for (String path : List.of("/h1", "/h2")) {
      HttpResponse<String> r = get(path);
      assertThat(r.statusCode()).as(path).isEqualTo(503);
      assertThat(r.body()).as(path).matches(REFUSED);
    }
    assertThat(proxy.stat("cluster.h1.upstream_cx_connect_fail")).isEqualTo(1);
    assertThat(proxy.stat("cluster.h2.upstream_cx_connect_fail")).isEqualTo(1);
  }
}
