package dev.bowline.proxy.xds;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import dev.bowline.proxy.config.Anys;
import dev.bowline.proxy.http.filter.FilterRegistry;
import dev.bowline.proxy.http.filter.HttpFilterFactory;
import io.envoyproxy.envoy.config.route.v3.FilterConfig;
import java.util.HashMap;
import java.util.Map;

/**
 * HTTP filter configs in the wrappers Envoy accepts: {@code TypedStruct} (udpa and xds, a JSON
 * struct with the real type URL, what Istio's EnvoyFilter examples use) and, per route, {@code
 * envoy.config.route.v3.FilterConfig} (with {@code is_optional}).
 */
final class FilterConfigs {
  static final String UDPA_TYPED_STRUCT = "type.googleapis.com/udpa.type.v1.TypedStruct";
  static final String XDS_TYPED_STRUCT = "type.googleapis.com/xds.type.v3.TypedStruct";
  static final String ROUTE_FILTER_CONFIG =
      "type.googleapis.com/envoy.config.route.v3.FilterConfig";

  private FilterConfigs() {}

  /**
   * {@code any} with a TypedStruct replaced by the message it describes (as the registry knows it);
   * anything else as it is.
   */
  static Any unwrapTypedStruct(Any any, FilterRegistry registry, String field)
      throws InvalidResourceException {
    String url = any.getTypeUrl();
    if (!url.equals(UDPA_TYPED_STRUCT) && !url.equals(XDS_TYPED_STRUCT)) {
      return any;
    }
    String inner;
    com.google.protobuf.Struct value;
    try {
      if (url.equals(UDPA_TYPED_STRUCT)) {
        var ts =
            Anys.unpack(
                any,
                com.github.udpa.udpa.type.v1.TypedStruct.getDescriptor(),
                com.github.udpa.udpa.type.v1.TypedStruct.parser());
        inner = ts.getTypeUrl();
        value = ts.getValue();
      } else {
        var ts =
            Anys.unpack(
                any,
                com.github.xds.type.v3.TypedStruct.getDescriptor(),
                com.github.xds.type.v3.TypedStruct.parser());
        inner = ts.getTypeUrl();
        value = ts.getValue();
      }
    } catch (InvalidProtocolBufferException e) {
      throw new InvalidResourceException(field, "cannot unpack TypedStruct: " + e.getMessage());
    }
    com.google.protobuf.Descriptors.Descriptor type =
        registry
            .message(inner)
            .orElseThrow(
                () ->
                    new InvalidResourceException(
                        field + ".type_url", "unknown filter config type " + inner));
    Message.Builder b = com.google.protobuf.DynamicMessage.newBuilder(type);
    try {
      JsonFormat.parser().merge(JsonFormat.printer().print(value), b);
    } catch (InvalidProtocolBufferException e) {
      throw new InvalidResourceException(field + ".value", e.getMessage());
    }
    return Any.pack(b.build());
  }

  /**
   * A {@code typed_per_filter_config} map as the filters' per-route configs; an entry for a filter
   * the proxy does not know is an error unless wrapped in a {@code FilterConfig} with {@code
   * is_optional} (then skipped), as in Envoy.
   */
  static Map<String, Object> perRoute(
      Map<String, Any> configs, FilterRegistry registry, String field)
      throws InvalidResourceException {
    if (configs.isEmpty()) {
      return Map.of();
    }
    Map<String, Object> out = new HashMap<>();
    for (var e : new java.util.TreeMap<>(configs).entrySet()) {
      String f = field + "[" + e.getKey() + "]";
      Any any = e.getValue();
      boolean optional = false;
      if (any.getTypeUrl().equals(ROUTE_FILTER_CONFIG)) {
        FilterConfig fc;
        try {
          fc = Anys.unpack(any, FilterConfig.getDescriptor(), FilterConfig.parser());
        } catch (InvalidProtocolBufferException ex) {
          throw new InvalidResourceException(f, "cannot unpack: " + ex.getMessage());
        }
        if (fc.getDisabled()) {
          continue; // the filter is off for the route only where the filter honours it
        }
        optional = fc.getIsOptional();
        any = fc.getConfig();
        f = f + ".config";
      }
      any = unwrapTypedStruct(any, registry, f);
      HttpFilterFactory<?> factory = registry.findPerRoute(any.getTypeUrl()).orElse(null);
      if (factory == null) {
        if (optional) {
          continue;
        }
        throw new InvalidResourceException(
            f, "unknown per-route filter config type " + any.getTypeUrl());
      }
      try {
        out.put(e.getKey(), factory.parsePerRoute(any));
      } catch (InvalidProtocolBufferException ex) {
        throw new InvalidResourceException(f, "cannot unpack: " + ex.getMessage());
      } catch (IllegalArgumentException ex) {
        throw new InvalidResourceException(f, ex.getMessage());
      }
    }
    return out;
  }
}
