package dev.bowline.proxy;

import static dev.bowline.proxy.ClientAddressProxyTest.upstream;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The connection manager's {@code original_ip_detection_extensions}, as Envoy runs them on a
 * connection manager without {@code use_remote_address}: the custom header extension (the client,
 * whether it may make the request internal, the reply when the header is missing), the
 * x-forwarded-for extension ({@code xff_trusted_cidrs} with a trusted and an untrusted peer, {@code
 * skip_xff_append: false}, {@code xff_num_trusted_hops}) and their order. Clients connect from
 * chosen loopback addresses: 127.0.7.142 is a trusted proxy where a listener says so, 127.0.7.143
 * never is; the backend echoes the request head it got as its body.
 */
class OriginalIpDetectionProxyTest {
  static final String IP = "127.0.7.140";
  static final String TRUSTED_PEER = "127.0.7.142";
  static final String OTHER_PEER = "127.0.7.143";
  static ScriptedBackend backend;
  static SocketProxy proxy;
  static Path log;

  static final String CUSTOM =
      "type.googleapis.com/envoy.extensions.http.original_ip_detection"
          + ".custom_header.v3.CustomHeaderConfig";
  static final String XFF =
      "type.googleapis.com/envoy.extensions.http.original_ip_detection" + ".xff.v3.XffConfig";

  @BeforeAll
  static void start() throws Exception {
    backend = ScriptedBackend.echo("127.0.7.141");
    log = Files.createTempFile("original-ip", ".log");
    String accessLog = SocketProxy.accessLog(log, "%REQ(X-TEST)% %DOWNSTREAM_REMOTE_ADDRESS%\\n");
    var b = SocketProxy.on(IP).admin();
    listener(
        b,
        "header",
        """
        internal_address_config: {cidr_ranges: [{address_prefix: 10.0.0.0, prefix_len: 8}]}
        original_ip_detection_extensions:
        - name: envoy.http.original_ip_detection.custom_header
          typed_config:
            "@type": %s
            header_name: X-Real-IP
            allow_extension_to_set_address_as_trusted: true
        """
                .formatted(CUSTOM)
            + accessLog);
    listener(
        b,
        "untrusted",
        """
        internal_address_config: {cidr_ranges: [{address_prefix: 10.0.0.0, prefix_len: 8}]}
        original_ip_detection_extensions:
        - name: envoy.http.original_ip_detection.custom_header
          typed_config: {"@type": %s, header_name: x-real-ip}
        """
                .formatted(CUSTOM)
            + accessLog);
    listener(
        b,
        "reject",
        """
        original_ip_detection_extensions:
        - name: envoy.http.original_ip_detection.custom_header
          typed_config:
            "@type": %s
            header_name: x-real-ip
            reject_with_status: {code: 401}
        """
            .formatted(CUSTOM));
    listener(
        b,
        "chain",
        """
        original_ip_detection_extensions:
        - name: envoy.http.original_ip_detection.custom_header
          typed_config: {"@type": %s, header_name: x-client-ip}
        - name: envoy.http.original_ip_detection.xff
          typed_config:
            "@type": %s
            xff_trusted_cidrs:
              cidrs:
              - {address_prefix: %s, prefix_len: 32}
              - {address_prefix: 192.0.2.0, prefix_len: 24}
            skip_xff_append: false
        """
                .formatted(CUSTOM, XFF, TRUSTED_PEER)
            + accessLog);
    listener(
        b,
        "hops",
        """
        original_ip_detection_extensions:
        - name: envoy.http.original_ip_detection.xff
          typed_config: {"@type": %s, xff_num_trusted_hops: 1}
        """
                .formatted(XFF)
            + accessLog);
    proxy = b.cluster("b", "127.0.7.141", backend.port()).start();
  }

  static void listener(SocketProxy.Builder b, String name, String options) {
    b.http(name, options, SocketProxy.to("/", "b"));
  }

  @AfterAll
  static void stop() throws Exception {
    proxy.close();
    backend.close();
    Files.deleteIfExists(log);
  }

  /** A GET through listener {@code name} from {@code peer} with {@code headers}: the response. */
  static String get(String name, String peer, String... headers) throws Exception {
    return get(IP, proxy.port(name), peer, headers);
  }

  /** A GET to {@code ip:port} from {@code peer} with {@code headers}: the response. */
  static String get(String ip, int port, String peer, String... headers) throws Exception {
    return SocketProxy.getFrom(peer, ip, port, "t", headers);
  }

  static String admin(String path) throws Exception {
    return proxy.admin(path);
  }

  /** Waits (60 s at most) for an access log line matching {@code regex}. */
  static void awaitLine(String regex) {
    org.awaitility.Awaitility.await()
        .atMost(java.time.Duration.ofSeconds(60))
        .until(() -> SocketProxy.logLines(log).stream().anyMatch(l -> l.matches(regex)));
  }

