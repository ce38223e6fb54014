package dev.bowline.samples.weather;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * One request as the role endpoints see it.
 *
 * @param method the HTTP method
 * @param path the decoded path
 * @param query the decoded query parameters (first value of each)
 * @param host the Host header (shows mirrored requests: {@code forecast-shadow})
 * @param propagated the headers to copy onto outbound calls ({@link Propagation})
 */
record Request(
    String method,
    String path,
    Map<String, String> query,
    String host,
    List<Map.Entry<String, String>> propagated) {

  Request {
    query = Map.copyOf(query);
    propagated = List.copyOf(propagated);
  }

  /** A query parameter, or null. */
  @Nullable String param(String name) {
    return query.get(name);
  }

  /** A query parameter that must be present, else a 400 naming it. */
  String requireParam(String name) {
    String value = query.get(name);
    if (value == null || value.isBlank()) {
      throw new IllegalArgumentException(name + ": required query parameter is missing");
    }
    return value;
  }

  /** An integer query parameter that must be present. */
  int requireInt(String name) {
    String value = requireParam(name);
    try {
      return Integer.parseInt(value.strip());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(name + ": expected an integer, got '" + value + "'");
    }
  }

  /** Decodes a raw {@code a=1&b=2} query; the first value of a repeated name wins. */
  static Map<String, String> parseQuery(@Nullable String rawQuery) {
    Map<String, String> out = new LinkedHashMap<>();
    if (rawQuery == null || rawQuery.isEmpty()) {
      return out;
    }
    for (String pair : rawQuery.split("&")) {
      if (pair.isEmpty()) {
        continue;
      }
      int eq = pair.indexOf('=');
      String name = eq < 0 ? pair : pair.substring(0, eq);
      String value = eq < 0 ? "" : pair.substring(eq + 1);
      out.putIfAbsent(
          URLDecoder.decode(name, StandardCharsets.UTF_8),
          URLDecoder.decode(value, StandardCharsets.UTF_8));
    }
    return out;
  }
}
