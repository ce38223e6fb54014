package dev.bowline.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.Message;
import dev.bowline.proxy.bootstrap.BootstrapLoader;
import dev.bowline.proxy.config.ClusterChoice;
import dev.bowline.proxy.config.RouteAction;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The order in which xDS updates of different types reach the proxy, chosen by the test: a
 * hand-driven ADS server (State of the World) that sends exactly the responses the test names, in
 * that order, over a real gRPC stream, to a real proxy forwarding real HTTP.
 */
class XdsOrderingTest extends HandAdsFixture {
  static final String XDS_IP = "127.0.7.10";
  static final String LISTEN_IP = "127.0.7.11";

  final java.net.http.HttpClient client = HandAds.CLIENT;
  Backend b;
  List<DiscoveryRequest> requests;

  /** The proxy's clock: the system's, moved on by {@link #skew} (only the initial-fetch test). */
  final AtomicLong skew = new AtomicLong();

  final Clock clock =
      new Clock() {
        @Override
        public ZoneId getZone() {
          return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
          throw new UnsupportedOperationException();
        }

        @Override
        public Instant instant() {
          return Instant.now().plusMillis(skew.get());
        }
      };

  XdsOrderingTest() {
    super(XDS_IP, LISTEN_IP, "127.0.7.12", "ordering-test~1");
  }

  @Override
  ProxyOptions options() {
    return super.options().withClock(clock);
  }

  @BeforeEach
  void start() throws Exception {
    b = new Backend("b", "127.0.7.13");
    requests = xds.requests;
  }

  @AfterEach
  void stop() {
    b.close();
  }

  @Test
  void aRouteToAClusterCdsHasNotNamedYetWaitsForIt() throws Exception {
    serveC0FromA();

    // The RDS update moving the route to c1 arrives before the CDS update that names c1 (the
    // server answered RDS first because the proxy's CDS ACK was still on its way).
    long published = proxy.snapshot().version();
    send(RDS, "2", XdsProxyTest.routes("routes", XdsProxyTest.toCluster("/", "c1")));
    await().atMost(Duration.ofSeconds(5)).until(() -> proxy.snapshot().version() > published);
    assertThat(routeTarget()).isEqualTo("c0"); // held back: the previous version serves
    for (int i = 0; i < 5; i++) {
      assertThat(get()).startsWith("backend=a");
    }

    // CDS names c1: it warms (no endpoints yet), the route still waits
    long published2 = proxy.snapshot().version();
    send(CDS, "2", XdsProxyTest.edsCluster("c0"), XdsProxyTest.edsCluster("c1"));
    await().atMost(Duration.ofSeconds(5)).until(() -> proxy.snapshot().version() > published2);
    assertThat(acked(CDS, "2")).isTrue();
    assertThat(routeTarget()).isEqualTo("c0");
    assertThat(get()).startsWith("backend=a");

    // Its endpoints arrive: the route moves, in one publication with the cluster
    send(EDS, "2", endpoints("c0", a), endpoints("c1", b));
    await().atMost(Duration.ofSeconds(5)).until(() -> routeTarget().equals("c1"));
    assertThat(proxy.snapshot().clusters()).containsKey("c1");
    assertThat(get()).startsWith("backend=b");
  }

  @Test
  void aClusterCdsDroppedLeavesTheEdsSubscriptionWithTheSameUpdate() throws Exception {
    send(CDS, "1", XdsProxyTest.edsCluster("c0"), XdsProxyTest.edsCluster("c1"));
    send(EDS, "1", endpoints("c0", a), endpoints("c1", a));
    send(LDS, "1", listener());
    send(RDS, "1", XdsProxyTest.routes("routes", XdsProxyTest.toCluster("/", "c1")));
    await()
        .atMost(Duration.ofSeconds(10))
        .ignoreExceptions()
        .until(() -> get().startsWith("backend=a"));

    // c0 goes, c2 comes: the next EDS request names exactly the clusters CDS now has. (Naming
    // c0 too would leave java-control-plane's SimpleCache silent: in ADS mode it does not answer
    // a request for a resource its snapshot lacks, so c2 would never warm.)
    int before = requests.size();
    send(CDS, "2", XdsProxyTest.edsCluster("c1"), XdsProxyTest.edsCluster("c2"));
    await()
        .atMost(Duration.ofSeconds(5))
        .until(
            () ->
                requests.subList(before, requests.size()).stream()
                    .anyMatch(r -> r.getTypeUrl().equals(EDS)));
    assertThat(
            requests.subList(before, requests.size()).stream()
                .filter(r -> r.getTypeUrl().equals(EDS))
                .map(r -> List.copyOf(r.getResourceNamesList())))
        .containsExactly(List.of("c1", "c2"));
  }

