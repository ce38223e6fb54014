package dev.bowline.proxy;

import static dev.bowline.proxy.ClientAddressProxyTest.upstream;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The connection manager's {@code scheme_header_transformation}: {@code scheme_to_overwrite} sets
 * every request's {@code x-forwarded-proto} (what an HTTP/1 upstream sees) and an HTTP/2 upstream's
 * {@code :scheme}; {@code match_upstream} gives an HTTP/2 upstream its own transport's scheme.
 * Plaintext clients from 127.0.7.147, a plaintext HTTP/2 backend on 127.0.7.145 that keeps the last
 * head it got, an HTTP/1 backend on 127.0.7.146 that echoes its head.
 */
class SchemeHeaderProxyTest {
  static final String IP = "127.0.7.144";
  static final String PEER = "127.0.7.147";
  static H2Backend h2;
  static ScriptedBackend h1;
  static SocketProxy proxy;

  @BeforeAll
  static void start() throws Exception {
    h2 = new H2Backend("h2", "127.0.7.145", 0, 0);
    h1 = ScriptedBackend.echo("127.0.7.146");
    var b = SocketProxy.on(IP);
    String overwrite = "scheme_header_transformation: {scheme_to_overwrite: https}";
    listener(b, "overwrite-h2", overwrite, "h2");
    listener(b, "overwrite-h1", overwrite, "h1");
    listener(b, "plain-h1", "", "h1");
    listener(b, "match-h2", "scheme_header_transformation: {match_upstream: true}", "h2");
    proxy =
        b.cluster(
                "h2",
                h2.ip(),
                h2.port(),
                SocketProxy.httpProtocolOptions(
                    "explicit_http_config: {http2_protocol_options: {}}"))
            .cluster("h1", "127.0.7.146", h1.port())
            .start();
  }

  static void listener(SocketProxy.Builder b, String name, String options, String cluster) {
    b.http(name, options, SocketProxy.to("/", cluster));
  }

  @AfterAll
  static void stop() throws Exception {
    proxy.close();
    h2.close();
    h1.close();
  }

  /** A GET with {@code Connection: close}: all the proxy wrote until it closed. */
  static String get(String name, String... headers) throws Exception {
    return SocketProxy.getFrom(PEER, IP, proxy.port(name), "t", headers);
  }

  @Test
  void schemeToOverwriteSetsForwardedProtoAndAnHttp2UpstreamsScheme() throws Exception {
    String r = get("overwrite-h2", "x-forwarded-proto", "http");
    assertThat(r).startsWith("HTTP/1.1 200");
    assertThat(h2.lastHead.scheme().toString()).isEqualTo("https");
    assertThat(h2.lastHead.get("x-forwarded-proto").toString()).isEqualTo("https");
    assertThat(h2.lastHead.contains("x-http2-scheme")).isFalse();
    String one = get("overwrite-h1");
    assertThat(upstream(one, "x-forwarded-proto")).isEqualTo("https");
    assertThat(upstream(one, "x-http2-scheme")).isNull();
    // without it, a plaintext client's request says http
    assertThat(upstream(get("plain-h1"), "x-forwarded-proto")).isEqualTo("http");
  }

  @Test
  void matchUpstreamGivesAPlaintextHttp2UpstreamHttp() throws Exception {
    String r = get("match-h2", "x-forwarded-proto", "https");
    assertThat(r).startsWith("HTTP/1.1 200");
    assertThat(h2.lastHead.scheme().toString()).isEqualTo("http");
  }
}
