package dev.bowline.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.Any;
import dev.bowline.proxy.bootstrap.BootstrapException;
import dev.bowline.proxy.bootstrap.BootstrapLoader;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * LDS updates that move a listener, or name one whose socket failed after warming, and bootstrap
 * listeners sharing an address, against Envoy's listener manager (decision 0004, session-16
 * addendum): a real proxy, a hand-driven ADS server (State of the World, real gRPC), real sockets.
 */
class ListenerUpdateProxyTest extends HandAdsFixture {
  static final String XDS_IP = "127.0.7.50";
  static final String LISTEN_IP = "127.0.7.51";

  ListenerUpdateProxyTest() {
    super(XDS_IP, LISTEN_IP, "127.0.7.52", "listener-update~1");
  }

  @Override
  ProxyOptions options() {
    return super.options().withDrainTime(Duration.ofSeconds(30));
  }

  @Test
  void aListenerMovedWhileItsNewVersionWarmsKeepsServingOnItsOldAddressWhichStaysItsOwn()
      throws Exception {
    firstSync();
    int moved = Ports.free(LISTEN_IP);
    // Envoy allows an address change: the new version warms (its routes are not there yet) on its
    // own socket while the active one serves on the old address, until the new one replaces it
    xds.send(LDS, "2", listener("ingress", moved, "moved"));
    await().atMost(Duration.ofSeconds(30)).until(() -> xds.acked(LDS, "2"));
    assertThat(get(listenPort)).startsWith("backend=a");
    assertThat(proxy.listenerAddress("ingress").orElseThrow().port()).isEqualTo(listenPort);

    // the old address is still the listener's: another listener taking it is a duplicate
    xds.send(
        LDS, "3", listener("ingress", moved, "moved"), listener("taker", listenPort, "routes"));
    await().atMost(Duration.ofSeconds(30)).until(() -> xds.nacks(LDS) == 1);
    assertThat(nackDetail()).isEqualTo("Listener taker: " + duplicate("taker", listenPort));
    assertThat(get(listenPort)).startsWith("backend=a");
    assertThat(proxy.snapshot().listeners()).containsOnlyKeys("ingress");

    // the new version warms: it serves on the new address and the old one is let go
    xds.send(
        RDS,
        "2",
        XdsProxyTest.routes("routes", XdsProxyTest.toCluster("/", "c0")),
        XdsProxyTest.routes("moved", XdsProxyTest.toCluster("/", "c0")));
    await()
        .atMost(Duration.ofSeconds(30))
        .ignoreExceptions()
        .until(() -> get(moved).startsWith("backend=a"));
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () ->
                assertThatThrownBy(() -> new Socket(LISTEN_IP, listenPort).close())
                    .isInstanceOf(IOException.class));

