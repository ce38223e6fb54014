package dev.bowline.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.UInt32Value;
import com.sun.net.httpserver.HttpServer;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.HealthCheck;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.Endpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Active health checking as Envoy's ({@code health_checker_base_impl.cc}, {@code
 * upstream_impl.cc}): a cluster with health checks initialises only once each endpoint had its
 * first check, so the proxy is not ready and the cluster takes no traffic before; an endpoint added
 * later starts failed ({@code /failed_active_hc}, and {@code /pending_active_hc} with {@code
 * ignore_new_hosts_until_first_hc}) and takes traffic after its first successful check; a failed
 * answer fails an endpoint at once, network failures after {@code unhealthy_threshold}; Envoy's
 * {@code health_check.*} stats. A hand-driven ADS server, real backends whose health answers the
 * test holds or sets, real sockets.
 */
class ActiveHealthCheckProxyTest extends HandAdsFixture {
  static final String XDS_IP = "127.0.7.120";
  static final String LISTEN_IP = "127.0.7.121";

  ActiveHealthCheckProxyTest() {
    super(XDS_IP, LISTEN_IP, "127.0.7.122", "active-hc~1");
  }

  private final List<HcBackend> backends = new ArrayList<>();

  @AfterEach
  void stopBackends() {
    backends.forEach(b -> b.server.stop(0));
  }

  /**
   * A backend on {@code ip}: {@code GET /healthz} answers {@link #status}, after {@link #hold} is
   * released; anything else answers 200 {@code backend=<name>}.
   */
  final class HcBackend {
    final String name;
    final String ip;
    final HttpServer server;
    volatile CountDownLatch hold = new CountDownLatch(0);
    volatile int status = 200;
    final AtomicInteger checks = new AtomicInteger();
    final AtomicInteger requests = new AtomicInteger();

    HcBackend(String name, String ip) throws Exception {
      this.name = name;
      this.ip = ip;
      server = HttpServer.create(new InetSocketAddress(ip, 0), 64);
      server.setExecutor(java.util.concurrent.Executors.newCachedThreadPool());
      server.createContext(
          "/",
          ex -> {
            try (ex) {
              if (ex.getRequestURI().getPath().equals("/healthz")) {
                checks.incrementAndGet();
                try {
                  hold.await(60, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                }
                ex.sendResponseHeaders(status, -1);
              } else {
                requests.incrementAndGet();
                byte[] body = ("backend=" + name).getBytes();
                ex.sendResponseHeaders(200, body.length);
                ex.getResponseBody().write(body);
              }
            }
          });
      server.start();
      backends.add(this);
    }

    int port() {
      return server.getAddress().getPort();
    }

    String hostKey(String cluster) {
      return cluster + "::" + ip + ":" + port() + "::health_flags::";
    }
  }

  static HealthCheck.Builder check() {
    return HealthCheck.newBuilder()
        .setTimeout(com.google.protobuf.Duration.newBuilder().setSeconds(50))
        .setInterval(com.google.protobuf.Duration.newBuilder().setNanos(200_000_000))
        .setNoTrafficInterval(com.google.protobuf.Duration.newBuilder().setNanos(200_000_000))
        .setUnhealthyThreshold(UInt32Value.of(2))
        .setHealthyThreshold(UInt32Value.of(2))
        .setHttpHealthCheck(HealthCheck.HttpHealthCheck.newBuilder().setPath("/healthz"));
  }

  static Cluster checked(String name, HealthCheck.Builder check) {
    return XdsProxyTest.edsCluster(name).toBuilder().addHealthChecks(check).build();
  }

  static ClusterLoadAssignment endpoints(String cluster, HcBackend... bs) {
    LocalityLbEndpoints.Builder l = LocalityLbEndpoints.newBuilder();
    for (HcBackend b : bs) {
      l.addLbEndpoints(
          LbEndpoint.newBuilder()
              .setEndpoint(Endpoint.newBuilder().setAddress(XdsProxyTest.address(b.ip, b.port()))));
    }
    return ClusterLoadAssignment.newBuilder().setClusterName(cluster).addEndpoints(l).build();
  }

  /** CDS, EDS, LDS and RDS of {@code cluster} at version 1, routed from the listener. */
  private void configure(Cluster cluster, ClusterLoadAssignment endpoints) {
    xds.send(CDS, "1", cluster);
    xds.send(EDS, "1", endpoints);
    xds.send(LDS, "1", HandAds.ingress(LISTEN_IP, listenPort));
    xds.send(
        RDS, "1", XdsProxyTest.routes("routes", XdsProxyTest.toCluster("/", cluster.getName())));
    await().atMost(Duration.ofSeconds(30)).until(() -> xds.acked(RDS, "1"));
  }

  private String clusters() throws Exception {
    return HandAds.get(XDS_IP, adminPort, "/clusters");
  }

