package dev.bowline.controlplane.xds.gen.envoyfilter;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Any;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.bowline.api.Decoded;
import dev.bowline.api.Resource;
import dev.bowline.api.ResourceCodec;
import dev.bowline.api.ResourceKey;
import dev.bowline.api.model.EnvoyFilter.Patch.Operation;
import dev.bowline.config.ConfigSnapshot;
import dev.bowline.controlplane.config.IstioConfigInputs;
import dev.bowline.controlplane.model.NodeParser;
import dev.bowline.controlplane.model.Proxy;
import dev.bowline.controlplane.model.PushContext;
import dev.bowline.controlplane.registry.HealthStatus;
import dev.bowline.controlplane.registry.LocalRegistry;
import dev.bowline.controlplane.registry.LocalService;
import dev.bowline.controlplane.registry.Locality;
import dev.bowline.controlplane.registry.Protocol;
import dev.bowline.controlplane.registry.ServicePort;
import dev.bowline.controlplane.registry.Workload;
import dev.bowline.controlplane.xds.gen.Generators;
import dev.bowline.controlplane.xds.gen.ResourceNames;
import dev.bowline.controlplane.xds.gen.TypeUrls;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.core.v3.TrafficDirection;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * EnvoyFilter patches on generated sidecar config: Istio's documented local rate limit examples.
 */
class EnvoyFilterPatcherTest {
  /**
   * Istio's "Enabling Rate Limits using Envoy" local rate limit, per route (its second example).
   */
  static final String PER_ROUTE =
      """
      apiVersion: networking.istio.io/v1alpha3
      kind: EnvoyFilter
      metadata: {name: filter-local-ratelimit-svc, namespace: istio-system}
      spec:
        workloadSelector:
          labels: {app: forecast}
        configPatches:
        - applyTo: HTTP_FILTER
          match:
            context: SIDECAR_INBOUND
            listener:
              filterChain:
                filter: {name: envoy.filters.network.http_connection_manager}
          patch:
            operation: INSERT_BEFORE
            value:
              name: envoy.filters.http.local_ratelimit
              typed_config:
                "@type": type.googleapis.com/udpa.type.v1.TypedStruct
                type_url: type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit
                value: {stat_prefix: http_local_rate_limiter}
        - applyTo: HTTP_ROUTE
          match:
            context: SIDECAR_INBOUND
            routeConfiguration:
              vhost:
                name: "inbound|http|8080"
                route: {action: ANY}
          patch:
            operation: MERGE
            value:
              typed_per_filter_config:
                envoy.filters.http.local_ratelimit:
                  "@type": type.googleapis.com/udpa.type.v1.TypedStruct
                  type_url: type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit
                  value:
                    stat_prefix: http_local_rate_limiter
                    token_bucket: {max_tokens: 4, tokens_per_fill: 4, fill_interval: 60s}
                    filter_enabled:
                      runtime_key: local_rate_limit_enabled
                      default_value: {numerator: 100, denominator: HUNDRED}
                    filter_enforced:
                      runtime_key: local_rate_limit_enforced
                      default_value: {numerator: 100, denominator: HUNDRED}
                    response_headers_to_add:
                    - append: false
                      header: {key: x-local-rate-limit, value: "true"}
      """;

  static PushContext push(String yaml) {
    Decoded d = new ResourceCodec().decode("ef.yaml", yaml);
    assertThat(d.rejected()).isEmpty();
    Map<ResourceKey, Resource<?>> m = new HashMap<>();
    d.resources().forEach(r -> m.put(r.key(), r));
    LocalRegistry registry = new LocalRegistry("cluster.local");
    registry.putService(
        new LocalService(
            "weather",
            "forecast",
            List.of(new ServicePort("http", 8080, Protocol.HTTP, 18080)),
            Map.of(),
            Map.of()));
    registry.putWorkload(
        new Workload(
            "weather",
            "forecast-v1-0",
            Map.of("app", "forecast", "version", "v1"),
            "127.0.0.20",
            Map.of("http", 8080),
            "forecast",
            new Locality("local", "a", ""),
            "",
            HealthStatus.HEALTHY));
    return new PushContext(
        1,
        registry.snapshot(),
        IstioConfigInputs.of(new ConfigSnapshot(1, m), "cluster.local", "istio-system"));
  }

