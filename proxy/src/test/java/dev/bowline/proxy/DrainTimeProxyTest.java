package dev.bowline.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bowline.proxy.bootstrap.BootstrapLoader;
import io.envoyproxy.controlplane.cache.v3.SimpleCache;
import io.envoyproxy.controlplane.cache.v3.Snapshot;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.grpc.Server;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * No downstream connection outlives its listener's drain time, over real sockets, however the drain
 * starts (the listener removed by LDS, {@code /drain_listeners}, SIGTERM's drain): an idle HTTP/1.1
 * keep-alive connection, a half-sent HTTP/1.1 request, an HTTP/2 connection whose upload never
 * ends, an HTTP/2 connection with a header block left half sent, and a TCP proxy connection are all
 * closed once the drain time (1 s here) is over, not later.
 */
class DrainTimeProxyTest {
  static final String IP = "127.0.76.11";
  static final String BACKEND_IP = "127.0.76.12";
  static final Duration DRAIN_TIME = Duration.ofSeconds(1);

  /** How a drain starts. */
  enum Trigger {
    LDS_REMOVAL,
    DRAIN_LISTENERS,
    SIGTERM
  }

  Backend backend;
  SimpleCache<String> cache;
  Server xds;
  Proxy proxy;
  int httpPort;
  int tcpPort;

  @BeforeEach
  void start() throws Exception {
    backend = new Backend("a", BACKEND_IP);
    httpPort = Ports.free(IP);
    tcpPort = Ports.free(IP);
    int xdsPort = Ports.free(IP);
    cache = new SimpleCache<>(node -> "all");
    xds = AdsBootstrap.server(IP, xdsPort, cache);
    publish("1", listeners());
    String bootstrap =
        AdsBootstrap.yaml("drain~1", "GRPC", IP, 0, IP, xdsPort)
            + """
              - name: a
                load_assignment:
                  cluster_name: a
                  endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: %s, port_value: %d}}}}]}]
            """
                .formatted(backend.ip(), backend.port());
    proxy =
        Proxy.start(
            new BootstrapLoader().parse("drain.yaml", bootstrap),
            ProxyOptions.defaults()
                .withWorkers(1)
                .withDrainTime(DRAIN_TIME)
                .withXdsBackoff(Duration.ofMillis(50), Duration.ofMillis(400)));
    Awaitility.await().atMost(Duration.ofSeconds(20)).until(() -> proxy.ready() && bound());
  }

  @AfterEach
  void stop() throws Exception {
    proxy.close();
    xds.shutdownNow().awaitTermination();
    backend.close();
  }

  /** An HTTP listener ({@code codec_type: AUTO}) and a TCP proxy listener, both to cluster a. */
  List<Listener> listeners() throws Exception {
    String yaml =
        "static_resources:\n  listeners:\n"
            + SocketProxy.listener(
                "http", IP, httpPort, "codec_type: AUTO", SocketProxy.to("/", "a"))
            + SocketProxy.tcpListener("tcp", IP, tcpPort, "a", "");
    return new BootstrapLoader()
        .parse("listeners.yaml", yaml)
        .getStaticResources()
        .getListenersList();
  }

  void publish(String version, List<Listener> listeners) {
    cache.setSnapshot(
        "all", Snapshot.create(List.of(), List.of(), listeners, List.of(), List.of(), version));
  }

  boolean bound() {
    for (int p : new int[] {httpPort, tcpPort}) {
      try (Socket s = new Socket(IP, p)) {
        // accepted
      } catch (IOException e) {
        return false;
      }
    }
    return true;
  }

  long listenerConnections() {
    return proxy.stats().all().stream()
        .filter(x -> x.name().startsWith("listener.") && x.name().endsWith(".downstream_cx_total"))
        .mapToLong(x -> x.value())
        .sum();
  }

  void drainListeners() throws Exception {
    SocketProxy.drainListeners(proxy);
  }

  /**
   * When {@code in}'s connection was closed by the proxy (end of stream or reset), in milliseconds
   * after {@code t0} (nanos); reads and drops whatever the proxy still sends.
   */
  static CompletableFuture<Long> closedAt(InputStream in, long t0) {
    CompletableFuture<Long> f = new CompletableFuture<>();
    Thread.ofVirtual()
        .start(
            () -> {
              byte[] buf = new byte[4096];
              try {
                while (in.read(buf) >= 0) {
                  // drop
                }
              } catch (IOException e) {
                // reset: closed as well
              }
              f.complete(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
            });
    return f;
  }

  @ParameterizedTest
  @EnumSource(Trigger.class)
  void noConnectionOutlivesTheDrainTime(Trigger trigger) throws Exception {
    long cxBefore = listenerConnections();
    Map<String, AutoCloseable> open = new LinkedHashMap<>();
    Map<String, InputStream> inputs = new LinkedHashMap<>();
    try {
      // HTTP/1.1 keep-alive, one request answered, then idle
      Socket keepAlive = new Socket(IP, httpPort);
      open.put("http1 keep-alive", keepAlive);
      keepAlive
          .getOutputStream()
          .write("GET /one HTTP/1.1\r\nHost: t\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      String head = SocketProxy.response(keepAlive.getInputStream());
      assertThat(head).startsWith("HTTP/1.1 200");
      inputs.put("http1 keep-alive", keepAlive.getInputStream());

      // HTTP/1.1, a request whose header section never ends
      Socket half = new Socket(IP, httpPort);
      open.put("http1 half-sent request", half);
      half.getOutputStream()
          .write("GET /two HTTP/1.1\r\nHost: t\r\nX-Slow: ".getBytes(StandardCharsets.US_ASCII));
      inputs.put("http1 half-sent request", half.getInputStream());

      // HTTP/2, an upload that never ends
      RawH2 upload = RawH2.open(IP, httpPort);
      open.put("http2 running upload", upload);
      upload.frames(
          (w, c) ->
              w.writeHeaders(
                  c,
                  1,
                  new DefaultHttp2Headers()
                      .method("POST")
                      .path("/echo")
                      .scheme("http")
                      .authority("t"),
                  0,
                  false,
                  c.newPromise()));
      upload.frames(
          (w, c) ->
              w.writeData(c, 1, Unpooled.wrappedBuffer(new byte[100]), 0, false, c.newPromise()));
      inputs.put("http2 running upload", upload.socket().getInputStream());

      // HTTP/2, HEADERS without END_HEADERS: the rest of the header block never comes
      RawH2 block = RawH2.open(IP, httpPort);
      open.put("http2 half-sent header block", block);
      block.send(
          new byte[] {
            0,
            0,
            2,
            1 /* HEADERS */,
            0x1 /* END_STREAM, no END_HEADERS */,
            0,
            0,
            0,
            1,
            (byte) 0x82 /* :method GET */,
            (byte) 0x86 /* :scheme http */
          });
      inputs.put("http2 half-sent header block", block.socket().getInputStream());

      // TCP proxy, connected through to the backend, idle
      Socket tcp = new Socket(IP, tcpPort);
      open.put("tcp proxy", tcp);
      tcp.getOutputStream().write("GET /three HTTP/1.1\r\n".getBytes(StandardCharsets.US_ASCII));
      inputs.put("tcp proxy", tcp.getInputStream());

      Awaitility.await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> listenerConnections() - cxBefore >= 5);

      long t0 = System.nanoTime();
      Map<String, CompletableFuture<Long>> closed = new LinkedHashMap<>();
      inputs.forEach((name, in) -> closed.put(name, closedAt(in, t0)));
      switch (trigger) {
        case LDS_REMOVAL -> publish("2", List.of());
        case DRAIN_LISTENERS -> drainListeners();
        case SIGTERM -> CompletableFuture.runAsync(() -> proxy.drainAndClose(DRAIN_TIME));
      }

      // closed once the drain time is over: within the drain time and a few seconds of slack
      long deadline = t0 + TimeUnit.MILLISECONDS.toNanos(DRAIN_TIME.toMillis() + 3_000);
      for (var e : closed.entrySet()) {
        long left = Math.max(0, deadline - System.nanoTime());
        Long at = e.getValue().completeOnTimeout(-1L, left, TimeUnit.NANOSECONDS).get();
        assertThat(at)
            .as("%s closed (ms after the drain began; -1: still open)", e.getKey())
            .isPositive();
      }
    } finally {
      for (AutoCloseable c : open.values()) {
        c.close();
      }
    }
  }
}
