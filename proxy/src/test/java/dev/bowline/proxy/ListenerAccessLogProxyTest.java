package dev.bowline.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A listener's own {@code access_log}, as Envoy writes it, over real sockets: a connection no
 * filter chain matches is closed and logged with {@code NR} and {@code filter_chain_not_found}
 * (with the server name the TLS inspector read); one the listener filters gave up on (their timeout
 * without {@code continue_on_listener_filters_timeout}, the peer closing mid-ClientHello) is logged
 * without flags; one a chain took is logged as it ends with its TCP proxy's stream info (bytes,
 * cluster), so Istio's {@code response_flag_filter: NR} keeps only the unmatched ones.
 */
class ListenerAccessLogProxyTest {
  static final String IP = "127.0.7.223";
  static final String APP_IP = "127.0.7.224";
  static final String FORMAT =
      "%RESPONSE_FLAGS% %RESPONSE_CODE_DETAILS% %DOWNSTREAM_LOCAL_ADDRESS%"
          + " sni=%REQUESTED_SERVER_NAME% %UPSTREAM_CLUSTER% rx=%BYTES_RECEIVED% tx=%BYTES_SENT%";

  static ServerSocket echo;

  @BeforeAll
  static void start() throws Exception {
    echo = new ServerSocket(0, 50, InetAddress.getByName(APP_IP));
    Thread.ofVirtual()
        .start(
            () -> {
              while (!echo.isClosed()) {
                try {
                  Socket s = echo.accept();
                  Thread.ofVirtual()
                      .start(
                          () -> {
                            try (s) {
                              s.getOutputStream().write(s.getInputStream().readNBytes(4));
                            } catch (IOException e) {
                              // the peer went
                            }
                          });
                } catch (IOException e) {
                  return;
                }
              }
            });
  }

  @AfterAll
  static void stop() throws Exception {
    echo.close();
  }

  /** A listener on {@code port} with the TLS inspector, a passthrough chain for SNI db.example. */
  static String listener(int port, Path log, String filter, String fields) {
    return """
          - name: mixed
            address: {socket_address: {address: %s, port_value: %d}}
            listener_filters:
            - name: envoy.filters.listener.tls_inspector
              typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector}
            access_log:
            - name: envoy.access_loggers.file
        %s
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
                path: %s
                log_format: {text_format_source: {inline_string: "%s\\n"}}
            filter_chains:
            - filter_chain_match: {server_names: [db.example]}
              filters:
              - name: envoy.filters.network.tcp_proxy
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
                  stat_prefix: db
                  cluster: db
            - filter_chain_match: {transport_protocol: raw_buffer, destination_port: 1}
              filters:
              - name: envoy.filters.network.tcp_proxy
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
                  stat_prefix: never
                  cluster: db
        %s
        """
        .formatted(IP, port, filter.indent(6).stripTrailing(), log, FORMAT, fields.indent(4));
  }

  @Test
  void aConnectionNoChainMatchesIsLoggedWithNrAndItsServerName(@TempDir Path dir) throws Exception {
    Path log = dir.resolve("listener.log");
    int port = Ports.free(IP);
    try (SocketProxy p =
        SocketProxy.on(IP)
            .listener(listener(port, log, "filter: {response_flag_filter: {flags: [NR]}}", ""))
            .cluster("db", APP_IP, echo.getLocalPort())
            .start()) {
      // a connection a chain took is its TCP proxy's to log: the NR filter keeps it off (checked
      // at the end, once two later connections have been logged)
      assertThat(exchangeOverTls(port, "db.example")).isTrue();

      // plaintext: the only raw_buffer chain wants destination port 1
      try (Socket s = new Socket(IP, port)) {
        s.setSoTimeout(30_000);
        s.getOutputStream().write("ping".getBytes(StandardCharsets.US_ASCII));
        assertThat(s.getInputStream().read()).isEqualTo(-1); // closed without an answer
      } catch (java.net.SocketException reset) {
        // closed with our bytes unread
      }
      awaitLine(log, "NR filter_chain_not_found %s:%d sni=- - rx=0 tx=0".formatted(IP, port));

      // TLS for a name no chain serves: the server name the inspector read is in the line
      SSLSocket tls = (SSLSocket) SSLContext.getDefault().getSocketFactory().createSocket(IP, port);
      try (tls) {
        var params = tls.getSSLParameters();
        params.setServerNames(List.of(new SNIHostName("other.example")));
        tls.setSSLParameters(params);
        tls.setSoTimeout(30_000);
        tls.startHandshake();
      } catch (IOException closed) {
        // the listener closed it
      }
      awaitLine(
          log, "NR filter_chain_not_found %s:%d sni=other.example - rx=0 tx=0".formatted(IP, port));

      assertThat(SocketProxy.logLines(log)).hasSize(2).allMatch(l -> l.startsWith("NR "));
    }
  }

