package dev.bowline.proxy.xds;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Any;
import com.google.protobuf.util.JsonFormat;
import dev.bowline.proxy.bootstrap.SupportedTypes;
import dev.bowline.proxy.config.ClusterChoice;
import dev.bowline.proxy.config.RouteAction;
import dev.bowline.proxy.config.RouteTable;
import dev.bowline.proxy.config.VirtualHost;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A route table re-sent with some virtual hosts changed: the unchanged hosts keep their runtime
 * objects (converted once, by their bytes), the changed, added, removed and reordered ones are what
 * the new table says.
 */
class RouteHostReuseTest {
  private final RouteConfigParser parser = new RouteConfigParser();

  private static String host(String name, String domain, String cluster) {
    return host(name, domain, cluster, "");
  }

  private static String host(String name, String domain, String cluster, String extra) {
    return "{\"name\":\""
        + name
        + "\",\"domains\":[\""
        + domain
        + "\"],\"routes\":[{\"match\":{\"prefix\":\"/\"},\"route\":{\"cluster\":\""
        + cluster
        + "\"}}]"
        + extra
        + "}";
  }

  private RouteTable parse(String... hosts) throws Exception {
    var b = RouteConfiguration.newBuilder();
    JsonFormat.parser()
        .usingTypeRegistry(SupportedTypes.registry())
        .merge("{\"name\":\"80\",\"virtual_hosts\":[" + String.join(",", hosts) + "]}", b);
    return parser.unpackAndParse(Any.pack(b.build())).value();
  }

  private static String clusterFor(RouteTable t, String authority) {
    VirtualHost vh = t.pick(authority);
    assertThat(vh).as("a virtual host for %s", authority).isNotNull();
    var fwd = (RouteAction.Forward) vh.routes().getFirst().action();
    return ((ClusterChoice.Single) fwd.clusters()).cluster();
  }

  private static VirtualHost named(RouteTable t, String name) {
    return t.virtualHosts().stream().filter(v -> v.name().equals(name)).findFirst().orElseThrow();
  }

  @Test
  void unchangedHostsKeepTheirObjectsChangedAndAddedOnesTakeEffectRemovedOnesGo() throws Exception {
    RouteTable v1 =
        parse(host("a", "a.svc", "ca"), host("b", "b.svc", "cb"), host("c", "c.svc", "cc"));
    RouteTable v2 =
        parse(host("a", "a.svc", "ca"), host("b", "b.svc", "cb2"), host("d", "d.svc", "cd"));

    assertThat(named(v2, "a")).isSameAs(named(v1, "a"));
    assertThat(named(v2, "b")).isNotSameAs(named(v1, "b"));
    assertThat(clusterFor(v2, "a.svc")).isEqualTo("ca");
    assertThat(clusterFor(v2, "b.svc")).isEqualTo("cb2");
    assertThat(clusterFor(v2, "d.svc")).isEqualTo("cd");
    assertThat(v2.pick("c.svc")).isNull();
    assertThat(v2.virtualHosts()).extracting(VirtualHost::name).containsExactly("a", "b", "d");
    // the same conversion a fresh parser makes
    assertThat(v2).isEqualTo(new RouteConfigParser().parse(protoOf(v2Json())));
  }

  private static String v2Json() {
    return "{\"name\":\"80\",\"virtual_hosts\":["
        + String.join(
            ",", host("a", "a.svc", "ca"), host("b", "b.svc", "cb2"), host("d", "d.svc", "cd"))
        + "]}";
  }

  private static RouteConfiguration protoOf(String json) throws Exception {
    var b = RouteConfiguration.newBuilder();
    JsonFormat.parser().usingTypeRegistry(SupportedTypes.registry()).merge(json, b);
    return b.build();
  }

  @Test
  void aHostChangedOnlyInItsTypedPerFilterConfigIsConvertedAgain() throws Exception {
    String fault503 =
        ",\"typed_per_filter_config\":{\"envoy.filters.http.fault\":{\"@type\":"
            + "\"type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault\","
            + "\"abort\":{\"http_status\":503,\"percentage\":{\"numerator\":100}}}}";
    String fault500 = fault503.replace("503", "500");
    RouteTable v1 = parse(host("a", "a.svc", "ca", fault503), host("b", "b.svc", "cb"));
    RouteTable v2 = parse(host("a", "a.svc", "ca", fault500), host("b", "b.svc", "cb"));

    assertThat(named(v2, "b")).isSameAs(named(v1, "b"));
    VirtualHost before = named(v1, "a");
    VirtualHost after = named(v2, "a");
    assertThat(after).isNotSameAs(before);
    assertThat(after.filterConfigs()).containsOnlyKeys("envoy.filters.http.fault");
    assertThat(after.filterConfigs()).isNotEqualTo(before.filterConfigs());
    assertThat(after.filterConfigs().get("envoy.filters.http.fault").toString())
        .contains("500")
        .doesNotContain("503");
  }

  @Test
  void reorderedHostsAreReusedAndTheNewOrderDecidesWhichServesASharedDomain() throws Exception {
    // Two hosts claim "*": the first in the table serves (Envoy takes the first match).
    RouteTable v1 = parse(host("x", "*", "cx"), host("y", "*", "cy"));
    assertThat(clusterFor(v1, "anything")).isEqualTo("cx");

    RouteTable v2 = parse(host("y", "*", "cy"), host("x", "*", "cx"));
    assertThat(named(v2, "x")).isSameAs(named(v1, "x"));
    assertThat(named(v2, "y")).isSameAs(named(v1, "y"));
    assertThat(v2.virtualHosts()).extracting(VirtualHost::name).containsExactly("y", "x");
    assertThat(clusterFor(v2, "anything")).isEqualTo("cy");
  }

  @Test
  void aBadNewHostIsRejectedByItsIndexAndTheLastGoodHostsStayReusable() throws Exception {
    RouteTable v1 = parse(host("a", "a.svc", "ca"), host("b", "b.svc", "cb"));
    assertThatThrownBy(
            () -> parse(host("a", "a.svc", "ca"), host("b", "b.svc", "cb"), host("c", "", "cc")))
        .hasMessageStartingWith("RouteConfiguration 80: virtual_hosts[2].domains[0]");
    RouteTable v3 = parse(host("b", "b.svc", "cb"), host("a", "a.svc", "ca"));
    assertThat(named(v3, "a")).isSameAs(named(v1, "a"));
    assertThat(named(v3, "b")).isSameAs(named(v1, "b"));
  }

  @Test
  void tablesOfOtherNamesAndRepeatedHostsAreConvertedOnTheirOwn() throws Exception {
    RouteTable v1 = parse(host("a", "a.svc", "ca"));
    var other = RouteConfiguration.newBuilder();
    JsonFormat.parser()
        .usingTypeRegistry(SupportedTypes.registry())
        .merge(
            "{\"name\":\"8080\",\"virtual_hosts\":["
                + host("a", "a.svc", "ca")
                + ","
                + host("a", "a.svc", "ca")
                + "]}",
            other);
    RouteTable t8080 = parser.unpackAndParse(Any.pack(other.build())).value();
    assertThat(t8080.virtualHosts()).hasSize(2);
    assertThat(t8080.virtualHosts().get(0)).isSameAs(t8080.virtualHosts().get(1));
    assertThat(t8080.virtualHosts().get(0)).isNotSameAs(named(v1, "a")).isEqualTo(named(v1, "a"));
    assertThat(List.of(v1.name(), t8080.name())).containsExactly("80", "8080");
  }
}
