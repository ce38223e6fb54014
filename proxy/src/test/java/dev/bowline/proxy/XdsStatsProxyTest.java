package dev.bowline.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.Message;
import dev.bowline.proxy.lb.XxHash64;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.grpc.Status;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Envoy's server, listener manager, cluster manager, control plane and xDS subscription stats as a
 * real proxy shows them on its admin {@code /stats} and {@code /stats/prometheus}, while a
 * hand-driven ADS server (State of the World, real gRPC) sends exactly the updates the test names:
 * the first sync step by step, accepted and NACKed updates, a stream failure, a drain.
 */
class XdsStatsProxyTest extends HandAdsFixture {
  static final String XDS_IP = "127.0.7.60";
  static final String LISTEN_IP = "127.0.7.61";

  final HttpClient client = HandAds.CLIENT;

  XdsStatsProxyTest() {
    super(XDS_IP, LISTEN_IP, "127.0.7.62", "stats-test~1");
  }

  @Override
  ProxyOptions options() {
    return super.options().withDrainTime(Duration.ofMinutes(5));
  }

  @Test
  void theFirstSyncMovesServerStateFromPreInitialisingToLive() throws Exception {
    // Istio's pilot-agent asks exactly this before it reports the pod ready
    Map<String, String> ready = stats("^(server\\.state|listener_manager\\.workers_started)");
    assertThat(ready)
        .containsExactlyInAnyOrderEntriesOf(
            Map.of("server.state", "2", "listener_manager.workers_started", "0"));
    assertThat(stats("")).containsEntry("server.concurrency", "1");
    assertThat(stats("")).containsEntry("cluster_manager.cluster_added", "1"); // the static xds

    // CDS: an EDS cluster, warming until its endpoints come
    send(CDS, "1", XdsProxyTest.edsCluster("c0"));
    awaitStat("cluster_manager.cds.update_success", "1");
    assertThat(stats(""))
        .containsEntry("cluster_manager.warming_clusters", "1")
        .containsEntry("cluster_manager.cluster_added", "2")
        .containsEntry("cluster_manager.active_clusters", "1")
        .containsEntry("cluster_manager.cds.update_rejected", "0")
        .containsEntry("cluster_manager.cds.version", version("1"))
        .containsEntry("control_plane.connected_state", "1")
        .containsEntry("server.state", "2");

    // EDS: the cluster warms; the cluster manager has initialised, the listeners have not
    send(EDS, "1", HandAds.endpoints("c0", a));
    awaitStat("cluster.c0.update_success", "1");
    assertThat(stats(""))
        .containsEntry("cluster_manager.warming_clusters", "0")
        .containsEntry("cluster_manager.active_clusters", "2")
        .containsEntry("cluster.c0.membership_total", "1")
        .containsEntry("cluster.c0.membership_healthy", "1")
        .containsEntry("cluster.c0.version", version("1"))
        .containsEntry("server.state", "3")
        .containsEntry("listener_manager.workers_started", "0");

    // LDS: the listener warms until its route table comes
    send(LDS, "1", listener());
    awaitStat("listener_manager.lds.update_success", "1");
    assertThat(stats(""))
        .containsEntry("listener_manager.listener_added", "1")
        .containsEntry("listener_manager.total_listeners_warming", "1")
        .containsEntry("listener_manager.total_listeners_active", "0")
        .containsEntry("server.state", "3");
    assertThat(adminStatus("/ready")).isEqualTo(503);

    // RDS: the listener serves, the server is LIVE and its workers started
    send(RDS, "1", XdsProxyTest.routes("routes", XdsProxyTest.toCluster("/", "c0")));
    awaitStat("http.ingress.rds.routes.update_success", "1");
    assertThat(stats(""))
        .containsEntry("server.state", "0")
        .containsEntry("http.ingress.rds.routes.version", version("1"))
        .containsEntry("listener_manager.total_listeners_warming", "0")
        .containsEntry("listener_manager.total_listeners_active", "1")
        .containsEntry("listener_manager.workers_started", "1")
        .containsEntry("server.live", "1");
    assertThat(adminStatus("/ready")).isEqualTo(200);

    String prom = admin("/stats/prometheus");
    assertThat(prom)
        .contains("# TYPE envoy_server_state gauge\nenvoy_server_state{} 0\n")
        .contains("envoy_cluster_manager_cds_update_success{} 1\n")
        .contains("envoy_cluster_membership_healthy{envoy_cluster_name=\"c0\"} 1\n")
        .contains(
            "envoy_http_rds_update_success{envoy_http_conn_manager_prefix=\"ingress\","
                + "envoy_rds_route_config=\"routes\"} 1\n")
        .contains("# TYPE envoy_listener_manager_lds_update_success counter\n");
  }

