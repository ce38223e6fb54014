package dev.bowline.controlplane.xds.gen;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.Message;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.bowline.api.DecodedMeshConfig;
import dev.bowline.api.ResourceCodec;
import dev.bowline.api.mesh.MeshConfig;
import dev.bowline.api.validation.Validator;
import dev.bowline.controlplane.model.ConfigInputs;
import dev.bowline.controlplane.model.NodeParser;
import dev.bowline.controlplane.model.Proxy;
import dev.bowline.controlplane.model.PushContext;
import dev.bowline.controlplane.registry.LocalRegistry;
import dev.bowline.controlplane.registry.RegistryFile;
import io.envoyproxy.envoy.config.core.v3.Node;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.SortedMap;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * What the frontend's sidecar gets for the Weather Forecast registry, checked against reviewed JSON
 * in {@code src/test/resources/golden/}. Any change of generated output shows up as a diff of those
 * files: rerun with {@code -Dgolden.update=true} to rewrite them, then read the diff before
 * committing.
 */
class GoldenTest {
  static final Path DIR = Path.of("src/test/resources/golden");
  static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  static PushContext push() throws Exception {
    return push(MeshConfig.defaults());
  }

  static PushContext push(MeshConfig mesh) throws Exception {
    LocalRegistry registry = new LocalRegistry("cluster.local");
    registry.replaceAll(RegistryFile.read(DIR.resolve("weather-registry.yaml")));
    return new PushContext(1, registry.snapshot(), ConfigInputs.NONE, mesh);
  }

  /** {@code golden/mesh-custom.yaml} over Istio's defaults; it must read and validate cleanly. */
  static MeshConfig customMesh() throws Exception {
    DecodedMeshConfig d =
        new ResourceCodec()
            .decodeMeshConfig(
                "mesh-custom.yaml",
                Files.readString(DIR.resolve("mesh-custom.yaml"), StandardCharsets.UTF_8));
    assertThat(d.errors()).isEmpty();
    assertThat(new Validator().validate(d.config(), "mesh-custom.yaml").errors()).isEmpty();
    return d.config();
  }

  static Proxy frontend(String interception) throws Exception {
    Struct md =
        Struct.newBuilder()
            .putFields("NAMESPACE", Value.newBuilder().setStringValue("weather").build())
            .putFields("INTERCEPTION_MODE", Value.newBuilder().setStringValue(interception).build())
            .putFields(
                "LABELS",
                Value.newBuilder()
                    .setStructValue(
                        Struct.newBuilder()
                            .putFields("app", Value.newBuilder().setStringValue("frontend").build())
                            .putFields("version", Value.newBuilder().setStringValue("v1").build()))
                    .build())
            .build();
    return NodeParser.parse(
        Node.newBuilder()
            .setId("sidecar~127.0.0.10~frontend-v1.weather~weather.svc.cluster.local")
            .setMetadata(md)
            .build());
  }

  @ParameterizedTest(name = "{0} {1}")
  @CsvSource({
    "REDIRECT, cds, type.googleapis.com/envoy.config.cluster.v3.Cluster, *",
    "REDIRECT, lds, type.googleapis.com/envoy.config.listener.v3.Listener, *",
    "REDIRECT, rds, type.googleapis.com/envoy.config.route.v3.RouteConfiguration, 3000",
    "REDIRECT, eds, type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment, outbound|3000||forecast.weather.svc.cluster.local outbound|3000||recommendation.weather.svc.cluster.local outbound|6379||redis.weather.svc.cluster.local",
    "NONE, lds, type.googleapis.com/envoy.config.listener.v3.Listener, *",
    "NONE, cds, type.googleapis.com/envoy.config.cluster.v3.Cluster, *",
    "NONE, rds, type.googleapis.com/envoy.config.route.v3.RouteConfiguration, 15001",
    "MESHCONFIG, cds, type.googleapis.com/envoy.config.cluster.v3.Cluster, *",
    "MESHCONFIG, lds, type.googleapis.com/envoy.config.listener.v3.Listener, *",
    "MESHCONFIG, rds, type.googleapis.com/envoy.config.route.v3.RouteConfiguration, 3000",
  })
  void frontendSidecar(String variant, String type, String typeUrl, String names) throws Exception {
    // MESHCONFIG: the captured (REDIRECT) sidecar under golden/mesh-custom.yaml.
    boolean custom = variant.equals("MESHCONFIG");
    String interception = custom ? "REDIRECT" : variant;
    Proxy proxy = frontend(interception);
    ResourceNames requested =
        names.equals("*")
            ? ResourceNames.ALL
            : ResourceNames.of(java.util.Set.of(names.split(" ")));
    XdsGenerator g = new Generators().forType(proxy, typeUrl).orElseThrow();
    SortedMap<String, Message> out =
        g.generate(proxy, custom ? push(customMesh()) : push(), requested);
    ObjectNode root = JSON.createObjectNode();
    for (Map.Entry<String, Message> e : out.entrySet()) {
      root.set(e.getKey(), JSON.readTree(XdsJson.print(e.getValue())));
    }
    String actual = JSON.writeValueAsString(root) + "\n";
    Path golden =
        DIR.resolve(
            "frontend-sidecar-"
                + variant.toLowerCase(java.util.Locale.ROOT)
                + "-"
                + type
                + ".json");
    if (Boolean.getBoolean("golden.update")) {
      Files.writeString(golden, actual, StandardCharsets.UTF_8);
    }
    assertThat(golden)
        .as("golden file (write it with -Dgolden.update=true, then review it)")
        .exists();
    assertThat(actual).isEqualTo(Files.readString(golden, StandardCharsets.UTF_8));
  }
}
