package dev.bowline.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * iptables capture as Istio's sidecars set it up, with the kernel's real NAT: the test's
 * connections (from {@link #CLIENT}) to a few addresses of its own are {@code REDIRECT}ed to the
 * proxy's {@code 127.0.0.1} listeners, whose {@code envoy.filters.listener.original_dst} filter
 * reads {@code SO_ORIGINAL_DST}.
 *
 * <ul>
 *   <li>{@code virtualOutbound} ({@code use_original_dst}) hands a connection to the {@code
 *       bind_to_port: false} listener of its original destination, exact address first ({@code
 *       127.0.7.170_8080}), then the wildcard one of its port ({@code 0.0.0.0_<port>}), which count
 *       it; with neither, its own chain's tcp_proxy to an ORIGINAL_DST cluster connects to the
 *       original destination.
 *   <li>{@code virtualInbound} (the filter alone) picks its filter chain by the original
 *       destination's port and address, and its access log's {@code %DOWNSTREAM_LOCAL_ADDRESS%} is
 *       the original destination.
 * </ul>
 *
 * Needs root and iptables: without them it fails saying so (see {@link Iptables#open}).
 */
class OriginalDstProxyTest {
  static final String CLIENT = "127.0.7.175"; // the source address the rules match
  static final String EXACT = "127.0.7.170"; // a service address with a listener of its own
  static final String WILD = "127.0.7.171"; // one served by the wildcard listener of its port
  static final String PASS = "127.0.7.172"; // one no listener has: passthrough
  static final String INBOUND = "127.0.7.173";
  static final String INBOUND_RANGE = "127.0.7.174";
  static final String BACKENDS = "127.0.7.162";

  static Iptables iptables;
  static Backend a;
  static Backend wild; // at WILD:its port, reached through the wildcard listener's ORIGINAL_DST
  static Backend pass; // at PASS:its port, reached through virtualOutbound's own chain
  static SocketProxy proxy;
  static int outbound;
  static int inbound;
  static Path log;
  static Path tcpLog;

  @BeforeAll
  static void start() throws IOException {
    iptables = Iptables.open();
    a = new Backend("a", BACKENDS);
    wild = new Backend("wild", WILD);
    pass = new Backend("pass", PASS);
    outbound = Ports.free("127.0.0.1");
    inbound = Ports.free("127.0.0.1");
    log = Files.createTempFile("original-dst", ".log");
    tcpLog = Files.createTempFile("original-dst-tcp", ".log");
    String logOptions = SocketProxy.accessLog(log, "%DOWNSTREAM_LOCAL_ADDRESS% %RESPONSE_CODE%\\n");
    proxy =
        SocketProxy.on("127.0.0.1")
            .admin()
            .listener(virtualOutbound(outbound, tcpLog))
            .listener(
                SocketProxy.withFields(
                    SocketProxy.listener(
                        EXACT + "_8080", EXACT, 8080, logOptions, SocketProxy.to("/", "a")),
                    "bind_to_port: false"))
            .listener(
                SocketProxy.withFields(
                    SocketProxy.listener(
                        "0.0.0.0_" + wild.port(),
                        "0.0.0.0",
                        wild.port(),
                        "",
                        SocketProxy.to("/", "PassthroughCluster")),
                    "bind_to_port: false"))
            .listener(virtualInbound(inbound, logOptions))
            .cluster("a", a.ip(), a.port())
            .clusterYaml(
                """
                  - name: PassthroughCluster
                    type: ORIGINAL_DST
                    lb_policy: CLUSTER_PROVIDED
                """)
            .start();
    iptables.redirect(CLIENT, EXACT, 8080, outbound);
    iptables.redirect(CLIENT, WILD, wild.port(), outbound);
    iptables.redirect(CLIENT, PASS, pass.port(), outbound);
    iptables.redirect(CLIENT, INBOUND, 8080, inbound);
    iptables.redirect(CLIENT, INBOUND, 9090, inbound);
    iptables.redirect(CLIENT, INBOUND_RANGE, 7070, inbound);
  }

  @AfterAll
  static void stop() throws IOException {
    if (iptables != null) {
      iptables.close();
    }
    if (proxy != null) {
      proxy.close();
    }
    for (Backend b : new Backend[] {a, wild, pass}) {
      if (b != null) {
        b.close();
      }
    }
    if (log != null) {
      Files.deleteIfExists(log);
    }
    if (tcpLog != null) {
      Files.deleteIfExists(tcpLog);
    }
  }

  /**
   * Istio's {@code virtualOutbound}: original_dst, use_original_dst, passthrough chain, whose
   * tcp_proxy logs {@code tcp <%DOWNSTREAM_LOCAL_ADDRESS%>} to {@code tcpLog}.
   */
  static String virtualOutbound(int port, Path tcpLog) {
    return """
          - name: virtualOutbound
            address: {socket_address: {address: 127.0.0.1, port_value: %d}}
            use_original_dst: true
            listener_filters:
            - name: envoy.filters.listener.original_dst
              typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.listener.original_dst.v3.OriginalDst}
            filter_chains:
            - name: virtualOutbound-catchall-tcp
              filters:
              - name: envoy.filters.network.tcp_proxy
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
                  stat_prefix: PassthroughCluster
                  cluster: PassthroughCluster
                  access_log:
                  - name: envoy.access_loggers.file
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
                      path: %s
                      log_format: {text_format_source: {inline_string: "tcp %%DOWNSTREAM_LOCAL_ADDRESS%%\\n"}}
        """
        .formatted(port, tcpLog);
  }

  /** Istio's {@code virtualInbound} shape: original_dst alone, chains by destination. */
  static String virtualInbound(int port, String logOptions) {
    return """
          - name: virtualInbound
            address: {socket_address: {address: 127.0.0.1, port_value: %d}}
            listener_filters:
            - name: envoy.filters.listener.original_dst
              typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.listener.original_dst.v3.OriginalDst}
            filter_chains:
            - filter_chain_match: {destination_port: 8080}
        %s
            - filter_chain_match: {destination_port: 9090}
        %s
            - filter_chain_match: {prefix_ranges: [{address_prefix: %s, prefix_len: 32}]}
        %s
            default_filter_chain:
        %s
        """
        .formatted(
            port,
            direct("inbound-8080", logOptions),
            direct("inbound-9090", ""),
            INBOUND_RANGE,
            direct("inbound-range", ""),
            direct("inbound-default", ""));
  }

  /** A chain's {@code filters}: a connection manager answering {@code body} to everything. */
  static String direct(String body, String options) {
    return """
          filters:
          - name: envoy.filters.network.http_connection_manager
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
              stat_prefix: %1$s
        %2$s
              http_filters:
              - name: envoy.filters.http.router
                typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
              route_config:
                virtual_hosts:
                - name: all
                  domains: ["*"]
                  routes:
                  - {match: {prefix: /}, direct_response: {status: 200, body: {inline_string: %1$s}}}
        """
        .formatted(body, options.indent(6).stripTrailing())
        .indent(4)
        .stripTrailing();
  }

  /** A GET of {@code /} on a connection from {@link #CLIENT} to {@code ip:port}: the response. */
  static String getFromClient(String ip, int port) throws IOException {
    try (Socket s = new Socket()) {
      s.bind(new InetSocketAddress(CLIENT, 0));
      s.connect(new InetSocketAddress(ip, port), 20_000);
      s.setSoTimeout(20_000);
      return SocketProxy.get(s, "/");
    }
  }

  long stat(String name) {
    return proxy.stat(name);
  }

  @Test
  void aRedirectedConnectionIsHandedToTheBindToPortFalseListenerOfItsExactAddress()
      throws Exception {
    long target = stat("listener." + EXACT + "_8080.downstream_cx_total");
    long own = stat("listener.127.0.0.1_" + outbound + ".downstream_cx_total");
    String r = getFromClient(EXACT, 8080);
    assertThat(r).startsWith("HTTP/1.1 200").contains("backend=a path=/");
    // counted where Envoy counts it: by the listener that took the connection, not the first
    assertThat(stat("listener." + EXACT + "_8080.downstream_cx_total")).isEqualTo(target + 1);
    assertThat(stat("listener.127.0.0.1_" + outbound + ".downstream_cx_total")).isEqualTo(own);
    // the handed-off connection's local address is its original destination
    SocketProxy.awaitLogLine(log, EXACT + ":8080 200");
  }

  @Test
  void theWildcardListenerOfThePortTakesItElseAndItsOriginalDstClusterReachesTheDestination()
      throws Exception {
    long target = stat("listener.0.0.0.0_" + wild.port() + ".downstream_cx_total");
    String r = getFromClient(WILD, wild.port());
    // 0.0.0.0_<port> routes to an ORIGINAL_DST cluster without use_http_header: the upstream is
    // the connection's restored local address, where the real backend is
    assertThat(r).startsWith("HTTP/1.1 200").contains("backend=wild path=/");
    assertThat(stat("listener.0.0.0.0_" + wild.port() + ".downstream_cx_total"))
        .isEqualTo(target + 1);
  }

  @Test
  void withNoListenerForTheDestinationItsOwnChainPassesTheConnectionThroughToIt() throws Exception {
    long own = stat("listener.127.0.0.1_" + outbound + ".downstream_cx_total");
    String r = getFromClient(PASS, pass.port());
    assertThat(r).startsWith("HTTP/1.1 200").contains("backend=pass path=/");
    assertThat(stat("listener.127.0.0.1_" + outbound + ".downstream_cx_total")).isEqualTo(own + 1);
    // the tcp_proxy's access log, too, sees the original destination as the local address (as
    // Envoy's connection info provider holds the restored address for every filter)
    SocketProxy.awaitLogLine(tcpLog, "tcp " + PASS + ":" + pass.port());
  }

  @Test
  void virtualInboundPicksTheChainByTheOriginalDestination() throws Exception {
    assertThat(getFromClient(INBOUND, 8080)).endsWith("inbound-8080");
    assertThat(getFromClient(INBOUND, 9090)).endsWith("inbound-9090");
    assertThat(getFromClient(INBOUND_RANGE, 7070)).endsWith("inbound-range");
    SocketProxy.awaitLogLine(log, INBOUND + ":8080 200");
    // not redirected: the listener's own address, no chain names it
    try (Socket s = new Socket("127.0.0.1", inbound)) {
      s.setSoTimeout(20_000);
      assertThat(SocketProxy.get(s, "/")).endsWith("inbound-default");
    }
  }

  @Test
  void onlyTheCapturingListenersAreBound() {
    assertThat(proxy.proxy.listenerAddress("virtualOutbound")).isPresent();
    assertThat(proxy.proxy.listenerAddress("virtualInbound")).isPresent();
    assertThat(proxy.proxy.listenerAddress(EXACT + "_8080")).isEmpty();
    assertThat(proxy.proxy.snapshot().listeners()).containsKey(EXACT + "_8080");
  }
}