  @Test
  void nackedUpdatesCountAsRejectedAndKeepTheVersion() throws Exception {
    firstSync();

    // CDS: the cluster again, with a resource of the wrong type beside it
    send(CDS, "2", XdsProxyTest.edsCluster("c0"), listener());
    awaitStat("cluster_manager.cds.update_rejected", "1");
    // EDS: an endpoint without its address
    send(EDS, "2", HandAds.unaddressed("c0"));
    awaitStat("cluster.c0.update_rejected", "1");
    // RDS: a virtual host without domains
    send(
        RDS,
        "2",
        RouteConfiguration.newBuilder()
            .setName("routes")
            .addVirtualHosts(VirtualHost.newBuilder().setName("none"))
            .build());
    awaitStat("http.ingress.rds.routes.update_rejected", "1");

    Map<String, String> s = stats("");
    assertThat(s)
        .containsEntry("cluster_manager.cds.update_success", "1")
        .containsEntry("cluster_manager.cds.version", version("1"))
        .containsEntry("cluster_manager.cds.update_attempt", "3") // start, accepted, rejected
        .containsEntry("cluster.c0.update_success", "1")
        .containsEntry("cluster.c0.version", version("1"))
        .containsEntry("http.ingress.rds.routes.update_success", "1")
        .containsEntry("http.ingress.rds.routes.version", version("1"))
        .containsEntry("cluster_manager.cluster_modified", "0")
        .containsEntry("cluster_manager.cluster_removed", "0")
        .containsEntry("server.state", "0");
    assertThat(get()).startsWith("backend=a"); // what served still does
  }

  @Test
  void changedAndRemovedResourcesAreCountedAndTheOldListenerDrains() throws Exception {
    firstSync();
    long before = Long.parseLong(stats("").get("server.total_connections"));
    try (var open = new java.net.Socket(LISTEN_IP, listenPort)) {
      awaitStat("server.total_connections", String.valueOf(before + 1));

      // the listener changes (its connections drain), a cluster comes and one goes
      send(
          LDS, "2", listener().toBuilder().setPerConnectionBufferLimitBytes(uint32(65536)).build());
      awaitStat("listener_manager.listener_modified", "1");
      awaitStat("listener_manager.total_listeners_draining", "1");
      send(CDS, "2", XdsProxyTest.edsCluster("c1"));
      awaitStat("cluster_manager.cds.update_success", "2");
      Map<String, String> s = stats("^(cluster_manager|listener_manager)\\.");
      assertThat(s)
          .containsEntry("cluster_manager.cluster_added", "3")
          .containsEntry("cluster_manager.cluster_removed", "1")
          .containsEntry("cluster_manager.warming_clusters", "1")
          .containsEntry("listener_manager.listener_added", "1")
          .containsEntry("listener_manager.lds.update_success", "2")
          .containsEntry("listener_manager.lds.version", version("2"))
          .doesNotContainKey("server.state"); // the filter applies
      assertThat(open.isClosed()).isFalse();
    }
  }

  @Test
  void aFailedStreamCountsAFailureAndDisconnectsTheControlPlane() throws Exception {
    firstSync();
    var first = xds.stream.get();
    first.onError(Status.UNAVAILABLE.withDescription("test closes the stream").asException());
    awaitStat("control_plane.connected_state", "0");
    assertThat(stats(""))
        .containsEntry("listener_manager.lds.update_failure", "1")
        .containsEntry("cluster_manager.cds.update_failure", "1")
        .containsEntry("cluster.c0.update_failure", "1")
        .containsEntry("http.ingress.rds.routes.update_failure", "1")
        .containsEntry("server.state", "0"); // the config in force keeps serving
  }

