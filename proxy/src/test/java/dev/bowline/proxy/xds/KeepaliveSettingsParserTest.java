package dev.bowline.proxy.xds;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Any;
import dev.bowline.proxy.config.HttpConnectionManagerConfig;
import dev.bowline.proxy.config.KeepaliveSettings;
import dev.bowline.proxy.http.filter.FilterRegistry;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * {@code http2_protocol_options.connection_keepalive} of connection managers and clusters: read
 * with Envoy's defaults (jitter 15 %), refused naming the field where Envoy's validation refuses it
 * (no {@code timeout}, a duration under 1 ms, a jitter past 100 %), and no longer reported by the
 * field audit as ignored.
 */
class KeepaliveSettingsParserTest {
  private final ListenerParser listeners = new ListenerParser(FilterRegistry.builtIn());

  private Listener listener(String h2Options) throws Exception {
    String json =
        ParsersTest.listener(ParsersTest.ROUTER)
            .replace(
                "\"stat_prefix\":\"p\",",
                "\"stat_prefix\":\"p\",\"http2_protocol_options\":" + h2Options + ",");
    return ParsersTest.json(json, Listener.newBuilder()).build();
  }

  private KeepaliveSettings downstream(String h2Options) throws Exception {
    var l = listeners.unpackAndParse(Any.pack(listener(h2Options))).value();
    return ((HttpConnectionManagerConfig) l.filterChains().getFirst().filter())
        .codecOptions()
        .http2Keepalive();
  }

  @Test
  void theConnectionManagersKeepaliveIsReadWithEnvoysDefaultJitter() throws Exception {
    assertThat(downstream("{}")).isNull();
    assertThat(downstream("{\"connection_keepalive\":{\"interval\":\"2s\",\"timeout\":\"0.5s\"}}"))
        .isEqualTo(
            new KeepaliveSettings(
                Duration.ofSeconds(2), Duration.ofMillis(500), 15.0, Duration.ZERO));
    assertThat(
            downstream(
                "{\"connection_keepalive\":{\"timeout\":\"1s\",\"interval_jitter\":{\"value\":0},"
                    + "\"connection_idle_interval\":\"3s\"}}"))
        .isEqualTo(
            new KeepaliveSettings(
                Duration.ZERO, Duration.ofSeconds(1), 0.0, Duration.ofSeconds(3)));
    Listener set = listener("{\"connection_keepalive\":{\"interval\":\"2s\",\"timeout\":\"1s\"}}");
    assertThat(listeners.nestedIgnored(set)).isEmpty();
  }

  @Test
  void aKeepaliveEnvoyWouldRefuseIsRefusedNamingTheField() {
    String prefix =
        "Listener l1: filter_chains[0].filters[0].typed_config.http2_protocol_options.connection_keepalive.";
    assertThatThrownBy(() -> downstream("{\"connection_keepalive\":{\"interval\":\"2s\"}}"))
        .hasMessage(prefix + "timeout: required");
    assertThatThrownBy(
            () -> downstream("{\"connection_keepalive\":{\"interval\":\"0s\",\"timeout\":\"1s\"}}"))
        .hasMessage(prefix + "interval: must be at least 1ms");
    assertThatThrownBy(
            () ->
                downstream(
                    "{\"connection_keepalive\":{\"timeout\":\"1s\",\"interval_jitter\":{\"value\":101}}}"))
        .hasMessage(prefix + "interval_jitter: must be in [0, 100]");
  }

  @Test
  void aClustersUpstreamKeepaliveIsReadAndAudited() throws Exception {
    var parser = new ClusterParser();
    Cluster c =
        ParsersTest.json(
                "{\"name\":\"u\",\"type\":\"STATIC\",\"typed_extension_protocol_options\":"
                    + "{\"envoy.extensions.upstreams.http.v3.HttpProtocolOptions\":"
                    + "{\"@type\":\"type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions\","
                    + "\"explicit_http_config\":{\"http2_protocol_options\":{\"connection_keepalive\":"
                    + "{\"interval\":\"10s\",\"timeout\":\"2s\",\"connection_idle_interval\":\"1s\"}}}}}}",
                Cluster.newBuilder())
            .build();
    assertThat(parser.parse(c).policy().http2Keepalive())
        .isEqualTo(
            new KeepaliveSettings(
                Duration.ofSeconds(10), Duration.ofSeconds(2), 15.0, Duration.ofSeconds(1)));
    assertThat(parser.nestedIgnored(c)).isEmpty();
    Cluster plain =
        ParsersTest.json("{\"name\":\"u\",\"type\":\"STATIC\"}", Cluster.newBuilder()).build();
    assertThat(parser.parse(plain).policy().http2Keepalive()).isNull();
  }
}
