package dev.bowline.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.Any;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import dev.bowline.proxy.bootstrap.SupportedTypes;
import io.envoyproxy.envoy.admin.v3.ClustersConfigDump;
import io.envoyproxy.envoy.admin.v3.ConfigDump;
import io.envoyproxy.envoy.admin.v3.EndpointsConfigDump;
import io.envoyproxy.envoy.admin.v3.ListenersConfigDump;
import io.envoyproxy.envoy.admin.v3.RoutesConfigDump;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * What {@code /config_dump} shows of the xDS resources across updates, over a real ADS stream (a
 * hand-driven SotW server) to a real proxy: each type's accepted resources with the version each
 * was accepted in. The xDS client hands on one copy per type and makes it again only when that
 * type's resources change (decision 0004, session 16 addendum push13), so a dump taken after an
 * update of one type must still show the others as they were, and one taken after a change must
 * show it: a resource re-sent with other bytes, a bad one keeping its last good, a removed one
 * gone, an unsubscribed assignment gone.
 */
class XdsConfigDumpTest extends HandAdsFixture {
  static final String XDS_IP = "127.0.13.1";
  static final String LISTEN_IP = "127.0.13.2";

  XdsConfigDumpTest() {
    super(XDS_IP, LISTEN_IP, "127.0.13.3", "config-dump-test~1");
  }

  @Test
  void theDumpShowsEachTypesAcceptedResourcesAcrossUpdatesOfOthers() throws Exception {
    Cluster c0 = XdsProxyTest.edsCluster("c0");
    Cluster c1 = XdsProxyTest.edsCluster("c1");
    xds.send(CDS, "1", c0, c1);
    xds.send(EDS, "1", endpoints("c0"), endpoints("c1"));
    xds.send(LDS, "1", HandAds.ingress(LISTEN_IP, listenPort));
    RouteConfiguration routes1 = XdsProxyTest.routes("routes", XdsProxyTest.toCluster("/", "c0"));
    xds.send(RDS, "1", routes1);
    await()
        .atMost(Duration.ofSeconds(30))
        .ignoreExceptions()
        .until(() -> HandAds.get(LISTEN_IP, listenPort, "/o").startsWith("backend=a"));

    Dump d1 = dump();
    assertThat(d1.clusters()).containsOnlyKeys("c0", "c1");
    assertThat(d1.clusters().get("c0")).isEqualTo(new Shown("1", c0));
    assertThat(d1.clusters().get("c1")).isEqualTo(new Shown("1", c1));
    assertThat(d1.endpoints())
        .containsOnlyKeys("c0", "c1")
        .containsEntry("c0", new Shown("1", endpoints("c0")));
    assertThat(d1.listeners()).containsOnlyKeys("ingress");
    assertThat(d1.routes()).containsExactly(Map.entry("routes", new Shown("1", routes1)));

    // CDS 2: c0 re-sent with other bytes, c1 bad (NACKed: its last good stays), c2 new
    Cluster c0b =
        c0.toBuilder()
            .setConnectTimeout(com.google.protobuf.Duration.newBuilder().setSeconds(3))
            .build();
    Cluster c1bad =
        c1.toBuilder()
            .setConnectTimeout(com.google.protobuf.Duration.newBuilder().setSeconds(-1))
            .build();
    Cluster c2 = XdsProxyTest.edsCluster("c2");
    xds.send(CDS, "2", c0b, c1bad, c2);
    await().atMost(Duration.ofSeconds(30)).until(() -> xds.nacks(CDS) == 1);
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> proxy.snapshot().clusters().get("c0").connectTimeout().toSeconds() == 3);

    Dump d2 = dump();
    assertThat(d2.clusters()).containsOnlyKeys("c0", "c1", "c2");
    assertThat(d2.clusters().get("c0")).isEqualTo(new Shown("2", c0b));
    assertThat(d2.clusters().get("c1")).isEqualTo(new Shown("1", c1));
    assertThat(d2.clusters().get("c2")).isEqualTo(new Shown("2", c2));
    // the other types are as the last dump showed them
    assertThat(d2.endpoints()).isEqualTo(d1.endpoints());
    assertThat(d2.listeners()).isEqualTo(d1.listeners());
    assertThat(d2.routes()).isEqualTo(d1.routes());