  @Test
  void perResourceStatsFollowClustersAddedUnchangedChangedAndRemoved() throws Exception {
    firstSync();
    // a cluster added beside the serving one (re-sent unchanged), then both clusters' endpoints
    send(CDS, "2", XdsProxyTest.edsCluster("c0"), XdsProxyTest.edsCluster("c1"));
    awaitStat("cluster_manager.cds.update_success", "2");
    send(EDS, "2", HandAds.endpoints("c0", a), HandAds.endpoints("c1", a));
    awaitStat("cluster.c1.update_success", "1");
    assertThat(stats(""))
        .containsEntry("cluster.c0.update_success", "2")
        .containsEntry("cluster.c0.version", version("2"))
        .containsEntry("cluster.c1.version", version("2"))
        .containsEntry("cluster_manager.cluster_modified", "0");

    // c1 removed, c0 re-sent unchanged; c0's endpoints count for c0 only
    send(CDS, "3", XdsProxyTest.edsCluster("c0"));
    awaitStat("cluster_manager.cluster_removed", "1");
    send(EDS, "3", HandAds.endpoints("c0", a));
    awaitStat("cluster.c0.update_success", "3");

    // CDS and LDS re-sent unchanged (the same runtime objects), then c0 changed and its endpoints
    // NACKed: each answer still counts for the resources held
    send(CDS, "4", XdsProxyTest.edsCluster("c0"));
    awaitStat("cluster_manager.cds.update_success", "4");
    send(LDS, "2", listener());
    awaitStat("listener_manager.lds.update_success", "2");
    send(
        CDS,
        "5",
        XdsProxyTest.edsCluster("c0").toBuilder()
            .setConnectTimeout(com.google.protobuf.Duration.newBuilder().setSeconds(2))
            .build());
    awaitStat("cluster_manager.cluster_modified", "1");
    send(EDS, "5", HandAds.unaddressed("c0"));
    awaitStat("cluster.c0.update_rejected", "1");
    assertThat(stats(""))
        .containsEntry("cluster.c0.update_success", "3")
        .containsEntry("cluster.c0.version", version("3"))
        .containsEntry("cluster.c1.update_success", "1")
        .containsEntry("cluster.c1.update_rejected", "0")
        .containsEntry("listener_manager.listener_modified", "0");

    // the stream fails: the held cluster and route table count a failure, the removed cluster none
    xds.stream
        .get()
        .onError(Status.UNAVAILABLE.withDescription("test closes the stream").asException());
    awaitStat("control_plane.connected_state", "0");
    assertThat(stats(""))
        .containsEntry("cluster.c0.update_failure", "1")
        .containsEntry("cluster.c1.update_failure", "0")
        .containsEntry("http.ingress.rds.routes.update_failure", "1")
        .containsEntry("cluster_manager.cds.update_failure", "1");
    assertThat(get()).startsWith("backend=a"); // what served still does
  }