  private long gauge(String name) {
    return proxy.stats().gauges().stream()
        .filter(g -> g.name().equals(name))
        .mapToLong(g -> g.value())
        .sum();
  }

  @Test
  void aClusterWithHealthChecksHoldsInitialisationUntilItsFirstRoundOfChecks() throws Exception {
    HcBackend h = new HcBackend("h", "127.0.7.123");
    h.hold = new CountDownLatch(1);
    configure(checked("c0", check()), endpoints("c0", h));

    // the first check reached the endpoint and waits for its answer: the cluster has not
    // initialised, so neither has the proxy, and no listener routes to the cluster yet
    await().atMost(Duration.ofSeconds(30)).until(() -> h.checks.get() >= 1);
    assertThat(proxy.ready()).isFalse();
    assertThat(proxy.snapshot().clusters()).doesNotContainKey("c0");

    h.hold.countDown();
    await().atMost(Duration.ofSeconds(30)).until(proxy::ready);
    assertThat(proxy.snapshot().clusters()).containsKey("c0");
    assertThat(HandAds.get(LISTEN_IP, listenPort, "/x")).isEqualTo("backend=h");
    assertThat(clusters()).contains(h.hostKey("c0") + "healthy");
  }

  @Test
  void anEndpointAddedLaterStartsFailedAndTakesTrafficOnlyAfterItsFirstSuccessfulCheck()
      throws Exception {
    HcBackend one = new HcBackend("one", "127.0.7.123");
    HcBackend two = new HcBackend("two", "127.0.7.124");
    configure(checked("c0", check()), endpoints("c0", one));
    await().atMost(Duration.ofSeconds(30)).until(proxy::ready);
    assertThat(HandAds.get(LISTEN_IP, listenPort, "/x")).isEqualTo("backend=one");

    two.hold = new CountDownLatch(1);
    xds.send(EDS, "2", endpoints("c0", one, two));
    await().atMost(Duration.ofSeconds(30)).until(() -> two.checks.get() >= 1);
    // as Envoy's updateDynamicHostList: a new endpoint of a health-checked cluster is failed until
    // a check passes, and the load balancer keeps away from it
    assertThat(clusters())
        .contains(two.hostKey("c0") + "/failed_active_hc\n")
        .contains(one.hostKey("c0") + "healthy");
    for (int i = 0; i < 20; i++) {
      assertThat(HandAds.get(LISTEN_IP, listenPort, "/x")).isEqualTo("backend=one");
    }
    assertThat(two.requests.get()).isZero();

    // its first success makes it healthy at once, whatever healthy_threshold says
    two.hold.countDown();
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(() -> assertThat(clusters()).contains(two.hostKey("c0") + "healthy"));
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> HandAds.get(LISTEN_IP, listenPort, "/x").equals("backend=two"));
  }

