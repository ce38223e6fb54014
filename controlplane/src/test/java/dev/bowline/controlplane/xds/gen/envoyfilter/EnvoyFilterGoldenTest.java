package dev.bowline.controlplane.xds.gen.envoyfilter;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.Message;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.bowline.api.Decoded;
import dev.bowline.api.Resource;
import dev.bowline.api.ResourceCodec;
import dev.bowline.api.ResourceKey;
import dev.bowline.api.validation.Validator;
import dev.bowline.config.ConfigSnapshot;
import dev.bowline.controlplane.config.IstioConfigInputs;
import dev.bowline.controlplane.model.ConfigInputs;
import dev.bowline.controlplane.model.NodeParser;
import dev.bowline.controlplane.model.Proxy;
import dev.bowline.controlplane.model.PushContext;
import dev.bowline.controlplane.registry.LocalRegistry;
import dev.bowline.controlplane.registry.RegistryFile;
import dev.bowline.controlplane.xds.gen.Generators;
import dev.bowline.controlplane.xds.gen.ResourceNames;
import dev.bowline.controlplane.xds.gen.TypeUrls;
import dev.bowline.controlplane.xds.gen.XdsJson;
import io.envoyproxy.envoy.config.core.v3.Node;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * One golden file per EnvoyFilter kind: the frontend sidecar of the Weather Forecast registry
 * (REDIRECT mode) with the EnvoyFilters of {@code golden/envoyfilter/<case>.yaml}; the golden JSON
 * holds only what the patches changed ({@code null}: the resource was removed). Rewrite with {@code
 * -Dgolden.update=true} and review the diff.
 */
class EnvoyFilterGoldenTest {
  static final Path DIR = Path.of("src/test/resources/golden");
  static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
  static final List<String> TYPES = List.of(TypeUrls.LISTENER, TypeUrls.ROUTE, TypeUrls.CLUSTER);

  static PushContext push(String yaml) throws Exception {
    LocalRegistry registry = new LocalRegistry("cluster.local");
    registry.replaceAll(RegistryFile.read(DIR.resolve("weather-registry.yaml")));
    if (yaml.isEmpty()) {
      return new PushContext(1, registry.snapshot(), ConfigInputs.NONE);
    }
    Decoded d = new ResourceCodec().decode("envoyfilter.yaml", yaml);
    assertThat(d.rejected()).isEmpty();
    Map<ResourceKey, Resource<?>> m = new HashMap<>();
    for (Resource<?> r : d.resources()) {
      assertThat(new Validator().validate(r).errors()).as(r.key().toString()).isEmpty();
      m.put(r.key(), r);
    }
    return new PushContext(
        1,
        registry.snapshot(),
        IstioConfigInputs.of(new ConfigSnapshot(1, m), "cluster.local", "istio-system"));
  }

  static Proxy frontend() throws Exception {
    Struct labels =
        Struct.newBuilder()
            .putFields("app", Value.newBuilder().setStringValue("frontend").build())
            .putFields("version", Value.newBuilder().setStringValue("v1").build())
            .build();
    Struct md =
        Struct.newBuilder()
            .putFields("NAMESPACE", Value.newBuilder().setStringValue("weather").build())
            .putFields("INTERCEPTION_MODE", Value.newBuilder().setStringValue("REDIRECT").build())
            .putFields("ISTIO_VERSION", Value.newBuilder().setStringValue("1.27.0").build())
            .putFields("LABELS", Value.newBuilder().setStructValue(labels).build())
            .build();
    return NodeParser.parse(
        Node.newBuilder()
            .setId("sidecar~127.0.0.10~frontend-v1.weather~weather.svc.cluster.local")
            .setMetadata(md)
            .build());
  }

  static SortedMap<String, Message> generate(PushContext push, String typeUrl) throws Exception {
    Proxy proxy = frontend();
    ResourceNames names =
        typeUrl.equals(TypeUrls.ROUTE)
            ? ResourceNames.of(java.util.Set.of("3000"))
            : ResourceNames.ALL;
    return new Generators().forType(proxy, typeUrl).orElseThrow().generate(proxy, push, names);
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(
      strings = {
        "listener",
        "listener-filter",
        "filter-chain",
        "network-filter",
        "http-filter",
        "routes",
        "cluster",
        "priority-and-errors"
      })
  void patchedResources(String name) throws Exception {
    String yaml =
        Files.readString(DIR.resolve("envoyfilter/" + name + ".yaml"), StandardCharsets.UTF_8);
    PushContext plain = push("");
    PushContext patched = push(yaml);
    ObjectNode root = JSON.createObjectNode();
    for (String type : TYPES) {
      SortedMap<String, Message> before = generate(plain, type);
      SortedMap<String, Message> after = generate(patched, type);
      ObjectNode changed = JSON.createObjectNode();
      for (var e : before.entrySet()) {
        Message now = after.get(e.getKey());
        if (now == null) {
          changed.putNull(e.getKey());
        } else if (!now.equals(e.getValue())) {
          changed.set(e.getKey(), JSON.readTree(XdsJson.print(now)));
        }
      }
      for (var e : after.entrySet()) {
        if (!before.containsKey(e.getKey())) {
          changed.set(e.getKey(), JSON.readTree(XdsJson.print(e.getValue())));
        }
      }
      if (!changed.isEmpty()) {
        root.set(TypeUrls.shortName(type), changed);
      }
    }
    assertThat(root.isEmpty()).as("the patches changed something").isFalse();
    String actual = JSON.writeValueAsString(root) + "\n";
    Path golden = DIR.resolve("envoyfilter/" + name + ".json");
    if (Boolean.getBoolean("golden.update")) {
      Files.writeString(golden, actual, StandardCharsets.UTF_8);
    }
    assertThat(golden)
        .as("golden file (write it with -Dgolden.update=true, then review it)")
        .exists();
    assertThat(actual).isEqualTo(Files.readString(golden, StandardCharsets.UTF_8));
  }
}
