package dev.bowline.controlplane.xds.gen;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Message;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.bowline.api.Decoded;
import dev.bowline.api.Resource;
import dev.bowline.api.ResourceCodec;
import dev.bowline.api.ResourceKey;
import dev.bowline.config.ConfigSnapshot;
import dev.bowline.controlplane.config.IstioConfigInputs;
import dev.bowline.controlplane.model.NodeParser;
import dev.bowline.controlplane.model.Proxy;
import dev.bowline.controlplane.model.PushContext;
import dev.bowline.controlplane.registry.LocalRegistry;
import dev.bowline.controlplane.registry.RegistryFile;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Gateway proxies ({@code router~}): LDS, RDS and CDS from Gateway + bound VirtualServices, from
 * the Weather app's own config ({@code samples/weather/config}) and from YAML written for each
 * rule.
 */
class GatewayGeneratorTest {
  static final Path WEATHER = Path.of("../samples/weather/config");

  /** The Weather registry as {@code bowline up} writes it, with the ingress gateway's Service. */
  static final String REGISTRY =
      """
      services:
      - {namespace: weather, name: frontend, ports: [{name: http-frontend, port: 3000}]}
      - {namespace: weather, name: forecast, ports: [{name: http-forecast, port: 3002}]}
      - {namespace: istio-system, name: istio-ingressgateway, selector: {istio: ingressgateway},
         ports: [{name: http2, port: 80, targetPort: 8080}]}
      workloads:
      - {namespace: weather, name: frontend-v1-0, labels: {app: frontend, version: v1}, address: 127.0.0.2}
      - {namespace: weather, name: frontend-v2-0, labels: {app: frontend, version: v2}, address: 127.0.0.3}
      - {namespace: weather, name: forecast-v1-0, labels: {app: forecast, version: v1}, address: 127.0.0.4}
      - {namespace: istio-system, name: istio-ingressgateway-0,
         labels: {app: istio-ingressgateway, istio: ingressgateway}, address: 127.0.0.1}
      """;

  static PushContext push(String registryYaml, String configYaml) throws Exception {
    LocalRegistry registry = new LocalRegistry("cluster.local");
    registry.replaceAll(RegistryFile.parse(registryYaml, "registry.yaml"));
    Decoded d = new ResourceCodec().decode("test.yaml", configYaml);
    assertThat(d.rejected()).isEmpty();
    Map<ResourceKey, Resource<?>> m = new HashMap<>();
    d.resources().forEach(r -> m.put(r.key(), r));
    return new PushContext(
        1,
        registry.snapshot(),
        IstioConfigInputs.of(new ConfigSnapshot(1, m), "cluster.local", "istio-system"));
  }

  /** The Weather config: base, then each scenario folder's files replacing base's by name. */
  static String weather(String... scenarios) throws Exception {
    Map<String, String> files = new java.util.TreeMap<>();
    for (String dir : Stream.concat(Stream.of("base"), Stream.of(scenarios)).toList()) {
      try (Stream<Path> s = Files.list(WEATHER.resolve(dir))) {
        for (Path p : s.toList()) {
          files.put(p.getFileName().toString(), Files.readString(p));
        }
      }
    }
    return String.join("\n---\n", files.values());
  }

  static Proxy node(String id, String namespace, Map<String, String> labels, String mode)
      throws Exception {
    Struct.Builder l = Struct.newBuilder();
    labels.forEach((k, v) -> l.putFields(k, Value.newBuilder().setStringValue(v).build()));
    return NodeParser.parse(
        Node.newBuilder()
            .setId(id)
            .setMetadata(
                Struct.newBuilder()
                    .putFields("NAMESPACE", Value.newBuilder().setStringValue(namespace).build())
                    .putFields("INTERCEPTION_MODE", Value.newBuilder().setStringValue(mode).build())
                    .putFields("LABELS", Value.newBuilder().setStructValue(l).build()))
            .build());
  }

  static Proxy ingress(String mode) throws Exception {
    return node(
        "router~127.0.0.1~istio-ingressgateway-0.istio-system~istio-system.svc.cluster.local",
        "istio-system",
        Map.of("app", "istio-ingressgateway", "istio", "ingressgateway"),
        mode);
  }

