package dev.bowline.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * What a State-of-the-World EDS request names, as a real ADS server (hand-driven, real gRPC)
 * receives it: each ACK, NACK and new subscription carries the version and nonce of its moment and
 * the names subscribed then, also when the proxy reuses the name list it built for the previous
 * request (decision 0004, session 16 addendum push14).
 */
class XdsAckNamesTest extends HandAdsFixture {
  static final String XDS_IP = "127.0.13.21";
  static final String LISTEN_IP = "127.0.13.22";

  XdsAckNamesTest() {
    super(XDS_IP, LISTEN_IP, "127.0.13.23", "ack-names-test~1");
  }

  /** One EDS request as the server saw it. */
  record Sent(String version, String nonce, List<String> names, boolean nack) {
    static Sent of(DiscoveryRequest r) {
      return new Sent(
          r.getVersionInfo(),
          r.getResponseNonce(),
          List.copyOf(r.getResourceNamesList()),
          r.hasErrorDetail());
    }
  }

  @Test
  void eachEdsRequestNamesTheClustersSubscribedAtItsMoment() throws Exception {
    xds.send(CDS, "1", XdsProxyTest.edsCluster("c0"));
    String eds1 = xds.send(EDS, "1", HandAds.endpoints("c0", a));
    xds.send(LDS, "1", HandAds.ingress(LISTEN_IP, listenPort));
    xds.send(RDS, "1", XdsProxyTest.routes("routes", XdsProxyTest.toCluster("/", "c0")));
    await()
        .atMost(Duration.ofSeconds(30))
        .ignoreExceptions()
        .until(() -> HandAds.get(LISTEN_IP, listenPort, "/s").startsWith("backend=a"));
    awaitAck(EDS, "1");
    awaitAck(RDS, "1");
    int before = xds.requests.size();

    // c1 added: EDS is asked for both; its answer ACKed naming both
    xds.send(CDS, "2", XdsProxyTest.edsCluster("c0"), XdsProxyTest.edsCluster("c1"));
    awaitAck(CDS, "2");
    String eds2 = xds.send(EDS, "2", HandAds.endpoints("c0", a), HandAds.endpoints("c1", a));
    awaitAck(EDS, "2");
    // CDS re-sent unchanged: no new EDS request; the next EDS answer ACKed naming both again
    xds.send(CDS, "3", XdsProxyTest.edsCluster("c0"), XdsProxyTest.edsCluster("c1"));
    awaitAck(CDS, "3");
    String eds3 = xds.send(EDS, "3", HandAds.endpoints("c0", a), HandAds.endpoints("c1", a));
    awaitAck(EDS, "3");
    // c1 removed: EDS is asked for c0 alone, at the version and nonce it had
    xds.send(CDS, "4", XdsProxyTest.edsCluster("c0"));
    awaitAck(CDS, "4");
    String eds4 = xds.send(EDS, "4", HandAds.endpoints("c0", a));
    awaitAck(EDS, "4");
    // a bad assignment: NACKed at the last good version, naming c0
    String eds5 = xds.send(EDS, "5", HandAds.unaddressed("c0"));
    await().atMost(Duration.ofSeconds(30)).until(() -> xds.nacks(EDS) == 1);

    List<String> both = List.of("c0", "c1");
    List<String> c0 = List.of("c0");
    assertThat(
            xds.requests.subList(before, xds.requests.size()).stream()
                .filter(r -> r.getTypeUrl().equals(EDS))
                .map(Sent::of))
        .containsExactly(
            new Sent("1", eds1, both, false),
            new Sent("2", eds2, both, false),
            new Sent("3", eds3, both, false),
            new Sent("3", eds3, c0, false),
            new Sent("4", eds4, c0, false),
            new Sent("4", eds5, c0, true));
    // CDS is a wildcard subscription: its requests name nothing
    assertThat(
            xds.requests.stream()
                .filter(r -> r.getTypeUrl().equals(CDS))
                .allMatch(r -> r.getResourceNamesCount() == 0))
        .isTrue();
    assertThat(HandAds.get(LISTEN_IP, listenPort, "/s")).startsWith("backend=a");
  }

  private void awaitAck(String typeUrl, String version) {
    await().atMost(Duration.ofSeconds(30)).until(() -> xds.acked(typeUrl, version));
  }
}
