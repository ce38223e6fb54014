package dev.bowline.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The connection manager's client address and internal/external decision, as Envoy's {@code
 * mutateRequestHeaders}: {@code xff_num_trusted_hops} with and without {@code use_remote_address}
 * (the examples of Envoy's x-forwarded-for documentation), {@code internal_address_config}, what an
 * internal request gets ({@code x-envoy-internal: true}, its x-envoy-* and {@code
 * internal_only_headers} kept, no {@code require_tls: EXTERNAL_ONLY} redirect) and what an external
 * one loses. And the connection manager's other request and response headers: {@code via}, {@code
 * server_header_transformation}, {@code strip_any_host_port}, {@code strip_matching_host_port},
 * {@code strip_trailing_host_dot}. Clients connect from chosen loopback addresses: 127.0.7.62 is
 * internal where a listener says so, 127.0.7.63 never is; the backend echoes the request head it
 * got as its body.
 */
class ClientAddressProxyTest {
  static final String IP = "127.0.7.60";
  static final String INTERNAL_PEER = "127.0.7.62";
  static final String EXTERNAL_PEER = "127.0.7.63";
  static ScriptedBackend backend;
  static SocketProxy proxy;
  static Path log;

  @BeforeAll
  static void start() throws Exception {
    backend = ScriptedBackend.echo("127.0.7.61");
    log = Files.createTempFile("client-address", ".log");
    String accessLog = SocketProxy.accessLog(log, "%REQ(X-TEST)% %DOWNSTREAM_REMOTE_ADDRESS%\\n");
    var b = SocketProxy.on(IP);
    listener(b, "edge", "use_remote_address: true\n" + accessLog);
    listener(b, "edge1", "use_remote_address: true\nxff_num_trusted_hops: 1\n" + accessLog);
    listener(b, "edge2", "use_remote_address: true\nxff_num_trusted_hops: 2\n" + accessLog);
    listener(b, "mid", accessLog);
    listener(b, "mid1", "xff_num_trusted_hops: 1\n" + accessLog);
    listener(
        b,
        "gateway",
        "use_remote_address: true\n"
            + "internal_address_config: {cidr_ranges: [{address_prefix: "
            + INTERNAL_PEER
            + ", prefix_len: 32}]}");
    listener(
        b,
        "sidecar",
        "internal_address_config: {cidr_ranges: [{address_prefix: 10.0.0.0, prefix_len: 8}]}");
    listener(
        b,
        "via",
        "via: bowline-edge\nserver_header_transformation: APPEND_IF_ABSENT\n"
            + "strip_any_host_port: true\nstrip_trailing_host_dot: true");
    listener(
        b,
        "pass",
        "server_header_transformation: PASS_THROUGH\nstrip_matching_host_port: true\n"
            + "append_x_forwarded_port: true");
    listener(
        b,
        "port1",
        "use_remote_address: true\nxff_num_trusted_hops: 1\nappend_x_forwarded_port: true");
    proxy = b.cluster("b", "127.0.7.61", backend.port()).start();
  }

  /** A listener whose route table has internal_only_headers and an EXTERNAL_ONLY TLS host. */
  static void listener(SocketProxy.Builder b, String name, String options) {
    b.httpRouteConfig(
        name,
        options,
        """
        internal_only_headers: [X-Secret]
        virtual_hosts:
        - name: tls
          domains: ["tls.example"]
          require_tls: EXTERNAL_ONLY
          routes: [{match: {prefix: "/"}, route: {cluster: b}}]
        - name: all
          domains: ["*"]
          routes: [{match: {prefix: "/"}, route: {cluster: b}}]
        """);
  }

  @AfterAll
  static void stop() throws Exception {
    proxy.close();
    backend.close();
    Files.deleteIfExists(log);
  }

  /** A GET through listener {@code name} from {@code peer} with {@code headers}: the response. */
  static String get(String name, String peer, String host, String... headers) throws Exception {
    return SocketProxy.getFrom(peer, IP, proxy.port(name), host, headers);
  }