  @Test
  void aHeldRouteKeepsItsDroppedClusterServingWithoutSubscribingIt() throws Exception {
    serveC0FromA();

    // c1 comes (no endpoints yet) and the route moves to it: held, c0 serves
    send(CDS, "2", XdsProxyTest.edsCluster("c0"), XdsProxyTest.edsCluster("c1"));
    long published = proxy.snapshot().version();
    send(RDS, "2", XdsProxyTest.routes("routes", XdsProxyTest.toCluster("/", "c1")));
    await().atMost(Duration.ofSeconds(5)).until(() -> proxy.snapshot().version() > published);
    assertThat(routeTarget()).isEqualTo("c0");

    // CDS drops c0 while the route still waits: c0 keeps serving with its last endpoints, and
    // the EDS request names only what CDS has (never c0)
    int before = requests.size();
    long published2 = proxy.snapshot().version();
    send(CDS, "3", XdsProxyTest.edsCluster("c1"));
    await().atMost(Duration.ofSeconds(5)).until(() -> proxy.snapshot().version() > published2);
    assertThat(routeTarget()).isEqualTo("c0");
    assertThat(get()).startsWith("backend=a");
    assertThat(
            requests.subList(before, requests.size()).stream()
                .filter(r -> r.getTypeUrl().equals(EDS))
                .map(r -> List.copyOf(r.getResourceNamesList())))
        .containsExactly(List.of("c1"));

    // c1's endpoints: the route moves and c0 leaves
    send(EDS, "3", endpoints("c1", b));
    await().atMost(Duration.ofSeconds(5)).until(() -> routeTarget().equals("c1"));
    assertThat(get()).startsWith("backend=b");
    assertThat(proxy.snapshot().clusters()).doesNotContainKey("c0");
  }

  @Test
  void aClusterCdsDropsBeforeRdsMovesTheRouteKeepsServingUntilItMoves() throws Exception {
    serveC0FromA();

    // A SotW server replacing c0 by c1 answers CDS (and EDS) first: c0 is gone from CDS while
    // the served route still targets it. It keeps serving (Envoy would answer 503 NC here).
    send(CDS, "2", XdsProxyTest.edsCluster("c1"));
    long published = proxy.snapshot().version();
    send(EDS, "2", endpoints("c1", b));
    await().atMost(Duration.ofSeconds(5)).until(() -> proxy.snapshot().version() > published);
    assertThat(proxy.snapshot().clusters()).containsKeys("c0", "c1");
    for (int i = 0; i < 5; i++) {
      assertThat(get()).startsWith("backend=a");
    }

    // RDS moves the route: c0 leaves with the same publication
    send(RDS, "2", XdsProxyTest.routes("routes", XdsProxyTest.toCluster("/", "c1")));
    await().atMost(Duration.ofSeconds(5)).until(() -> routeTarget().equals("c1"));
    assertThat(proxy.snapshot().clusters()).doesNotContainKey("c0");
    assertThat(get()).startsWith("backend=b");
  }

  /**
   * {@code /ready} (Envoy's LIVE) only once the first answers have warmed: CDS and LDS answering is
   * not enough while the EDS cluster they name has no endpoints and the listener no route table. An
   * empty RDS answer after each step is the sync point: the stream is handled in order, so its ACK
   * means the answers before it were applied and published.
   */
  @Test
  void readyOnlyOnceTheFirstClustersAndListenersHaveWarmed() throws Exception {
    answerCdsAndLdsOnly();
    assertThat(proxy.ready()).as("ready with c0 and the listener warming").isFalse();

    send(EDS, "1", endpoints("c0", a));
    send(RDS, "00");
    await().atMost(Duration.ofSeconds(10)).until(() -> acked(RDS, "00"));
    assertThat(proxy.ready()).as("ready with the listener warming").isFalse();

    send(RDS, "1", XdsProxyTest.routes("routes", XdsProxyTest.toCluster("/", "c0")));
    await().atMost(Duration.ofSeconds(10)).until(proxy::ready);
    assertThat(get()).startsWith("backend=a");
  }

