package dev.bowline.proxy.http.filter.metadataexchange;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;

/** Reads the JSON configuration older Istio puts in a {@code StringValue}. */
final class JsonConfig {
  /**
   * Jackson only when a plugin configuration has JSON to read: built with the class, it put ~380
   * classes on every proxy's start path (decision 0036).
   */
  private static final class Json {
    static final JsonMapper MAPPER = new JsonMapper();
  }

  private JsonConfig() {}

  static int intField(String json, String field, int fallback) {
    if (json.isBlank()) {
      return fallback;
    }
    JsonNode n;
    try {
      n = Json.MAPPER.readTree(json);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("not JSON: " + e.getOriginalMessage());
    }
    JsonNode v = n.get(field);
    if (v == null) {
      return fallback;
    }
    if (!v.canConvertToInt() || v.asInt() <= 0) {
      throw new IllegalArgumentException(field + ": must be a positive integer");
    }
    return v.asInt();
  }
}