  @Test
  void aCustomHeaderNamesTheClientAndMayMakeTheRequestInternal() throws Exception {
    String in =
        get(
            "header",
            OTHER_PEER,
            "x-test",
            "h0",
            "x-real-ip",
            "10.1.2.3",
            "x-envoy-retry-on",
            "5xx");
    assertThat(in).startsWith("HTTP/1.1 200");
    // allow_extension_to_set_address_as_trusted and an internal address: internal
    assertThat(upstream(in, "x-envoy-internal")).isEqualTo("true");
    assertThat(upstream(in, "x-envoy-retry-on")).isEqualTo("5xx");
    assertThat(upstream(in, "x-forwarded-for")).isNull(); // the extension appends nothing
    awaitLine("h0 10\\.1\\.2\\.3:0");
    String out =
        get(
            "header",
            OTHER_PEER,
            "x-test",
            "h1",
            "x-real-ip",
            "203.0.113.7",
            "x-envoy-retry-on",
            "5xx");
    assertThat(upstream(out, "x-envoy-internal")).isNull();
    assertThat(upstream(out, "x-envoy-retry-on")).isNull();
    awaitLine("h1 203\\.0\\.113\\.7:0");
    // not an address: nothing detected, the peer is the client
    get("header", OTHER_PEER, "x-test", "h2", "x-real-ip", "10.1.2.3:80");
    awaitLine("h2 127\\.0\\.7\\.143:[1-9][0-9]*");
    // without allow_extension_to_set_address_as_trusted the address names the client only
    String plain = get("untrusted", OTHER_PEER, "x-test", "u0", "x-real-ip", "10.1.2.3");
    assertThat(upstream(plain, "x-envoy-internal")).isNull();
    awaitLine("u0 10\\.1\\.2\\.3:0");
  }

  @Test
  void aMissingHeaderIsRejectedWithTheConfiguredStatus() throws Exception {
    int before = backend.heads.size();
    String r = get("reject", OTHER_PEER);
    assertThat(r).startsWith("HTTP/1.1 401");
    String bad = get("reject", OTHER_PEER, "x-real-ip", "not-an-address");
    assertThat(bad).startsWith("HTTP/1.1 401");
    assertThat(backend.heads.size()).isEqualTo(before); // the backend never saw them
    assertThat(get("reject", OTHER_PEER, "x-real-ip", "::1")).startsWith("HTTP/1.1 200");
    // Envoy's counter, on the admin socket
    org.awaitility.Awaitility.await()
        .atMost(java.time.Duration.ofSeconds(60))
        .until(
            () ->
                admin("/stats").contains("http.reject.downstream_rq_rejected_via_ip_detection: 2"));
  }

  @Test
  void trustedCidrsCountOnlyATrustedPeersHeaderAndAppendThePeer() throws Exception {
    String xff = "203.0.113.128, 203.0.113.10, 192.0.2.1";
    // Envoy's example 8: the rightmost entry not in the trusted ranges
    String r = get("chain", TRUSTED_PEER, "x-test", "c0", "x-forwarded-for", xff);
    assertThat(upstream(r, "x-forwarded-for")).isEqualTo(xff + "," + TRUSTED_PEER);
    assertThat(upstream(r, "x-envoy-external-address")).isNull();
    awaitLine("c0 203\\.0\\.113\\.10:0");
    // an untrusted peer's header does not count: the peer is the client (and is still appended)
    String u = get("chain", OTHER_PEER, "x-test", "c1", "x-forwarded-for", xff);
    assertThat(upstream(u, "x-forwarded-for")).isEqualTo(xff + "," + OTHER_PEER);
    awaitLine("c1 127\\.0\\.7\\.143:[1-9][0-9]*");
    // the first extension that finds the client wins; the x-forwarded-for one never runs
    String first =
        get(
            "chain",
            TRUSTED_PEER,
            "x-test",
            "c2",
            "x-client-ip",
            "198.51.100.9",
            "x-forwarded-for",
            xff);
    assertThat(upstream(first, "x-forwarded-for")).isEqualTo(xff);
    awaitLine("c2 198\\.51\\.100\\.9:0");
    // every entry trusted: the leftmost
    get("chain", TRUSTED_PEER, "x-test", "c3", "x-forwarded-for", "192.0.2.7,192.0.2.1");
    awaitLine("c3 192\\.0\\.2\\.7:0");
  }

  @Test
  void trustedHopsCountFromTheRight() throws Exception {
    String r =
        get("hops", OTHER_PEER, "x-test", "n0", "x-forwarded-for", "1.1.1.1,2.2.2.2,3.3.3.3");
    // skip_xff_append defaults to true in the extension: the header goes on as it came
    assertThat(upstream(r, "x-forwarded-for")).isEqualTo("1.1.1.1,2.2.2.2,3.3.3.3");
    awaitLine("n0 2\\.2\\.2\\.2:0");
  }
}