  @Test
  void drainingShowsInServerState() throws Exception {
    firstSync();
    HttpResponse<String> r =
        client.send(
            HttpRequest.newBuilder(adminUri("/drain_listeners"))
                .POST(HttpRequest.BodyPublishers.noBody())
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
    awaitStat("server.state", "1");
    assertThat(stats("^server\\.")).containsEntry("server.live", "0");
    assertThat(adminStatus("/stats?filter=(")).isEqualTo(400);
  }

  @Test
  void listenersOnOneAddressKeepTheFirstAndOnlyCreatedOnesCount() throws Exception {
    firstSync();
    // Envoy counts listener_create_success per worker a listener version is added to (one here)
    assertThat(stats("^listener_manager\\.listener_create"))
        .containsExactlyInAnyOrderEntriesOf(
            Map.of(
                "listener_manager.listener_create_success", "1",
                "listener_manager.listener_create_failure", "0"));
    int shared = Ports.free(LISTEN_IP);
    try (var taken = new java.net.ServerSocket(0, 50, java.net.InetAddress.getByName(LISTEN_IP))) {
      // in this order: a new one on a free port, the one serving, a later new one on the first's
      // port, a new one on the serving one's port, one on a port another socket holds
      send(
          LDS,
          "2",
          named("first", shared),
          listener(),
          named("second", shared),
          named("twin", listenPort),
          named("blocked", taken.getLocalPort()));
      await().atMost(Duration.ofSeconds(20)).until(() -> xds.nacks(LDS) == 1);
      String detail =
          xds.requests.stream()
              .filter(r -> r.getTypeUrl().equals(LDS) && r.hasErrorDetail())
              .findFirst()
              .get()
              .getErrorDetail()
              .getMessage();
      assertThat(detail)
          .isEqualTo(
              duplicate("second", shared)
                  + "; "
                  + duplicate("twin", listenPort)
                  + "; Listener blocked: cannot bind '"
                  + LISTEN_IP
                  + ":"
                  + taken.getLocalPort()
                  + "': Address already in use");
      await()
          .atMost(Duration.ofSeconds(20))
          .ignoreExceptions()
          .until(() -> get(shared).startsWith("backend=a"));
      assertThat(get()).startsWith("backend=a"); // what served still does
      assertThat(proxy.snapshot().listeners()).containsOnlyKeys("ingress", "first");
      // a duplicate is refused before a socket is made (not a create failure); the unbindable one
      // is one
      assertThat(stats("^listener_manager\\."))
          .containsEntry("listener_manager.lds.update_rejected", "1")
          .containsEntry("listener_manager.listener_added", "2")
          .containsEntry("listener_manager.listener_create_success", "2")
          .containsEntry("listener_manager.listener_create_failure", "1")
          .containsEntry("listener_manager.total_listeners_active", "2");
    }
  }

  private static String duplicate(String name, int port) {
    return "Listener "
        + name
        + ": error adding listener: '"
        + name
        + "' has duplicate address '"
        + LISTEN_IP
        + ":"
        + port
        + "' as existing listener, to check if the listener has duplicated addresses with other"
        + " listeners or 'enable_reuse_port' is set to 'false' for the listener";
  }

  private Listener named(String name, int port) {
    return listener().toBuilder()
        .setName(name)
        .setAddress(XdsProxyTest.address(LISTEN_IP, port))
        .build();
  }

  private static com.google.protobuf.UInt32Value uint32(int v) {
    return com.google.protobuf.UInt32Value.of(v);
  }

  void firstSync() throws Exception {
    send(CDS, "1", XdsProxyTest.edsCluster("c0"));
    send(EDS, "1", HandAds.endpoints("c0", a));
    send(LDS, "1", listener());
    send(RDS, "1", XdsProxyTest.routes("routes", XdsProxyTest.toCluster("/", "c0")));
    awaitStat("server.state", "0");
    await()
        .atMost(Duration.ofSeconds(10))
        .ignoreExceptions()
        .until(() -> get().startsWith("backend=a"));
  }

  /** Envoy's {@code version} gauge: the xxHash64 of the version_info, unsigned. */
  static String version(String versionInfo) {
    return Long.toUnsignedString(XxHash64.hash(versionInfo, 0));
  }

  void awaitStat(String name, String value) {
    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(() -> assertThat(stats("")).containsEntry(name, value));
  }

  /** The admin's {@code /stats} lines, {@code filter} applied when not empty. */
  Map<String, String> stats(String filter) throws Exception {
    String body =
        admin(
            filter.isEmpty()
                ? "/stats"
                // every stat, zeros included: usedonly leaves out counters never written, as
                // Envoy's
                : "/stats?filter=" + URLEncoder.encode(filter, StandardCharsets.UTF_8));
    Map<String, String> out = new HashMap<>();
    for (String line : body.split("\n")) {
      int colon = line.lastIndexOf(": ");
      if (colon > 0) {
        out.put(line.substring(0, colon), line.substring(colon + 2));
      }
    }
    return out;
  }

  URI adminUri(String path) {
    return URI.create("http://" + XDS_IP + ":" + adminPort + path);
  }

  String admin(String path) throws Exception {
    return client
        .send(
            HttpRequest.newBuilder(adminUri(path)).timeout(Duration.ofSeconds(5)).build(),
            HttpResponse.BodyHandlers.ofString())
        .body();
  }

  int adminStatus(String path) throws Exception {
    return client
        .send(
            HttpRequest.newBuilder(adminUri(path)).timeout(Duration.ofSeconds(5)).build(),
            HttpResponse.BodyHandlers.ofString())
        .statusCode();
  }

  void send(String typeUrl, String version, Message... resources) {
    xds.send(typeUrl, version, resources);
  }

  String get() throws Exception {
    return get(listenPort);
  }

  String get(int port) throws Exception {
    return HandAds.get(LISTEN_IP, port, "/s");
  }

  Listener listener() {
    return HandAds.ingress(LISTEN_IP, listenPort);
  }
}