  /** The value of {@code name} in the head the backend echoed, null when it got none. */
  static String upstream(String response, String name) {
    return ScriptedBackend.headerValue(response.substring(response.indexOf("\r\n\r\n") + 4), name);
  }

  /** Waits (60 s at most) for the access log line {@code line}. */
  static void awaitLine(String line) {
    org.awaitility.Awaitility.await()
        .atMost(java.time.Duration.ofSeconds(60))
        .until(() -> SocketProxy.logLines(log).contains(line));
  }

  static final String XFF = "203.0.113.128,203.0.113.10,203.0.113.1";

  @Test
  void edgeWithoutTrustedHopsTrustsThePeer() throws Exception {
    // Envoy's example 1: use_remote_address, no trusted hops: the peer is the client
    String r = get("edge", EXTERNAL_PEER, "t", "x-test", "e0", "x-forwarded-for", XFF);
    assertThat(upstream(r, "x-forwarded-for")).isEqualTo(XFF + "," + EXTERNAL_PEER);
    assertThat(upstream(r, "x-envoy-external-address")).isEqualTo(EXTERNAL_PEER);
    // the peer itself, with its port (Envoy's port 0 is for an address from the header)
    org.awaitility.Awaitility.await()
        .atMost(java.time.Duration.ofSeconds(60))
        .until(
            () ->
                SocketProxy.logLines(log).stream()
                    .anyMatch(
                        l ->
                            l.matches("e0 " + EXTERNAL_PEER.replace(".", "\\.") + ":[1-9][0-9]*")));
  }

  @Test
  void edgeWithTrustedHopsTrustsTheirEntries() throws Exception {
    // Envoy's example 2: one trusted proxy in front appended the client, the last entry
    String r =
        get(
            "edge1",
            EXTERNAL_PEER,
            "t",
            "x-test",
            "e1",
            "x-forwarded-for",
            XFF,
            "x-forwarded-proto",
            "https");
    assertThat(upstream(r, "x-forwarded-for")).isEqualTo(XFF + "," + EXTERNAL_PEER);
    assertThat(upstream(r, "x-envoy-external-address")).isEqualTo("203.0.113.1");
    // a trusted proxy in front: its x-forwarded-proto is kept (without trusted hops, replaced)
    assertThat(upstream(r, "x-forwarded-proto")).isEqualTo("https");
    awaitLine("e1 203.0.113.1:0");
    String two = get("edge2", EXTERNAL_PEER, "t", "x-test", "e2", "x-forwarded-for", XFF);
    assertThat(upstream(two, "x-envoy-external-address")).isEqualTo("203.0.113.10");
    awaitLine("e2 203.0.113.10:0");
    // too few entries for the hops: the peer, as Envoy falls back
    String few = get("edge2", EXTERNAL_PEER, "t", "x-test", "e3", "x-forwarded-for", "1.2.3.4");
    assertThat(upstream(few, "x-envoy-external-address")).isEqualTo(EXTERNAL_PEER);
    String edge0 =
        get("edge", EXTERNAL_PEER, "t", "x-forwarded-for", XFF, "x-forwarded-proto", "https");
    assertThat(upstream(edge0, "x-forwarded-proto")).isEqualTo("http");
  }

  @Test
  void withoutUseRemoteAddressTheClientIsTheTrustedEntry() throws Exception {
    // Envoy's examples 3 and 4: the peer (another proxy) appended the client already
    String xff = XFF + ",192.0.2.10";
    String r = get("mid", EXTERNAL_PEER, "t", "x-test", "m0", "x-forwarded-for", xff);
    assertThat(upstream(r, "x-forwarded-for")).isEqualTo(xff);
    assertThat(upstream(r, "x-envoy-external-address")).isNull();
    awaitLine("m0 192.0.2.10:0");
    get("mid1", EXTERNAL_PEER, "t", "x-test", "m1", "x-forwarded-for", xff);
    awaitLine("m1 203.0.113.1:0");
  }

