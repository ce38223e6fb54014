package dev.bowline.cli.mesh;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import com.google.protobuf.Struct;
import com.google.protobuf.TypeRegistry;
import com.google.protobuf.util.JsonFormat;
import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The registry file and the sidecar bootstraps, checked against their readers' contracts. */
class GeneratedFilesTest {
  private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

  /** Envoy's own protos, parsing strictly (an unknown field fails): the bootstrap's oracle. */
  private static Bootstrap envoyParse(String yaml) throws Exception {
    JsonNode tree = new YAMLMapper().readTree(yaml);
    Bootstrap.Builder b = Bootstrap.newBuilder();
    JsonFormat.parser()
        .usingTypeRegistry(
            TypeRegistry.newBuilder()
                .add(HttpProtocolOptions.getDescriptor())
                .add(
                    io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3
                        .HttpConnectionManager.getDescriptor())
                .add(io.envoyproxy.envoy.extensions.filters.http.router.v3.Router.getDescriptor())
                .build())
        .merge(new ObjectMapper().writeValueAsString(tree), b);
    return b.build();
  }

  @Test
  void bootstrapIsAValidEnvoyV3BootstrapWithIstiosNodeAndAds() throws Exception {
    MeshSpec spec = MeshFile.read(ROOT.resolve("samples/weather/mesh.yaml"));
    MeshPlan plan = MeshPlan.assign(spec, "127.0.0.2", true);
    MeshPlan.Instance forecastV2 = plan.instances().get(2);

    Bootstrap b = envoyParse(SidecarBootstrap.of(plan, forecastV2, "127.0.0.1", 15010));

    assertThat(b.getNode().getId())
        .isEqualTo("sidecar~127.0.0.4~forecast-v2-0.weather~weather.svc.cluster.local");
    assertThat(b.getNode().getCluster()).isEqualTo("forecast.weather");
    assertThat(b.getNode().getLocality().getRegion()).isEqualTo("region1");
    assertThat(b.getNode().getLocality().getZone()).isEqualTo("zone1");
    Map<String, com.google.protobuf.Value> md = b.getNode().getMetadata().getFieldsMap();
    assertThat(md.get("NAMESPACE").getStringValue()).isEqualTo("weather");
    assertThat(md.get("INTERCEPTION_MODE").getStringValue()).isEqualTo("NONE");
    assertThat(md.get("ISTIO_VERSION").getStringValue()).isEqualTo("1.16.0");
    assertThat(md.get("INSTANCE_IPS").getStringValue()).isEqualTo("127.0.0.4");
    assertThat(md.get("SERVICE_ACCOUNT").getStringValue()).isEqualTo("forecast");
    Struct labels = md.get("LABELS").getStructValue();
    assertThat(labels.getFieldsMap().get("app").getStringValue()).isEqualTo("forecast");
    assertThat(labels.getFieldsMap().get("version").getStringValue()).isEqualTo("v2");
    // Behind its sidecar the app listens on the target port; Istio's POD_PORTS says so.
    assertThat(md.get("POD_PORTS").getStringValue())
        .isEqualTo("[{\"name\":\"http-forecast\",\"containerPort\":13002,\"protocol\":\"TCP\"}]");

    assertThat(b.getAdmin().getAddress().getSocketAddress().getAddress()).isEqualTo("127.0.0.4");
    assertThat(b.getAdmin().getAddress().getSocketAddress().getPortValue()).isEqualTo(15000);
    var ads = b.getDynamicResources().getAdsConfig();
    assertThat(ads.getApiType().name()).isEqualTo("GRPC");
    assertThat(ads.getTransportApiVersion().name()).isEqualTo("V3");
    assertThat(ads.getGrpcServices(0).getEnvoyGrpc().getClusterName()).isEqualTo("xds-grpc");
    assertThat(b.getDynamicResources().getLdsConfig().hasAds()).isTrue();
    assertThat(b.getDynamicResources().getCdsConfig().hasAds()).isTrue();
    Cluster xds = b.getStaticResources().getClusters(0);
    assertThat(xds.getName()).isEqualTo("xds-grpc");
    var endpoint =
        xds.getLoadAssignment().getEndpoints(0).getLbEndpoints(0).getEndpoint().getAddress();
    assertThat(endpoint.getSocketAddress().getAddress()).isEqualTo("127.0.0.1");
    assertThat(endpoint.getSocketAddress().getPortValue()).isEqualTo(15010);
    HttpProtocolOptions h2 =
        xds.getTypedExtensionProtocolOptionsOrThrow(
                "envoy.extensions.upstreams.http.v3.HttpProtocolOptions")
            .unpack(HttpProtocolOptions.class);
    assertThat(h2.getExplicitHttpConfig().hasHttp2ProtocolOptions()).isTrue();
    // Istio's :15090 listener: /stats/prometheus of the admin server, nothing else of it.
    var stats = b.getStaticResources().getListeners(0);
    assertThat(stats.getName()).isEqualTo("0.0.0.0_15090");
    assertThat(stats.getAddress().getSocketAddress().getAddress()).isEqualTo("127.0.0.4");
    assertThat(stats.getAddress().getSocketAddress().getPortValue()).isEqualTo(15090);
    var hcm =
        stats
            .getFilterChains(0)
            .getFilters(0)
            .getTypedConfig()
            .unpack(
                io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3
                    .HttpConnectionManager.class);
    var route = hcm.getRouteConfig().getVirtualHosts(0).getRoutes(0);
    assertThat(route.getMatch().getPrefix()).isEqualTo("/stats/prometheus");
    assertThat(route.getRoute().getCluster()).isEqualTo("prometheus_stats");
    Cluster admin = b.getStaticResources().getClusters(1);
    assertThat(admin.getName()).isEqualTo("prometheus_stats");
    assertThat(
            admin
                .getLoadAssignment()
                .getEndpoints(0)
                .getLbEndpoints(0)
                .getEndpoint()
                .getAddress()
                .getSocketAddress()
                .getPortValue())
        .isEqualTo(15000);
  }