  /**
   * What the first answers name but the server never sends stops holding readiness after Envoy's
   * default {@code initial_fetch_timeout} (15 s, on the proxy's clock), as Envoy's init manager.
   */
  @Test
  void readyAfterTheInitialFetchTimeoutEvenIfSomethingNeverWarms() throws Exception {
    answerCdsAndLdsOnly();
    assertThat(proxy.ready()).isFalse();

    skew.addAndGet(Duration.ofSeconds(16).toMillis());
    send(RDS, "00"); // any update publishes again
    await().atMost(Duration.ofSeconds(10)).until(() -> acked(RDS, "00"));
    await().atMost(Duration.ofSeconds(10)).until(proxy::ready);
    assertThat(proxy.snapshot().clusters()).doesNotContainKey("c0"); // still warming
  }

  /**
   * CDS names the EDS cluster c0 and LDS the listener of route table "routes"; neither has come.
   * Returns once both answers were applied (the empty RDS answer after them is ACKed).
   */
  void answerCdsAndLdsOnly() {
    send(CDS, "1", XdsProxyTest.edsCluster("c0"));
    send(LDS, "1", listener());
    send(RDS, "0");
    await().atMost(Duration.ofSeconds(10)).until(() -> acked(RDS, "0"));
    assertThat(acked(CDS, "1") && acked(LDS, "1")).isTrue();
  }

  /**
   * {@code /ready} is never LIVE while a proxy with ADS starts and no xDS server answers: the admin
   * listens before the xDS client exists, and in between it used to say LIVE. A poller hits {@code
   * /ready} from before the start until well after it.
   */
  @Test
  void readyIsNeverLiveWhileAnAdsProxyStarts() throws Exception {
    int admin = Ports.free(XDS_IP);
    int silent = Ports.free(XDS_IP); // nothing listens: no xDS answer ever comes
    var live = new java.util.concurrent.atomic.AtomicInteger();
    var polls = new java.util.concurrent.atomic.AtomicInteger();
    var stop = new java.util.concurrent.atomic.AtomicBoolean();
    Thread poller =
        Thread.ofPlatform()
            .start(
                () -> {
                  URI ready = URI.create("http://" + XDS_IP + ":" + admin + "/ready");
                  while (!stop.get()) {
                    try {
                      int status =
                          client
                              .send(
                                  HttpRequest.newBuilder(ready)
                                      .timeout(Duration.ofSeconds(2))
                                      .build(),
                                  HttpResponse.BodyHandlers.discarding())
                              .statusCode();
                      polls.incrementAndGet();
                      if (status == 200) {
                        live.incrementAndGet();
                      }
                    } catch (Exception e) {
                      // not listening yet
                    }
                  }
                });
    Proxy starting =
        Proxy.start(
            new BootstrapLoader()
                .parse(
                    "silent.yaml",
                    AdsBootstrap.yaml("silent~1", "GRPC", XDS_IP, admin, XDS_IP, silent)),
            ProxyOptions.defaults().withWorkers(1));
    try {
      int after = polls.get();
      await().atMost(Duration.ofSeconds(30)).until(() -> polls.get() > after + 20);
    } finally {
      stop.set(true);
      poller.join();
      starting.close();
    }
    assertThat(live.get()).as("/ready answers of 200 while nothing was configured").isZero();
    assertThat(starting.ready()).isFalse();
  }

  /**
   * A changed listener left out of an LDS update because its address is in use is checked again
   * when the server re-sends the same bytes: the client skips re-parsing only what it accepted.
   */
  @Test
  void aListenerLeftOutForItsAddressIsCheckedAgainWhenResentUnchanged() throws Exception {
    serveC0FromA();
    try (java.net.ServerSocket taken =
        new java.net.ServerSocket(0, 50, java.net.InetAddress.getByName(LISTEN_IP))) {
      Listener moved =
          listener().toBuilder()
              .setAddress(XdsProxyTest.address(LISTEN_IP, taken.getLocalPort()))
              .build();
      send(LDS, "2", moved);
      await().atMost(Duration.ofSeconds(10)).until(() -> nacks(LDS) == 1);
      send(LDS, "3", moved); // the same bytes again
      await().atMost(Duration.ofSeconds(10)).until(() -> nacks(LDS) == 2);
      assertThat(acked(LDS, "3")).isFalse();
      assertThat(get()).startsWith("backend=a"); // the listener that served still does
    }
  }

