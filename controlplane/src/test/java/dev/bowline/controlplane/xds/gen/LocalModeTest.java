package dev.bowline.controlplane.xds.gen;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Message;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.bowline.controlplane.model.ConfigInputs;
import dev.bowline.controlplane.model.InvalidNodeException;
import dev.bowline.controlplane.model.NodeParser;
import dev.bowline.controlplane.model.Proxy;
import dev.bowline.controlplane.model.PushContext;
import dev.bowline.controlplane.registry.LocalRegistry;
import dev.bowline.controlplane.registry.RegistryFile;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import java.util.Set;
import java.util.SortedMap;
import org.junit.jupiter.api.Test;

/**
 * Local mode ({@code INTERCEPTION_MODE=NONE}) as {@code bowline up} registers it: the registry's
 * endpoint is the sidecar on the service port, the app's port comes in POD_PORTS.
 */
class LocalModeTest {
  static final String REGISTRY =
      """
      services:
      - {namespace: weather, name: forecast, ports: [{name: http-forecast, port: 3002}]}
      - {namespace: weather, name: frontend, ports: [{name: http-frontend, port: 3000}]}
      workloads:
      - {namespace: weather, name: forecast-v1-0, labels: {app: forecast, version: v1}, address: 127.0.0.3}
      - {namespace: weather, name: frontend-v1-0, labels: {app: frontend, version: v1}, address: 127.0.0.2}
      """;

  static PushContext push() throws Exception {
    LocalRegistry registry = new LocalRegistry("cluster.local");
    registry.replaceAll(RegistryFile.parse(REGISTRY, "registry.yaml"));
    return new PushContext(1, registry.snapshot(), ConfigInputs.NONE);
  }

  static Proxy forecast(String podPorts) throws Exception {
    Struct.Builder md =
        Struct.newBuilder()
            .putFields("NAMESPACE", string("weather"))
            .putFields("INTERCEPTION_MODE", string("NONE"));
    if (!podPorts.isEmpty()) {
      md.putFields("POD_PORTS", string(podPorts));
    }
    return NodeParser.parse(
        Node.newBuilder()
            .setId("sidecar~127.0.0.3~forecast-v1-0.weather~weather.svc.cluster.local")
            .setMetadata(md)
            .build());
  }

  private static Value string(String s) {
    return Value.newBuilder().setStringValue(s).build();
  }

  private static SortedMap<String, Message> generate(Proxy proxy, String typeUrl, ResourceNames n)
      throws Exception {
    return new Generators().forType(proxy, typeUrl).orElseThrow().generate(proxy, push(), n);
  }

  @Test
  void inboundListenerForwardsToTheAppPortFromPodPorts() throws Exception {
    Proxy proxy =
        forecast("[{\"name\":\"http-forecast\",\"containerPort\":13002,\"protocol\":\"TCP\"}]");

    var listeners = generate(proxy, TypeUrls.LISTENER, ResourceNames.ALL);
    assertThat(listeners).containsOnlyKeys("127.0.0.3_3002", "127.0.0.3_15001");
    Listener inbound = (Listener) listeners.get("127.0.0.3_3002");
    assertThat(inbound.getAddress().getSocketAddress().getAddress()).isEqualTo("127.0.0.3");
    assertThat(inbound.getAddress().getSocketAddress().getPortValue()).isEqualTo(3002);
    HttpConnectionManager hcm =
        inbound
            .getFilterChains(0)
            .getFilters(0)
            .getTypedConfig()
            .unpack(HttpConnectionManager.class);
    assertThat(hcm.getRouteConfig().getVirtualHosts(0).getRoutes(0).getRoute().getCluster())
        .isEqualTo("inbound|13002||");
    Listener egress = (Listener) listeners.get("127.0.0.3_15001");
    assertThat(egress.getAddress().getSocketAddress().getPortValue()).isEqualTo(15001);
    assertThat(
            egress
                .getFilterChains(0)
                .getFilters(0)
                .getTypedConfig()
                .unpack(HttpConnectionManager.class)
                .getRds()
                .getRouteConfigName())
        .isEqualTo("15001");

    var clusters = generate(proxy, TypeUrls.CLUSTER, ResourceNames.ALL);
    Cluster app = (Cluster) clusters.get("inbound|13002||");
    assertThat(app.getType()).isEqualTo(Cluster.DiscoveryType.STATIC);
    var address =
        app.getLoadAssignment().getEndpoints(0).getLbEndpoints(0).getEndpoint().getAddress();
    assertThat(address.getSocketAddress().getAddress()).isEqualTo("127.0.0.3");
    assertThat(address.getSocketAddress().getPortValue()).isEqualTo(13002);
    assertThat(clusters).doesNotContainKey("inbound|3002||");
  }

  @Test
  void withoutPodPortsTheAppHoldsTheServicePortAndNoInboundListenerLoopsToIt() throws Exception {
    Proxy proxy = forecast("");
    assertThat(generate(proxy, TypeUrls.LISTENER, ResourceNames.ALL))
        .containsOnlyKeys("127.0.0.3_15001");
    assertThat(generate(proxy, TypeUrls.CLUSTER, ResourceNames.ALL).keySet())
        .noneMatch(n -> n.startsWith("inbound|"));
  }

  @Test
  void httpProxyRoutesCoverEveryServicePortByHostAndPortAndEdsNamesTheSidecars() throws Exception {
    Proxy proxy = forecast("");
    var routes = generate(proxy, TypeUrls.ROUTE, ResourceNames.of(Set.of("15001")));
    RouteConfiguration rc = (RouteConfiguration) routes.get("15001");
    assertThat(rc.getVirtualHostsList())
        .extracting(v -> v.getName())
        .containsExactly(
            "forecast.weather.svc.cluster.local:3002",
            "frontend.weather.svc.cluster.local:3000",
            "allow_any");
    assertThat(rc.getVirtualHosts(0).getDomainsList())
        .containsExactly(
            "forecast.weather.svc.cluster.local:3002",
            "forecast:3002",
            "forecast.weather:3002",
            "forecast.weather.svc:3002");
    assertThat(rc.getVirtualHosts(0).getRoutes(0).getRoute().getCluster())
        .isEqualTo("outbound|3002||forecast.weather.svc.cluster.local");

    var eds =
        generate(
            proxy,
            TypeUrls.ENDPOINT,
            ResourceNames.of(Set.of("outbound|3002||forecast.weather.svc.cluster.local")));
    var cla =
        (io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment)
            eds.get("outbound|3002||forecast.weather.svc.cluster.local");
    var sa = cla.getEndpoints(0).getLbEndpoints(0).getEndpoint().getAddress().getSocketAddress();
    assertThat(sa.getAddress() + ":" + sa.getPortValue()).isEqualTo("127.0.0.3:3002");
  }

  @Test
  void badPodPortsNameTheField() {
    assertThatThrownBy(() -> forecast("[{\"name\":\"http\",\"containerPort\":\"x\"}]"))
        .isInstanceOf(InvalidNodeException.class)
        .hasMessageContaining("metadata POD_PORTS[0].containerPort must be a number");
    assertThatThrownBy(() -> forecast("{not json"))
        .isInstanceOf(InvalidNodeException.class)
        .hasMessageContaining("metadata POD_PORTS is not a JSON list");
  }
}
