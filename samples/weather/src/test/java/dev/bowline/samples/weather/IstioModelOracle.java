package dev.bowline.samples.weather;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * Reads a document into fabric8's Istio model (a test oracle, generated from Istio's protos) and
 * reports every field the model does not know: fabric8 keeps unknown fields in {@code
 * additionalProperties}, so a misspelled field shows up there instead of failing.
 */
final class IstioModelOracle {

  private final ObjectMapper mapper =
      new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, true);

  /**
   * Problems with {@code doc}, prefixed with {@code where}; empty when fabric8 knows every field.
   */
  List<String> check(String where, JsonNode doc) {
    String apiVersion = doc.path("apiVersion").asText();
    String kind = doc.path("kind").asText();
    String version = apiVersion.substring(apiVersion.indexOf('/') + 1);
    Class<?> type;
    try {
      type = Class.forName("io.fabric8.istio.api.networking." + version + "." + kind);
    } catch (ClassNotFoundException e) {
      return List.of(where + ": fabric8 has no model for " + apiVersion + " " + kind);
    }
    Object resource;
    try {
      resource = mapper.treeToValue(doc, type);
    } catch (Exception e) {
      return List.of(where + ": " + e.getMessage().lines().findFirst().orElse(""));
    }
    List<String> problems = new ArrayList<>();
    walk(where, "", resource, problems);
    return problems;
  }

  private static void walk(String where, String path, Object value, List<String> problems) {
    if (value instanceof Collection<?> c) {
      int i = 0;
      for (Object item : c) {
        walk(where, path + "[" + i++ + "]", item, problems);
      }
      return;
    }
    if (value instanceof Map<?, ?> m) {
      m.forEach((k, v) -> walk(where, path + "." + k, v, problems));
      return;
    }
    if (value == null || !value.getClass().getName().startsWith("io.fabric8.")) {
      return;
    }
    for (Method getter : value.getClass().getMethods()) {
      if (getter.getParameterCount() != 0
          || Modifier.isStatic(getter.getModifiers())
          || !getter.getName().startsWith("get")
          || getter.getName().equals("getClass")) {
        continue;
      }
      Object child;
      try {
        child = getter.invoke(value);
      } catch (ReflectiveOperationException e) {
        continue;
      }
      if (getter.getName().equals("getAdditionalProperties")) {
        if (child instanceof Map<?, ?> extra && !extra.isEmpty()) {
          problems.add(
              where
                  + ": "
                  + (path.isEmpty() ? "(top)" : path.substring(1))
                  + ": unknown fields "
                  + extra.keySet());
        }
        continue;
      }
      String name =
          Character.toLowerCase(getter.getName().charAt(3)) + getter.getName().substring(4);
      walk(where, path + "." + name, child, problems);
    }
  }
}