  /**
   * A SotW CDS response with a resource that names no cluster (here one of another type) is
   * rejected whole, as Envoy rejects a response it cannot decode: the clusters it does not list are
   * not removed, and c0 keeps its endpoints and serves.
   */
  @Test
  void aCdsResponseWithAResourceOfAnotherTypeChangesNothing() throws Exception {
    serveC0FromA();

    send(CDS, "2", XdsProxyTest.edsCluster("c1"), listener());
    await().atMost(Duration.ofSeconds(10)).until(() -> nacks(CDS) == 1);
    send(RDS, "0"); // sync point: applied in order after the CDS response
    await().atMost(Duration.ofSeconds(10)).until(() -> acked(RDS, "0"));
    assertThat(proxy.snapshot().clusters()).containsKey("c0").doesNotContainKey("c1");
    assertThat(get()).startsWith("backend=a");
  }

  long nacks(String typeUrl) {
    return xds.nacks(typeUrl);
  }

  /** Version 1 of everything: the listener routes all to the EDS cluster c0, on backend a. */
  void serveC0FromA() {
    send(CDS, "1", XdsProxyTest.edsCluster("c0"));
    send(EDS, "1", endpoints("c0", a));
    send(LDS, "1", listener());
    send(RDS, "1", XdsProxyTest.routes("routes", XdsProxyTest.toCluster("/", "c0")));
    await()
        .atMost(Duration.ofSeconds(10))
        .ignoreExceptions()
        .until(() -> get().startsWith("backend=a"));
  }

  void send(String typeUrl, String version, Message... resources) {
    xds.send(typeUrl, version, resources);
  }

  boolean acked(String typeUrl, String version) {
    return xds.acked(typeUrl, version);
  }

  /**
   * A route table re-sent unchanged keeps its runtime object, and the xDS client remembers the
   * clusters a table targets by that object: they must still count when CDS then drops one of them,
   * and a changed table must be read afresh.
   */
  @Test
  void anUnchangedRouteTableResentStillKeepsTheClustersItTargets() throws Exception {
    send(CDS, "1", XdsProxyTest.edsCluster("c0"), XdsProxyTest.edsCluster("c1"));
    send(EDS, "1", endpoints("c0", a), endpoints("c1", b));
    send(LDS, "1", listener());
    var table =
        XdsProxyTest.routes(
            "routes", XdsProxyTest.toCluster("/b", "c1"), XdsProxyTest.toCluster("/", "c0"));
    send(RDS, "1", table);
    await()
        .atMost(Duration.ofSeconds(10))
        .ignoreExceptions()
        .until(() -> get("/b").startsWith("backend=b"));
    var served = proxy.snapshot().routes().get("routes");

    long published = proxy.snapshot().version();
    send(RDS, "2", table);
    await().atMost(Duration.ofSeconds(5)).until(() -> acked(RDS, "2"));
    await().atMost(Duration.ofSeconds(5)).until(() -> proxy.snapshot().version() > published);
    assertThat(proxy.snapshot().routes().get("routes")).isSameAs(served);

    // CDS drops c1 before RDS moves /b away from it: c1 keeps serving for the unchanged table
    long published2 = proxy.snapshot().version();
    send(CDS, "3", XdsProxyTest.edsCluster("c0"));
    await().atMost(Duration.ofSeconds(5)).until(() -> proxy.snapshot().version() > published2);
    assertThat(proxy.snapshot().clusters()).containsKey("c1");
    assertThat(get("/b")).startsWith("backend=b");

    // The table changes: /b moves to c0 and c1 leaves
    send(
        RDS,
        "3",
        XdsProxyTest.routes(
            "routes", XdsProxyTest.toCluster("/b", "c0"), XdsProxyTest.toCluster("/", "c0")));
    await()
        .atMost(Duration.ofSeconds(5))
        .ignoreExceptions()
        .until(() -> get("/b").startsWith("backend=a"));
    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> !proxy.snapshot().clusters().containsKey("c1"));
  }

  String routeTarget() {
    var action =
        (RouteAction.Forward)
            proxy
                .snapshot()
                .routes()
                .get("routes")
                .virtualHosts()
                .getFirst()
                .routes()
                .getFirst()
                .action();
    return ((ClusterChoice.Single) action.clusters()).cluster();
  }

  String get() throws Exception {
    return get("/o");
  }

  String get(String path) throws Exception {
    return HandAds.get(LISTEN_IP, listenPort, path);
  }

  static ClusterLoadAssignment endpoints(String cluster, Backend be) {
    return HandAds.endpoints(cluster, be);
  }

  Listener listener() {
    return HandAds.ingress(LISTEN_IP, listenPort);
  }
}
