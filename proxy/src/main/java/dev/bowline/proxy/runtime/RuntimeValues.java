package dev.bowline.proxy.runtime;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.envoyproxy.envoy.config.bootstrap.v3.LayeredRuntime;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The runtime keys the proxy reads, from the bootstrap's {@code layered_runtime} as Envoy's runtime
 * loader does: each {@code static_layer} (a Struct whose nested keys join with dots, {@code {a: {b:
 * 1}}} being {@code a.b}) overrides the layers before it; a key that is absent, or whose value is
 * no non-negative integer (a number or a string of digits), keeps Envoy's default. Keys the proxy
 * does not read are ignored, as Envoy keeps them for nobody. An {@code admin_layer} is accepted and
 * empty (the admin's {@code /runtime_modify} is not implemented); a {@code disk_layer} or {@code
 * rtds_layer} is a bootstrap error naming the layer (no runtime directory watcher, no RTDS).
 *
 * @param prematureResetTotalStreamCount {@code overload.premature_reset_total_stream_count}
 *     (Envoy's default 500)
 * @param prematureResetMinStreamLifetimeSeconds {@code
 *     overload.premature_reset_min_stream_lifetime_seconds} (Envoy's default 1)
 */
public record RuntimeValues(
    long prematureResetTotalStreamCount, long prematureResetMinStreamLifetimeSeconds) {

  public static final String PREMATURE_RESET_TOTAL_STREAM_COUNT =
      "overload.premature_reset_total_stream_count";
  public static final String PREMATURE_RESET_MIN_STREAM_LIFETIME_SECONDS =
      "overload.premature_reset_min_stream_lifetime_seconds";

  /** Envoy's defaults: no runtime layer sets anything. */
  public static final RuntimeValues DEFAULT = new RuntimeValues(500, 1);

  /**
   * The values of {@code runtime}'s layers; what is wrong with a layer goes to {@code errors}
   * (naming {@code layered_runtime.layers[i]} and its field).
   */
  public static RuntimeValues of(LayeredRuntime runtime, List<String> errors) {
    Map<String, Value> entries = new HashMap<>();
    for (int i = 0; i < runtime.getLayersCount(); i++) {
      var layer = runtime.getLayers(i);
      String field = "layered_runtime.layers[" + i + "]";
      if (layer.getName().isEmpty()) {
        errors.add(field + ".name: required");
      }
      switch (layer.getLayerSpecifierCase()) {
        case STATIC_LAYER ->
            walk(layer.getStaticLayer(), "", field + ".static_layer", entries, errors);
        case ADMIN_LAYER -> {
          // accepted, as Envoy does; it stays empty
        }
        case DISK_LAYER ->
            errors.add(field + ".disk_layer: not supported (a static_layer or an admin_layer is)");
        case RTDS_LAYER ->
            errors.add(field + ".rtds_layer: not supported (a static_layer or an admin_layer is)");
        case LAYERSPECIFIER_NOT_SET ->
            errors.add(
                field + ": one of static_layer, disk_layer, admin_layer, rtds_layer is required");
      }
    }
    return new RuntimeValues(
        integer(
            entries, PREMATURE_RESET_TOTAL_STREAM_COUNT, DEFAULT.prematureResetTotalStreamCount),
        integer(
            entries,
            PREMATURE_RESET_MIN_STREAM_LIFETIME_SECONDS,
            DEFAULT.prematureResetMinStreamLifetimeSeconds));
  }

  private static void walk(
      Struct s, String prefix, String field, Map<String, Value> entries, List<String> errors) {
    for (var e : s.getFieldsMap().entrySet()) {
      String key = prefix + e.getKey();
      Value v = e.getValue();
      switch (v.getKindCase()) {
        case STRUCT_VALUE -> walk(v.getStructValue(), key + ".", field, entries, errors);
        case LIST_VALUE, NULL_VALUE, KIND_NOT_SET ->
            errors.add(field + ": invalid runtime entry value for " + key);
        default -> entries.put(key, v);
      }
    }
  }

  /** Envoy's {@code getInteger}: the entry's non-negative integer value, else {@code dflt}. */
  private static long integer(Map<String, Value> entries, String key, long dflt) {
    Value v = entries.get(key);
    if (v == null) {
      return dflt;
    }
    if (v.hasNumberValue()) {
      double d = v.getNumberValue();
      return d >= 0 && d == Math.rint(d) && d < 0x1p63 ? (long) d : dflt;
    }
    if (v.hasStringValue()) {
      try {
        long n = Long.parseLong(v.getStringValue().strip());
        return n >= 0 ? n : dflt;
      } catch (NumberFormatException e) {
        return dflt;
      }
    }
    return dflt;
  }
}
