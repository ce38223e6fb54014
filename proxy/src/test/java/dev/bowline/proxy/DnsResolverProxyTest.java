package dev.bowline.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.bowline.proxy.bootstrap.BootstrapException;
import dev.bowline.proxy.bootstrap.BootstrapLoader;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * DNS clusters resolved as Envoy's c-ares resolver resolves them, against a real DNS server on a
 * loopback address: the cluster's {@code typed_dns_resolver_config} (and the deprecated {@code
 * dns_resolvers}, and the bootstrap's default) names the server; with {@code respect_dns_ttl} the
 * next lookup comes at the answer's TTL, without it at {@code dns_refresh_rate}; failed lookups are
 * retried after {@code dns_failure_refresh_rate}'s backoff.
 */
class DnsResolverProxyTest {
  static final String IP = "127.0.7.110";
  static final String DNS_IP = "127.0.7.111";
  static final String A_IP = "127.0.7.112";
  static final String B_IP = "127.0.7.113";
  static TestDnsServer dns;
  static TestDnsServer bootDns;
  static Backend a;
  static Backend b;
  static SocketProxy proxy;
  static int port;

  static String resolver(int dnsPort) {
    return """
        typed_dns_resolver_config:
          name: envoy.network.dns_resolver.cares
          typed_config:
            "@type": type.googleapis.com/envoy.extensions.network.dns_resolver.cares.v3.CaresDnsResolverConfig
            resolvers: [{socket_address: {address: %s, port_value: %d}}]
            dns_resolver_options: {no_default_search_domain: true}
        """
        .formatted(DNS_IP, dnsPort);
  }

  @BeforeAll
  static void start() {
    a = new Backend("a", A_IP);
    b = new Backend("b", B_IP, a.port());
    dns = new TestDnsServer(DNS_IP);
    bootDns = new TestDnsServer(DNS_IP);
    dns.answer("plain.dnsttl.test", 300, A_IP)
        .answer("ttl.dnsttl.test", 1, A_IP)
        .answer("rate.dnsttl.test", 1, A_IP)
        .answer("legacy.dnsttl.test", 300, A_IP);
    bootDns.answer("boot.dnsttl.test", 300, A_IP);
    port = Ports.free(IP);
    String v4 = "dns_lookup_family: V4_ONLY\n";
    proxy =
        SocketProxy.start(
            IP,
            ProxyOptions.defaults().withWorkers(1),
            false,
            // the default of every DNS cluster without a resolver of its own
            resolver(bootDns.port()),
            List.of(
                SocketProxy.listener(
                    "h",
                    IP,
                    port,
                    "",
                    SocketProxy.to("/plain", "plain"),
                    SocketProxy.to("/ttl", "ttl"),
                    SocketProxy.to("/rate", "rate"),
                    SocketProxy.to("/late", "late"),
                    SocketProxy.to("/legacy", "legacy"),
                    SocketProxy.to("/boot", "boot"))),
            List.of(
                SocketProxy.cluster(
                    "plain",
                    "plain.dnsttl.test",
                    a.port(),
                    "type: STRICT_DNS\n" + v4 + resolver(dns.port())),
                SocketProxy.cluster(
                    "ttl",
                    "ttl.dnsttl.test",
                    a.port(),
                    "type: STRICT_DNS\n"
                        + v4
                        + "dns_refresh_rate: 3600s\nrespect_dns_ttl: true\n"
                        + resolver(dns.port())),
                SocketProxy.cluster(
                    "rate",
                    "rate.dnsttl.test",
                    a.port(),
                    "type: STRICT_DNS\n" + v4 + "dns_refresh_rate: 3600s\n" + resolver(dns.port())),
                SocketProxy.cluster(
                    "late",
                    "late.dnsttl.test",
                    a.port(),
                    "type: LOGICAL_DNS\n"
                        + v4
                        + "dns_refresh_rate: 3600s\n"
                        + "dns_failure_refresh_rate: {base_interval: 0.2s, max_interval: 0.4s}\n"
                        + resolver(dns.port())),
                SocketProxy.cluster(
                    "legacy",
                    "legacy.dnsttl.test",
                    a.port(),
                    "type: LOGICAL_DNS\n"
                        + v4
                        + "dns_resolvers: [{socket_address: {address: "
                        + DNS_IP
                        + ", port_value: "
                        + dns.port()
                        + "}}]"),
                SocketProxy.cluster(
                    "boot", "boot.dnsttl.test", a.port(), "type: STRICT_DNS\n" + v4)));
  }

