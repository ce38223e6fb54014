package dev.bowline.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bowline.proxy.bootstrap.BootstrapLoader;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code tcp_proxy.idle_timeout} as Envoy defines it: the connections close once no bytes moved on
 * either of them for the timeout; bytes in either direction alone keep them open. Over real
 * sockets, with a 600 ms timeout and a backend that talks on its own when told to.
 */
class TcpIdleTimeoutTest {
  static final String IP = "127.0.39.1";
  static final String BACKEND_IP = "127.0.39.2";
  static final long TIMEOUT_MS = 600;

  static ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
  static ServerSocket backend;
  // what each accepted backend connection should do: "echo" or "talk" (a byte every 150 ms, 2 s)
  static final BlockingQueue<String> modes = new LinkedBlockingQueue<>();
  static Proxy proxy;
  static int port;

  @BeforeAll
  static void start() throws Exception {
    backend = new ServerSocket();
    backend.bind(new InetSocketAddress(BACKEND_IP, 0));
    executor.submit(
        () -> {
          while (!backend.isClosed()) {
            Socket s = backend.accept();
            String mode = modes.take();
            executor.submit(
                () -> {
                  try (s) {
                    InputStream in = s.getInputStream();
                    OutputStream out = s.getOutputStream();
                    if (mode.equals("talk")) {
                      for (int i = 0; i < 2000 / 150; i++) {
                        out.write('t');
                        out.flush();
                        Thread.sleep(150);
                      }
                    }
                    int b;
                    while ((b = in.read()) >= 0) {
                      out.write(b);
                      out.flush();
                    }
                  }
                  return null;
                });
          }
          return null;
        });
    port = Ports.free(IP);
    String yaml =
        """
        static_resources:
          listeners:
          - name: tcp
            address: {socket_address: {address: %1$s, port_value: %2$d}}
            filter_chains:
            - filters:
              - name: envoy.filters.network.tcp_proxy
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
                  stat_prefix: tcp
                  cluster: b
                  idle_timeout: %5$ss
          clusters:
          - name: b
            load_assignment:
              cluster_name: b
              endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: %3$s, port_value: %4$d}}}}]}]
        """
            .formatted(IP, port, BACKEND_IP, backend.getLocalPort(), TIMEOUT_MS / 1000.0);
    proxy =
        Proxy.start(
            new BootstrapLoader().parse("tcp.yaml", yaml), ProxyOptions.defaults().withWorkers(1));
  }

  @AfterAll
  static void stop() throws Exception {
    proxy.close();
    backend.close();
    executor.shutdownNow();
  }

  /** Whether the proxy closed {@code s} within {@code millis}: reads to EOF, dropping bytes. */
  static boolean closedWithin(Socket s, long millis) throws Exception {
    long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
    while (System.nanoTime() < end) {
      s.setSoTimeout((int) Math.max(1, TimeUnit.NANOSECONDS.toMillis(end - System.nanoTime())));
      try {
        if (s.getInputStream().read() < 0) {
          return true;
        }
      } catch (SocketTimeoutException e) {
        return false;
      }
    }
    return false;
  }

  @Test
  void clientBytesKeepTheConnectionOpenAndSilenceClosesIt() throws Exception {
    modes.add("echo");
    try (Socket s = new Socket(IP, port)) {
      s.setSoTimeout(5000);
      // three timeouts' worth of traffic, a byte each 150 ms, each echoed back
      for (int i = 0; i < 3 * TIMEOUT_MS / 150; i++) {
        s.getOutputStream().write('x');
        assertThat(s.getInputStream().read()).isEqualTo('x');
        Thread.sleep(150);
      }
      // then silence: closed (generously bounded: the machine may be busy)
      assertThat(closedWithin(s, 20_000)).isTrue();
    }
  }

  @Test
  void upstreamBytesAloneKeepTheConnectionOpen() throws Exception {
    modes.add("talk");
    try (Socket s = new Socket(IP, port)) {
      s.setSoTimeout(5000);
      int got = 0;
      long start = System.nanoTime();
      // the client sends nothing; the backend talks for 2 s, over three timeouts
      while (TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start) < 3 * TIMEOUT_MS) {
        assertThat(s.getInputStream().read()).isEqualTo('t');
        got++;
      }
      assertThat(got).isGreaterThan(3);
      assertThat(closedWithin(s, 20_000)).isTrue();
    }
  }
}
