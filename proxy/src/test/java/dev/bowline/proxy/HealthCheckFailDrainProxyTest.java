package dev.bowline.proxy;

import static dev.bowline.proxy.SocketProxy.to;
import static org.assertj.core.api.Assertions.assertThat;

import dev.bowline.proxy.RawH2.Frame;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code /healthcheck/fail} drain-closes the connections of {@code drain_type: DEFAULT} listeners
 * as Envoy's {@code DrainManagerImpl::drainClose} does while the server's health check is failed:
 * the next HTTP/1 response says {@code connection: close} and the connection closes, the next
 * HTTP/2 response comes with the drain's GOAWAY; {@code drain_type: MODIFY_ONLY} listeners are left
 * alone, and {@code /healthcheck/ok} stops it. Over real sockets.
 */
class HealthCheckFailDrainProxyTest {
  static final String IP = "127.0.7.230";
  static final String BACKEND_IP = "127.0.7.231";

  Backend backend;
  SocketProxy proxy;
  int def;
  int modifyOnly;
  int idle;

  @BeforeEach
  void start() {
    backend = new Backend("a", BACKEND_IP);
    def = Ports.free(IP);
    modifyOnly = Ports.free(IP);
    idle = Ports.free(IP);
    proxy =
        SocketProxy.on(IP)
            .listener(SocketProxy.listener("def", IP, def, "codec_type: AUTO", to("/", "b")))
            .listener(
                SocketProxy.withFields(
                    SocketProxy.listener("mod", IP, modifyOnly, "codec_type: AUTO", to("/", "b")),
                    "drain_type: MODIFY_ONLY"))
            .listener(
                SocketProxy.listener(
                    "idle",
                    IP,
                    idle,
                    "codec_type: AUTO\ncommon_http_protocol_options: {idle_timeout: 1s}\n"
                        + "drain_timeout: 1s",
                    to("/", "b")))
            .cluster("b", backend.ip(), backend.port())
            .admin()
            .start();
  }

  @AfterEach
  void stop() {
    proxy.close();
    backend.close();
  }

  void post(String path) throws Exception {
    var a = proxy.proxy.adminAddress().orElseThrow();
    try (HttpClient c = HttpClient.newHttpClient()) {
      var r =
          c.send(
              HttpRequest.newBuilder(URI.create("http://" + IP + ":" + a.getPort() + path))
                  .POST(HttpRequest.BodyPublishers.noBody())
                  .timeout(Duration.ofSeconds(30))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).isEqualTo(200);
    }
  }

  static String get(Socket s) throws Exception {
    return SocketProxy.get(s, "/x").toLowerCase(Locale.ROOT);
  }

  @Test
  void http1ConnectionsOfDefaultListenersCloseAfterTheirNextResponseWhileFailed() throws Exception {
    try (Socket d = new Socket(IP, def);
        Socket m = new Socket(IP, modifyOnly)) {
      d.setSoTimeout(30_000);
      m.setSoTimeout(30_000);
      assertThat(get(d)).startsWith("http/1.1 200").doesNotContain("connection: close");
      assertThat(get(m)).startsWith("http/1.1 200").doesNotContain("connection: close");

      post("/healthcheck/fail");
      assertThat(get(d)).startsWith("http/1.1 200").contains("\r\nconnection: close\r\n");
      assertThat(d.getInputStream().read()).as("closed after the response").isEqualTo(-1);
      // MODIFY_ONLY: the failed health check does not drain it; the connection serves on
      assertThat(get(m)).startsWith("http/1.1 200").doesNotContain("connection: close");
      assertThat(get(m)).startsWith("http/1.1 200").doesNotContain("connection: close");
    }
    assertThat(proxy.stat("http.def.downstream_cx_drain_close")).isEqualTo(1);
    assertThat(proxy.stat("http.mod.downstream_cx_drain_close")).isZero();

    post("/healthcheck/ok");
    try (Socket d = new Socket(IP, def)) {
      d.setSoTimeout(30_000);
      assertThat(get(d)).startsWith("http/1.1 200").doesNotContain("connection: close");
      assertThat(get(d)).startsWith("http/1.1 200").doesNotContain("connection: close");
    }
  }

  @Test
  void anIdleHttp1ConnectionStillMeetsItsIdleTimeoutWhileFailed() throws Exception {
    try (Socket s = new Socket(IP, idle)) {
      s.setSoTimeout(60_000);
      assertThat(get(s)).startsWith("http/1.1 200").doesNotContain("connection: close");
      post("/healthcheck/fail");
      // no request comes: the idle timeout drains it (drain_timeout later it closes), as before
      assertThat(s.getInputStream().read()).as("closed by the idle timeout").isEqualTo(-1);
    }
    assertThat(proxy.stat("http.idle.downstream_cx_idle_timeout")).isEqualTo(1);
  }

  @Test
  void http2ConnectionsOfDefaultListenersGetGoAwayWithTheirNextResponseWhileFailed()
      throws Exception {
    try (RawH2 d = proxy.h2(def);
        RawH2 m = proxy.h2(modifyOnly)) {
      post("/healthcheck/fail");
      d.get(1, "/x", true);
      List<Frame> seen = new ArrayList<>();
      d.readUntil(
          seen,
          s ->
              s.stream().anyMatch(f -> f.type() == RawH2.GOAWAY)
                  && s.stream().anyMatch(f -> f.stream() == 1 && f.endStream()));
      Frame notice = seen.stream().filter(f -> f.type() == RawH2.GOAWAY).findFirst().orElseThrow();
      assertThat(notice.errorCode()).isZero();
      assertThat(notice.lastStreamId())
          .as("the drain's shutdown notice")
          .isEqualTo(Integer.MAX_VALUE);
      assertThat(RawH2.has(seen, RawH2.HEADERS, 1)).as("the request is answered").isTrue();

      // MODIFY_ONLY: answered, no GOAWAY
      m.get(1, "/x", true);
      List<Frame> other = new ArrayList<>();
      m.readUntil(other, s -> s.stream().anyMatch(f -> f.stream() == 1 && f.endStream()));
      m.get(3, "/x", true);
      m.readUntil(other, s -> s.stream().anyMatch(f -> f.stream() == 3 && f.endStream()));
      assertThat(other).noneMatch(f -> f.type() == RawH2.GOAWAY);
    }
    assertThat(proxy.stat("http.def.downstream_cx_drain_close")).isEqualTo(1);
    assertThat(proxy.stat("http.mod.downstream_cx_drain_close")).isZero();

    post("/healthcheck/ok");
    try (RawH2 d = proxy.h2(def)) {
      d.get(1, "/x", true);
      List<Frame> seen = new ArrayList<>();
      d.readUntil(seen, s -> s.stream().anyMatch(f -> f.stream() == 1 && f.endStream()));
      d.get(3, "/x", true);
      d.readUntil(seen, s -> s.stream().anyMatch(f -> f.stream() == 3 && f.endStream()));
      assertThat(seen).noneMatch(f -> f.type() == RawH2.GOAWAY);
    }
  }
}