  @Test
  void connectionsTheListenerFiltersGaveUpOnAndConnectionsThatEndedAreLogged(@TempDir Path dir)
      throws Exception {
    Path log = dir.resolve("listener.log");
    int port = Ports.free(IP);
    try (SocketProxy p =
        SocketProxy.on(IP)
            .listener(listener(port, log, "", "listener_filters_timeout: 0.3s"))
            .cluster("db", APP_IP, echo.getLocalPort())
            .start()) {
      // silent: the TLS inspector times out and the listener closes the connection, no flag
      try (Socket s = new Socket(IP, port)) {
        s.setSoTimeout(30_000);
        assertThat(s.getInputStream().read()).isEqualTo(-1);
      }
      String gaveUp = "- - %s:%d sni=- - rx=0 tx=0".formatted(IP, port);
      awaitLine(log, gaveUp);

      // half a TLS record header, then gone: the inspector never saw a ClientHello
      try (Socket s = new Socket(IP, port)) {
        s.getOutputStream().write(22);
      }
      org.awaitility.Awaitility.await()
          .atMost(java.time.Duration.ofSeconds(30))
          .until(() -> SocketProxy.logLines(log).stream().filter(gaveUp::equals).count() == 2);

      // a connection the SNI chain took: one line as it ends, the TCP proxy's stream info
      assertThat(exchangeOverTls(port, "db.example")).isTrue();
      org.awaitility.Awaitility.await()
          .atMost(java.time.Duration.ofSeconds(30))
          .until(
              () ->
                  SocketProxy.logLines(log).stream()
                      .anyMatch(
                          l ->
                              l.startsWith("- - %s:%d sni=db.example db rx=".formatted(IP, port))
                                  && !l.endsWith("rx=0 tx=0")));
    }
  }

  /**
   * Opens a connection whose ClientHello names {@code sni} and sends it through; the echo sends the
   * first 4 bytes back (the TLS handshake fails there: the echo is no TLS server). True once the
   * connection is closed.
   */
  static boolean exchangeOverTls(int port, String sni) throws Exception {
    SSLSocket tls =
        (SSLSocket)
            SSLContext.getDefault()
                .getSocketFactory()
                .createSocket(new Socket(IP, port), IP, port, true);
    try (tls) {
      var params = tls.getSSLParameters();
      params.setServerNames(List.of(new SNIHostName(sni)));
      tls.setSSLParameters(params);
      tls.setSoTimeout(30_000);
      tls.startHandshake();
    } catch (IOException expected) {
      // the echo's 4 bytes are no ServerHello
    }
    return true;
  }

  /** Waits (30 s at most) for {@code line} in {@code log}; the lines so far in the failure. */
  static void awaitLine(Path log, String line) throws IOException {
    try {
      org.awaitility.Awaitility.await()
          .atMost(java.time.Duration.ofSeconds(30))
          .until(() -> SocketProxy.logLines(log).contains(line));
    } catch (org.awaitility.core.ConditionTimeoutException e) {
      throw new AssertionError("no line '" + line + "' in " + SocketProxy.logLines(log), e);
    }
  }
}