  static SortedMap<String, Message> generate(
      Proxy proxy, PushContext push, String typeUrl, ResourceNames names) {
    return new Generators().forType(proxy, typeUrl).orElseThrow().generate(proxy, push, names);
  }

  static HttpConnectionManager hcm(Listener l) throws Exception {
    return l.getFilterChains(0).getFilters(0).getTypedConfig().unpack(HttpConnectionManager.class);
  }

  @Test
  void weatherIngressListensOnTheServiceTargetPortAndRoutesEverythingToFrontendV1()
      throws Exception {
    PushContext push = push(REGISTRY, weather());
    Proxy gw = ingress("NONE");

    var listeners = generate(gw, push, TypeUrls.LISTENER, ResourceNames.ALL);
    // Gateway port 80 is the Service's port; the proxy listens on its target port, on its own
    // address in local mode.
    assertThat(listeners).containsOnlyKeys("127.0.0.1_8080");
    Listener l = (Listener) listeners.get("127.0.0.1_8080");
    assertThat(l.getAddress().getSocketAddress().getAddress()).isEqualTo("127.0.0.1");
    assertThat(l.getAddress().getSocketAddress().getPortValue()).isEqualTo(8080);
    assertThat(hcm(l).getRds().getRouteConfigName()).isEqualTo("http.8080");

    var routes = generate(gw, push, TypeUrls.ROUTE, ResourceNames.of(Set.of("http.8080")));
    RouteConfiguration rc = (RouteConfiguration) routes.get("http.8080");
    assertThat(rc.getVirtualHostsList()).extracting(VirtualHost::getName).containsExactly("*:80");
    VirtualHost vh = rc.getVirtualHosts(0);
    assertThat(vh.getDomainsList()).containsExactly("*");
    Route r = vh.getRoutes(0);
    assertThat(r.getRoute().getCluster())
        .isEqualTo("outbound|3000|v1|frontend.weather.svc.cluster.local");
    // The same translation as sidecars: Istio's default retries, no timeout.
    assertThat(r.getRoute().getRetryPolicy()).isEqualTo(SidecarRouteGenerator.DEFAULT_RETRY);
    assertThat(r.getRoute().getTimeout().getSeconds()).isZero();

    var clusters = generate(gw, push, TypeUrls.CLUSTER, ResourceNames.ALL);
    assertThat(clusters)
        .containsKeys(
            "outbound|3000|v1|frontend.weather.svc.cluster.local",
            "outbound|3002|v2|forecast.weather.svc.cluster.local",
            "BlackHoleCluster");
    assertThat(clusters.keySet())
        .noneMatch(n -> n.startsWith("inbound|") || n.equals("PassthroughCluster"));

    // With traffic capture (Kubernetes), istiod's 0.0.0.0 listener.
    assertThat(generate(ingress("REDIRECT"), push, TypeUrls.LISTENER, ResourceNames.ALL))
        .containsOnlyKeys("0.0.0.0_8080");
    assertThat(hcm(l).getAccessLogCount()).isZero();
  }

  @Test
  void meshWideAccessLogsAndRetryPolicyReachTheGateway() throws Exception {
    PushContext base = push(REGISTRY, weather());
    var mesh =
        new ResourceCodec()
            .decodeMeshConfig(
                "mesh.yaml", "accessLogFile: /dev/stdout\ndefaultHttpRetryPolicy: {attempts: 3}\n");
    assertThat(mesh.errors()).isEmpty();
    PushContext push = new PushContext(2, base.registry(), base.config(), mesh.config());
    Proxy gw = ingress("NONE");
    Listener l =
        (Listener) generate(gw, push, TypeUrls.LISTENER, ResourceNames.ALL).get("127.0.0.1_8080");
    assertThat(hcm(l).getAccessLogList())
        .singleElement()
        .satisfies(a -> assertThat(a.getName()).isEqualTo("envoy.access_loggers.file"));
    RouteConfiguration rc =
        (RouteConfiguration)
            generate(gw, push, TypeUrls.ROUTE, ResourceNames.of(Set.of("http.8080")))
                .get("http.8080");
    assertThat(rc.getVirtualHosts(0).getRoutes(0).getRoute().getRetryPolicy().getNumRetries())
        .isEqualTo(com.google.protobuf.UInt32Value.of(3));
  }