  static Proxy sidecar(String app) throws Exception {
    Struct labels =
        Struct.newBuilder()
            .putFields("app", Value.newBuilder().setStringValue(app).build())
            .putFields("version", Value.newBuilder().setStringValue("v1").build())
            .build();
    Struct md =
        Struct.newBuilder()
            .putFields("NAMESPACE", Value.newBuilder().setStringValue("weather").build())
            .putFields("INTERCEPTION_MODE", Value.newBuilder().setStringValue("NONE").build())
            .putFields("LABELS", Value.newBuilder().setStructValue(labels).build())
            .putFields(
                "POD_PORTS",
                Value.newBuilder()
                    .setStringValue("[{\"name\":\"http\",\"containerPort\":18080}]")
                    .build())
            .build();
    return NodeParser.parse(
        Node.newBuilder()
            .setId("sidecar~127.0.0.20~" + app + "-v1-0.weather~weather.svc.cluster.local")
            .setMetadata(md)
            .build());
  }

  static List<HttpConnectionManager> hcms(Proxy proxy, PushContext push, TrafficDirection dir)
      throws Exception {
    var out =
        new Generators()
            .forType(proxy, TypeUrls.LISTENER)
            .orElseThrow()
            .generate(proxy, push, ResourceNames.ALL);
    List<HttpConnectionManager> hcms = new ArrayList<>();
    for (var m : out.values()) {
      Listener l = (Listener) m;
      if (l.getTrafficDirection() != dir) {
        continue;
      }
      for (var fc : l.getFilterChainsList()) {
        for (var f : fc.getFiltersList()) {
          if (f.getTypedConfig().is(HttpConnectionManager.class)) {
            hcms.add(f.getTypedConfig().unpack(HttpConnectionManager.class));
          }
        }
      }
    }
    return hcms;
  }

  @Test
  void localRateLimitPerRouteAsIstioDocumentsIt() throws Exception {
    PushContext push = push(PER_ROUTE);
    List<HttpConnectionManager> inbound = hcms(sidecar("forecast"), push, TrafficDirection.INBOUND);
    var http = inbound.stream().filter(HttpConnectionManager::hasRouteConfig).toList();
    assertThat(http).isNotEmpty();
    for (HttpConnectionManager h : http) {
      assertThat(h.getHttpFiltersList())
          .extracting(HttpFilter::getName)
          .containsExactly(
              "envoy.filters.http.local_ratelimit",
              "istio.metadata_exchange",
              "istio.stats",
              "envoy.filters.http.fault",
              "envoy.filters.http.cors",
              "envoy.filters.http.router");
      RouteConfiguration rc = h.getRouteConfig();
      var vh = rc.getVirtualHosts(0);
      assertThat(vh.getName()).isEqualTo("inbound|http|8080");
      Any perRoute =
          vh.getRoutes(0).getTypedPerFilterConfigOrThrow("envoy.filters.http.local_ratelimit");
      var ts = perRoute.unpack(com.github.udpa.udpa.type.v1.TypedStruct.class);
      assertThat(ts.getTypeUrl()).endsWith("LocalRateLimit");
      assertThat(
              ts.getValue()
                  .getFieldsOrThrow("token_bucket")
                  .getStructValue()
                  .getFieldsOrThrow("max_tokens")
                  .getNumberValue())
          .isEqualTo(4);
    }
    // outbound listeners and other workloads are untouched
    for (HttpConnectionManager h : hcms(sidecar("forecast"), push, TrafficDirection.OUTBOUND)) {
      assertThat(h.getHttpFiltersList())
          .extracting(HttpFilter::getName)
          .doesNotContain("envoy.filters.http.local_ratelimit");
    }
    for (HttpConnectionManager h : hcms(sidecar("frontend"), push, TrafficDirection.INBOUND)) {
      assertThat(h.getHttpFiltersList())
          .extracting(HttpFilter::getName)
          .doesNotContain("envoy.filters.http.local_ratelimit");
    }
  }

  static HttpFilter filter(String name) {
    return HttpFilter.newBuilder().setName(name).build();
  }

  static List<String> names(List<HttpFilter> filters) {
    return filters.stream().map(HttpFilter::getName).toList();
  }