    // RDS 2: the table changes; the clusters stay as CDS 2 left them
    RouteConfiguration routes2 =
        XdsProxyTest.routes(
            "routes", XdsProxyTest.toCluster("/b", "c1"), XdsProxyTest.toCluster("/", "c0"));
    xds.send(RDS, "2", routes2);
    await().atMost(Duration.ofSeconds(30)).until(() -> xds.acked(RDS, "2"));
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> dump().routes().get("routes").version().equals("2"));
    Dump d3 = dump();
    assertThat(d3.routes()).containsExactly(Map.entry("routes", new Shown("2", routes2)));
    assertThat(d3.clusters()).isEqualTo(d2.clusters());
    assertThat(d3.endpoints()).isEqualTo(d1.endpoints());

    // CDS 3: only c0, unchanged since 2: it shows version 3; c1 and c2 are gone, and with them
    // the EDS subscription of c1 (its assignment leaves the dump)
    xds.send(CDS, "3", c0b);
    await().atMost(Duration.ofSeconds(30)).until(() -> xds.acked(CDS, "3"));
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> dump().clusters().keySet().equals(java.util.Set.of("c0")));
    Dump d4 = dump();
    assertThat(d4.clusters()).containsExactly(Map.entry("c0", new Shown("3", c0b)));
    assertThat(d4.endpoints()).containsExactly(Map.entry("c0", new Shown("1", endpoints("c0"))));
    assertThat(d4.routes()).isEqualTo(d3.routes());
    assertThat(d4.listeners()).isEqualTo(d1.listeners());
  }

  ClusterLoadAssignment endpoints(String cluster) {
    return HandAds.endpoints(cluster, a);
  }

  /** A resource as the dump shows it: the version it was accepted in and its proto. */
  record Shown(String version, Message proto) {}

  /** The dynamic resources of {@code /config_dump?include_eds}, by name. */
  record Dump(
      Map<String, Shown> clusters,
      Map<String, Shown> endpoints,
      Map<String, Shown> listeners,
      Map<String, Shown> routes) {}

  Dump dump() throws Exception {
    String json = HandAds.get(XDS_IP, adminPort, "/config_dump?include_eds");
    ConfigDump.Builder b = ConfigDump.newBuilder();
    JsonFormat.parser().usingTypeRegistry(SupportedTypes.registry()).merge(json, b);
    Map<String, Shown> clusters = new TreeMap<>();
    Map<String, Shown> endpoints = new TreeMap<>();
    Map<String, Shown> listeners = new TreeMap<>();
    Map<String, Shown> routes = new TreeMap<>();
    for (Any any : b.getConfigsList()) {
      if (any.is(ClustersConfigDump.class)) {
        for (var c : any.unpack(ClustersConfigDump.class).getDynamicActiveClustersList()) {
          Cluster p = c.getCluster().unpack(Cluster.class);
          assertThat(clusters.put(p.getName(), new Shown(c.getVersionInfo(), p))).isNull();
        }
      } else if (any.is(EndpointsConfigDump.class)) {
        for (var e : any.unpack(EndpointsConfigDump.class).getDynamicEndpointConfigsList()) {
          var p = e.getEndpointConfig().unpack(ClusterLoadAssignment.class);
          assertThat(endpoints.put(p.getClusterName(), new Shown(e.getVersionInfo(), p))).isNull();
        }
      } else if (any.is(ListenersConfigDump.class)) {
        for (var l : any.unpack(ListenersConfigDump.class).getDynamicListenersList()) {
          var s = l.getActiveState();
          var p = s.getListener().unpack(Listener.class);
          assertThat(listeners.put(p.getName(), new Shown(s.getVersionInfo(), p))).isNull();
        }
      } else if (any.is(RoutesConfigDump.class)) {
        for (var r : any.unpack(RoutesConfigDump.class).getDynamicRouteConfigsList()) {
          var p = r.getRouteConfig().unpack(RouteConfiguration.class);
          assertThat(routes.put(p.getName(), new Shown(r.getVersionInfo(), p))).isNull();
        }
      }
    }
    return new Dump(clusters, endpoints, listeners, routes);
  }
}
