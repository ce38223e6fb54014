package dev.bowline.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/** Reads the control plane's debug endpoints (port 15014), as istioctl reads istiod's. */
final class ControlPlaneClient {
  static final String DEFAULT_URL = "http://127.0.0.1:15014";
  private static final ObjectMapper JSON = new ObjectMapper();

  private final String base;
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  ControlPlaneClient(String base) {
    this.base = base.endsWith("/") ? base.substring(0, base.length() - 1) : base;
  }

  /** Thrown with a message fit for the user. */
  static final class Failure extends Exception {
    Failure(String message) {
      super(message);
    }
  }

  JsonNode syncz() throws Failure {
    return readJson(get("/debug/syncz"));
  }

  JsonNode configDump(String proxyId) throws Failure {
    return readJson(
        get("/debug/config_dump?proxyID=" + URLEncoder.encode(proxyId, StandardCharsets.UTF_8)));
  }

  private String get(String path) throws Failure {
    HttpResponse<String> r;
    try {
      r =
          http.send(
              HttpRequest.newBuilder(URI.create(base + path))
                  .timeout(Duration.ofSeconds(10))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new Failure("cannot reach the control plane at " + base + ": " + e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new Failure("interrupted");
    }
    if (r.statusCode() != 200) {
      throw new Failure(r.body().strip());
    }
    return r.body();
  }

  private static JsonNode readJson(String body) throws Failure {
    try {
      return JSON.readTree(body);
    } catch (IOException e) {
      throw new Failure("the control plane answered something that is not JSON: " + e.getMessage());
    }
  }
}
