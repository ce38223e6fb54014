package dev.bowline.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A DNS cluster's {@code dns_lookup_family} over real sockets: the addresses a name resolves to are
 * taken by family as Envoy's resolver takes them, so an IPv4-only answer gives a V6_ONLY cluster no
 * host (503) while V4_ONLY, V4_PREFERRED and AUTO (IPv6 only when there is some) reach it.
 */
class DnsLookupFamilyProxyTest {
  static final String IP = "127.0.7.46";
  static final String BACKEND_IP = "127.0.7.47";
  static Backend backend;
  static SocketProxy proxy;
  static int port;

  @BeforeAll
  static void start() {
    backend = new Backend("b", BACKEND_IP);
    port = Ports.free(IP);
    List<String> families = List.of("AUTO", "V4_ONLY", "V6_ONLY", "V4_PREFERRED", "ALL");
    proxy =
        SocketProxy.start(
            IP,
            List.of(
                SocketProxy.listener(
                    "h",
                    IP,
                    port,
                    "",
                    families.stream()
                        .map(f -> SocketProxy.to("/" + f, f.toLowerCase(java.util.Locale.ROOT)))
                        .toArray(String[]::new))),
            families.stream()
                .map(
                    f ->
                        SocketProxy.cluster(
                            f.toLowerCase(java.util.Locale.ROOT),
                            BACKEND_IP,
                            backend.port(),
                            "type: STRICT_DNS\ndns_lookup_family: " + f))
                .toList());
  }

  @AfterAll
  static void stop() {
    proxy.close();
    backend.close();
  }

  static int status(String family) throws Exception {
    return proxy.get(port, "/" + family).statusCode();
  }

  @Test
  void anIpv4AnswerReachesEveryFamilyButV6Only() throws Exception {
    assertThat(status("AUTO")).isEqualTo(200);
    assertThat(status("V4_ONLY")).isEqualTo(200);
    assertThat(status("V4_PREFERRED")).isEqualTo(200);
    assertThat(status("ALL")).isEqualTo(200);
    assertThat(status("V6_ONLY")).isEqualTo(503);
  }
}