  @Test
  void httpFilterOperationsAsIstiod() {
    List<HttpFilter> f = new ArrayList<>(List.of(filter("a"), filter("cors"), filter("router")));
    assertThat(EnvoyFilterPatcher.applyFilterPatch(f, Operation.INSERT_AFTER, "cors", filter("x")))
        .isTrue();
    assertThat(names(f)).containsExactly("a", "cors", "x", "router");
    EnvoyFilterPatcher.applyFilterPatch(f, Operation.INSERT_BEFORE, "router", filter("y"));
    assertThat(names(f)).containsExactly("a", "cors", "x", "y", "router");
    EnvoyFilterPatcher.applyFilterPatch(f, Operation.REPLACE, "x", filter("z"));
    EnvoyFilterPatcher.applyFilterPatch(f, Operation.REMOVE, "a", null);
    EnvoyFilterPatcher.applyFilterPatch(f, Operation.INSERT_FIRST, null, filter("first"));
    assertThat(names(f)).containsExactly("first", "cors", "z", "y", "router");
    // a sub-filter that is not there: nothing happens
    assertThat(EnvoyFilterPatcher.applyFilterPatch(f, Operation.INSERT_AFTER, "nope", filter("q")))
        .isFalse();
    // without a sub-filter, INSERT_BEFORE goes first and INSERT_AFTER last
    EnvoyFilterPatcher.applyFilterPatch(f, Operation.INSERT_BEFORE, null, filter("b0"));
    EnvoyFilterPatcher.applyFilterPatch(f, Operation.INSERT_AFTER, null, filter("a9"));
    assertThat(names(f)).containsExactly("b0", "first", "cors", "z", "y", "router", "a9");
  }

  @Test
  void invalidPatchesAreErrorsNamingTheFilterAndFieldAndTheRestStillApplies() throws Exception {
    String yaml =
        java.nio.file.Files.readString(
            EnvoyFilterGoldenTest.DIR.resolve("envoyfilter/priority-and-errors.yaml"));
    PushContext push = EnvoyFilterGoldenTest.push(yaml);
    Proxy proxy = EnvoyFilterGoldenTest.frontend();
    List<String> errors = EnvoyFilterPatcher.errors(push.envoyFilterPatches(proxy), proxy);
    assertThat(errors).hasSize(2);
    assertThat(errors.get(0))
        .startsWith(
            "EnvoyFilter weather/broken: spec.configPatches[0].patch.value.conect_timeout: ")
        .contains("conect_timeout")
        .contains("envoy.config.cluster.v3.Cluster");
    assertThat(errors.get(1))
        .startsWith(
            "EnvoyFilter weather/broken: spec.configPatches[1].patch.value.per_connection_buffer_limit_bytes: ")
        .contains("per_connection_buffer_limit_bytes");
    var clusters = EnvoyFilterGoldenTest.generate(push, TypeUrls.CLUSTER);
    var redis =
        (io.envoyproxy.envoy.config.cluster.v3.Cluster)
            clusters.get("outbound|6379||redis.weather.svc.cluster.local");
    assertThat(redis.getConnectTimeout().getSeconds()).isEqualTo(5);
  }

  @Test
  void durationsAreReplacedAndAnysMergedByContent() {
    var merge = new ProtoMerge(dev.bowline.controlplane.xds.gen.XdsJson.TYPES);
    var base =
        io.envoyproxy.envoy.config.cluster.v3.Cluster.newBuilder()
            .setName("c")
            .setConnectTimeout(com.google.protobuf.Duration.newBuilder().setSeconds(10))
            .build();
    var overlay =
        io.envoyproxy.envoy.config.cluster.v3.Cluster.newBuilder()
            .setConnectTimeout(com.google.protobuf.Duration.newBuilder().setNanos(250_000_000))
            .build();
    var merged = merge.merge(base, overlay);
    assertThat(merged.getConnectTimeout().getSeconds()).isZero();
    assertThat(merged.getConnectTimeout().getNanos()).isEqualTo(250_000_000);
    assertThat(merged.getName()).isEqualTo("c");
    var tcp =
        io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy.newBuilder()
            .setStatPrefix("p")
            .setCluster("x")
            .build();
    var idle =
        io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy.newBuilder()
            .setIdleTimeout(com.google.protobuf.Duration.newBuilder().setSeconds(2))
            .build();
    Any m = merge.mergeAny(Any.pack(tcp), Any.pack(idle));
    assertThat(m.getTypeUrl()).isEqualTo(Any.pack(tcp).getTypeUrl());
    assertThat(m.getValue())
        .isEqualTo(tcp.toBuilder().setIdleTimeout(idle.getIdleTimeout()).build().toByteString());
  }

  @Test
  void routeConfigurationPortsAsIstiodNamesThem() {
    assertThat(EnvoyFilterPatcher.portOf("8080")).isEqualTo(8080);
    assertThat(EnvoyFilterPatcher.portOf("inbound|13000||")).isEqualTo(13000);
    assertThat(EnvoyFilterPatcher.portOf("http.80")).isEqualTo(80);
    assertThat(EnvoyFilterPatcher.portOf("https.443.https.gw.ns")).isEqualTo(443);
    assertThat(EnvoyFilterPatcher.portOf("foo.example.com:9090")).isEqualTo(9090);
    assertThat(EnvoyFilterPatcher.portOf("allow_any")).isEqualTo(-1);
  }
}