  @Test
  void appEnvSendsCallsThroughTheSidecar() throws Exception {
    MeshPlan plan = MeshPlan.assign(MeshPlanTest.spec(), "127.0.0.7", true);
    assertThat(SidecarBootstrap.appEnv(plan.instances().getFirst()))
        .containsEntry("HTTP_PROXY", "http://127.0.0.7:15001")
        .containsEntry("NO_PROXY", "localhost,127.0.0.1,127.0.0.7");
  }

  @Test
  void deadInstancesAreMarkedUnhealthy() throws Exception {
    MeshPlan plan = MeshPlan.assign(MeshPlanTest.spec(), "127.0.0.2", true);
    JsonNode reg =
        new YAMLMapper().readTree(RegistryYaml.of(plan, java.util.Set.of("forecast-v1-1")));
    assertThat(reg.get("workloads"))
        .extracting(w -> w.get("name").asText() + "=" + w.path("health").asText("HEALTHY"))
        .containsExactly(
            "forecast-v1-0=HEALTHY", "forecast-v1-1=UNHEALTHY", "recommendation-v1-0=HEALTHY");
  }

  @Test
  void registryFileHasTheControlPlanesFormat() throws Exception {
    MeshPlan plan = MeshPlan.assign(MeshPlanTest.spec(), "127.0.0.2", true);
    JsonNode reg = new YAMLMapper().readTree(RegistryYaml.of(plan));
    // The fields of the control plane's RegistryFile (branch controlplane), nothing else; meshed
    // workloads carry Istio's injected label security.istio.io/tlsMode=istio (auto mTLS).
    assertThat(reg.properties())
        .extracting(Map.Entry::getKey)
        .containsExactly("services", "workloads");
    assertThat(reg.get("services").toString())
        .isEqualTo(
            "[{\"namespace\":\"weather\",\"name\":\"forecast\",\"ports\":[{\"name\":\"http-forecast\",\"port\":3002}],\"selector\":{\"app\":\"forecast\"}},"
                + "{\"namespace\":\"weather\",\"name\":\"recommendation\",\"ports\":[{\"name\":\"http-recommendation\",\"port\":3005},{\"name\":\"grpc-recommendation\",\"port\":3006}],\"selector\":{\"app\":\"recommendation\"}}]");
    assertThat(reg.get("workloads").toString())
        .isEqualTo(
            "[{\"namespace\":\"weather\",\"name\":\"forecast-v1-0\",\"labels\":{\"app\":\"forecast\",\"security.istio.io/tlsMode\":\"istio\",\"version\":\"v1\"},\"address\":\"127.0.0.2\",\"serviceAccount\":\"default\"},"
                + "{\"namespace\":\"weather\",\"name\":\"forecast-v1-1\",\"labels\":{\"app\":\"forecast\",\"security.istio.io/tlsMode\":\"istio\",\"version\":\"v1\"},\"address\":\"127.0.0.3\",\"serviceAccount\":\"default\"},"
                + "{\"namespace\":\"weather\",\"name\":\"recommendation-v1-0\",\"labels\":{\"app\":\"recommendation\",\"security.istio.io/tlsMode\":\"istio\",\"version\":\"v1\"},\"address\":\"127.0.0.4\",\"serviceAccount\":\"default\"}]");
  }
}
