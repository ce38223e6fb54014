package dev.bowline.samples.weather;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import org.jspecify.annotations.Nullable;

/**
 * The app's outbound HTTP/1.1 client: through the mesh's HTTP proxy when one is set, with the
 * propagated headers of the request being served, and a deadline per call. Failures become {@link
 * Reply.Failed} values naming the upstream, never exceptions.
 */
final class Upstream implements AutoCloseable {

  private final HttpClient client;
  private final Duration timeout;
  private final ObjectMapper json;

  Upstream(
      @Nullable InetSocketAddress proxy,
      List<String> noProxy,
      Duration timeout,
      ObjectMapper json,
      Executor executor) {
    HttpClient.Builder builder =
        HttpClient.newBuilder()
            // HTTP/1.1 only: the default (HTTP/2) would send an h2c upgrade through the proxy.
            .version(HttpClient.Version.HTTP_1_1)
            .followRedirects(HttpClient.Redirect.NEVER)
            .connectTimeout(timeout)
            .executor(executor);
    if (proxy != null) {
      builder.proxy(new MeshProxySelector(proxy, noProxy));
    }
    this.client = builder.build();
    this.timeout = timeout;
    this.json = json;
  }

  /**
   * GETs {@code base} + {@code pathAndQuery} with {@code headers}; never completes exceptionally.
   */
  CompletableFuture<Reply> get(
      URI base, String pathAndQuery, List<Map.Entry<String, String>> headers) {
    URI target = base.resolve(pathAndQuery);
    HttpRequest.Builder request = HttpRequest.newBuilder(target).GET().timeout(timeout);
    for (Map.Entry<String, String> h : headers) {
      request.header(h.getKey(), h.getValue());
    }
    return client
        .sendAsync(request.build(), HttpResponse.BodyHandlers.ofString())
        .<Reply>thenApply(this::answered)
        .exceptionally(e -> failed(target, e));
  }

  private Reply answered(HttpResponse<String> response) {
    JsonNode body = null;
    String type = response.headers().firstValue("content-type").orElse("");
    if (type.startsWith("application/json")) {
      try {
        body = json.readTree(response.body());
      } catch (JacksonException e) {
        body = null;
      }
    }
    Identity servedBy = null;
    var h = response.headers();
    var service = h.firstValue("x-weather-service");
    var version = h.firstValue("x-weather-version");
    var instance = h.firstValue("x-weather-instance");
    if (service.isPresent() && version.isPresent() && instance.isPresent()) {
      servedBy = new Identity(service.get(), version.get(), instance.get());
    }
    return new Reply.Answered(response.statusCode(), servedBy, body, response.body());
  }

  private static Reply failed(URI target, Throwable error) {
    Throwable cause =
        error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
    String what = cause instanceof HttpTimeoutException ? "timed out" : describe(cause);
    return new Reply.Failed("GET " + target + ": " + what);
  }

  private static String describe(Throwable cause) {
    String message = cause.getMessage();
    return cause.getClass().getSimpleName() + (message == null ? "" : " " + message);
  }

  @Override
  public void close() {
    client.close();
  }
}
