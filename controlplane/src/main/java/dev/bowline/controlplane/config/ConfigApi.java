package dev.bowline.controlplane.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import dev.bowline.api.Decoded;
import dev.bowline.api.Message;
import dev.bowline.api.Resource;
import dev.bowline.api.ResourceCodec;
import dev.bowline.api.ResourceKey;
import dev.bowline.api.validation.Validator;
import dev.bowline.config.ApplyResult;
import dev.bowline.config.ConfigStore;
import dev.bowline.config.Rejection;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * {@code bowline apply} and {@code bowline delete} against a running control plane, on its
 * monitoring port (decision 0014): {@code POST /config/apply} and {@code POST /config/delete} take
 * Istio YAML or JSON, either raw or as {@code {"files": [{"name", "content"}]}} so that messages
 * name the files.
 *
 * <p>Apply is all or nothing: every document is decoded and validated first, and one error (named
 * by resource and field, as {@code bowline validate} prints it) refuses the whole request with 422,
 * so the config in force stays the last good one. Valid resources go into the config store through
 * its API source, which takes precedence over the watched directories' version of the same resource
 * (last writer wins) until a file changes again. Delete removes the named resources whatever source
 * declared them, like {@code kubectl delete -f}.
 *
 * <p>Answer: JSON {@code {"applied", "unchanged", "deleted", "notFound", "errors"}} (lists of
 * {@code Kind namespace/name} or messages).
 */
final class ConfigApi {
  private static final System.Logger LOG = System.getLogger(ConfigApi.class.getName());
  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
  private static final int MAX_BODY = 8 << 20;

  private final ConfigStore store;
  private final Validator validator;
  private final ResourceCodec codec;

  ConfigApi(ConfigStore store, Validator validator, ResourceCodec codec) {
    this.store = Objects.requireNonNull(store, "store");
    this.validator = Objects.requireNonNull(validator, "validator");
    this.codec = Objects.requireNonNull(codec, "codec");
  }

  /** {@code POST /config/apply}. */
  HttpHandler applyHandler() {
    return ex -> handle(ex, true);
  }

  /** {@code POST /config/delete}. */
  HttpHandler deleteHandler() {
    return ex -> handle(ex, false);
  }

  private void handle(HttpExchange ex, boolean apply) throws IOException {
    try (ex) {
      if (!ex.getRequestMethod().equals("POST")) {
        ex.getResponseHeaders().add("Allow", "POST");
        send(ex, 405, error("use POST with Istio YAML or JSON in the body"));
        return;
      }
      byte[] body = ex.getRequestBody().readNBytes(MAX_BODY + 1);
      if (body.length > MAX_BODY) {
        send(ex, 413, error("the body is larger than " + MAX_BODY + " bytes"));
        return;
      }
      List<Decoded> files;
      try {
        files = decode(ex, new String(body, StandardCharsets.UTF_8));
      } catch (IOException | IllegalArgumentException e) {
        send(ex, 400, error("unreadable request: " + e.getMessage()));
        return;
      }
      ObjectNode answer = apply ? apply(files) : delete(files);
      int status = answer.withArray("errors").isEmpty() ? 200 : 422;
      send(ex, status, answer);
    }
  }

  private List<Decoded> decode(HttpExchange ex, String body) throws IOException {
    String type = ex.getRequestHeaders().getFirst("Content-Type");
    List<Decoded> out = new ArrayList<>();
    if (type != null && type.startsWith("application/json") && body.contains("\"files\"")) {
      JsonNode root = JSON.readTree(body);
      for (JsonNode f : root.path("files")) {
        String name = f.path("name").asText("request");
        if (!f.path("content").isTextual()) {
          throw new IllegalArgumentException("files[].content must be a string (" + name + ")");
        }
        out.add(codec.decode(name, f.path("content").asText()));
      }
    } else {
      out.add(codec.decode("request", body));
    }
    return out;
  }

  /** Validates everything, then applies everything, or nothing. */
  ObjectNode apply(List<Decoded> files) {
    ObjectNode answer = answer();
    List<Resource<?>> resources = new ArrayList<>();
    List<String> errors = new ArrayList<>();
    Set<ResourceKey> seen = new LinkedHashSet<>();
    for (Decoded d : files) {
      d.errors().forEach(m -> errors.add(m.toString()));
      for (Resource<?> r : d.resources()) {
        validator.validate(r).errors().forEach(m -> errors.add(m.toString()));
        if (!seen.add(r.key())) {
          errors.add(r.key() + ": given twice in one apply");
        }
        resources.add(r);
      }
    }
    if (resources.isEmpty() && errors.isEmpty()) {
      errors.add("no Istio resources in the request");
    }
    if (!errors.isEmpty()) {
      errors.forEach(answer.withArray("errors")::add);
      LOG.log(Level.INFO, () -> "event=config_apply_refused errors=" + errors.size());
      return answer;
    }
    ApplyResult result = store.apply(resources);
    result.applied().forEach(r -> answer.withArray("applied").add(r.key().toString()));
    result.unchanged().forEach(k -> answer.withArray("unchanged").add(k.toString()));
    for (Rejection rj : result.rejected()) {
      for (Message m : rj.errors()) {
        answer.withArray("errors").add(m.toString());
      }
    }
    LOG.log(
        Level.INFO,
        () ->
            "event=config_applied applied="
                + result.applied().size()
                + " unchanged="
                + result.unchanged().size());
    return answer;
  }

  /** Deletes every resource the documents name (a document need only be identifiable). */
  ObjectNode delete(List<Decoded> files) {
    ObjectNode answer = answer();
    Set<ResourceKey> keys = new LinkedHashSet<>();
    List<String> errors = new ArrayList<>();
    for (Decoded d : files) {
      d.resources().forEach(r -> keys.add(r.key()));
      for (Decoded.Rejected r : d.rejected()) {
        if (r.key() != null) {
          keys.add(r.key());
        } else {
          r.errors().forEach(m -> errors.add(m.toString()));
        }
      }
    }
    if (!errors.isEmpty() || keys.isEmpty()) {
      if (errors.isEmpty()) {
        errors.add("no Istio resources in the request");
      }
      errors.forEach(answer.withArray("errors")::add);
      return answer;
    }
    for (ResourceKey k : keys) {
      answer.withArray(store.delete(k) ? "deleted" : "notFound").add(k.toString());
    }
    LOG.log(Level.INFO, () -> "event=config_deleted keys=" + keys.size());
    return answer;
  }

  private static ObjectNode answer() {
    ObjectNode n = JSON.createObjectNode();
    for (String f : List.of("applied", "unchanged", "deleted", "notFound", "errors")) {
      n.putArray(f);
    }
    return n;
  }

  private static ObjectNode error(String message) {
    ObjectNode n = answer();
    ((ArrayNode) n.get("errors")).add(message);
    return n;
  }

  private static void send(HttpExchange ex, int status, ObjectNode body) throws IOException {
    byte[] bytes = JSON.writeValueAsBytes(body);
    ex.getResponseHeaders().set("Content-Type", "application/json");
    ex.sendResponseHeaders(status, bytes.length);
    try (OutputStream os = ex.getResponseBody()) {
      os.write(bytes);
    }
  }
}