  @Test
  void anInternalPeerIsMarkedAndKeepsWhatExternalOnesLose() throws Exception {
    String in =
        get(
            "gateway",
            INTERNAL_PEER,
            "t",
            "x-secret",
            "s",
            "x-envoy-retry-on",
            "5xx",
            "x-envoy-foo",
            "1");
    assertThat(upstream(in, "x-envoy-internal")).isEqualTo("true");
    assertThat(upstream(in, "x-secret")).isEqualTo("s");
    assertThat(upstream(in, "x-envoy-retry-on")).isEqualTo("5xx");
    assertThat(upstream(in, "x-envoy-foo")).isEqualTo("1");
    assertThat(upstream(in, "x-envoy-external-address")).isNull();
    // an external client cannot say it is internal, and loses the internal-only headers
    String out =
        get(
            "gateway",
            EXTERNAL_PEER,
            "t",
            "x-envoy-internal",
            "true",
            "x-secret",
            "s",
            "x-envoy-retry-on",
            "5xx");
    assertThat(upstream(out, "x-envoy-internal")).isNull();
    assertThat(upstream(out, "x-secret")).isNull();
    assertThat(upstream(out, "x-envoy-retry-on")).isNull();
    assertThat(upstream(out, "x-envoy-external-address")).isEqualTo(EXTERNAL_PEER);
    // an internal peer's request that already passed a proxy (x-forwarded-for) is not internal
    String forwarded = get("gateway", INTERNAL_PEER, "t", "x-forwarded-for", "10.0.0.1");
    assertThat(upstream(forwarded, "x-envoy-internal")).isNull();
  }

  @Test
  void requireTlsExternalOnlyFollowsTheDecision() throws Exception {
    assertThat(get("gateway", INTERNAL_PEER, "tls.example")).startsWith("HTTP/1.1 200");
    String external = get("gateway", EXTERNAL_PEER, "tls.example", "x-envoy-internal", "true");
    assertThat(external).startsWith("HTTP/1.1 301");
    assertThat(external.toLowerCase(Locale.ROOT)).contains("location: https://tls.example/x");
  }

  @Test
  void withoutUseRemoteAddressASingleInternalEntryIsInternal() throws Exception {
    String in = get("sidecar", EXTERNAL_PEER, "t", "x-forwarded-for", "10.1.2.3", "x-secret", "s");
    assertThat(upstream(in, "x-envoy-internal")).isEqualTo("true");
    assertThat(upstream(in, "x-secret")).isEqualTo("s");
    // two entries, or one outside the ranges: external; Envoy's list of x-envoy-* goes, others stay
    for (String xff : new String[] {"10.1.2.3,10.0.0.1", "192.0.2.1"}) {
      String out =
          get(
              "sidecar",
              EXTERNAL_PEER,
              "t",
              "x-forwarded-for",
              xff,
              "x-secret",
              "s",
              "x-envoy-upstream-rq-timeout-ms",
              "5",
              "x-envoy-foo",
              "1");
      assertThat(upstream(out, "x-envoy-internal")).as(xff).isNull();
      assertThat(upstream(out, "x-secret")).as(xff).isNull();
      assertThat(upstream(out, "x-envoy-upstream-rq-timeout-ms")).as(xff).isNull();
      assertThat(upstream(out, "x-envoy-foo")).as(xff).isEqualTo("1");
    }
    // no internal_address_config (Envoy's default since 1.36): nothing is internal
    String none = get("mid", EXTERNAL_PEER, "t", "x-forwarded-for", "10.1.2.3", "x-secret", "s");
    assertThat(upstream(none, "x-envoy-internal")).isNull();
    assertThat(upstream(none, "x-secret")).isNull();
  }

  /** The value of response header {@code name} (lower-case) in {@code response}'s head. */
  static String responseHeader(String response, String name) {
    String head = response.substring(0, response.indexOf("\r\n\r\n"));
    for (String line : head.split("\r\n")) {
      if (line.toLowerCase(Locale.ROOT).startsWith(name + ":")) {
        return line.substring(name.length() + 1).trim();
      }
    }
    return null;
  }