  @Test
  void withIgnoreNewHostsUntilFirstHcANewEndpointIsPendingItsFirstCheck() throws Exception {
    HcBackend one = new HcBackend("one", "127.0.7.123");
    HcBackend two = new HcBackend("two", "127.0.7.125");
    Cluster c =
        checked("c0", check()).toBuilder()
            .setCommonLbConfig(
                Cluster.CommonLbConfig.newBuilder().setIgnoreNewHostsUntilFirstHc(true))
            .build();
    configure(c, endpoints("c0", one));
    await().atMost(Duration.ofSeconds(30)).until(proxy::ready);

    two.hold = new CountDownLatch(1);
    xds.send(EDS, "2", endpoints("c0", one, two));
    await().atMost(Duration.ofSeconds(30)).until(() -> two.checks.get() >= 1);
    assertThat(clusters()).contains(two.hostKey("c0") + "/failed_active_hc/pending_active_hc\n");

    two.status = 503; // its first check fails: failed, no longer pending
    two.hold.countDown();
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () -> assertThat(clusters()).contains(two.hostKey("c0") + "/failed_active_hc\n"));
    assertThat(two.requests.get()).isZero();
  }

  @Test
  void aFailedAnswerFailsAtOnceAndTheHealthCheckStatsCountAsEnvoys() throws Exception {
    HcBackend good = new HcBackend("good", "127.0.7.123");
    HcBackend bad = new HcBackend("bad", "127.0.7.124");
    bad.status = 503;
    // thresholds of 5 and a slow pace without traffic: one check per endpoint in this test
    HealthCheck.Builder slow =
        check()
            .setUnhealthyThreshold(UInt32Value.of(5))
            .setHealthyThreshold(UInt32Value.of(5))
            .setNoTrafficInterval(com.google.protobuf.Duration.newBuilder().setSeconds(600));
    configure(checked("c0", slow), endpoints("c0", good, bad));
    await().atMost(Duration.ofSeconds(30)).until(proxy::ready);

    // the 503 failed bad at its first check; good's first success made it healthy
    assertThat(clusters())
        .contains(bad.hostKey("c0") + "/failed_active_hc\n")
        .contains(good.hostKey("c0") + "healthy");
    assertThat(good.checks.get()).isEqualTo(1);
    assertThat(bad.checks.get()).isEqualTo(1);
    assertThat(proxy.stats().all())
        .filteredOn(s -> s.name().startsWith("cluster.c0.health_check."))
        .extracting(s -> s.name() + "=" + s.value())
        .containsExactlyInAnyOrder(
            "cluster.c0.health_check.attempt=2",
            "cluster.c0.health_check.success=1",
            "cluster.c0.health_check.failure=1",
            "cluster.c0.health_check.network_failure=0",
            "cluster.c0.health_check.passive_failure=0",
            "cluster.c0.health_check.verify_cluster=0");
    assertThat(gauge("cluster.c0.health_check.healthy")).isEqualTo(1);
  }

  @Test
  void networkFailuresFailAnEndpointOnlyAfterTheUnhealthyThreshold() throws Exception {
    HcBackend good = new HcBackend("good", "127.0.7.123");
    configure(
        checked("c0", check().setUnhealthyThreshold(UInt32Value.of(3))), endpoints("c0", good));
    await().atMost(Duration.ofSeconds(30)).until(proxy::ready);
    good.server.stop(0); // connections refused from now on
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () -> assertThat(clusters()).contains(good.hostKey("c0") + "/failed_active_hc\n"));
    assertThat(SocketProxy.stat(proxy, "cluster.c0.health_check.network_failure"))
        .isGreaterThanOrEqualTo(3);
  }

  @Test
  void anEndpointEdsRemovesStaysWhilePassingItsChecksAndGoesWhenOneFails() throws Exception {
    HcBackend one = new HcBackend("one", "127.0.7.123");
    HcBackend two = new HcBackend("two", "127.0.7.124");
    configure(checked("c0", check()), endpoints("c0", one, two));
    await().atMost(Duration.ofSeconds(30)).until(proxy::ready);

    xds.send(EDS, "2", endpoints("c0", one));
    await().atMost(Duration.ofSeconds(30)).until(() -> xds.acked(EDS, "2"));
    // as Envoy's EDS cluster with a health checker: it stays, marked, and keeps taking traffic
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () ->
                assertThat(clusters()).contains(two.hostKey("c0") + "/pending_dynamic_removal\n"));
    int before = two.requests.get();
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                HandAds.get(LISTEN_IP, listenPort, "/x").equals("backend=two")
                    && two.requests.get() > before);

    // its check fails: now it goes
    two.status = 503;
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(() -> assertThat(clusters()).doesNotContain(two.hostKey("c0")));
    int after = two.requests.get();
    for (int i = 0; i < 20; i++) {
      assertThat(HandAds.get(LISTEN_IP, listenPort, "/x")).isEqualTo("backend=one");
    }
    assertThat(two.requests.get()).isEqualTo(after);
  }

  @Test
  void withIgnoreHealthOnHostRemovalAnEndpointEdsRemovesGoesAtOnce() throws Exception {
    HcBackend one = new HcBackend("one", "127.0.7.123");
    HcBackend two = new HcBackend("two", "127.0.7.124");
    Cluster c = checked("c0", check()).toBuilder().setIgnoreHealthOnHostRemoval(true).build();
    configure(c, endpoints("c0", one, two));
    await().atMost(Duration.ofSeconds(30)).until(proxy::ready);
    assertThat(clusters()).contains(two.hostKey("c0") + "healthy");

    xds.send(EDS, "2", endpoints("c0", one));
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(() -> assertThat(clusters()).doesNotContain(two.hostKey("c0")));
    for (int i = 0; i < 20; i++) {
      assertThat(HandAds.get(LISTEN_IP, listenPort, "/x")).isEqualTo("backend=one");
    }
  }

  @Test
  void anEndpointTheControlPlaneCallsUnhealthyIsNotKeptAsRemoved() throws Exception {
    HcBackend one = new HcBackend("one", "127.0.7.123");
    HcBackend two = new HcBackend("two", "127.0.7.124");
    configure(checked("c0", check()), endpoints("c0", one, two));
    await().atMost(Duration.ofSeconds(30)).until(proxy::ready);

    // EDS still names two, as UNHEALTHY: not a removal, so no stay for a host passing its checks
    var marked = endpoints("c0", one, two).toBuilder();
    marked
        .getEndpointsBuilder(0)
        .getLbEndpointsBuilder(1)
        .setHealthStatus(io.envoyproxy.envoy.config.core.v3.HealthStatus.UNHEALTHY);
    xds.send(EDS, "2", marked.build());
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(() -> assertThat(clusters()).doesNotContain(two.hostKey("c0")));
    int after = two.requests.get();
    for (int i = 0; i < 20; i++) {
      assertThat(HandAds.get(LISTEN_IP, listenPort, "/x")).isEqualTo("backend=one");
    }
    assertThat(two.requests.get()).isEqualTo(after);
  }
}