  @Test
  void gatewayBoundVirtualServicesStayOutOfSidecarsAndMeshOnesOutOfGateways() throws Exception {
    PushContext push = push(REGISTRY, weather("canary-multi-service"));
    Proxy frontendV1 =
        node(
            "sidecar~127.0.0.2~frontend-v1-0.weather~weather.svc.cluster.local",
            "weather",
            Map.of("app", "frontend", "version", "v1"),
            "NONE");
    Proxy frontendV2 =
        node(
            "sidecar~127.0.0.3~frontend-v2-0.weather~weather.svc.cluster.local",
            "weather",
            Map.of("app", "frontend", "version", "v2"),
            "NONE");

    // The gateway: the cookie rule to frontend v2, everyone else to v1.
    RouteConfiguration gw =
        (RouteConfiguration)
            generate(ingress("NONE"), push, TypeUrls.ROUTE, ResourceNames.ALL).get("http.8080");
    List<Route> routes = gw.getVirtualHosts(0).getRoutesList();
    assertThat(routes).extracting(Route::getName).containsExactly("tester-to-v2", "everyone-else");
    assertThat(routes.get(0).getMatch().getHeaders(0).getName()).isEqualTo("cookie");
    assertThat(routes.get(0).getRoute().getCluster())
        .isEqualTo("outbound|3000|v2|frontend.weather.svc.cluster.local");

    // Sidecars: the frontend VS (gateway-bound) is not theirs; forecast's sourceLabels rule
    // applies to frontend v2's sidecar only.
    assertThat(
            vhost(frontendV1, push, "frontend.weather.svc.cluster.local:3000")
                .getRoutes(0)
                .getName())
        .isEqualTo("default");
    assertThat(forecastRoutes(frontendV1, push)).containsExactly("everyone-else");
    assertThat(forecastRoutes(frontendV2, push))
        .containsExactly("from-frontend-v2", "everyone-else");
  }

  private static VirtualHost vhost(Proxy p, PushContext push, String name) {
    RouteConfiguration rc =
        (RouteConfiguration)
            generate(p, push, TypeUrls.ROUTE, ResourceNames.of(Set.of("15001"))).get("15001");
    return rc.getVirtualHostsList().stream()
        .filter(v -> v.getName().equals(name))
        .findFirst()
        .orElseThrow();
  }

  private static List<String> forecastRoutes(Proxy p, PushContext push) {
    return vhost(p, push, "forecast.weather.svc.cluster.local:3002").getRoutesList().stream()
        .map(Route::getName)
        .toList();
  }

  static final String SHOP_REGISTRY =
      """
      services:
      - {namespace: weather, name: frontend, ports: [{name: http-frontend, port: 3000}]}
      - {namespace: shop, name: web, ports: [{name: http, port: 8000}, {name: http-admin, port: 8001}]}
      - {namespace: shop, name: db, ports: [{name: tcp, port: 5432}]}
      workloads: []
      """;

