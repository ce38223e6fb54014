package dev.bowline.api.model;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/** Immutable copies for record components: absent collections become empty ones, order is kept. */
final class Freeze {
  private Freeze() {}

  static <T> List<T> list(@Nullable List<T> list) {
    return list == null ? List.of() : List.copyOf(list);
  }

  static <V> Map<String, V> map(@Nullable Map<String, V> map) {
    if (map == null || map.isEmpty()) {
      return Map.of();
    }
    for (var e : map.entrySet()) {
      if (e.getValue() == null) {
        throw new IllegalArgumentException("value of " + e.getKey() + " must not be null");
      }
    }
    return Collections.unmodifiableMap(new LinkedHashMap<>(map));
  }

  /** A free-form JSON value (protobuf Struct/Any): maps and lists frozen all the way down. */
  static Map<String, Object> struct(@Nullable Map<String, Object> map) {
    if (map == null) {
      return Map.of();
    }
    @SuppressWarnings("unchecked")
    Map<String, Object> frozen = (Map<String, Object>) deep(map);
    return frozen;
  }

  private static @Nullable Object deep(@Nullable Object value) {
    if (value instanceof Map<?, ?> m) {
      var copy = new LinkedHashMap<Object, @Nullable Object>();
      m.forEach((k, v) -> copy.put(k, deep(v)));
      return Collections.unmodifiableMap(copy);
    }
    if (value instanceof List<?> l) {
      var copy = new ArrayList<@Nullable Object>(l.size());
      l.forEach(v -> copy.add(deep(v)));
      return Collections.unmodifiableList(copy);
    }
    return value;
  }

  /** Fails when more than one alternative of a protobuf {@code oneof} is set. */
  static void atMostOne(String names, @Nullable Object... values) {
    int set = 0;
    for (Object v : values) {
      if (v != null) {
        set++;
      }
    }
    if (set > 1) {
      throw new IllegalArgumentException("only one of " + names + " may be set");
    }
  }
}
