package dev.bowline.controlplane.xds.gen;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.Message;
import dev.bowline.controlplane.model.Proxy;
import dev.bowline.controlplane.model.PushContext;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.SortedMap;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * What the ingress gateway gets for TLS servers of every kind ({@code
 * golden/gateway-tls-config.yaml}: httpsRedirect, SIMPLE on two hosts, MUTUAL, files, PASSTHROUGH,
 * ISTIO_MUTUAL), checked against reviewed JSON like {@link GoldenTest} (same update flag).
 */
class GatewayTlsGoldenTest {
  @ParameterizedTest(name = "{0}")
  @CsvSource({
    "lds, type.googleapis.com/envoy.config.listener.v3.Listener",
    "rds, type.googleapis.com/envoy.config.route.v3.RouteConfiguration",
  })
  void ingressTlsServers(String type, String typeUrl) throws Exception {
    PushContext push =
        GatewayGeneratorTest.push(
            GatewayGeneratorTest.REGISTRY + "\n",
            Files.readString(GoldenTest.DIR.resolve("gateway-tls-config.yaml")));
    Proxy proxy = GatewayGeneratorTest.ingress("NONE");
    SortedMap<String, Message> out =
        GatewayGeneratorTest.generate(proxy, push, typeUrl, ResourceNames.ALL);
    ObjectNode root = GoldenTest.JSON.createObjectNode();
    for (Map.Entry<String, Message> e : out.entrySet()) {
      root.set(e.getKey(), GoldenTest.JSON.readTree(XdsJson.print(e.getValue())));
    }
    String actual = GoldenTest.JSON.writeValueAsString(root) + "\n";
    Path golden = GoldenTest.DIR.resolve("gateway-tls-" + type + ".json");
    if (Boolean.getBoolean("golden.update")) {
      Files.writeString(golden, actual, StandardCharsets.UTF_8);
    }
    assertThat(golden)
        .as("golden file (write it with -Dgolden.update=true, then review it)")
        .exists();
    assertThat(actual).isEqualTo(Files.readString(golden, StandardCharsets.UTF_8));
  }
}