  @Test
  void serverHostsMeetVirtualServiceHostsByNamespaceAndSpecificity() throws Exception {
    PushContext push =
        push(
            SHOP_REGISTRY,
            """
            apiVersion: networking.istio.io/v1beta1
            kind: Gateway
            metadata: {name: edge, namespace: istio-system}
            spec:
              selector: {istio: ingressgateway}
              servers:
              - port: {number: 9080, name: http, protocol: HTTP}
                hosts: ["weather/*.example.com", "shop/shop.example.org"]
              - port: {number: 9080, name: http-2, protocol: HTTP}
                hosts: ["*/extra.example.net"]
              - port: {number: 9443, name: https, protocol: HTTPS}
                hosts: ["*"]
                tls: {mode: SIMPLE, credentialName: cert}
              - port: {number: 9432, name: tcp, protocol: TCP}
                hosts: ["*"]
            ---
            apiVersion: networking.istio.io/v1beta1
            kind: Gateway
            metadata: {name: quiet, namespace: istio-system}
            spec:
              selector: {istio: ingressgateway}
              servers:
              - port: {number: 9500, name: http-empty, protocol: HTTP}
                bind: 127.0.0.7
                hosts: ["*"]
            ---
            apiVersion: networking.istio.io/v1beta1
            kind: VirtualService
            metadata: {name: weather-site, namespace: weather}
            spec:
              hosts: [a.example.com, other.org]
              gateways: [istio-system/edge]
              http:
              - route: [{destination: {host: frontend}}]
            ---
            apiVersion: networking.istio.io/v1beta1
            kind: VirtualService
            metadata: {name: shop-site, namespace: shop}
            spec:
              hosts: ["*"]
              gateways: [edge.istio-system.svc.cluster.local, mesh]
              http:
              - name: mesh-only
                match: [{gateways: [mesh], uri: {prefix: /internal}}]
                route: [{destination: {host: web, port: {number: 8001}}}]
              - name: admin
                match: [{uri: {prefix: /admin}, port: 9080}]
                route: [{destination: {host: web, port: {number: 8001}}}]
              - name: web
                route:
                - {destination: {host: web, port: {number: 8000}}, weight: 90}
                - {destination: {host: web, port: {number: 8001}}, weight: 10}
              tcp:
              - match: [{port: 9432}]
                route: [{destination: {host: db}}]
            ---
            apiVersion: networking.istio.io/v1beta1
            kind: VirtualService
            metadata: {name: wrong-namespace, namespace: shop}
            spec:
              hosts: ["*"]
              gateways: [edge]
              http:
              - route: [{destination: {host: web, port: {number: 8000}}}]
            """);
    Proxy gw = ingress("REDIRECT");

    var listeners = generate(gw, push, TypeUrls.LISTENER, ResourceNames.ALL);
    // No gateway Service in this registry: server ports are listener ports. HTTPS terminates TLS
    // (decision 0022) with its own route configuration.
    assertThat(listeners)
        .containsOnlyKeys("0.0.0.0_9080", "0.0.0.0_9432", "0.0.0.0_9443", "127.0.0.7_9500");
    TcpProxy tcp =
        ((Listener) listeners.get("0.0.0.0_9432"))
            .getFilterChains(0)
            .getFilters(0)
            .getTypedConfig()
            .unpack(TcpProxy.class);
    assertThat(tcp.getCluster()).isEqualTo("outbound|5432||db.shop.svc.cluster.local");

    var routes = generate(gw, push, TypeUrls.ROUTE, ResourceNames.ALL);
    assertThat(routes)
        .containsOnlyKeys("http.9080", "http.9500", "https.9443.https.edge.istio-system");
    RouteConfiguration rc = (RouteConfiguration) routes.get("http.9080");
    // VirtualServices in (namespace, name) order: shop's "*" meets shop.example.org, weather's
    // a.example.com meets weather/*.example.com (other.org is not served), and shop's "*" meets
    // extra.example.net of the second server; "wrong-namespace" names shop/edge, which does not
    // exist.
    assertThat(rc.getVirtualHostsList())
        .extracting(VirtualHost::getName)
        .containsExactly("shop.example.org:9080", "a.example.com:9080", "extra.example.net:9080");
    assertThat(rc.getVirtualHosts(1).getDomainsList())
        .containsExactly("a.example.com", "a.example.com:9080");
    assertThat(rc.getVirtualHosts(1).getRoutes(0).getRoute().getCluster())
        .as("a destination without port takes its service's only port")
        .isEqualTo("outbound|3000||frontend.weather.svc.cluster.local");
    VirtualHost shop = rc.getVirtualHosts(0);
    assertThat(shop.getRoutesList()).extracting(Route::getName).containsExactly("admin", "web");
    assertThat(shop.getRoutes(1).getRoute().getWeightedClusters().getClustersList())
        .extracting(c -> c.getName() + "=" + c.getWeight().getValue())
        .containsExactly(
            "outbound|8000||web.shop.svc.cluster.local=90",
            "outbound|8001||web.shop.svc.cluster.local=10");

    // A port whose Gateway has no VirtualService answers 404, as istiod's blackhole.
    VirtualHost empty = ((RouteConfiguration) routes.get("http.9500")).getVirtualHosts(0);
    assertThat(empty.getName()).isEqualTo("blackhole:9500");
    assertThat(empty.getRoutes(0).getDirectResponse().getStatus()).isEqualTo(404);

    // A proxy the Gateway's selector does not match gets nothing.
    Proxy other =
        node(
            "router~127.0.0.9~egress-0.istio-system~istio-system.svc.cluster.local",
            "istio-system",
            Map.of("istio", "egressgateway"),
            "REDIRECT");
    assertThat(generate(other, push, TypeUrls.LISTENER, ResourceNames.ALL)).isEmpty();
  }
}
