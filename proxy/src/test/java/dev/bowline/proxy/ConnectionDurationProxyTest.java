package dev.bowline.proxy;

import static dev.bowline.proxy.SocketProxy.get;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.Socket;
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
 * {@code common_http_protocol_options.max_connection_duration} as Envoy applies it. Downstream (the
 * connection manager's): a connection that old drains, counted in {@code
 * downstream_cx_max_duration_reached}: HTTP/1 answers its next request with {@code connection:
 * close} and closes, or closes after {@code drain_timeout} if it stays idle; HTTP/2 gets GOAWAY.
 * Upstream (the cluster's): a connection that old takes no new request and closes once idle,
 * counted in {@code upstream_cx_max_duration_reached}, on HTTP/1.1 and HTTP/2. Raw HTTP/1.1 and
 * HTTP/2 clients, the JDK HttpClient, Netty backends that count connections.
 */
class ConnectionDurationProxyTest {
  static final String IP = "127.0.74.1";

  static NettyBackend h1;
  static H2Backend h2;
  static SocketProxy proxy;
  static int quickPort; // max_connection_duration 0.5s, drain_timeout 0.3s
  static int patientPort; // max_connection_duration 0.5s, drain_timeout 60s
  static int plainPort; // no max_connection_duration
  static int silentPort; // as patientPort, for connections that send nothing
  static int silentH2Port; // as silentPort, codec_type HTTP2
  static final HttpClient client =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  /**
   * The cluster's HTTP protocol options: {@code max_connection_duration} 0.4 s, and {@code http}.
   */
  static String upstream(String http) {
    return SocketProxy.httpProtocolOptions(
        """
        common_http_protocol_options: {max_connection_duration: 0.4s}
        explicit_http_config: {%s: {}}"""
            .formatted(http));
  }

  @BeforeAll
  static void start() throws Exception {
    h1 = new NettyBackend("h1", "127.0.74.2");
    h2 = new H2Backend("h2", "127.0.74.3", 0, 0);
    proxy =
        SocketProxy.on(IP)
            .routes(SocketProxy.to("/h2", "h2"), SocketProxy.to("/", "h1"))
            .http(
                "quick",
                """
                common_http_protocol_options: {max_connection_duration: 0.5s}
                drain_timeout: 0.3s""")
            .http(
                "patient",
                """
                common_http_protocol_options: {max_connection_duration: 0.5s}
                drain_timeout: 60s""")
            .http("plain", "")
            .http(
                "silent",
                """
                common_http_protocol_options: {max_connection_duration: 0.5s}
                drain_timeout: 60s""")
            .http(
                "silenth2",
                """
                codec_type: HTTP2
                common_http_protocol_options: {max_connection_duration: 0.5s}
                drain_timeout: 60s""")
            .cluster("h1", h1.ip(), h1.port(), upstream("http_protocol_options"))
            .cluster("h2", h2.ip(), h2.port(), upstream("http2_protocol_options"))
            .start();
    quickPort = proxy.port("quick");
    patientPort = proxy.port("patient");
    plainPort = proxy.port("plain");
    silentPort = proxy.port("silent");
    silentH2Port = proxy.port("silenth2");
  }

  @AfterAll
  static void stop() {
    proxy.close();
    h1.close();
    h2.close();
  }

  static long stat(String name) {
    return proxy.stat(name);
  }

  @Test
  void anIdleHttp1ConnectionClosesADrainTimeoutAfterItsMaxDuration() throws Exception {
    long reached = stat("http.quick.downstream_cx_max_duration_reached");
    try (Socket s = new Socket(IP, quickPort)) {
      long opened = System.nanoTime();
      s.setSoTimeout(10_000);
      String first = get(s, "/a");
      assertThat(first).startsWith("HTTP/1.1 200");
      if (System.nanoTime() - opened < 400_000_000L) {
        // answered well before its 0.5 s of age: nothing announced the close yet (on a loaded
        // machine the answer can come after the age, and then it says connection: close)
        assertThat(first).doesNotContainIgnoringCase("connection: close");
      }
      // 0.5 s of age and 0.3 s of drain later the proxy closes it: the read sees the end
      assertThat(s.getInputStream().read()).isEqualTo(-1);
    }
    assertThat(stat("http.quick.downstream_cx_max_duration_reached")).isEqualTo(reached + 1);
  }

  /**
   * A connection that has sent nothing when it reaches its age has no codec in Envoy: it is closed
   * then, not drained for {@code drain_timeout} (60 s on these listeners), with the AUTO codec and
   * with HTTP/2's.
   */
  @Test
  void aConnectionThatSentNothingClosesAtItsMaxDuration() throws Exception {
    for (var listener :
        List.of(
            java.util.Map.entry("silent", silentPort),
            java.util.Map.entry("silenth2", silentH2Port))) {
      String counter = "http." + listener.getKey() + ".downstream_cx_max_duration_reached";
      long reached = stat(counter);
      try (Socket s = new Socket(IP, listener.getValue())) {
        s.setSoTimeout(10_000);
        // an HTTP/2 listener has sent its SETTINGS already: read to the end
        assertThat(s.getInputStream().readAllBytes().length).as(listener.getKey()).isLessThan(100);
      }
      assertThat(stat(counter)).as(listener.getKey()).isEqualTo(reached + 1);
    }
  }

  @Test
  void aDrainingHttp1ConnectionAnswersItsNextRequestWithConnectionClose() throws Exception {
    try (Socket s = new Socket(IP, patientPort)) {
      s.setSoTimeout(10_000);
      assertThat(get(s, "/b"))
          .startsWith("HTTP/1.1 200")
          .doesNotContainIgnoringCase("connection: close");
      await()
          .atMost(Duration.ofSeconds(20))
          .until(() -> stat("http.patient.downstream_cx_max_duration_reached") == 1);
      assertThat(get(s, "/c"))
          .startsWith("HTTP/1.1 200")
          .containsIgnoringCase("\r\nconnection: close\r\n");
      assertThat(s.getInputStream().read()).isEqualTo(-1);
    }
  }

  @Test
  void anHttp2ConnectionGetsGoAwayAtItsMaxDuration() throws Exception {
    try (RawH2 c = RawH2.open(IP, quickPort)) {
      RawH2.Frame goAway = c.readUntil(RawH2.GOAWAY);
      assertThat(goAway).isNotNull();
      assertThat(goAway.errorCode()).isZero();
      assertThat(c.closedByPeer()).isTrue();
    }
  }

  /** Waits until every upstream connection of {@code cluster} made so far reached its age. */
  static void allRetired(String cluster) {
    await()
        .atMost(Duration.ofSeconds(20))
        .until(
            () ->
                stat("cluster." + cluster + ".upstream_cx_max_duration_reached")
                    == stat("cluster." + cluster + ".upstream_cx_total"));
  }

  @Test
  void upstreamConnectionsRetireAtTheClustersMaxDuration() throws Exception {
    allRetired("h1"); // connections of the other tests
    int before = h1.connections.get();
    URI uri = URI.create("http://" + IP + ":" + plainPort + "/up");
    assertThat(
            client
                .send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString())
                .statusCode())
        .isEqualTo(200);
    assertThat(h1.connections.get()).isEqualTo(before + 1);
    allRetired("h1");
    assertThat(
            client
                .send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString())
                .statusCode())
        .isEqualTo(200);
    assertThat(h1.connections.get()).isEqualTo(before + 2);
  }

  @Test
  void upstreamHttp2ConnectionsRetireAtTheClustersMaxDuration() throws Exception {
    URI uri = URI.create("http://" + IP + ":" + plainPort + "/h2/up");
    assertThat(
            client
                .send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString())
                .statusCode())
        .isEqualTo(200);
    assertThat(h2.connections.get()).isEqualTo(1);
    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> stat("cluster.h2.upstream_cx_max_duration_reached") == 1);
    await().atMost(Duration.ofSeconds(20)).until(() -> h2.closed.get() == 1);
    assertThat(
            client
                .send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString())
                .statusCode())
        .isEqualTo(200);
    assertThat(h2.connections.get()).isEqualTo(2);
  }
}
