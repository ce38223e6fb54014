package dev.bowline.proxy.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.bowline.proxy.http.filter.FilterRegistry;
import dev.bowline.proxy.xds.ClusterParser;
import dev.bowline.proxy.xds.EndpointParser;
import dev.bowline.proxy.xds.InvalidResourceException;
import dev.bowline.proxy.xds.ListenerParser;
import dev.bowline.proxy.xds.RouteConfigParser;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;

/**
 * xDS-to-runtime conversion: any proto a server may send is either turned into runtime records or
 * rejected with an {@link InvalidResourceException} naming a field. Any other exception is a bug
 * (it would escape as an unnamed error). Input: a serialized resource, then one byte choosing its
 * type (mod 4: Listener, RouteConfiguration, Cluster, ClusterLoadAssignment); the seeds in {@code
 * src/test/resources/dev/bowline/proxy/fuzz/XdsParserFuzzTestInputs} are real resources, so the
 * fuzzer mutates near-valid protos (nested typed_config included).
 */
class XdsParserFuzzTest {
  private final ListenerParser listeners = new ListenerParser(FilterRegistry.builtIn());
  private final RouteConfigParser routes = new RouteConfigParser();
  private final ClusterParser clusters = new ClusterParser();
  private final EndpointParser endpoints = new EndpointParser();

  @FuzzTest(maxDuration = "10s")
  void anyResourceParsesOrIsRejectedByName(FuzzedDataProvider data) {
    int kind = data.consumeInt(0, 3);
    byte[] bytes = data.consumeRemainingAsBytes();
    try {
      switch (kind) {
        case 0 -> listeners.parse(Listener.parseFrom(bytes));
        case 1 -> routes.parse(RouteConfiguration.parseFrom(bytes));
        case 2 -> clusters.parse(Cluster.parseFrom(bytes));
        default -> endpoints.parse(ClusterLoadAssignment.parseFrom(bytes));
      }
    } catch (InvalidProtocolBufferException notAProto) {
      // not a proto at all: the xDS client never gets this far
    } catch (InvalidResourceException rejected) {
      // the clear config error: it names the field (the parser adds the resource's name)
      assertThat(rejected.field()).as(rejected.getMessage()).isNotBlank();
    }
  }
}