    // now the old address is free for another
    xds.send(
        LDS, "4", listener("ingress", moved, "moved"), listener("taker", listenPort, "routes"));
    await()
        .atMost(Duration.ofSeconds(30))
        .ignoreExceptions()
        .until(() -> get(listenPort).startsWith("backend=a"));
    assertThat(xds.nacks(LDS)).isEqualTo(1);
  }

  @Test
  void aListenerWhoseBindFailsAfterWarmingStaysOutUntilLdsSendsItAgain() throws Exception {
    firstSync();
    int late = Ports.free(LISTEN_IP);
    xds.send(LDS, "2", HandAds.ingress(LISTEN_IP, listenPort), listener("late", late, "later"));
    await().atMost(Duration.ofSeconds(30)).until(() -> xds.acked(LDS, "2"));
    try (ServerSocket taken = new ServerSocket(late, 50, InetAddress.getByName(LISTEN_IP))) {
      // it warms while another socket holds its port: Envoy's listen after warming fails, counted,
      // and the listener is removed
      xds.send(
          RDS,
          "2",
          XdsProxyTest.routes("routes", XdsProxyTest.toCluster("/", "c0")),
          XdsProxyTest.routes("later", XdsProxyTest.toCluster("/", "c0")));
      awaitStat("listener_manager.listener_create_failure", "1");
      // and removed (stats15): counted, out of the active listeners and the config dump
      assertThat(stats())
          .containsEntry("listener_manager.listener_removed", "1")
          .containsEntry("listener_manager.total_listeners_active", "1");
      assertThat(admin("/config_dump")).contains("\"ingress\"").doesNotContain("\"late\"");

      // later publications (a cluster comes) do not try it again
      xds.send(HandAds.CDS, "2", XdsProxyTest.edsCluster("c0"), XdsProxyTest.edsCluster("c1"));
      xds.send(HandAds.EDS, "2", HandAds.endpoints("c0", a), HandAds.endpoints("c1", a));
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> stats().containsKey("cluster.c1.membership_total"));
      assertThat(stats())
          .containsEntry("listener_manager.listener_create_failure", "1")
          .containsEntry("listener_manager.listener_create_success", "1");

      // LDS names it again, unchanged: added again, its bind fails the update
      xds.send(LDS, "3", HandAds.ingress(LISTEN_IP, listenPort), listener("late", late, "later"));
      await().atMost(Duration.ofSeconds(30)).until(() -> xds.nacks(LDS) == 1);
      assertThat(nackDetail())
          .isEqualTo(
              "Listener late: cannot bind '"
                  + LISTEN_IP
                  + ":"
                  + late
                  + "': Address already in use");
      assertThat(stats()).containsEntry("listener_manager.listener_create_failure", "2");
      assertThat(get(listenPort)).startsWith("backend=a");
    }
    // the port is free now: LDS naming it again adds it
    xds.send(LDS, "4", HandAds.ingress(LISTEN_IP, listenPort), listener("late", late, "later"));
    await().atMost(Duration.ofSeconds(30)).until(() -> xds.acked(LDS, "4"));
    await()
        .atMost(Duration.ofSeconds(30))
        .ignoreExceptions()
        .until(() -> get(late).startsWith("backend=a"));
    // counted in the same apply as the bind, just after it: waited for, not read at once
    awaitStat("listener_manager.listener_create_success", "2");
    assertThat(stats()).containsEntry("listener_manager.listener_create_failure", "2");
    assertThat(xds.nacks(LDS)).isEqualTo(1);
    assertThat(stats()).containsEntry("listener_manager.total_listeners_active", "2");
    assertThat(admin("/config_dump")).contains("\"late\"");
  }

  /**
   * Envoy's listener manager counts a listener removed after its failed bind once: LDS bringing it
   * back adds it again ({@code listener_added}), LDS dropping it while it is out removes nothing
   * more ({@code listener_removed}).
   */
  @Test
  void aListenerOutAfterItsFailedBindIsAddedWhenLdsBringsItBackAndNotRemovedTwice()
      throws Exception {
    firstSync();
    awaitStat("listener_manager.listener_added", "1");
    int late = Ports.free(LISTEN_IP);
    xds.send(LDS, "2", HandAds.ingress(LISTEN_IP, listenPort), listener("late", late, "later"));
    await().atMost(Duration.ofSeconds(30)).until(() -> xds.acked(LDS, "2"));
    try (ServerSocket taken = new ServerSocket(late, 50, InetAddress.getByName(LISTEN_IP))) {
      xds.send(
          RDS,
          "2",
          XdsProxyTest.routes("routes", XdsProxyTest.toCluster("/", "c0")),
          XdsProxyTest.routes("later", XdsProxyTest.toCluster("/", "c0")));
      awaitStat("listener_manager.listener_removed", "1");
    }
    assertThat(stats()).containsEntry("listener_manager.listener_added", "2");

    // the port is free: LDS names it again, unchanged, and it is added again
    xds.send(LDS, "3", HandAds.ingress(LISTEN_IP, listenPort), listener("late", late, "later"));
    awaitStat("listener_manager.listener_added", "3");
    await()
        .atMost(Duration.ofSeconds(30))
        .ignoreExceptions()
        .until(() -> get(late).startsWith("backend=a"));

    // another fails its bind after warming ...
    int gone = Ports.free(LISTEN_IP);
    xds.send(
        LDS,
        "4",
        HandAds.ingress(LISTEN_IP, listenPort),
        listener("late", late, "later"),
        listener("gone", gone, "gone"));
    await().atMost(Duration.ofSeconds(30)).until(() -> xds.acked(LDS, "4"));
    awaitStat("listener_manager.listener_added", "4");
    try (ServerSocket taken = new ServerSocket(gone, 50, InetAddress.getByName(LISTEN_IP))) {
      xds.send(
          RDS,
          "3",
          XdsProxyTest.routes("routes", XdsProxyTest.toCluster("/", "c0")),
          XdsProxyTest.routes("later", XdsProxyTest.toCluster("/", "c0")),
          XdsProxyTest.routes("gone", XdsProxyTest.toCluster("/", "c0")));
      awaitStat("listener_manager.listener_removed", "2");
    }
    // ... and LDS drops it, adding another in the same response (counted with the removals, so
    // seeing it added means the removals were counted)
    int extra = Ports.free(LISTEN_IP);
    xds.send(
        LDS,
        "5",
        HandAds.ingress(LISTEN_IP, listenPort),
        listener("late", late, "later"),
        listener("extra", extra, "routes"));
    awaitStat("listener_manager.listener_added", "5");
    assertThat(stats())
        .containsEntry("listener_manager.listener_removed", "2")
        .containsEntry("listener_manager.listener_modified", "0");
  }

  @Test
  void twoBootstrapListenersOnOneAddressStopTheStartUpWithEnvoysDuplicateAddressError()
      throws Exception {
    int port = Ports.free("127.0.7.53");
    String yaml =
        """
        node: {id: dup, cluster: test}
        static_resources:
          listeners:
          - name: first
            address: {socket_address: {address: 127.0.7.53, port_value: %1$d}}
            filter_chains: [{filters: [%2$s]}]
          - name: second
            address: {socket_address: {address: 127.0.7.53, port_value: %1$d}}
            filter_chains: [{filters: [%2$s]}]
        """
            .formatted(
                port,
                "{name: envoy.filters.network.tcp_proxy, typed_config: {\"@type\":"
                    + " type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy,"
                    + " stat_prefix: t, cluster: none}}");
    assertThatThrownBy(
            () ->
                Proxy.start(
                    new BootstrapLoader().parse("dup.yaml", yaml),
                    ProxyOptions.defaults().withWorkers(1)))
        .isInstanceOf(BootstrapException.class)
        .hasMessage(
            "static_resources.listeners: error adding listener: 'second' has duplicate address"
                + " '127.0.7.53:"
                + port
                + "' as existing listener, to check if the listener has duplicated addresses"
                + " with other listeners or 'enable_reuse_port' is set to 'false' for the listener");
    assertThatThrownBy(() -> new Socket("127.0.7.53", port).close())
        .as("nothing of the failed start is left listening")
        .isInstanceOf(IOException.class);
  }

  private void firstSync() throws Exception {
    xds.send(HandAds.CDS, "1", XdsProxyTest.edsCluster("c0"));
    xds.send(HandAds.EDS, "1", HandAds.endpoints("c0", a));
    xds.send(LDS, "1", HandAds.ingress(LISTEN_IP, listenPort));
    xds.send(RDS, "1", XdsProxyTest.routes("routes", XdsProxyTest.toCluster("/", "c0")));
    await()
        .atMost(Duration.ofSeconds(30))
        .ignoreExceptions()
        .until(() -> get(listenPort).startsWith("backend=a"));
  }

  /**
   * {@link HandAds#ingress} named {@code name} on {@code port}, routing by RDS table {@code rds}.
   */
  private static Listener listener(String name, int port, String rds) throws Exception {
    Listener l = HandAds.ingress(LISTEN_IP, port);
    var filter = l.getFilterChains(0).getFilters(0);
    var hcm = filter.getTypedConfig().unpack(HttpConnectionManager.class);
    hcm = hcm.toBuilder().setRds(hcm.getRds().toBuilder().setRouteConfigName(rds)).build();
    return l.toBuilder()
        .setName(name)
        .setFilterChains(
            0,
            l.getFilterChains(0).toBuilder()
                .setFilters(0, filter.toBuilder().setTypedConfig(Any.pack(hcm))))
        .build();
  }

  private static String duplicate(String name, int port) {
    return "error adding listener: '"
        + name
        + "' has duplicate address '"
        + LISTEN_IP
        + ":"
        + port
        + "' as existing listener, to check if the listener has duplicated addresses with other"
        + " listeners or 'enable_reuse_port' is set to 'false' for the listener";
  }

  private String nackDetail() {
    return xds.requests.stream()
        .filter(r -> r.getTypeUrl().equals(LDS) && r.hasErrorDetail())
        .findFirst()
        .orElseThrow()
        .getErrorDetail()
        .getMessage();
  }

  private static String get(int port) throws Exception {
    return HandAds.get(LISTEN_IP, port, "/s");
  }

  private void awaitStat(String name, String value) {
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(() -> assertThat(stats()).containsEntry(name, value));
  }

  /** The body of the admin's {@code path}. */
  private String admin(String path) throws Exception {
    return HandAds.CLIENT
        .send(
            HttpRequest.newBuilder(URI.create("http://" + XDS_IP + ":" + adminPort + path))
                .timeout(Duration.ofSeconds(30))
                .build(),
            HttpResponse.BodyHandlers.ofString())
        .body();
  }

  /** The admin's {@code /stats} lines of the listener manager and the clusters. */
  private Map<String, String> stats() throws Exception {
    String body =
        HandAds.CLIENT
            .send(
                HttpRequest.newBuilder(
                        URI.create(
                            "http://"
                                + XDS_IP
                                + ":"
                                + adminPort
                                + "/stats?filter="
                                + URLEncoder.encode(
                                    "^(listener_manager|cluster)\\.", StandardCharsets.UTF_8)))
                    .timeout(Duration.ofSeconds(30))
                    .build(),
                HttpResponse.BodyHandlers.ofString())
            .body();
    Map<String, String> out = new HashMap<>();
    for (String line : body.split("\n")) {
      int colon = line.lastIndexOf(": ");
      if (colon > 0) {
        out.put(line.substring(0, colon), line.substring(colon + 2));
      }
    }
    return out;
  }
}
