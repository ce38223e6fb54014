package dev.bowline.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Envoy's rule against rapid reset (CVE-2023-44487), over real sockets: a downstream HTTP/2
 * connection is aborted once half of its closed streams (at least 250 of the first 500) were
 * premature, i.e. ended without a response within their first whole second; streams cancelled after
 * their response began, or after living two seconds, never count, however many. Netty's codec cap
 * (200 RST_STREAM per 30 s, GOAWAY ENHANCE_YOUR_CALM) ended such a client's connection.
 */
class PrematureResetProxyTest {
  static final String IP = "127.0.94.1";
  static final int CANCEL = 8;

  @org.junit.jupiter.api.io.TempDir static java.nio.file.Path dir;
  static ScriptedBackend streaming;
  static ScriptedBackend stall;
  static Backend backend;
  static SocketProxy proxy;
  static int port;

  @BeforeAll
  static void start() throws Exception {
    // /stream: a response head and one byte of body every 100 ms until the proxy goes away (a
    // server-streaming call); anything else: a whole small answer
    streaming =
        new ScriptedBackend(
            "127.0.94.2",
            (path, out) -> {
              if (!path.startsWith("/stream")) {
                ScriptedBackend.write(out, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
                return true;
              }
              ScriptedBackend.write(out, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
              while (true) {
                ScriptedBackend.write(out, "1\r\nx\r\n");
                Thread.sleep(100);
              }
            });
    stall = ScriptedBackend.stall("127.0.94.3");
    backend = new Backend("a", "127.0.94.4");
    port = Ports.free(IP);
    proxy =
        SocketProxy.start(
            IP,
            List.of(
                SocketProxy.listener(
                    "resets",
                    IP,
                    port,
                    "codec_type: HTTP2\n"
                        + SocketProxy.accessLog(
                            dir.resolve("resets.log"),
                            "%REQ(:PATH)% %RESPONSE_CODE% %RESPONSE_FLAGS% %RESPONSE_CODE_DETAILS%\\n"),
                    SocketProxy.to("/stream", "streaming"),
                    SocketProxy.to("/hold", "stall"),
                    SocketProxy.to("/", "a"))),
            List.of(
                SocketProxy.cluster("streaming", "127.0.94.2", streaming.port(), ""),
                SocketProxy.cluster("stall", "127.0.94.3", stall.port(), ""),
                SocketProxy.cluster("a", backend.ip(), backend.port(), "")));
  }

  @AfterAll
  static void stop() throws Exception {
    proxy.close();
    streaming.close();
    stall.close();
    backend.close();
  }

  static long stat(String name) {
    return proxy.stat("http.resets." + name);
  }

  /** A GET of {@code path} on {@code stream} of {@code c}: its status, once its response ended. */
  static String get(RawH2 c, int stream, String path) throws Exception {
    c.get(stream, path, true);
    List<RawH2.Frame> seen = new ArrayList<>();
    c.readUntil(
        seen,
        f ->
            f.stream()
                .anyMatch(x -> x.stream() == stream && x.type() == RawH2.DATA && x.endStream()));
    return seen.stream()
        .filter(f -> f.stream() == stream && f.type() == RawH2.HEADERS)
        .findFirst()
        .orElseThrow()
        .headers()
        .status()
        .toString();
  }

  /** RST_STREAM CANCEL on each of {@code streams}, in one write. */
  static void cancel(RawH2 c, List<Integer> streams) throws Exception {
    c.frames(
        (w, x) -> {
          for (int s : streams) {
            w.writeRstStream(x, s, CANCEL, x.newPromise());
          }
        });
  }

  @Test
  void cancellingStreamsWhoseResponseBeganKeepsTheConnection() throws Exception {
    long aborted = stat("downstream_rq_too_many_premature_resets");
    long resets = stat("downstream_rq_rx_reset");
    try (RawH2 c = proxy.h2(port)) {
      int next = 1;
      for (int wave = 0; wave < 3; wave++) {
        List<Integer> streams = new ArrayList<>();
        for (int i = 0; i < 100; i++, next += 2) {
          c.get(next, "/stream", true);
          streams.add(next);
        }
        // every stream's response began (its HEADERS came): then the client cancels them all
        List<RawH2.Frame> seen = new ArrayList<>();
        c.readUntil(
            seen,
            f ->
                f.stream()
                        .filter(x -> x.type() == RawH2.HEADERS)
                        .map(RawH2.Frame::stream)
                        .distinct()
                        .count()
                    == streams.size());
        cancel(c, streams);
      }
      // 300 cancellations in well under 30 s, none premature: the connection serves on
      assertThat(get(c, next, "/after")).isEqualTo("200");
    }
    // each reset stream is counted when its close task runs, which may be after /after's answer
    // (a loaded run read 289 here)
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () -> assertThat(stat("downstream_rq_rx_reset")).isGreaterThanOrEqualTo(resets + 300));
    assertThat(stat("downstream_rq_too_many_premature_resets")).isEqualTo(aborted);
  }

  @Test
  void cancellingLongLivedStreamsKeepsTheConnection() throws Exception {
    long aborted = stat("downstream_rq_too_many_premature_resets");
    long upstream = proxy.stat("cluster.stall.upstream_rq_total");
    try (RawH2 c = proxy.h2(port)) {
      List<Integer> streams = new ArrayList<>();
      for (int s = 1; s <= 2 * 260; s += 2) {
        c.get(s, "/hold", true);
        streams.add(s);
      }
      // all of them reached the upstream, which never answers
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> proxy.stat("cluster.stall.upstream_rq_total") - upstream >= 260);
      // the streams live past two whole seconds (Envoy's lifetime is counted in whole seconds and
      // must exceed one), then the client gives up on all 260 at once: no response, not premature
      await().pollDelay(Duration.ofMillis(2200)).atMost(Duration.ofSeconds(3)).until(() -> true);
      cancel(c, streams);
      assertThat(get(c, 1001, "/after")).isEqualTo("200");
    }
    assertThat(stat("downstream_rq_too_many_premature_resets")).isEqualTo(aborted);
  }