  @Test
  void viaIsAppendedToRequestsAndResponses() throws Exception {
    String r = get("via", EXTERNAL_PEER, "t", "via", "1.0 client", "x-answer", "via= 1.1 up");
    assertThat(upstream(r, "via")).isEqualTo("1.0 client, bowline-edge");
    assertThat(responseHeader(r, "via")).isEqualTo("1.1 up, bowline-edge");
    String alone = get("via", EXTERNAL_PEER, "t");
    assertThat(upstream(alone, "via")).isEqualTo("bowline-edge");
    assertThat(responseHeader(alone, "via")).isEqualTo("bowline-edge");
    assertThat(upstream(get("edge", EXTERNAL_PEER, "t", "via", "1.0 c"), "via")).isEqualTo("1.0 c");
  }

  @Test
  void serverHeaderTransformation() throws Exception {
    String upstreamServer = "server= upstream";
    // OVERWRITE (the default): server_name replaces the upstream's
    assertThat(
            responseHeader(get("edge", EXTERNAL_PEER, "t", "x-answer", upstreamServer), "server"))
        .isEqualTo("envoy");
    // APPEND_IF_ABSENT: the upstream's stays, server_name when it sent none
    assertThat(responseHeader(get("via", EXTERNAL_PEER, "t", "x-answer", upstreamServer), "server"))
        .isEqualTo("upstream");
    assertThat(responseHeader(get("via", EXTERNAL_PEER, "t"), "server")).isEqualTo("envoy");
    // PASS_THROUGH: the upstream's, or none
    assertThat(
            responseHeader(get("pass", EXTERNAL_PEER, "t", "x-answer", upstreamServer), "server"))
        .isEqualTo("upstream");
    assertThat(responseHeader(get("pass", EXTERNAL_PEER, "t"), "server")).isNull();
  }

  @Test
  void hostPortsAndTrailingDotsAreStrippedBeforeRouting() throws Exception {
    // strip_any_host_port and strip_trailing_host_dot: the TLS host is found without either
    assertThat(upstream(get("via", EXTERNAL_PEER, "Example.com.:8443"), "host"))
        .isEqualTo("example.com");
    assertThat(get("via", EXTERNAL_PEER, "tls.example.:99")).startsWith("HTTP/1.1 301");
    // strip_matching_host_port: only the listener's own port goes
    int port = proxy.port("pass");
    assertThat(upstream(get("pass", EXTERNAL_PEER, "a.example:" + port), "host"))
        .isEqualTo("a.example");
    assertThat(upstream(get("pass", EXTERNAL_PEER, "a.example:99"), "host"))
        .isEqualTo("a.example:99");
    assertThat(upstream(get("pass", EXTERNAL_PEER, "[::1]:" + port), "host")).isEqualTo("[::1]");
    assertThat(upstream(get("edge", EXTERNAL_PEER, "a.example.:" + port), "host"))
        .isEqualTo("a.example.:" + port);
  }

  @Test
  void appendXForwardedPortNamesTheListenersPortUnlessATrustedHopDid() throws Exception {
    int pass = proxy.port("pass");
    assertThat(upstream(get("pass", EXTERNAL_PEER, "t"), "x-forwarded-port"))
        .isEqualTo(Integer.toString(pass));
    // without use_remote_address the peer is trusted: its value stays
    assertThat(
            upstream(
                get("pass", EXTERNAL_PEER, "t", "x-forwarded-port", "443"), "x-forwarded-port"))
        .isEqualTo("443");
    // a trusted hop's stays; none: the listener's
    assertThat(
            upstream(
                get("port1", EXTERNAL_PEER, "t", "x-forwarded-port", "443"), "x-forwarded-port"))
        .isEqualTo("443");
    assertThat(upstream(get("port1", EXTERNAL_PEER, "t"), "x-forwarded-port"))
        .isEqualTo(Integer.toString(proxy.port("port1")));
    // off (the default): the client's passes, none added
    assertThat(upstream(get("edge", EXTERNAL_PEER, "t"), "x-forwarded-port")).isNull();
  }
}
