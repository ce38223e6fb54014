package dev.bowline.proxy.http.filter.stats;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.StringValue;
import dev.bowline.proxy.config.Anys;
import dev.bowline.proxy.http.filter.FilterContext;
import dev.bowline.proxy.http.filter.FilterEnvironment;
import dev.bowline.proxy.http.filter.HttpFilter;
import dev.bowline.proxy.http.filter.StreamInfo;
import dev.bowline.proxy.http.filter.metadataexchange.PeerInfo;
import dev.bowline.proxy.http.filter.wasm.NullVmPlugin;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;

/**
 * {@code envoy.wasm.stats}: istio-proxy's stats filter. {@code root_id} {@code stats_outbound}
 * reports as {@code source}, {@code stats_inbound} as {@code destination} (else the listener's
 * direction decides). The configuration is istio-proxy's {@code stats.PluginConfig} as JSON in a
 * {@code google.protobuf.StringValue}, the form Istio's telemetry v2 filters use: {@code
 * stat_prefix}, {@code disable_host_header_fallback}, and {@code metrics[]} with {@code name},
 * {@code drop} and {@code tags_to_remove}. Custom {@code dimensions} and {@code definitions} are
 * refused (they need an expression language this proxy does not have yet).
 */
public final class StatsPlugin
    implements NullVmPlugin<StatsFilter>, dev.bowline.proxy.network.wasm.NetworkNullVmPlugin {
  /** The plugin's null-VM name. */
  public static final String NAME = "envoy.wasm.stats";

  /**
   * Jackson only when a plugin configuration has JSON to read: built with the class, it put ~380
   * classes on every proxy's start path (decision 0036).
   */
  private static final class Json {
    static final JsonMapper MAPPER = new JsonMapper();
  }

  private static final Set<String> IGNORED_FIELDS =
      Set.of(
          "debug",
          "field_separator",
          "value_separator",
          "max_peer_cache_size",
          "metric_expiry_duration",
          "rotation_interval",
          "graceful_deletion_interval",
          "reporter",
          "tcp_reporting_duration");

  private final StandardMetrics metrics = new StandardMetrics();
  private final PeerInfo local;

  /** A plugin whose metrics are written out with {@code env}'s stats. */
  public StatsPlugin(FilterEnvironment env) {
    this.local = PeerInfo.of(env.node().id(), env.node().metadata());
    env.stats().addPrometheusSource(metrics::writePrometheus);
  }

  /** The metrics of every stats filter of this proxy. */
  public StandardMetrics metrics() {
    return metrics;
  }

  @Override
  public String name() {
    return NAME;
  }

  /** What a stats filter's config says, for HTTP and TCP alike. */
  private record Parsed(
      Reporter reporter,
      String prefix,
      boolean noHostFallback,
      Map<Metric, MetricOverride> http,
      Map<TcpMetric, MetricOverride> tcp) {}

  @Override
  public StatsFilter parse(String rootId, Any configuration, FilterContext context)
      throws InvalidProtocolBufferException {
    Parsed p = parseConfig(rootId, configuration, context);
    return new StatsFilter(
        new StatsConfig(
            p.reporter(),
            local,
            p.noHostFallback(),
            p.http(),
            metrics.table(p.prefix(), p.http())));
  }

  /**
   * The TCP stats filter (istiod's {@code istio.stats} network filter): the same config, its {@code
   * tcp_*} metric overrides.
   */
  @Override
  public dev.bowline.proxy.network.ReadFilter parseNetwork(
      String rootId, Any configuration, FilterContext context)
      throws InvalidProtocolBufferException {
    Parsed p = parseConfig(rootId, configuration, context);
    return new TcpStatsFilter(p.reporter(), local, metrics.tcpTable(p.prefix(), p.tcp()));
  }

  private Parsed parseConfig(String rootId, Any configuration, FilterContext context)
      throws InvalidProtocolBufferException {
    Reporter reporter =
        switch (rootId) {
          case "stats_outbound" -> Reporter.SOURCE;
          case "stats_inbound" -> Reporter.DESTINATION;
          default ->
              switch (context.direction()) {
                case OUTBOUND -> Reporter.SOURCE;
                case INBOUND -> Reporter.DESTINATION;
                case UNSPECIFIED ->
                    throw new IllegalArgumentException(
                        "root_id '"
                            + rootId
                            + "' names no reporter (stats_outbound or stats_inbound) and the"
                            + " listener has no traffic_direction");
              };
        };
    String json = "";
    if (!configuration.getTypeUrl().isEmpty()) {
      if (!configuration.getTypeUrl().equals("type.googleapis.com/google.protobuf.StringValue")) {
        throw new IllegalArgumentException(
            "unsupported type "
                + configuration.getTypeUrl()
                + " (want google.protobuf.StringValue with stats.PluginConfig JSON)");
      }
      json =
          Anys.unpack(configuration, StringValue.getDescriptor(), StringValue.parser()).getValue();
    }
    String prefix = "istio";
    boolean noHostFallback = false;
    Map<Metric, MetricOverride> overrides = new EnumMap<>(Metric.class);
    Map<TcpMetric, MetricOverride> tcpOverrides = new EnumMap<>(TcpMetric.class);
    if (!json.isBlank()) {
      JsonNode root;
      try {
        root = Json.MAPPER.readTree(json);
      } catch (JsonProcessingException e) {
        throw new IllegalArgumentException("not JSON: " + e.getOriginalMessage());
      }
      if (!root.isObject()) {
        throw new IllegalArgumentException("must be a JSON object");
      }
      for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
        String f = it.next();
        JsonNode v = root.get(f);
        switch (f) {
          case "stat_prefix" -> {
            prefix = v.asText();
            if (!prefix.matches("[a-zA-Z_][a-zA-Z0-9_]*")) {
              throw new IllegalArgumentException(
                  "stat_prefix: '" + prefix + "' is not a metric name");
            }
          }
          case "disable_host_header_fallback" -> noHostFallback = v.asBoolean();
          case "metrics" -> parseMetrics(v, overrides, tcpOverrides);
          case "definitions" ->
              throw new IllegalArgumentException(
                  "definitions: custom metrics are not supported yet");
          default -> {
            if (!IGNORED_FIELDS.contains(f)) {
              throw new IllegalArgumentException(f + ": unknown field");
            }
          }
        }
      }
    }
    return new Parsed(reporter, prefix, noHostFallback, overrides, tcpOverrides);
  }

  private static void parseMetrics(
      JsonNode list, Map<Metric, MetricOverride> out, Map<TcpMetric, MetricOverride> tcp) {
    if (!list.isArray()) {
      throw new IllegalArgumentException("metrics: must be a list");
    }
    for (int i = 0; i < list.size(); i++) {
      JsonNode m = list.get(i);
      String field = "metrics[" + i + "]";
      String name = m.path("name").asText("");
      boolean drop = m.path("drop").asBoolean(false);
      Set<String> remove = new HashSet<>();
      for (JsonNode t : m.path("tags_to_remove")) {
        if (!Labels.NAMES.contains(t.asText())) {
          throw new IllegalArgumentException(
              field + ".tags_to_remove: '" + t.asText() + "' is not a standard label");
        }
        remove.add(t.asText());
      }
      if (m.has("dimensions") && !m.get("dimensions").isEmpty()) {
        throw new IllegalArgumentException(
            field + ".dimensions: custom dimensions are not supported yet");
      }
      for (Iterator<String> it = m.fieldNames(); it.hasNext(); ) {
        String f = it.next();
        if (!Set.of("name", "drop", "tags_to_remove", "dimensions").contains(f)) {
          throw new IllegalArgumentException(field + "." + f + ": unknown field");
        }
      }
      if (name.isEmpty()) {
        for (Metric metric : Metric.values()) {
          out.merge(metric, new MetricOverride(drop, remove), StatsPlugin::combine);
        }
        for (TcpMetric metric : TcpMetric.values()) {
          tcp.merge(metric, new MetricOverride(drop, remove), StatsPlugin::combine);
        }
      } else {
        Metric metric = Metric.byConfigName(name);
        TcpMetric tcpMetric = TcpMetric.byConfigName(name);
        if (metric != null) {
          out.merge(metric, new MetricOverride(drop, remove), StatsPlugin::combine);
        } else if (tcpMetric != null) {
          tcp.merge(tcpMetric, new MetricOverride(drop, remove), StatsPlugin::combine);
        } else {
          throw new IllegalArgumentException(field + ".name: unknown metric '" + name + "'");
        }
      }
    }
  }

  private static MetricOverride combine(MetricOverride a, MetricOverride b) {
    Set<String> tags = new HashSet<>(a.tagsToRemove());
    tags.addAll(b.tagsToRemove());
    return new MetricOverride(a.drop() || b.drop(), tags);
  }

  @Override
  public HttpFilter create(StatsFilter filter, StreamInfo stream) {
    return filter; // stateless: everything it needs is in the stream info at its end
  }
}