  @AfterAll
  static void stop() {
    proxy.close();
    dns.close();
    bootDns.close();
    a.close();
    b.close();
  }

  String body(String path) throws Exception {
    var r = proxy.get(port, path);
    return r.statusCode() + " " + r.body();
  }

  @Test
  void aClusterResolvesThroughItsTypedResolverAndServesTraffic() throws Exception {
    assertThat(body("/plain")).startsWith("200 backend=a path=/plain");
    assertThat(dns.queries("plain.dnsttl.test")).isPositive();
  }

  @Test
  void theDeprecatedDnsResolversAndTheBootstrapDefaultNameTheServerToo() throws Exception {
    assertThat(body("/legacy")).startsWith("200 backend=a path=/legacy");
    assertThat(body("/boot")).startsWith("200 backend=a path=/boot");
    assertThat(bootDns.queries("boot.dnsttl.test")).isPositive();
    assertThat(dns.queries("boot.dnsttl.test")).isZero(); // the cluster's own would not know it
  }

  @Test
  void withRespectDnsTtlTheNameIsAskedAgainAtTheTtlAndTrafficMoves() throws Exception {
    assertThat(body("/ttl")).startsWith("200 backend=a");
    assertThat(body("/rate")).startsWith("200 backend=a");
    int rateQueries = dns.queries("rate.dnsttl.test");
    dns.answer("ttl.dnsttl.test", 1, B_IP).answer("rate.dnsttl.test", 1, B_IP);
    // TTL 1 s against a refresh rate of an hour: only the TTL can bring the new answer
    await()
        .atMost(Duration.ofSeconds(60))
        .untilAsserted(() -> assertThat(body("/ttl")).startsWith("200 backend=b"));
    int before = dns.queries("ttl.dnsttl.test");
    await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> dns.queries("ttl.dnsttl.test") >= before + 2);
    // without respect_dns_ttl the same 1 s TTL is not followed: the refresh rate (1 h) rules
    assertThat(dns.queries("rate.dnsttl.test")).isEqualTo(rateQueries);
    assertThat(body("/rate")).startsWith("200 backend=a");
  }

  @Test
  void failedLookupsAreRetriedAfterTheFailureBackoffNotTheRefreshRate() throws Exception {
    assertThat(body("/late")).startsWith("503"); // NXDOMAIN: no host
    await().atMost(Duration.ofSeconds(60)).until(() -> dns.queries("late.dnsttl.test") >= 3);
    dns.answer("late.dnsttl.test", 300, A_IP);
    await()
        .atMost(Duration.ofSeconds(60))
        .untilAsserted(() -> assertThat(body("/late")).startsWith("200 backend=a"));
  }

  @Test
  void anUnsupportedBootstrapResolverIsRefusedNamingTheField() {
    String yaml =
        """
        typed_dns_resolver_config:
          name: envoy.network.dns_resolver.getaddrinfo
          typed_config:
            "@type": type.googleapis.com/envoy.extensions.network.dns_resolver.getaddrinfo.v3.GetAddrInfoDnsResolverConfig
        static_resources: {}
        """;
    var bootstrap = new BootstrapLoader().parse("bad-dns.yaml", yaml);
    assertThatThrownBy(() -> Proxy.start(bootstrap, ProxyOptions.defaults().withWorkers(1)))
        .isInstanceOf(BootstrapException.class)
        .hasMessageContaining(
            "typed_dns_resolver_config.typed_config: unsupported DNS resolver"
                + " envoy.extensions.network.dns_resolver.getaddrinfo.v3"
                + ".GetAddrInfoDnsResolverConfig");
  }
}