  @Test
  void theConnectionIsAbortedAtTheTwoHundredAndFiftiethPrematureReset() throws Exception {
    long aborted = stat("downstream_rq_too_many_premature_resets");
    try (RawH2 c = proxy.h2(port)) {
      // 249 streams opened and reset at once: each got no response and lived no time
      c.frames(
          (w, x) -> {
            for (int s = 1; s < 2 * 249; s += 2) {
              w.writeHeaders(x, s, RawH2.request("GET", "/hold"), 0, true, x.newPromise());
              w.writeRstStream(x, s, CANCEL, x.newPromise());
            }
          });
      // 249 of 250 closed streams premature: under the 250 that end it
      assertThat(get(c, 499, "/ok")).isEqualTo("200");
      assertThat(stat("downstream_rq_too_many_premature_resets")).isEqualTo(aborted);
      // the 250th: Envoy aborts the connection, no GOAWAY; stream 503, still open then, is reset
      // with the abort's details (resetAllStreams)
      c.frames(
          (w, x) -> {
            w.writeHeaders(x, 501, RawH2.request("GET", "/hold"), 0, true, x.newPromise());
            w.writeHeaders(x, 503, RawH2.request("GET", "/hold/open"), 0, true, x.newPromise());
            w.writeRstStream(x, 501, CANCEL, x.newPromise());
          });
      assertThat(c.readUntil(RawH2.GOAWAY)).as("closed without GOAWAY").isNull();
    }
    assertThat(stat("downstream_rq_too_many_premature_resets")).isEqualTo(aborted + 1);
    SocketProxy.awaitLogLine(
        dir.resolve("resets.log"), "/hold/open 0 DC too_many_premature_resets");
    assertThat(SocketProxy.logLines(dir.resolve("resets.log")))
        .contains("/hold 0 DR http2.remote_reset");
  }
}
