package dev.bowline.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Request body backpressure once the upstream connection exists (Envoy's router watermark): while
 * the backend does not read, the upstream connection's write buffer passes the cluster's {@code
 * per_connection_buffer_limit_bytes} and the proxy stops reading the client for good, not just
 * until the end of the read batch; the client's upload stalls short of the body, and the bytes the
 * proxy itself holds (what the client wrote less the kernel's socket queues) stay within the limit
 * and one read. Once the backend reads, the whole body arrives.
 */
class UpstreamBackpressureProxyTest {
  static final String IP = "127.0.37.1";
  static final String BACKEND_IP = "127.0.37.2";
  static final int LIMIT = 256 * 1024;
  static final long BODY = 64L * 1024 * 1024;

  static ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
  static ServerSocket backend;
  static Proxy proxy;
  static int port;
  static final CompletableFuture<Void> gate = new CompletableFuture<>();

  @BeforeAll
  static void start() throws Exception {
    backend = new ServerSocket();
    backend.setReceiveBufferSize(64 * 1024);
    backend.bind(new InetSocketAddress(BACKEND_IP, 0));
    // accepts, reads nothing until the gate opens, then reads the whole request and answers
    executor.submit(
        () -> {
          try (Socket s = backend.accept()) {
            gate.get();
            InputStream in = s.getInputStream();
            StringBuilder head = new StringBuilder();
            while (!head.toString().endsWith("\r\n\r\n")) {
              head.append((char) in.read());
            }
            long n = 0;
            byte[] buf = new byte[64 * 1024];
            while (n < BODY) {
              int r = in.read(buf, 0, (int) Math.min(buf.length, BODY - n));
              if (r < 0) {
                break;
              }
              n += r;
            }
            byte[] body = ("got " + n).getBytes(StandardCharsets.US_ASCII);
            OutputStream out = s.getOutputStream();
            out.write(
                ("HTTP/1.1 200 OK\r\ncontent-length: " + body.length + "\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.write(body);
            out.flush();
            s.getInputStream().read(); // until the proxy closes
          }
          return null;
        });
    SocketProxy socket =
        SocketProxy.on(IP)
            .http("up", "", "{match: {prefix: /}, route: {cluster: slow, timeout: 120s}}")
            .cluster(
                "slow",
                BACKEND_IP,
                backend.getLocalPort(),
                "per_connection_buffer_limit_bytes: " + LIMIT)
            .start();
    proxy = socket.proxy;
    port = socket.port("up");
  }

  @AfterAll
  static void stop() throws Exception {
    gate.complete(null);
    proxy.close();
    backend.close();
    executor.shutdownNow();
  }

  static long stat(String name) {
    return SocketProxy.stat(proxy, name);
  }

  /** One epoll read loop of the downstream connection (16 reads of at most 64 KiB). */
  static final long READ_SLACK = 1024 * 1024;

  /**
   * {proxy's bytes, client's written bytes, kernel queues}: what the client wrote less what the
   * kernel queues of the four sockets between client, proxy and backend hold ({@code
   * /proc/net/tcp}'s tx_queue and rx_queue), sampled while the client's count stands still. The
   * request heads (the upstream one in the proxy's send queue) and the piece the client is blocked
   * in count on the kernel's side at most: the figure is never above what the proxy holds.
   */
  static long[] proxyHeld(AtomicLong sent) throws Exception {
    String down = procAddress(IP, port);
    String up = procAddress(BACKEND_IP, backend.getLocalPort());
    while (true) {
      long before = sent.get();
      long queued = 0;
      List<String> lines = new ArrayList<>(Files.readAllLines(Path.of("/proc/net/tcp")));
      if (Files.exists(Path.of("/proc/net/tcp6"))) {
        lines.addAll(Files.readAllLines(Path.of("/proc/net/tcp6"))); // Java's dual-stack sockets
      }
      for (String line : lines) {
        String[] f = line.trim().split("\\s+");
        if (f.length < 5 || !f[3].equals("01")) { // established only
          continue;
        }
        String local = f[1].replace(V4_MAPPED, "");
        String remote = f[2].replace(V4_MAPPED, "");
        if (local.equals(down) || remote.equals(down) || local.equals(up) || remote.equals(up)) {
          String[] q = f[4].split(":");
          queued += Long.parseLong(q[0], 16) + Long.parseLong(q[1], 16);
        }
      }
      if (sent.get() == before) {
        return new long[] {before - queued, before, queued};
      }
    }
  }

  /** How {@code /proc/net/tcp6} prints the prefix of an IPv4-mapped address ({@code ::ffff:}). */
  static final String V4_MAPPED = "0000000000000000FFFF0000";

  /** An IPv4 address and port as {@code /proc/net/tcp} prints them (the address little-endian). */
  static String procAddress(String ip, int port) throws Exception {
    byte[] b = InetAddress.getByName(ip).getAddress();
    return String.format("%02X%02X%02X%02X:%04X", b[3], b[2], b[1], b[0], port);
  }

  @Test
  void anUploadStallsWhileTheUpstreamDoesNotReadAndArrivesWholeOnceItDoes() throws Exception {
    long paused = stat("http.up.downstream_flow_control_paused_reading_total");
    AtomicLong sent = new AtomicLong();
    Future<String> reply =
        executor.submit(
            () -> {
              try (Socket s = new Socket()) {
                s.setSendBufferSize(64 * 1024);
                s.connect(new InetSocketAddress(IP, port));
                s.setSoTimeout(120_000);
                OutputStream out = s.getOutputStream();
                out.write(
                    ("POST /upload HTTP/1.1\r\nhost: a.test\r\ncontent-length: "
                            + BODY
                            + "\r\nconnection: close\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII));
                byte[] piece = new byte[16 * 1024];
                for (long i = 0; i < BODY; i += piece.length) {
                  out.write(piece);
                  sent.addAndGet(piece.length);
                }
                out.flush();
                return new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
              }
            });
    try {
      await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> stat("http.up.downstream_flow_control_paused_reading_total") > paused);
      // the client stalls: no progress over a second, far below the body
      await()
          .atMost(Duration.ofSeconds(60))
          .pollInterval(Duration.ofSeconds(1))
          .until(
              new java.util.concurrent.Callable<Boolean>() {
                long last = -1;

                @Override
                public Boolean call() {
                  long now = sent.get();
                  boolean stalled = now == last;
                  last = now;
                  return stalled;
                }
              });
      // What the client wrote is held by the kernel's four socket queues and by the proxy. The
      // proxy's receive buffer autotunes up to tcp_rmem's maximum (32 MiB here) by how fast the
      // proxy read before it paused, so the kernel's share depends on the machine's load (20.6 MB
      // written once at load 10): only the proxy's share is bounded, by the cluster's limit plus
      // one read.
      long[] held = proxyHeld(sent);
      assertThat(held[0])
          .as("bytes the proxy holds (client wrote %d, kernel queues %d)", held[1], held[2])
          .isLessThan(LIMIT + READ_SLACK);
      assertThat(sent.get()).isLessThan(BODY);
      assertThat(reply).isNotDone();
    } finally {
      gate.complete(null);
    }
    assertThat(reply.get(120, TimeUnit.SECONDS)).startsWith("HTTP/1.1 200").endsWith("got " + BODY);
    assertThat(stat("http.up.downstream_flow_control_resumed_reading_total")).isPositive();
  }
}
