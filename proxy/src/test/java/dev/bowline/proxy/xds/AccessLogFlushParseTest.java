package dev.bowline.proxy.xds;

import static dev.bowline.proxy.xds.ParsersTest.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Any;
import dev.bowline.proxy.config.AccessLogFlush;
import dev.bowline.proxy.config.HttpConnectionManagerConfig;
import dev.bowline.proxy.config.TcpProxyConfig;
import dev.bowline.proxy.http.filter.FilterRegistry;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The connection manager's and tcp_proxy's {@code access_log_options} against the deprecated
 * top-level fields they replace: what each kind sets, and the NACK when both are given.
 */
class AccessLogFlushParseTest {
  private static final String PREFIX = "Listener l1: filter_chains[0].filters[0].typed_config.";

  private final ListenerParser listeners = new ListenerParser(FilterRegistry.builtIn());

  private static String hcm(String fields) {
    return ParsersTest.listener(ParsersTest.ROUTER)
        .replace("\"stat_prefix\":\"p\",", "\"stat_prefix\":\"p\"," + fields);
  }

  private static String tcp(String fields) {
    return "{\"name\":\"l1\",\"address\":{\"socket_address\":{\"address\":\"0.0.0.0\",\"port_value\":8080}},"
        + "\"filter_chains\":[{\"filters\":[{\"name\":\"tcp\",\"typed_config\":{\"@type\":"
        + "\"type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy\","
        + fields
        + "\"stat_prefix\":\"t\",\"cluster\":\"c\"}}]}]}";
  }

  private Object filter(String listenerJson) throws Exception {
    return listeners
        .unpackAndParse(Any.pack(json(listenerJson, Listener.newBuilder()).build()))
        .value()
        .filterChains()
        .getFirst()
        .filter();
  }

  private AccessLogFlush hcmFlush(String fields) throws Exception {
    return ((HttpConnectionManagerConfig) filter(hcm(fields))).accessLogFlush();
  }

  private AccessLogFlush tcpFlush(String fields) throws Exception {
    return ((TcpProxyConfig) filter(tcp(fields))).accessLogFlush();
  }

  private void refused(String listenerJson, String message) throws Exception {
    var any = Any.pack(json(listenerJson, Listener.newBuilder()).build());
    assertThatThrownBy(() -> listeners.unpackAndParse(any)).hasMessage(PREFIX + message);
  }

  @Test
  void connectionManagerTakesEitherKind() throws Exception {
    assertThat(hcmFlush("")).isEqualTo(AccessLogFlush.NONE);
    assertThat(
            hcmFlush(
                "\"access_log_flush_interval\":\"2s\",\"flush_access_log_on_new_request\":true,"))
        .isEqualTo(new AccessLogFlush(Duration.ofSeconds(2), true, false, false));
    assertThat(
            hcmFlush(
                "\"access_log_options\":{\"access_log_flush_interval\":\"3s\","
                    + "\"flush_access_log_on_new_request\":true,"
                    + "\"flush_log_on_tunnel_successfully_established\":true},"))
        .isEqualTo(new AccessLogFlush(Duration.ofSeconds(3), true, true, false));
    assertThat(hcmFlush("\"access_log_options\":{},")).isEqualTo(AccessLogFlush.NONE);
  }

  @Test
  void connectionManagerRefusesBothKindsAndTooShortIntervals() throws Exception {
    refused(
        hcm("\"access_log_options\":{},\"flush_access_log_on_new_request\":true,"),
        "flush_access_log_on_new_request: only one of flush_access_log_on_new_request or"
            + " access_log_options can be specified");
    refused(
        hcm("\"access_log_options\":{},\"access_log_flush_interval\":\"1s\","),
        "access_log_flush_interval: only one of access_log_flush_interval or access_log_options"
            + " can be specified");
    refused(
        hcm("\"access_log_options\":{\"access_log_flush_interval\":\"0s\"},"),
        "access_log_options.access_log_flush_interval: must be at least 1ms");
    refused(
        hcm("\"access_log_flush_interval\":\"0.0005s\","),
        "access_log_flush_interval: must be at least 1ms");
  }

  @Test
  void tcpProxyTakesEitherKind() throws Exception {
    assertThat(tcpFlush("")).isEqualTo(AccessLogFlush.NONE);
    assertThat(
            tcpFlush(
                "\"access_log_flush_interval\":\"2s\",\"flush_access_log_on_connected\":true,"))
        .isEqualTo(new AccessLogFlush(Duration.ofSeconds(2), false, false, true));
    assertThat(
            tcpFlush(
                "\"access_log_options\":{\"access_log_flush_interval\":\"3s\","
                    + "\"flush_access_log_on_connected\":true},"))
        .isEqualTo(new AccessLogFlush(Duration.ofSeconds(3), false, false, true));
  }

  @Test
  void tcpProxyRefusesBothKindsAndTooShortIntervals() throws Exception {
    refused(
        tcp("\"access_log_options\":{},\"flush_access_log_on_connected\":true,"),
        "flush_access_log_on_connected: only one of flush_access_log_on_connected or"
            + " access_log_options can be specified");
    refused(
        tcp("\"access_log_options\":{},\"access_log_flush_interval\":\"1s\","),
        "access_log_flush_interval: only one of access_log_flush_interval or access_log_options"
            + " can be specified");
    refused(
        tcp("\"access_log_options\":{\"access_log_flush_interval\":\"0s\"},"),
        "access_log_options.access_log_flush_interval: must be at least 1ms");
  }
}
