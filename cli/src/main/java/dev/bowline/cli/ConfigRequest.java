package dev.bowline.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.bowline.config.ConfigFiles;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * What {@code bowline apply} and {@code bowline delete} share: read the files (directories
 * recursively, {@code mesh.yaml} skipped), send them in one request to the control plane's config
 * API ({@code POST /config/apply|delete} on its monitoring port, decision 0014) and print the
 * answer, one line per resource, like {@code kubectl}.
 */
final class ConfigRequest {
  private static final ObjectMapper JSON = new ObjectMapper();

  private ConfigRequest() {}

  /**
   * Sends {@code paths} to {@code controlPlane}{@code /config/<verb>}; 0 when done, 1 when refused
   * (the errors printed, nothing changed) or unreachable.
   */
  static int run(
      String verb, List<Path> paths, String controlPlane, PrintWriter out, PrintWriter err)
      throws InterruptedException {
    String cmd = "bowline " + verb;
    ObjectNode body = JSON.createObjectNode();
    ArrayNode files = body.putArray("files");
    try {
      for (Path f : ConfigFiles.expand(paths)) {
        if (!ConfigFiles.isMeshConfig(f)) {
          files.addObject().put("name", f.toString()).put("content", Files.readString(f));
        }
      }
    } catch (IOException e) {
      err.println(cmd + ": " + e.getMessage());
      return 1;
    }
    if (files.isEmpty()) {
      err.println(cmd + ": no Istio YAML or JSON files in " + paths);
      return 1;
    }
    String base =
        controlPlane.endsWith("/")
            ? controlPlane.substring(0, controlPlane.length() - 1)
            : controlPlane;
    HttpResponse<String> r;
    try {
      HttpClient http =
          HttpClient.newBuilder()
              .proxy(HttpClient.Builder.NO_PROXY)
              .connectTimeout(Duration.ofSeconds(5))
              .build();
      r =
          http.send(
              HttpRequest.newBuilder(URI.create(base + "/config/" + verb))
                  .timeout(Duration.ofSeconds(30))
                  .header("Content-Type", "application/json")
                  .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body)))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
    } catch (IOException | IllegalArgumentException e) {
      err.println(
          cmd
              + ": cannot reach the control plane at "
              + base
              + " ("
              + e
              + "); is bowline up or demo running?");
      return 1;
    }
    JsonNode answer;
    try {
      answer = JSON.readTree(r.body());
    } catch (IOException e) {
      err.println(cmd + ": HTTP " + r.statusCode() + " from " + base + ": " + r.body().strip());
      return 1;
    }
    print(answer, "applied", "configured", out);
    print(answer, "unchanged", "unchanged", out);
    print(answer, "deleted", "deleted", out);
    print(answer, "notFound", "not found", out);
    JsonNode errors = answer.path("errors");
    if (r.statusCode() != 200 || !errors.isEmpty()) {
      errors.forEach(e -> err.println(e.asText()));
      err.println(
          cmd
              + ": refused"
              + (verb.equals("apply")
                  ? ", nothing applied; the config in force is unchanged"
                  : ""));
      return 1;
    }
    return 0;
  }

  private static void print(JsonNode answer, String field, String word, PrintWriter out) {
    answer.path(field).forEach(n -> out.println(n.asText() + " " + word));
  }
}
