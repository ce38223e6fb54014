package dev.bowline.proxy.http.filter.stats;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Any;
import com.google.protobuf.util.JsonFormat;
import dev.bowline.proxy.bootstrap.SupportedTypes;
import dev.bowline.proxy.config.HttpConnectionManagerConfig;
import dev.bowline.proxy.http.filter.FilterRegistry;
import dev.bowline.proxy.http.filter.wasm.WasmConfig;
import dev.bowline.proxy.xds.ListenerParser;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import org.junit.jupiter.api.Test;

/** Istio's telemetry filters as istiod sends them: parsed into configs, or exact errors. */
class TelemetryFilterConfigTest {
  private final ListenerParser listeners = new ListenerParser(FilterRegistry.builtIn());

  static String wasm(String rootId, String code, String configuration) {
    return """
        {"name": "istio.x", "typed_config": {
          "@type": "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm",
          "config": {"root_id": "%s",
            "vm_config": {"runtime": "envoy.wasm.runtime.null", "code": {"local": {"inline_string": "%s"}}},
            "configuration": %s}}},
        """
        .formatted(rootId, code, configuration);
  }

  static Any listener(String direction, String filters) throws Exception {
    String json =
        """
        {"name": "l1", "traffic_direction": "%s",
         "address": {"socket_address": {"address": "127.0.0.1", "port_value": 8080}},
         "filter_chains": [{"filters": [{"name": "hcm", "typed_config": {
           "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
           "stat_prefix": "p", "rds": {"route_config_name": "8080", "config_source": {"ads": {}}},
           "http_filters": [%s {"name": "router", "typed_config": {"@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"}}]}}]}]}
        """
            .formatted(direction, filters);
    var b = Listener.newBuilder();
    JsonFormat.parser().usingTypeRegistry(SupportedTypes.registry()).merge(json, b);
    return Any.pack(b.build());
  }

  static String stringValue(String json) {
    return "{\"@type\": \"type.googleapis.com/google.protobuf.StringValue\", \"value\": \""
        + json.replace("\"", "\\\"")
        + "\"}";
  }

  @Test
  void istiodsFiltersParseWithTheReporterFromTheRootId() throws Exception {
    String mx =
        wasm(
            "",
            "envoy.wasm.metadata_exchange",
            "{\"@type\": \"type.googleapis.com/envoy.tcp.metadataexchange.config.MetadataExchange\"}");
    String stats =
        wasm(
            "stats_outbound",
            "envoy.wasm.stats",
            stringValue(
                "{\"debug\": \"false\", \"stat_prefix\": \"istio\", \"metrics\": [{\"name\": \"request_bytes\", \"drop\": true}, {\"tags_to_remove\": [\"destination_principal\"]}]}"));
    var l = listeners.unpackAndParse(listener("OUTBOUND", mx + stats)).value();
    var hcm = (HttpConnectionManagerConfig) l.filterChains().getFirst().filter();
    assertThat(hcm.httpFilters()).hasSize(3);
    var filter = (StatsFilter) ((WasmConfig) hcm.httpFilters().get(1).config()).config();
    assertThat(filter.config().reporter()).isEqualTo(Reporter.SOURCE);
    assertThat(filter.config().overrides().get(Metric.REQUEST_BYTES).drop()).isTrue();
    assertThat(filter.config().overrides().get(Metric.REQUESTS_TOTAL).tagsToRemove())
        .containsExactly("destination_principal");
  }

  @Test
  void withoutARootIdTheListenerDirectionDecides() throws Exception {
    var l =
        listeners.unpackAndParse(listener("INBOUND", wasm("", "envoy.wasm.stats", "{}"))).value();
    var hcm = (HttpConnectionManagerConfig) l.filterChains().getFirst().filter();
    var filter = (StatsFilter) ((WasmConfig) hcm.httpFilters().getFirst().config()).config();
    assertThat(filter.config().reporter()).isEqualTo(Reporter.DESTINATION);
  }

  @Test
  void errorsNameTheFilterField() throws Exception {
    String prefix =
        "Listener l1: filter_chains[0].filters[0].typed_config.http_filters[0].typed_config: ";
    assertThatThrownBy(
            () -> listeners.unpackAndParse(listener("OUTBOUND", wasm("", "envoy.wasm.nope", "{}"))))
        .hasMessage(
            prefix
                + "config.vm_config.code.local.inline_string: unknown null-VM plugin 'envoy.wasm.nope' (known: envoy.wasm.metadata_exchange, envoy.wasm.stats)");
    assertThatThrownBy(
            () ->
                listeners.unpackAndParse(
                    listener(
                        "OUTBOUND",
                        wasm(
                            "stats_outbound",
                            "envoy.wasm.stats",
                            stringValue("{\"metrics\": [{\"tags_to_remove\": [\"path\"]}]}")))))
        .hasMessage(
            prefix
                + "config.configuration: metrics[0].tags_to_remove: 'path' is not a standard label");
    assertThatThrownBy(
            () ->
                listeners.unpackAndParse(
                    listener(
                        "OUTBOUND",
                        wasm(
                            "stats_outbound",
                            "envoy.wasm.stats",
                            stringValue("{\"stat_prefx\": 1}")))))
        .hasMessage(prefix + "config.configuration: stat_prefx: unknown field");
    assertThatThrownBy(
            () ->
                listeners.unpackAndParse(
                    listener("UNSPECIFIED", wasm("", "envoy.wasm.stats", "{}"))))
        .hasMessage(
            prefix
                + "config.configuration: root_id '' names no reporter (stats_outbound or stats_inbound) and the listener has no traffic_direction");
  }

  @Test
  void accessLogFormatErrorsNameTheField() throws Exception {
    String json =
        """
        {"name": "l1", "address": {"socket_address": {"address": "127.0.0.1", "port_value": 8080}},
         "filter_chains": [{"filters": [{"name": "hcm", "typed_config": {
           "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
           "stat_prefix": "p", "rds": {"route_config_name": "8080", "config_source": {"ads": {}}},
           "access_log": [{"name": "envoy.access_loggers.file", "typed_config": {
             "@type": "type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog",
             "path": "/dev/null", "log_format": {"text_format_source": {"inline_string": "%START_TIME% %NOPE%"}}}}],
           "http_filters": [{"name": "router", "typed_config": {"@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"}}]}}]}]}
        """;
    var b = Listener.newBuilder();
    JsonFormat.parser().usingTypeRegistry(SupportedTypes.registry()).merge(json, b);
    assertThatThrownBy(() -> listeners.unpackAndParse(Any.pack(b.build())))
        .hasMessage(
            "Listener l1: filter_chains[0].filters[0].typed_config.access_log[0].typed_config.log_format: unknown command %NOPE%");
  }
}
